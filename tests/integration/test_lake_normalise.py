"""Typing, normalisation, pseudonyms and row routing, as Spark evaluates them (no Delta writes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from edulake import standard
from edulake.lake import normalise, privacy, silver

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as samples  # noqa: E402

pytestmark = pytest.mark.spark


def evaluate(spark, values, expression):
    df = spark.createDataFrame([(i, v) for i, v in enumerate(values)], "i int, v string")
    rows = df.select("i", expression(normalise.fold(F.col("v"))).alias("out")).orderBy("i").collect()
    return [r.out for r in rows]


def test_fold_trims_and_folds_full_width(spark):
    assert evaluate(spark, ["　Ｇ１２３ ", " a b ", "　", "", None, "\ufeff12"], lambda c: c) == \
        ["G123", "a b", None, None, None, "12"]


def test_dates_in_every_source_format(spark):
    got = evaluate(spark, ["2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "2024.03.05", "２０２４－０３－０５",
                           "2024-02-30", "05/03/2024", "2024"], normalise.parse_date)
    assert got == [dt.date(2024, 3, 5)] * 6 + [None, None, None]


def test_durations_to_seconds(spark):
    got = evaluate(spark, ["225", "225.4", "3'45\"", "3'45", "3分45秒", "3:45", "3'45''", "3′45″", "3:75", "abc"],
                   normalise.parse_duration)
    assert got == [Decimal("225.0"), Decimal("225.4")] + [Decimal("225.0")] * 6 + [None, None]


def test_numbers(spark):
    assert evaluate(spark, ["12", "12.0", "０１２", "1,234", "12.5", "9999999999", "x"], normalise.parse_integer) == \
        [12, 12, 12, 1234, None, None, None]
    assert evaluate(spark, ["165.34", "165.35", "-3.2", "1,234.5", ".5", "1e3"], lambda c: normalise.parse_decimal(c, 1)) == \
        [Decimal("165.3"), Decimal("165.4"), Decimal("-3.2"), Decimal("1234.5"), Decimal("0.5"), None]


def test_codes_through_the_field_code_key(spark):
    std = standard.load()
    fitness_grade = std.table("health.fitness").field("grade")
    subject = std.table("exam.score").field("subject")
    ethnicity = std.table("enrollment.roster").field("ethnicity")
    assert evaluate(spark, ["11", "21", "33", "7"], lambda c: normalise.map_code(c, fitness_grade, std)) == \
        ["1", "7", "12", None]
    assert evaluate(spark, ["语文", "数学", "13"], lambda c: normalise.map_code(c, subject, std)) == ["13", "14", None]
    assert evaluate(spark, ["1", "01", "１", "99"], lambda c: normalise.map_code(c, ethnicity, std)) == \
        ["01", "01", "01", None]
    assert evaluate(spark, ["是", "否", "true", "x"], lambda c: normalise.parse_boolean(c, std)) == [True, False, True, None]


@pytest.mark.parametrize("key", [b"short-key", b"k" * 100])
def test_hmac_token_is_hmac_sha256(spark, key):
    values = ["G110108201001011234", "张三", ""]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    got = [r.t for r in df.select(privacy.hmac_token(F.col("v"), key).alias("t")).collect()]
    assert got == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]


def test_masks(spark):
    std = standard.load()
    roster = std.table("enrollment.roster")
    df = spark.createDataFrame([(dt.date(2012, 5, 17), "13812345678")], "birth_date date, guardian_phone string")
    row = df.select(privacy.silver_value(roster.field("birth_date"), b"k"),
                    privacy.silver_value(roster.field("guardian_phone"), b"k")).first()
    assert row.birth_month == dt.date(2012, 5, 1) and row.guardian_phone == "138****5678"


def staged_rows(spark, table_name, records, batch="b1"):
    std = standard.load()
    table = std.table(table_name)
    data = [(batch, "f.csv", i, r, None) for i, r in enumerate(records, start=1)]
    raw = spark.createDataFrame(data, "_batch_id string, _source_file string, _row_number int, "
                                      "_raw map<string,string>, _shape_error string")
    out = silver.stage(table, std, raw, [batch], with_quality=False).select("_row_number", "_status", "_failures").orderBy("_row_number")
    return {r._row_number: (r._status, sorted((f.rule, f.column) for f in r._failures)) for r in out.collect()}


def test_rows_are_routed_accepted_quarantined_or_collapsed(spark):
    _, rows = samples.rows("enrollment.roster", 6)
    rows[1]["出生日期"] = "2012-13-45"                 # 2: type
    rows[2]["性别"] = "9"                              # 3: codes
    rows[3]["学籍号"] = ""                             # 4: required (and not pattern)
    rows[4]["学年"] = "1990"                           # 5: range
    rows.append(dict(rows[0]))                        # 7: exact duplicate of 1 -> collapsed
    rows.append(dict(rows[5], 姓名="另一个名字"))       # 8: same key as 6, other content -> both quarantined
    rows.append(dict(rows[0], 学籍号="Ｇ" + rows[0]["学籍号"][1:] + " ", 学年="2025"))  # 9: normalised, accepted
    got = staged_rows(spark, "enrollment.roster", rows)
    assert got[1] == ("accepted", [])
    assert got[2] == ("quarantined", [("type", "出生日期")])
    assert got[3] == ("quarantined", [("codes", "性别")])
    assert got[4] == ("quarantined", [("required", "学籍号")])
    assert got[5] == ("quarantined", [("range", "学年")])
    assert got[6] == got[8] == ("quarantined", [("unique_natural_key", "学籍号, 学年")])
    assert got[7] == ("collapsed", [])
    assert got[9] == ("accepted", [])


def test_pattern_and_length_failures_name_their_column(spark):
    _, rows = samples.rows("health.fitness", 2)
    rows[0]["学籍号"] = "G123"
    rows[1]["姓名"] = "名" * 31
    got = staged_rows(spark, "health.fitness", rows)
    assert got[1] == ("quarantined", [("pattern", "学籍号")])
    assert got[2] == ("quarantined", [("max_length", "姓名")])

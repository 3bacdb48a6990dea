"""Typing, normalisation, pseudonyms and row routing, as each engine evaluates the one SQL of each rule
(no Delta writes): every test runs on DuckDB and on Spark, and must give the same answer on both."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from edulake import standard
from edulake.lake import bronze, engines, privacy, silver
from edulake.quality import normalise, stage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as samples  # noqa: E402


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request, session_home):
    return engines.get(request.param)


def evaluate(engine, values, expression):
    engine.register_arrow("vals", pa.table({"i": list(range(len(values))), "v": pa.array(values, pa.string())}))
    return [r["out"] for r in engine.rows(f"SELECT i, {expression(normalise.fold('v'))} AS out FROM vals ORDER BY i")]


def test_fold_trims_and_folds_full_width(engine):
    assert evaluate(engine, ["　Ｇ１２３ ", " a b ", "　", "", None, "\ufeff12"], lambda c: c) == \
        ["G123", "a b", None, None, None, "12"]


def test_folding_judged_once_per_row_gives_what_folding_each_value_gives(engine):
    """stage.py decides once per row whether fold() has work (a full-width character, whitespace at a value's
    end) and takes the other rows' values as they are: every value must come out as folding it alone does."""
    cells = ["　Ｇ１２３ ", " a b ", "　", "", None, "\ufeff12", "plain", "x\t", "\ny", "（数学）", "a\u3000b", "a b",
             "\r", "2024", "G110108201811130283"]
    pairs = [(v, w) for v in cells for w in cells]
    engine.register_arrow("pairs", pa.table({"i": list(range(len(pairs))), "v": pa.array([p[0] for p in pairs], pa.string()),
                                             "w": pa.array([p[1] for p in pairs], pa.string())}))
    row = normalise.needs_folding(["v", "w"])
    got = engine.rows(f"SELECT i, {normalise.fold('v', row)} AS v1, {normalise.fold('w', row)} AS w1, "
                      f"{normalise.fold('v')} AS v2, {normalise.fold('w')} AS w2 FROM pairs ORDER BY i")
    assert [(r["v1"], r["w1"]) for r in got] == [(r["v2"], r["w2"]) for r in got]
    assert (got[0]["v1"], got[1]["w1"], got[len(cells) + 7]["w1"]) == ("G123", "a b", "x")


def test_dates_in_every_source_format(engine):
    got = evaluate(engine, ["2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "2024.03.05", "２０２４－０３－０５",
                           "2024-02-30", "05/03/2024", "2024"], normalise.parse_date)
    assert got == [dt.date(2024, 3, 5)] * 6 + [None, None, None]


def test_durations_to_seconds(engine):
    got = evaluate(engine, ["225", "225.4", "3'45\"", "3'45", "3分45秒", "3:45", "3'45''", "3′45″", "3:75", "abc"],
                   normalise.parse_duration)
    assert got == [Decimal("225.0"), Decimal("225.4")] + [Decimal("225.0")] * 6 + [None, None]


def test_numbers(engine):
    assert evaluate(engine, ["12", "12.0", "０１２", "1,234", "12.5", "9999999999", "x"], normalise.parse_integer) == \
        [12, 12, 12, 1234, None, None, None]
    assert evaluate(engine, ["165.34", "165.35", "-3.2", "1,234.5", ".5", "1e3"], lambda c: normalise.parse_decimal(c, 1)) == \
        [Decimal("165.3"), Decimal("165.4"), Decimal("-3.2"), Decimal("1234.5"), Decimal("0.5"), None]


# Values near each fast path's edges: signs, zeros, separators, scales, widths, overflow, other types (each goes
# through fold() first, as in silver: spaces at the ends are trimmed and "" is NULL before a parser sees them).
EDGES = ["0", "7", "12", "-5", "+5", "-0", "007", "12.0", "12.00", "12.5", "-12.5", "12.", ".5", "0.5", "-0.0",
         "1,234", "1,234.5", "12,34", "1e3", "1E3", "NaN", "inf", "Infinity", " 12", "12 ", "1_000", "0x1F",
         "123456789", "-123456789", "1234567890", "2147483647", "9999999999", "99999999999999999999",
         "165.34", "165.35", "225", "225.4", "225.45", "3'45\"", "3:45", "3分45秒", "60", "59.9",
         "2024-03-05", "2024-3-5", "2024/03/05", "20240305", "2024年3月5日", "2024-02-29", "2023-02-29",
         "0001-01-01", "0999-12-31", "9999-12-31", "12024-03-05", "2024-03-05 ", "2024-03-05T00:00",
         "-2024-03-05", "+2024-03-05", "2024-13-01", "2024-00-10", "x", "", None]


@pytest.mark.parametrize("parser", ["integer", "decimal_1", "decimal_0", "decimal_2", "date", "duration"])
def test_each_parser_gives_what_its_general_path_gives(engine, parser):
    """The parsers take a fast path (a cast) for values already in the type's own spelling and the regular
    expressions for the rest: the two must agree on every value, on both engines."""
    fast, general = {
        "integer": (normalise.parse_integer, normalise.general_integer),
        "decimal_1": (lambda c: normalise.parse_decimal(c, 1), lambda c: normalise.general_decimal(c, 1)),
        "decimal_0": (lambda c: normalise.parse_decimal(c, 0), lambda c: normalise.general_decimal(c, 0)),
        "decimal_2": (lambda c: normalise.parse_decimal(c, 2), lambda c: normalise.general_decimal(c, 2)),
        "date": (normalise.parse_date, normalise.general_date),
        "duration": (normalise.parse_duration, normalise.general_duration),
    }[parser]
    got, expected = evaluate(engine, EDGES, fast), evaluate(engine, EDGES, general)
    assert got == expected, [(v, g, e) for v, g, e in zip(EDGES, got, expected, strict=True) if g != e]
    assert any(v is not None for v in got)  # the corpus reaches each parser's values, not only its NULLs


def test_codes_through_the_field_code_key(engine):
    std = standard.load()
    fitness_grade = std.table("health.fitness").field("grade")
    subject = std.table("exam.score").field("subject")
    ethnicity = std.table("enrollment.roster").field("ethnicity")
    assert evaluate(engine, ["11", "21", "33", "7"], lambda c: normalise.map_code(c, fitness_grade, std)) == \
        ["1", "7", "12", None]
    assert evaluate(engine, ["语文", "数学", "13"], lambda c: normalise.map_code(c, subject, std)) == ["13", "14", None]
    assert evaluate(engine, ["1", "01", "１", "99"], lambda c: normalise.map_code(c, ethnicity, std)) == \
        ["01", "01", "01", None]
    assert evaluate(engine, ["是", "否", "true", "x"], lambda c: normalise.parse_boolean(c, std)) == [True, False, True, None]


@pytest.mark.parametrize("key", [b"short-key", b"k" * 100])
def test_hmac_token_is_hmac_sha256(engine, key):
    values = ["G110108201001011234", "张三", ""]
    engine.register_arrow("vals", pa.table({"i": [0, 1, 2], "v": values}))
    got = [r["t"] for r in engine.rows(f"SELECT i, {privacy.hmac_sql('v', key)} AS t FROM vals ORDER BY i")]
    assert got == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]


def test_masks(engine):
    std = standard.load()
    roster = std.table("enrollment.roster")
    engine.register_arrow("vals", pa.table({"birth_date": [dt.date(2012, 5, 17)], "guardian_phone": ["13812345678"]}))
    (row,) = engine.rows(f"SELECT {privacy.silver_value_sql(roster.field('birth_date'))}, "
                         f"{privacy.silver_value_sql(roster.field('guardian_phone'))} FROM vals")
    assert row["birth_month"] == dt.date(2012, 5, 1) and row["guardian_phone"] == "138****5678"


def staged_rows(engine, table_name, records, batch="b1"):
    """{row: (status, sorted (rule, column) failures)} of records staged without the table rules."""
    std = standard.load()
    table = std.table(table_name)
    data = pa.Table.from_pylist([dict(_batch_id=batch, _table=table.qualified_name, _source_file="f.csv",
                                      _row_number=i, _raw=r, _shape_error=None, _ingested_at=None)
                                 for i, r in enumerate(records, start=1)], bronze.SCHEMA)
    engine.register_arrow("bronze_batches", data)
    silver.register_lookups(engine, table)
    program = stage.compile_table(table, std, table_rules=False)
    silver.stage_relations(engine, std, program, [batch], b"k")
    try:
        status = {r["_row_number"]: r["_status"] for r in engine.rows("SELECT _row_number, _status FROM staged")}
        silver.materialize_quarantined(engine)
        failures = engine.rows(stage.quarantine_sql(program, {}, table.feed, table.qualified_name))
    finally:
        engine.drop(*silver.WORK)
    return {n: (s, sorted((f["rule"], f["column"]) for f in failures if f["_row_number"] == n))
            for n, s in status.items()}


def test_rows_are_routed_accepted_quarantined_or_collapsed(engine):
    _, rows = samples.rows("enrollment.roster", 6)
    rows[1]["出生日期"] = "2012-13-45"                 # 2: type
    rows[2]["性别"] = "9"                              # 3: codes
    rows[3]["学籍号"] = ""                             # 4: required (and not pattern)
    rows[4]["学年"] = "1990"                           # 5: range
    rows.append(dict(rows[0]))                        # 7: exact duplicate of 1 -> collapsed
    rows.append(dict(rows[5], 姓名="另一个名字"))       # 8: same key as 6, other content -> both quarantined
    rows.append(dict(rows[0], 学籍号="Ｇ" + rows[0]["学籍号"][1:] + " ", 学年="2025"))  # 9: normalised, accepted
    got = staged_rows(engine, "enrollment.roster", rows)
    assert got[1] == ("accepted", [])
    assert got[2] == ("quarantined", [("type", "出生日期")])
    assert got[3] == ("quarantined", [("codes", "性别")])
    assert got[4] == ("quarantined", [("required", "学籍号")])
    assert got[5] == ("quarantined", [("range", "学年")])
    assert got[6] == got[8] == ("quarantined", [("unique_natural_key", "学籍号, 学年")])
    assert got[7] == ("collapsed", [])
    assert got[9] == ("accepted", [])


def test_pattern_and_length_failures_name_their_column(engine):
    _, rows = samples.rows("health.fitness", 2)
    rows[0]["学籍号"] = "G123"
    rows[1]["姓名"] = "名" * 31
    got = staged_rows(engine, "health.fitness", rows)
    assert got[1] == ("quarantined", [("pattern", "学籍号")])
    assert got[2] == ("quarantined", [("max_length", "姓名")])


@pytest.mark.parametrize("repeat", [True, False])
def test_silver_takes_the_newest_batchs_row_of_a_key_whether_or_not_keys_repeat(engine, repeat):
    """A load of two batches (oldest first): a key in both gives silver the newer batch's row; keys that repeat
    nowhere are read without the join back (silver.newest_rows_sql), and every accepted row reaches silver."""
    std = standard.load()
    table = std.table("enrollment.roster")
    _, first = samples.rows("enrollment.roster", 3)
    _, second = samples.rows("enrollment.roster", 2, start=4)
    if repeat:
        second.append(dict(first[1], 班级="九班"))  # the key of the first batch's row 2, corrected
    records = [("b1", i, r) for i, r in enumerate(first, start=1)] + [("b2", i, r) for i, r in enumerate(second, start=1)]
    data = pa.Table.from_pylist([dict(_batch_id=b, _table=table.qualified_name, _source_file=f"{b}.csv", _row_number=i,
                                      _raw=r, _shape_error=None, _ingested_at=None) for b, i, r in records],
                                bronze.SCHEMA)
    engine.register_arrow("bronze_batches", data)
    silver.register_lookups(engine, table)
    program = stage.compile_table(table, std, table_rules=False)
    silver.stage_relations(engine, std, program, ["b1", "b2"], b"k")
    try:
        sql = silver.newest_rows_sql(engine, table)
        assert ("JOIN" in sql) == repeat
        got = {(r["_batch_id"], r["_row_number"]): r for r in engine.rows(sql)}
    finally:
        engine.drop(*silver.WORK)
    if repeat:
        assert set(got) == {("b1", 1), ("b1", 3), ("b2", 1), ("b2", 2), ("b2", 3)}
        assert got[("b2", 3)]["class_name"] == "九班"
    else:
        assert set(got) == {("b1", 1), ("b1", 2), ("b1", 3), ("b2", 1), ("b2", 2)}
    assert len({(r["student_token"], r["school_year"]) for r in got.values()}) == len(got)

"""The standard's rules on generated data: every manifest defect the standard implies is quarantined
with its rule (recall), no clean row is quarantined (no false positives), batch failures reject batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from edulake import standard
from edulake.lake import delta, ledger, quarantine
from edulake.quality import batch, results

pytestmark = pytest.mark.spark


def _quarantined(spark):
    out = {}
    for feed in standard.load().feeds:
        if delta.exists(quarantine.path(feed)):
            for r in quarantine.read(spark, feed).collect():
                out.setdefault((f"{feed}/{r._source_file}", r._row_number), []).append(r)
    return out


def test_every_quarantine_defect_is_caught_with_its_rule(spark, generated_lake):
    home, manifest = generated_lake.home, generated_lake.manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        found = _quarantined(spark)
    missed = []
    for d in (d for d in manifest["defects"] if d["expect"] == "quarantine"):
        hits = found.get((d["file"], d["row"]), [])
        if not any(h.rule == d["rule"] for h in hits):
            missed.append((d, [h.rule for h in hits]))
        else:
            hit = next(h for h in hits if h.rule == d["rule"])
            assert Path(d["file"]).name in hit.reason and f"第{d['row']}行" in hit.reason
    assert not missed, missed[:10]


def test_no_clean_row_is_quarantined(spark, generated_lake):
    home, manifest = generated_lake.home, generated_lake.manifest
    defect_rows = {(d["file"], d["row"]) for d in manifest["defects"]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        found = _quarantined(spark)
    false_positives = [(k, [r.rule for r in v]) for k, v in found.items() if k not in defect_rows]
    assert not false_positives, false_positives[:10]


def test_summary_per_batch_and_expectation_in_ops_quality(spark, generated_lake):
    home, manifest = generated_lake.home, generated_lake.manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        summary = delta.read(spark, results.path())
        batches = ledger.read(spark).where(F.col("status").isin("loaded", "rejected")).select("batch_id")
        assert summary.select("batch_id").distinct().count() == batches.count()
        failed = summary.groupBy().agg(F.sum("failed")).first()[0]
    assert failed >= sum(1 for d in manifest["defects"] if d["expect"] == "quarantine")


def test_row_count_outside_the_band_rejects_the_batch(spark, generated_lake):
    home = generated_lake.home
    std = standard.load()
    table = std.table("health.vision")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        loaded = ledger.read(spark).where((F.col("table") == table.qualified_name) & (F.col("status") == "loaded"))
        prev = loaded.orderBy(F.desc("rows_received")).first()
        # a later file of the same series with a tenth of the rows: a truncated delivery
        name = batch.series(prev.source_file).replace("*", "2035", 1)
        raw = spark.createDataFrame(
            [("new", name, i, {c: "x" for c in table.columns}) for i in range(1, max(2, prev.rows_received // 10))],
            "_batch_id string, _source_file string, _row_number int, _raw map<string,string>")
        raw = raw.withColumn("school_year", F.lit(2035))
        got = batch.failures(spark, table, std, raw, ["new"])
        # compared with the latest 学年 of the series, not with whichever batch finished last
        latest = max((r for r in loaded.collect() if batch.series(r.source_file) == batch.series(name)),
                     key=lambda r: batch.file_year(r.source_file))
    assert [r for r, _ in got["new"]] == ["row_count_within_band"]
    assert latest.source_file in got["new"][0][1] and name in got["new"][0][1]
    assert f"({latest.rows_received} 行)" in got["new"][0][1]


def test_a_missing_district_rejects_the_facility_year(spark, generated_lake):
    home = generated_lake.home
    std = standard.load()
    table = std.table("facility.condition")
    raw = spark.createDataFrame([("only", "办学条件_2036_110101.xlsx", 1, {c: "1" for c in table.columns}, 2036,
                                  "110101")],
                                "_batch_id string, _source_file string, _row_number int, _raw map<string,string>, "
                                "school_year int, district_code string")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        got = batch.failures(spark, table, std, raw, ["only"])
    found = dict(got["only"])
    # one row may also fall outside the row band of the district's earlier facility files
    assert "every_district_delivered" in found and set(found) <= {"every_district_delivered", "row_count_within_band"}
    missing = found["every_district_delivered"]
    assert "2036 学年" in missing and "110102" in missing and "110101 " not in missing


def test_student_enrolled_looks_the_student_up_on_the_years_roster_by_token(spark, generated_lake):
    """On the roster: satisfied; that year's roster loaded without them: warned; no roster of that year
    loaded yet: unknown, not a failure. The lookup joins on the pseudonym token (silver holds no 学籍号)."""
    from edulake import settings
    from edulake.lake import identity
    from edulake.quality import conditions as C
    from edulake.quality import lookups
    from edulake.quality.checks import text

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        roster = delta.read(spark, settings.paths().silver / "student_enrollment")
        year = roster.agg(F.max("school_year")).first()[0]
        token = roster.where(F.col("school_year") == year).select("student_token").first()[0]
        student_no = delta.read(spark, identity.path()).where(F.col("token") == token).first()["student_no"]
        unknown_year = roster.agg(F.max("school_year")).first()[0] + 3
        frame = spark.createDataFrame(
            [("on", student_no, year), ("off", "G11010120100101123X", year), ("unknown", student_no, unknown_year)],
            "case string, student_no string, school_year int").withColumn(text("student_no"), F.col("student_no"))
        table = standard.load().table("health.fitness")
        out = lookups.with_lookups(table, frame).select(
            "case", C.ENROLLED, C.on_roster(F.col(text("student_no")), F.col(C.ENROLLED)).alias("ok")).collect()
    assert {r["case"]: (r[C.ENROLLED], r["ok"]) for r in out} == {
        "on": (True, True), "off": (False, False), "unknown": (None, True)}


def test_fitness_rows_off_the_roster_are_kept_and_flagged(spark, generated_lake):
    """student_enrolled is a warn rule: a fitness record whose student is not on that year's roster (in
    generated data: the student's enrollment row was quarantined) reaches silver flagged, not quarantined."""
    from edulake import settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        silver = settings.paths().silver
        fitness = delta.read(spark, silver / "fitness_test")
        roster = delta.read(spark, silver / "student_enrollment").select("student_token", "school_year").distinct()
        off = fitness.join(roster, ["student_token", "school_year"], "left_anti").select("student_token", "school_year")
        flagged = fitness.where(F.array_contains("_warnings", "student_enrolled:学籍号")).select(
            "student_token", "school_year")
        assert off.count() > 0  # the generator's enrollment defects leave some students off the roster
        assert sorted(flagged.collect()) == sorted(off.collect())
        quarantined = _quarantined(spark)
        assert not any(r.rule == "student_enrolled" for rows in quarantined.values() for r in rows)


def test_implausible_measurements_are_kept_and_flagged(spark, generated_lake):
    """measurement_plausible_for_grade_sex is a warn rule: values inside the field's range but far beyond the
    2014 standard's scoring range for the grade and sex (a first-grader's 50 m in 6.0 s, 8,000 mL of lung
    capacity at 7, a BMI of 66 at 13) are kept and flagged; the generator's clean rows are never flagged."""
    from edulake import settings
    from edulake.lake import bronze, silver

    std = standard.load()
    table = std.table("health.fitness")
    flag = "measurement_plausible_for_grade_sex:"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        # no row of silver (every clean generated row, and the normalise defects) carries the flag
        fitness = delta.read(spark, settings.paths().silver / "fitness_test")
        assert fitness.where(F.array_contains("_warnings", flag)).count() == 0
        entry = (ledger.read(spark).where((F.col("table") == table.qualified_name) & (F.col("status") == "loaded"))
                 .orderBy(F.desc("rows_accepted")).first())
        raw = bronze.read_batches(spark, "health", table.qualified_name, [entry.batch_id])
        defects = {d["row"] for d in generated_lake.manifest["defects"] if d["file"] == f"health/{entry.source_file}"}
        rows = [r for r in raw.select("_row_number", "_raw").collect() if r._row_number not in defects]

        def pick(grade_codes, sex):
            return next(r._row_number for r in rows if r._raw["年级编号"] in grade_codes and r._raw["性别"] == sex)

        edits = {pick({"11"}, "1"): {"50米跑": "6.0"},  # grade 1 boy; band from 7.8 s
                 pick({"11"}, "2"): {"肺活量": "8000"},  # grade 1 girl; band up to 2,200 mL
                 pick({"21", "22"}, "1"): {"身高": "120.0", "体重": "95.0"}}  # BMI 66
        raw = raw.withColumn("_raw", F.transform_values("_raw", lambda k, v: _edited(k, v, edits)))
        staged = silver.stage(table, std, raw, [entry.batch_id])
        flagged = staged.where(F.array_contains("_warnings", flag)).select("_row_number", "_status").collect()
    assert {r._row_number: r._status for r in flagged} == {n: "accepted" for n in edits}


def _edited(key, value, edits: dict[int, dict[str, str]]):
    out = value
    for row, changes in edits.items():
        for column, new in changes.items():
            out = F.when((F.col("_row_number") == row) & (key == column), F.lit(new)).otherwise(out)
    return out

"""The standard's rules on generated data, on the default engine: every manifest defect the standard implies
is quarantined with its rule (recall), no clean row is quarantined (no false positives), batch failures
reject batches, warn rules flag and keep."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest

from edulake import standard
from edulake.lake import bronze, engines, ledger, ops_quality, privacy, quarantine, silver
from edulake.quality import batch, stage
from edulake.quality import conditions as C

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402


def staged_rows(table, raw_rows: list[dict], columns: str) -> list[dict]:
    """Bronze-shaped rows (_row_number, _raw) of one batch through the engine's staging with every rule."""
    std = standard.load()
    key = privacy.pseudonym_key()
    engine = engines.get("duckdb")
    data = pa.Table.from_pylist([dict(_batch_id="t", _table=table.qualified_name, _source_file="t.csv",
                                      _shape_error=None, _ingested_at=None, **r) for r in raw_rows], bronze.SCHEMA)
    engine.register_arrow("bronze_batches", data)
    silver.register_lookups(engine, table)
    program = stage.compile_table(table, std)
    silver.stage_relations(engine, std, program, ["t"], key)
    try:
        return engine.rows(f"SELECT {columns} FROM staged ORDER BY _row_number")
    finally:
        engine.drop(*silver.WORK)


def _quarantined():
    out = {}
    for feed in standard.load().feeds:
        for r in support.read(quarantine.path(feed)):
            out.setdefault((f"{feed}/{r._source_file}", r._row_number), []).append(r)
    return out


def test_every_quarantine_defect_is_caught_with_its_rule(generated_lake):
    home, manifest = generated_lake.home, generated_lake.manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        found = _quarantined()
    missed = []
    for d in (d for d in manifest["defects"] if d["expect"] == "quarantine"):
        hits = found.get((d["file"], d["row"]), [])
        if not any(h.rule == d["rule"] for h in hits):
            missed.append((d, [h.rule for h in hits]))
        else:
            hit = next(h for h in hits if h.rule == d["rule"])
            assert Path(d["file"]).name in hit.reason and f"第{d['row']}行" in hit.reason
    assert not missed, missed[:10]


def test_no_clean_row_is_quarantined(generated_lake):
    home, manifest = generated_lake.home, generated_lake.manifest
    defect_rows = {(d["file"], d["row"]) for d in manifest["defects"]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        found = _quarantined()
    false_positives = [(k, [r.rule for r in v]) for k, v in found.items() if k not in defect_rows]
    assert not false_positives, false_positives[:10]


def test_summary_per_batch_and_expectation_in_ops_quality(generated_lake):
    home, manifest = generated_lake.home, generated_lake.manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        summary = support.read(ops_quality.path())
        batches = ledger.rows("status IN ('loaded', 'rejected')")
        assert len({r.batch_id for r in summary}) == len(batches)
        failed = sum(r.failed for r in summary)
    assert failed >= sum(1 for d in manifest["defects"] if d["expect"] == "quarantine")


def test_row_count_outside_the_band_rejects_the_batch(generated_lake):
    home = generated_lake.home
    std = standard.load()
    table = std.table("health.vision")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        loaded = ledger.rows(f"\"table\" = '{table.qualified_name}' AND status = 'loaded'")
        prev = max(loaded, key=lambda r: r["rows_received"])
        # a later file of the same series with a tenth of the rows: a truncated delivery
        name = batch.series(prev["source_file"]).replace("*", "2035", 1)
        stats = {"new": batch.BatchStats(max(1, prev["rows_received"] // 10 - 1), name, [], {2035: set()})}
        got = batch.failures(table, std, stats, batch.previous_counts(loaded))
        # compared with the latest 学年 of the series, not with whichever batch finished last
        latest = max((r for r in loaded if batch.series(r["source_file"]) == batch.series(name)),
                     key=lambda r: batch.file_year(r["source_file"]))
    assert [r for r, _ in got["new"]] == ["row_count_within_band"]
    assert latest["source_file"] in got["new"][0][1] and name in got["new"][0][1]
    assert f"({latest['rows_received']} 行)" in got["new"][0][1]


def test_a_missing_district_rejects_the_facility_year(generated_lake):
    home = generated_lake.home
    std = standard.load()
    table = std.table("facility.condition")
    name = "办学条件_2036_110101.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        loaded = ledger.rows(f"\"table\" = '{table.qualified_name}' AND status = 'loaded'")
        stats = {"only": batch.BatchStats(1, name, [], {2036: {"110101"}})}
        got = batch.failures(table, std, stats, batch.previous_counts(loaded), {})
    found = dict(got["only"])
    # one row may also fall outside the row band of the district's earlier facility files
    assert "every_district_delivered" in found and set(found) <= {"every_district_delivered", "row_count_within_band"}
    missing = found["every_district_delivered"]
    assert "2036 学年" in missing and "110102" in missing and "110101 " not in missing


@pytest.mark.parametrize("engine_name", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_a_row_failing_its_own_rules_delivers_no_year_to_the_district_rule(engine_name, session_home):
    """Found at scale 1.0: one facility row with 学年 2046 (out of range: quarantined) rejected its whole batch,
    as the only delivery of 2046, for the 15 districts missing from that year."""
    table = standard.load().table("facility.condition")
    engine = engines.get(engine_name)
    raw = pa.map_(pa.string(), pa.string())
    engine.register_arrow("checked", pa.table({
        "_batch_id": ["b"] * 3, "_source_file": ["办学条件_2025_110111.xlsx"] * 3, "_shape_error": pa.nulls(3, pa.string()),
        "_row_valid": [True, True, False], "school_year": [2025, 2025, 2046], "district_code": ["110111"] * 3}))
    engine.register_arrow("bronze_batches", pa.table({  # the raw maps: checked does not carry them
        "_batch_id": ["b"] * 3, "_shape_error": pa.nulls(3, pa.string()),
        "_raw": pa.array([[(c, "x") for c in table.columns]] * 3, raw)}))
    try:
        (stats,) = batch.collect(table, engine.rows(batch.stats_sql(table))).values()
    finally:
        engine.drop("checked", "bronze_batches")  # the engine is the session's: the lake's own come next
    assert stats.rows == 3 and stats.delivered == {2025: {"110111"}} and stats.missing == []


def test_student_enrolled_looks_the_student_up_on_the_years_roster_by_token(generated_lake):
    """On the roster: satisfied; that year's roster loaded without them: warned; no roster of that year
    loaded yet: unknown, not a failure. The lookup joins on the pseudonym token (silver holds no 学籍号)."""
    from edulake import settings

    table = standard.load().table("health.fitness")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        year = max(r.school_year for r in support.read(settings.paths().silver / "student_enrollment",
                                                          columns="DISTINCT school_year"))
        token = support.read(settings.paths().silver / "student_enrollment", f"school_year = {year}")[0].student_token
        student_no = support.read(settings.paths().identity, f"token = '{token}'")[0].student_no
        entry = ledger.rows(f"\"table\" = '{table.qualified_name}' AND status = 'loaded'")[0]
        (base,) = support.read(bronze.path("health"), f"_batch_id = '{entry['batch_id']}' AND _row_number = 1")
        year_column = table.field("school_year").column
        rows = [dict(_row_number=i, _raw={**base._raw, "学籍号": no, year_column: str(y)})
                for i, (no, y) in enumerate([(student_no, year), ("G11010120100101123X", year),
                                             (student_no, year + 3)], start=1)]
        out = staged_rows(table, rows, f"_row_number, {C.ENROLLED} AS enrolled, _warnings")
    got = {r["_row_number"]: (r["enrolled"], "student_enrolled:学籍号" in r["_warnings"]) for r in out}
    assert got == {1: (True, False), 2: (False, True), 3: (None, False)}


def test_fitness_rows_off_the_roster_are_kept_and_flagged(generated_lake):
    """student_enrolled is a warn rule: a fitness record whose student is not on that year's roster (in
    generated data: the student's enrollment row was quarantined) reaches silver flagged, not quarantined."""
    from edulake import settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        silver_dir = settings.paths().silver
        fitness = f"delta_scan('{silver_dir / 'fitness_test'}')"
        roster = f"delta_scan('{silver_dir / 'student_enrollment'}')"
        con = support.duck()
        off = sorted(con.sql(f"SELECT student_token, school_year FROM {fitness} f WHERE NOT EXISTS (SELECT 1 FROM "
                             f"{roster} r WHERE r.student_token = f.student_token AND r.school_year = f.school_year)"
                             ).fetchall())
        flagged = sorted(con.sql(f"SELECT student_token, school_year FROM {fitness} "
                                 f"WHERE list_contains(_warnings, 'student_enrolled:学籍号')").fetchall())
        assert off  # the generator's enrollment defects leave some students off the roster
        assert flagged == off
        quarantined = _quarantined()
        assert not any(r.rule == "student_enrolled" for rows in quarantined.values() for r in rows)


def test_implausible_measurements_are_kept_and_flagged(generated_lake):
    """measurement_plausible_for_grade_sex is a warn rule: values inside the field's range but far beyond the
    2014 standard's scoring range for the grade and sex (a first-grader's 50 m in 6.0 s, 8,000 mL of lung
    capacity at 7, a BMI of 66 at 13) are kept and flagged; the generator's clean rows are never flagged."""
    from edulake import settings

    std = standard.load()
    table = std.table("health.fitness")
    flag = "measurement_plausible_for_grade_sex:"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        # no row of silver (every clean generated row, and the normalise defects) carries the flag
        assert not support.read(settings.paths().silver / "fitness_test", f"list_contains(_warnings, '{flag}')")
        entry = max(ledger.rows(f"\"table\" = '{table.qualified_name}' AND status = 'loaded'"),
                    key=lambda r: r["rows_accepted"])
        raw = support.read(bronze.path("health"), f"_batch_id = '{entry['batch_id']}'", "_row_number, _raw")
        defects = {d["row"] for d in generated_lake.manifest["defects"] if d["file"] == f"health/{entry['source_file']}"}
        rows = [r for r in raw if r._row_number not in defects]

        def pick(grade_codes, sex):
            return next(r._row_number for r in rows if r._raw["年级编号"] in grade_codes and r._raw["性别"] == sex)

        edits = {pick({"11"}, "1"): {"50米跑": "6.0"},  # grade 1 boy; band from 7.8 s
                 pick({"11"}, "2"): {"肺活量": "8000"},  # grade 1 girl; band up to 2,200 mL
                 pick({"21", "22"}, "1"): {"身高": "120.0", "体重": "95.0"}}  # BMI 66
        edited = [dict(_row_number=r._row_number, _raw={**r._raw, **edits.get(r._row_number, {})}) for r in rows]
        out = staged_rows(table, edited, "_row_number, _status, _warnings")
    flagged = {r["_row_number"]: r["_status"] for r in out if any(w.startswith(flag) for w in r["_warnings"])}
    assert flagged == {n: "accepted" for n in edits}

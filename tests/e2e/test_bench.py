"""The benchmark harness runs end to end at a tiny scale and writes a well-formed report; the engines are
reported side by side against one floor; the workload cut is reused while nothing changed.

No timing is asserted: figures are for the benchmark report, not the test suite."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from edulake import standard
from edulake.bench import change, report, runner
from edulake.bench.runner import StageResult
from edulake.cli import main


@pytest.mark.slow
def test_bench_runs_every_stage_and_writes_its_report(tmp_path, monkeypatch):
    # one school year: the backfill is then the reference data alone (its cost is per file, and a second
    # year of files would double the test's time without exercising anything more of the harness); its
    # build also checks that the warehouse builds, tests and publishes on a lake with no yearly feed yet.
    # The embedded engine only: `--engine both` runs the same code per engine (see the report test below)
    # and would add three Spark lake runs and three builds.
    monkeypatch.setenv("EDULAKE_HOME", str(tmp_path / "home"))
    work, out = tmp_path / "bench", tmp_path / "reports"
    result = CliRunner().invoke(main, ["bench", "--scale", "0.001", "--seed", "5", "--years", "2025-2025",
                                       "--engine", "duckdb", "--work", str(work), "--out", str(out)])
    assert result.exit_code == 0, result.output + "".join(p.read_text() for p in work.glob("*.log"))

    rep = json.loads((out / "bench-scale0.001.json").read_text(encoding="utf-8"))
    md = (out / "bench-scale0.001.md").read_text(encoding="utf-8")
    assert rep["engines"] == ["duckdb"] and rep["cut"]["reused"] is False
    mine = rep["engine"]["duckdb"]
    assert set(mine["workloads"]) == set(runner.WORKLOADS) == set(rep["floor"])
    stages = {(s["engine"], s["workload"], s["stage"]) for s in rep["stages"]}
    for workload in runner.WORKLOADS:
        for stage in ("landing", "bronze", "silver", "build"):
            assert ("duckdb", workload, stage) in stages
        assert ("", workload, "floor") in stages
    assert ("duckdb", "refresh", "validation") in stages
    for s in rep["stages"]:
        assert s["ok"] and s["seconds"] > 0 and s["peak_rss_mb"] > 0, s
    for name, w in mine["workloads"].items():
        assert w["rows"] > 0 and w["ingestion_to_floor"] > 0 and w["pipeline_to_floor"] > 0, (name, w)
        # the floor receives what the lake receives: every delivered row, none left out
        assert rep["floor"][name]["rows"] == w["rows"] and not rep["floor"][name]["skipped_files"], name
    # the 1% change is about 1% of the refresh's rows, and every delivered row reached the ledger
    refresh, change_w = mine["workloads"]["refresh"], mine["workloads"]["change"]
    assert 0 < change_w["rows"] < refresh["rows"] * 0.05
    assert mine["incremental_vs_full"] > 0 and mine["incremental_vs_full_ingestion"] > 0
    silver = [s for s in rep["stages"] if s["stage"] == "silver"][-1]["detail"]
    assert silver["ledger_received"] == sum(w["rows"] for w in mine["workloads"].values())
    assert silver["ledger_received"] == (silver["ledger_accepted"] + silver["ledger_quarantined"]
                                         + silver["ledger_collapsed"])
    assert mine["slowest_stage"] and "| workload | stage | rows | duckdb s |" in md
    # the floor typed the columns as the standard says (GBK roster: dates are dates, not text)
    roster = work / "floor" / "refresh" / "enrollment.roster.parquet"
    kind, filled = duckdb.sql(f"SELECT typeof(birth_date), count(birth_date) FROM '{roster}' GROUP BY ALL").fetchone()
    assert kind == "DATE" and filled > 0
    # per feed: every feed of every workload, rows reconcile with the workload, validation inside silver
    feeds = mine["feeds"]
    for name, w in mine["workloads"].items():
        of_workload = [f for f in feeds if f["workload"] == name]
        assert {f["feed"] for f in of_workload} == set(standard.load().feeds), name
        assert sum(f["rows"] for f in of_workload) == w["rows"], name
    for f in feeds:
        assert 0 <= f["validate_seconds"] <= f["silver_seconds"] and f["peak_rss_mb"] > 0, f
        assert f["lake_seconds"] >= 0 and (f["lake_seconds"] > 0 or not f["rows"]), f  # a feed with nothing new: ~0 s
        assert f["rows_per_s"] == pytest.approx(f["rows"] / f["lake_seconds"] if f["lake_seconds"] else 0.0, rel=1e-2, abs=0.1), f
        assert (f["floor_seconds"] is not None) == (f["rows"] > 0), f
    assert "| workload | feed | rows | floor s | duckdb lake s |" in md
    # the standard's rules' own cost: the refresh's feeds validated both ways
    refresh_rows = {f["feed"]: f["rows"] for f in feeds if f["workload"] == "refresh" and f["rows"]}
    validation = mine["validation"]
    assert {v["feed"]: v["rows"] for v in validation} == refresh_rows
    for v in validation:
        assert v["workload"] == "refresh" and v["with_rules_seconds"] > 0 and v["field_rules_only_seconds"] > 0, v
        assert v["rules_seconds"] == pytest.approx(v["with_rules_seconds"] - v["field_rules_only_seconds"], abs=0.02)
    assert "| engine | workload | feed | rows | with rules s |" in md

    # the cut is reused while the sources, its parameters and its files are unchanged, and made again if not
    sources = next(work.glob("sources-*"))
    rows = {n: f["rows"] for n, f in json.loads((sources / "defects.json").read_text(encoding="utf-8"))["files"].items()}
    deliveries, reused = change.cut(sources, work / f"deliveries-{sources.name}", rows)
    assert reused and {n: d.rows for n, d in deliveries.items()} == {n: w["rows"] for n, w in mine["workloads"].items()}
    with deliveries["change"].files[0].open("ab") as fh:
        fh.write(b"\n")
    again, reused = change.cut(sources, work / f"deliveries-{sources.name}", rows)
    assert not reused and {n: d.rows for n, d in again.items()} == {n: d.rows for n, d in deliveries.items()}


def _stage(engine: str, workload: str, stage: str, seconds: float, rows: int, detail: dict | None = None) -> StageResult:
    return StageResult(workload, stage, seconds, rows, 100.0 * seconds, True, detail or {}, engine)


def test_both_engines_are_reported_side_by_side_against_one_floor(tmp_path: Path):
    rows = {"backfill": 10, "refresh": 1000, "change": 10}
    deliveries = {n: change.Delivery(n, [tmp_path / f"{n}.csv"], r) for n, r in rows.items()}
    results = [_stage("", "sources", "cut", 1.0, 0, {"reused": True})]
    for workload, n in rows.items():
        for engine, pace in (("duckdb", 1.0), ("spark", 5.0)):
            feed = {"engine": engine, "workload": workload, "feed": "exam", "rows": n, "landing_seconds": pace,
                    "bronze_seconds": pace, "silver_seconds": 2 * pace, "validate_seconds": pace,
                    "lake_seconds": 4 * pace, "rows_per_s": n / (4 * pace), "validate_rows_per_s": n / pace,
                    "peak_rss_mb": 10.0}
            results += [_stage(engine, workload, "landing", pace, n), _stage(engine, workload, "bronze", pace, n),
                        _stage(engine, workload, "silver", 2 * pace, n, {"feeds": [feed]})]
            if workload == "refresh":
                results.append(_stage(engine, workload, "validation", 3 * pace, n, {
                    "feeds": {"exam": {"rows": n, "rules": 2 * pace, "field_rules": pace}}}))
            results.append(_stage(engine, workload, "build", 10.0, n))
        results.append(_stage("", workload, "floor", 2.0, n, {"feeds": {"exam": {"rows": n, "seconds": 1.5}}}))

    rep = runner.summarise(0.5, 1, ("duckdb", "spark"), results, deliveries)
    md = report.markdown(rep)
    duck, spark = rep["engine"]["duckdb"], rep["engine"]["spark"]
    # one floor per workload, each engine's ingestion and pipeline against it
    assert duck["workloads"]["refresh"]["ingestion_to_floor"] == 2.0 and spark["workloads"]["refresh"]["ingestion_to_floor"] == 10.0
    assert duck["workloads"]["refresh"]["pipeline_to_floor"] == 7.0 and spark["workloads"]["refresh"]["pipeline_to_floor"] == 15.0
    assert duck["incremental_vs_full"] == 1.0 and spark["incremental_vs_full_ingestion"] == 1.0
    assert duck["feeds"][0]["lake_to_floor"] == pytest.approx(4 / 1.5, abs=0.1)
    assert [v["rules_seconds"] for v in duck["validation"]] == [1.0] and [v["rules_seconds"] for v in spark["validation"]] == [5.0]
    assert spark["slowest_stage"] == "backfill/silver" and duck["slowest_stage"] == "backfill/build"
    assert "| workload | stage | rows | duckdb s | duckdb rows/s | duckdb peak MB | spark s |" in md
    assert "duckdb ingestion ÷ floor" in md and "spark pipeline ÷ floor" in md and "(reused)" in md
    js, _ = report.write(rep, tmp_path)
    assert js.name == "bench-scale0.5-duckdb-spark.json"

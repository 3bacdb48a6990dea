"""The benchmark harness runs end to end at a tiny scale and writes a well-formed report.

No timing is asserted: figures are for the benchmark report, not the test suite."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from edulake.cli import main

pytestmark = pytest.mark.spark


def test_bench_runs_every_stage_and_writes_its_report(tmp_path, monkeypatch):
    # one school year: the backfill is then the reference data alone (its cost is per file, and a second
    # year of files would double the test's time without exercising anything more of the harness); its
    # build also checks that the warehouse builds, tests and publishes on a lake with no yearly feed yet
    monkeypatch.setenv("EDULAKE_HOME", str(tmp_path / "home"))
    work, out = tmp_path / "bench", tmp_path / "reports"
    result = CliRunner().invoke(main, ["bench", "--scale", "0.001", "--seed", "5", "--years", "2025-2025",
                                       "--work", str(work), "--out", str(out)])
    assert result.exit_code == 0, result.output + "".join(p.read_text() for p in work.glob("*.log"))

    report = json.loads((out / "bench-scale0.001.json").read_text(encoding="utf-8"))
    assert set(report["workloads"]) == {"backfill", "refresh", "change"}
    stages = {(s["workload"], s["stage"]) for s in report["stages"]}
    for workload in ("backfill", "refresh", "change"):
        for stage in ("landing", "bronze", "silver", "build", "baseline"):
            assert (workload, stage) in stages
    for s in report["stages"]:
        assert s["ok"] and s["seconds"] > 0 and s["peak_rss_mb"] > 0, s
    for name, w in report["workloads"].items():
        assert w["rows"] > 0 and w["pipeline_to_baseline"] > 0, (name, w)
    # the 1% change is about 1% of the refresh's rows, and every delivered row reached the ledger
    refresh, change = report["workloads"]["refresh"], report["workloads"]["change"]
    assert 0 < change["rows"] < refresh["rows"] * 0.05
    silver = [s for s in report["stages"] if s["stage"] == "silver"][-1]["detail"]
    assert silver["ledger_received"] == sum(w["rows"] for w in report["workloads"].values())
    assert silver["ledger_received"] == (silver["ledger_accepted"] + silver["ledger_quarantined"]
                                         + silver["ledger_collapsed"])
    assert report["slowest_stage"] and "| workload | stage |" in (out / "bench-scale0.001.md").read_text()
    # per feed: every feed of every workload, rows reconcile with the workload, validation inside silver
    from edulake import standard

    feeds = report["feeds"]
    for name, w in report["workloads"].items():
        mine = [f for f in feeds if f["workload"] == name]
        assert {f["feed"] for f in mine} == set(standard.load().feeds), name
        assert sum(f["rows"] for f in mine) == w["rows"], name
    for f in feeds:
        assert 0 <= f["validate_seconds"] <= f["silver_seconds"] and f["peak_rss_mb"] > 0, f
        assert f["lake_seconds"] > 0 and f["rows_per_s"] == pytest.approx(f["rows"] / f["lake_seconds"], rel=1e-2, abs=0.1), f
    assert "| workload | feed | rows |" in (out / "bench-scale0.001.md").read_text()
    # the standard's rules' own cost (validation ≤ ingestion): the refresh's feeds validated both ways
    refresh_rows = {f["feed"]: f["rows"] for f in feeds if f["workload"] == "refresh" and f["rows"]}
    validation = report["validation"]
    assert {v["feed"]: v["rows"] for v in validation} == refresh_rows
    for v in validation:
        assert v["workload"] == "refresh" and v["with_rules_seconds"] > 0 and v["field_rules_only_seconds"] > 0, v
        assert v["rules_seconds"] == pytest.approx(v["with_rules_seconds"] - v["field_rules_only_seconds"], abs=0.02)
        assert v["ingestion_seconds"] > 0, v
    assert "| workload | feed | rows | with rules s |" in (out / "bench-scale0.001.md").read_text()

"""Great Expectations itself, run by the lake on every load of the generated lake (with its defects):
GX's unexpected count per rule equals ops/quality's for the same batches, GX ran on every validated
batch, its stored results and Data Docs hold no identifier, and `edulake quality docs` re-runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from edulake import settings
from edulake.lake import gx_run, identity, ops_quality

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402


def stored_results() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(gx_run.results_dir().rglob("*.json"))]


def test_gx_unexpected_counts_per_rule_equal_ops_quality(generated_lake):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(generated_lake.home))
        results = stored_results()
        recorded = support.read(ops_quality.path())
    by_batch = defaultdict(list)
    for r in recorded:
        by_batch[r.batch_id].append(r)
    assert results, "GX stored no validation result"
    covered, failing_rules, mismatches = set(), set(), []
    for result in results:
        batches = result["meta"][gx_run.LOAD_META]
        covered |= set(batches)
        for e in result["results"]:
            meta = e["expectation_config"]["meta"]
            key = (meta["rule"], meta["column"], meta["check"])
            rows = [r for b in batches for r in by_batch[b] if (r.rule, r.column, r.expectation) == key]
            assert len(rows) == len(batches), (result["suite_name"], key)  # one ops row per batch and check
            failed = sum(r.failed for r in rows)
            if e["result"]["observed_value"] != failed:
                mismatches.append((result["suite_name"], key, e["result"]["observed_value"], failed))
            if failed:
                failing_rules.add(meta["rule"])
                assert not e["success"]
    assert not mismatches, mismatches
    assert covered == set(by_batch), "GX did not validate every batch the lake validated"
    # the generator's defects make GX find failures of many rules, not only zeros that agree
    assert len(failing_rules) >= 8, failing_rules


def _identifiers(home: Path) -> set[str]:
    """The identity vault's clear values (names shorter than 3 characters would match ordinary words)."""
    values = set()
    for row in support.read(settings.Paths(home).identity):
        for column in identity.columns():
            v = getattr(row, column)
            if v and (column != "name" or len(v) >= 3):
                values.add(v)
    return values


def _leaks(files: list[Path], values: set[str]) -> list[tuple[str, str]]:
    """(file, value) for every vault value found in the files: identifiers and phones anywhere in a run of
    letters and digits, names anywhere in a run of Chinese characters."""
    lengths = {len(v) for v in values if v.isascii()}
    found = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        words = set()
        for run in re.findall(r"[0-9A-Za-z]+", text):
            words |= {run[i:i + n] for n in lengths for i in range(len(run) - n + 1)}
        for run in re.findall(r"[\u4e00-\u9fff]{3,}", text):
            words |= {run[i:i + n] for n in (3, 4) for i in range(len(run) - n + 1)}
        found += [(str(f), v) for v in sorted(words & values)]
    return found


def test_gx_results_and_data_docs_hold_no_identifier(generated_lake, tmp_path):
    values = _identifiers(generated_lake.home)
    assert len(values) > 1000
    gx_root = settings.Paths(generated_lake.home).quality / "gx"
    files = [p for p in gx_root.rglob("*") if p.is_file() and p.suffix in (".json", ".html", ".yml")]
    docs = [p for p in files if p.suffix == ".html" and "/validations/" in str(p)]
    assert files and docs, "no stored results or Data Docs pages"
    # Data Docs are built once per feed's silver run (gx_run.build_docs): every stored result has its page,
    # and the index links each of them
    results = sorted((gx_root / "uncommitted" / "validations").rglob("*.json"))
    site = gx_root / "uncommitted" / "data_docs" / "local_site"
    pages = {p.relative_to(site / "validations").with_suffix("") for p in docs}
    assert results and {r.relative_to(gx_root / "uncommitted" / "validations").with_suffix("") for r in results} <= pages
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f"{r.parent.parent.name}/{r.parent.name}/{r.stem}.html" in index for r in results)
    assert not _leaks(files, values)[:5]
    planted = tmp_path / "planted.json"  # the scan finds a value where there is one
    planted.write_text(json.dumps({"row": sorted(values)[0]}, ensure_ascii=False), encoding="utf-8")
    assert _leaks([planted], values)


def test_quality_docs_reruns_gx_on_the_loaded_batches(generated_lake, tmp_path):
    from edulake.cli import main

    home = tmp_path / "home"
    shutil.copytree(generated_lake.home, home, ignore=shutil.ignore_patterns("gx"))  # a fresh GX project
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        mp.setenv("EDULAKE_GX", "0")  # `quality docs` runs GX even so
        out = CliRunner().invoke(main, ["quality", "docs", "exam.score"])
        assert out.exit_code == 0, out.output
        (result,) = stored_results()
        assert gx_run.docs_index().exists()
        loaded = {r.batch_id for r in support.read(ops_quality.path(), "\"table\" = 'exam.score'")}
    assert result["suite_name"] == "edulake.exam.score" and set(result["meta"][gx_run.LOAD_META]) <= loaded


# A fresh interpreter (the test process has imported GX long since): ingest a roster, noting when silver starts
# whether GX's import was started in the background and whether landing and bronze imported GX themselves.
PREFETCH_PROBE = """
import json, sys
from edulake.lake import gx_run, ledger, pipeline, tables
seen = {}
run_silver = pipeline.run_silver
def silver(*args, **kwargs):
    seen["started"] = gx_run._prefetch is not None
    gx_run._imported()
    seen["background"] = "great_expectations" in sys.modules
    return run_silver(*args, **kwargs)
pipeline.run_silver = silver
result = pipeline.ingest("enrollment")
seen["errors"] = [str(e) for e in result.errors]
seen["statuses"] = [r["status"] for r in tables.query(ledger.path(), "SELECT status FROM t")]
seen["imported"] = "great_expectations" in sys.modules
seen["main_file"] = hasattr(sys.modules["__main__"], "__file__")  # named for GX's import only
print(json.dumps(seen))
"""


@pytest.mark.parametrize("gx_on", [True, False], ids=["gx-on", "gx-off"])
def test_an_ingest_imports_gx_in_the_background_while_landing(session_home, edulake_home, gx_on):
    header, rows = support.rows("enrollment.roster", 3)
    support.write_csv(settings.paths().inbox / "enrollment" / "学籍名册_2024_110101.csv", header, rows, "gbk")
    env = {**os.environ, "EDULAKE_HOME": str(edulake_home), "EDULAKE_GX": "1" if gx_on else "0"}
    # `python -c`: pyspark.sql.connect, which GX imports, exits such a process unless gx_run names a file for it
    run = subprocess.run([sys.executable, "-c", PREFETCH_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["statuses"] == ["loaded"]
    # with GX on, its import was under way before silver; with GX off, nothing (landing included) imported it
    assert seen["started"] is gx_on and seen["background"] is gx_on and seen["imported"] is gx_on
    assert bool(stored_results()) is gx_on  # with GX on, silver's validation ran on the prefetched import
    assert seen["main_file"] is False

"""Lake ingestion end to end on real Spark and Delta: one ingested lake per module, shared by the assertions.

Covers: reconciliation of every batch, manifest defects routed to quarantine (or collapsed, or
normalised), no identifier in clear outside restricted/, reruns as no-ops, bad inputs rejected with
nothing written, kill-and-rerun converging to the clean run, and a standalone cluster matching local mode.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyspark.sql import functions as F

from edulake import settings, standard
from edulake.lake import delta, ledger, pipeline, privacy, quarantine, rules, standalone

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402

pytestmark = pytest.mark.spark
IMPLEMENTED_RULES = set(rules.PARSE_RULES) | set(rules.FIELD_RULES) | {"unique_natural_key"}


@dataclass
class Lake:
    home: Path
    manifest: dict
    results: list[pipeline.FeedResult]

    @property
    def paths(self) -> settings.Paths:
        return settings.Paths(self.home)


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    home = tmp_path_factory.mktemp("ingested")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        manifest = support.write_sample_inbox(settings.paths().inbox)
        results = pipeline.ingest_all(spark)
        yield Lake(home, manifest, results)


def ledger_rows(spark):
    return {r.batch_id: r for r in ledger.read(spark).collect()}


def test_every_batch_is_loaded_and_reconciles(spark, lake):
    assert all(r.ok for r in lake.results), [str(e) for r in lake.results for e in r.errors]
    rows = ledger_rows(spark)
    by_file = {f"{r.feed}/{r.source_file}": r for r in rows.values()}
    assert set(by_file) == set(lake.manifest["files"])
    for file, received in lake.manifest["files"].items():
        r = by_file[file]
        assert r.status == "loaded", (file, r.reason)
        assert r.rows_received == received
        assert r.rows_received == r.rows_accepted + r.rows_quarantined + r.rows_collapsed
        assert r.batch_id == f"{r.feed}-{r.sha256[:16]}" and r.seconds >= 0


def test_silver_holds_the_accepted_rows_and_quarantine_the_rejected(spark, lake):
    rows = ledger_rows(spark)
    for table in standard.load().tables():
        batches = [r for r in rows.values() if r.table == table.qualified_name]
        silver = delta.read(spark, lake.paths.silver / table.entity)
        assert silver.count() == sum(r.rows_accepted for r in batches), table.entity
        q = quarantine.read(spark, table.feed).where(F.col("table") == table.qualified_name)
        assert q.select("batch_id", "_row_number").distinct().count() == sum(r.rows_quarantined for r in batches)


def defects(lake, expect):
    return [d for d in lake.manifest["defects"] if d["expect"] == expect]


def test_manifest_defects_land_in_quarantine_with_their_rule(spark, lake):
    checked = 0
    for feed in standard.load().feeds:
        found = {(f"{feed}/{r._source_file}", r._row_number, r.rule): r for r in quarantine.read(spark, feed).collect()}
        for d in defects(lake, "quarantine"):
            if d["feed"] != feed or d["rule"] not in IMPLEMENTED_RULES:
                continue
            hit = found.get((d["file"], d["row"], d["rule"]))
            assert hit is not None, f"defect not quarantined: {d}"
            assert Path(d["file"]).name in hit.reason and str(d["row"]) in hit.reason
            assert hit.raw and hit.severity == "error"
            checked += 1
    assert checked >= 1


def test_collapsed_duplicates_are_counted(spark, lake):
    rows = ledger_rows(spark)
    expected = {}
    for d in defects(lake, "collapse"):
        expected[d["file"]] = expected.get(d["file"], 0) + 1
    got = {f"{r.feed}/{r.source_file}": r.rows_collapsed for r in rows.values() if r.rows_collapsed}
    assert got == expected


def test_normalised_values_are_accepted_clean(spark, lake):
    std = standard.load()
    for d in defects(lake, "normalise"):
        table = std.table(d["table"])
        field = next(f for f in table.fields if f.column == d["column"])
        row = (delta.read(spark, lake.paths.silver / table.entity)
               .where((F.col("_source_file") == Path(d["file"]).name) & (F.col("_row_number") == d["row"]))
               .collect())
        assert len(row) == 1, f"normalised row not accepted: {d}"
        if field.in_silver:
            assert row[0][field.silver_name] is not None, d


def test_tokens_are_keyed_hmac_and_identity_keeps_the_clear_values(spark, lake):
    key = privacy.pseudonym_key()
    identity = {r.token: r for r in delta.read(spark, lake.paths.identity).collect()}
    enrolled = delta.read(spark, lake.paths.silver / "student_enrollment").collect()
    assert enrolled and identity
    for r in enrolled:
        clear = identity[r.student_token]
        assert hmac.new(key, clear.student_no.encode(), hashlib.sha256).hexdigest() == r.student_token
        assert clear.name and clear.id_number
        assert "****" in r.guardian_phone and r.birth_month.day == 1


def clear_identifiers(spark, lake) -> set[str]:
    """Every identifier value in the sources (names, ID and student numbers, phones), from identity."""
    values = set()
    for r in delta.read(spark, lake.paths.identity).collect():
        values.update(v for k, v in r.asDict().items() if k in privacy.identity_fields(standard.load()) and v)
    return values


def test_no_identifier_in_clear_outside_restricted(spark, lake):
    secrets = clear_identifiers(spark, lake)
    assert len(secrets) >= 10  # the check below must have real identifiers to look for
    long_ones = {s for s in secrets if len(s) >= 11}
    tables = support.lake_tables(lake.home)
    outside = {name: p for name, p in tables.items() if not name.startswith("restricted/")}
    assert any(n.startswith("silver/") for n in outside) and "ops/batches" in outside
    for name, p in outside.items():
        df = delta.read(spark, p)
        for row in df.collect():
            for value in row:
                text = str(value)
                assert text not in secrets, f"{name} holds an identifier in clear: {text}"
                assert not any(s in text for s in long_ones), f"{name} holds an identifier inside {text}"
    for zone in ("landing", "bronze", "quarantine", "identity"):
        assert (lake.paths.restricted / zone).exists()


def table_versions(spark, home: Path) -> dict[str, int]:
    from delta.tables import DeltaTable

    return {name: DeltaTable.forPath(spark, str(p)).history(1).first().version
            for name, p in support.lake_tables(home).items()}


def test_ingesting_again_changes_nothing(spark, lake, monkeypatch):
    monkeypatch.setenv("EDULAKE_HOME", str(lake.home))
    before = table_versions(spark, lake.home)
    # the same file again, and the same bytes under another name
    source = lake.paths.inbox / "exam" / "考试成绩_ZK2024.csv"
    shutil.copy(source, source.with_name("考试成绩_ZK2024_重发.csv"))
    try:
        results = pipeline.ingest_all(spark)
    finally:
        source.with_name("考试成绩_ZK2024_重发.csv").unlink()
    assert all(r.ok and not r.landed and not r.entries for r in results)
    assert "考试成绩_ZK2024_重发.csv" in next(r for r in results if r.feed == "exam").unchanged
    assert table_versions(spark, lake.home) == before


# --- bad input: a clear error naming the file, and nothing written ---------------------------------

def _bad_file(inbox: Path, case: str) -> str:
    header, rows = support.rows("enrollment.roster", 3)
    name = "学籍名册_2024_110101.csv"
    path = inbox / "enrollment" / name
    if case == "undecodable":
        support.write_csv(path, header, rows, "gbk")
        path.write_bytes(path.read_bytes() + b"\x81\xff,\n")
    elif case == "empty":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    elif case == "header_only":
        support.write_csv(path, header, [], "gbk")
    elif case == "unknown_column":
        support.write_csv(path, header + ["备注"], [dict(r, 备注="x") for r in rows], "gbk")
    elif case == "missing_column":
        support.write_csv(path, header[1:], rows, "gbk")
    elif case == "truncated_xlsx":
        h, r = support.rows("health.fitness", 30)
        name = "体测_2024_110101.xlsx"
        path = support.write_xlsx(inbox / "health" / name, h, r)
        path.write_bytes(path.read_bytes()[:2000])
    elif case == "html_xls":
        name = "体测_2024_110101.xls"
        path = inbox / "health" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<html><table><tr><td>学校标识码</td></tr></table></html>", encoding="utf-8")
    return name


BAD = {
    "undecodable": "undecodable as gbk",
    "empty": "empty file",
    "header_only": "header only",
    "unknown_column": "unknown columns",
    "missing_column": "missing columns",
    "truncated_xlsx": "corrupt or truncated XLSX",
    "html_xls": "HTML table",
}


def assert_nothing_written(home: Path) -> None:
    p = settings.Paths(home)
    for zone in (p.landing, p.bronze, p.quarantine, p.identity, p.silver):
        assert not zone.exists() or not any(zone.rglob("*.parquet")), zone


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_rejected_naming_the_file(spark, edulake_home, case):
    name = _bad_file(settings.paths().inbox, case)
    feed = "health" if name.startswith("体测") else "enrollment"
    result = pipeline.ingest(feed, spark=spark)
    assert not result.ok and len(result.errors) == 1
    assert name in str(result.errors[0]) and BAD[case] in str(result.errors[0])
    assert_nothing_written(edulake_home)
    (entry,) = ledger.read(spark).collect()
    assert entry.status == "rejected" and name in entry.reason and entry.rows_received == 0


def test_cli_exits_non_zero_with_the_reason(spark, edulake_home):
    from edulake.cli import main

    _bad_file(settings.paths().inbox, "missing_column")
    escape = CliRunner().invoke(main, ["ingest", "enrollment", "../../etc/passwd"])
    assert escape.exit_code != 0 and "escapes the inbox" in escape.output
    result = CliRunner().invoke(main, ["ingest", "enrollment"])
    assert result.exit_code != 0
    assert "学籍名册_2024_110101.csv" in result.output and "missing columns" in result.output
    assert_nothing_written(edulake_home)


# --- crash safety and scale-out: separate processes, compared with the module's clean run -----------

CRASH_FEED = "exam"


def compare_feed(spark, home: Path, reference: Path, feed: str) -> None:
    """The tables a feed writes are the same in both homes (run times aside)."""
    std = standard.load()
    only = (f"restricted/bronze/{feed}", f"restricted/quarantine/{feed}",
            *[f"silver/{t.entity}" for t in std.feed(feed).tables])
    got, want = support.snapshot(spark, home, only), support.snapshot(spark, reference, only)
    assert set(got) == set(want) and got == want
    led = [F.col(c) for c in ("batch_id", "status", "rows_received", "rows_accepted", "rows_quarantined",
                              "rows_collapsed")]
    ours = sorted(delta.read(spark, settings.Paths(home).ops / "batches").select(*led).collect())
    theirs = sorted(delta.read(spark, settings.Paths(reference).ops / "batches").where(F.col("feed") == feed)
                    .select(*led).collect())
    assert ours == theirs
    ids = sorted(delta.read(spark, settings.Paths(home).identity).select("token", "student_no").collect())
    ref_ids = delta.read(spark, settings.Paths(reference).identity).select("token", "student_no")
    assert ids and set(ids) <= set(ref_ids.collect())


def copy_inbox(lake: Lake, home: Path, feed: str) -> None:
    shutil.copytree(lake.paths.inbox / feed, settings.Paths(home).inbox / feed)


def run_cli(home: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = standalone.job_env({"EDULAKE_HOME": str(home)})
    env.pop("EDULAKE_CRASH_AT", None)
    if crash_at:
        env["EDULAKE_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "edulake.cli", "ingest", *args], env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_killed_runs_converge_to_the_clean_run(spark, lake, tmp_path):
    home = tmp_path / "crash_home"
    copy_inbox(lake, home, CRASH_FEED)
    for point in ("after_bronze", "before_silver_merge"):
        killed = run_cli(home, CRASH_FEED, crash_at=point)
        assert killed.returncode == -9, killed.stderr[-2000:]
    assert support.lake_tables(home)  # the kills left partial state behind
    finished = run_cli(home, CRASH_FEED)
    assert finished.returncode == 0, finished.stderr[-3000:]
    compare_feed(spark, home, lake.home, CRASH_FEED)


@pytest.mark.slow
def test_standalone_cluster_matches_local_mode(spark, lake, tmp_path):
    home = tmp_path / "cluster_home"
    copy_inbox(lake, home, CRASH_FEED)
    with standalone.start(tmp_path / "cluster", cores=1, memory="2g") as cluster:
        cmd = standalone.submit_command("ingest", CRASH_FEED, master=cluster.master_url)
        env = standalone.job_env({"EDULAKE_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"})
        env.pop("EDULAKE_CRASH_AT", None)
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "app-" in run.stderr  # the job ran as an application of the standalone master
    compare_feed(spark, home, lake.home, CRASH_FEED)

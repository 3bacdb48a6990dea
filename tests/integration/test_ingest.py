"""Lake ingestion end to end on the default engine (DuckDB + delta-rs) and real Delta, on the generator's
sources with their defects (the session's `generated_lake`, shared with the quality tests); the Spark engine
on a standalone cluster must give the same tables.

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
from pathlib import Path

import pytest
from click.testing import CliRunner

from edulake import settings, standard
from edulake.lake import ledger, pipeline, privacy, quarantine
from edulake.lake.engines.spark import standalone
from edulake.quality import checks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402

# the rules the lake itself applies (the quality tests cover the standard's table rules)
LAKE_RULES = {"type", "row_shape", "required", "codes", "pattern", "range", "max_length", "unique_natural_key"}
assert checks  # the rules above are compiled there


@pytest.fixture()
def lake(generated_lake, monkeypatch):
    monkeypatch.setenv("EDULAKE_HOME", str(generated_lake.home))
    return generated_lake


def ledger_rows():
    return {r.batch_id: r for r in support.read(ledger.path())}


def test_every_batch_is_loaded_and_reconciles(lake):
    assert all(r.ok for r in lake.results), [str(e) for r in lake.results for e in r.errors]
    rows = ledger_rows()
    by_file = {f"{r.feed}/{r.source_file}": r for r in rows.values()}
    assert set(by_file) == set(lake.manifest["files"])
    for file, info in lake.manifest["files"].items():
        r = by_file[file]
        assert r.status == "loaded", (file, r.reason)
        assert r.rows_received == info["rows"] and r.sha256 == info["sha256"]
        assert r.rows_received == r.rows_accepted + r.rows_quarantined + r.rows_collapsed
        assert r.batch_id == f"{r.feed}-{r.sha256[:16]}" and r.seconds >= 0


def test_silver_holds_the_accepted_rows_and_quarantine_the_rejected(lake):
    rows = ledger_rows()
    for table in standard.load().tables():
        batches = [r for r in rows.values() if r.table == table.qualified_name]
        silver = support.read(lake.paths.silver / table.entity)
        assert len(silver) == sum(r.rows_accepted for r in batches), table.entity
        q = support.read(quarantine.path(table.feed), f"\"table\" = '{table.qualified_name}'")
        assert len({(r.batch_id, r._row_number) for r in q}) == sum(r.rows_quarantined for r in batches)


def defects(lake, expect):
    return [d for d in lake.manifest["defects"] if d["expect"] == expect]


def test_manifest_defects_land_in_quarantine_with_their_rule(lake):
    checked = 0
    for feed in standard.load().feeds:
        found = {(f"{feed}/{r._source_file}", r._row_number, r.rule): r for r in support.read(quarantine.path(feed))}
        for d in defects(lake, "quarantine"):
            if d["feed"] != feed or d["rule"] not in LAKE_RULES:
                continue
            hit = found.get((d["file"], d["row"], d["rule"]))
            assert hit is not None, f"defect not quarantined: {d}"
            assert Path(d["file"]).name in hit.reason and str(d["row"]) in hit.reason
            assert hit.raw and hit.severity == "error"
            checked += 1
    assert checked >= 20


def test_collapsed_duplicates_are_counted(lake):
    rows = ledger_rows()
    expected = {}
    for d in defects(lake, "collapse"):
        expected[d["file"]] = expected.get(d["file"], 0) + 1
    got = {f"{r.feed}/{r.source_file}": r.rows_collapsed for r in rows.values() if r.rows_collapsed}
    assert got == expected


def test_normalised_values_are_accepted_clean(lake):
    std = standard.load()
    quarantined = {(d["file"], d["row"]) for d in defects(lake, "quarantine")}
    normalised = [d for d in defects(lake, "normalise") if (d["file"], d["row"]) not in quarantined]
    assert len(normalised) >= 10
    for d in normalised:
        table = std.table(d["table"])
        field = next(f for f in table.fields if f.column == d["column"])
        name = Path(d["file"]).name.replace("'", "''")
        row = support.read(lake.paths.silver / table.entity, f"_source_file = '{name}' AND _row_number = {d['row']}")
        assert len(row) == 1, f"normalised row not accepted: {d}"
        if field.in_silver:
            assert getattr(row[0], field.silver_name) is not None, d


def test_tokens_are_keyed_hmac_and_identity_keeps_the_clear_values(lake):
    key = privacy.pseudonym_key()
    identity = {r.token: r for r in support.read(lake.paths.identity)}
    enrolled = support.read(lake.paths.silver / "student_enrollment")
    assert enrolled and identity
    for r in enrolled:
        clear = identity[r.student_token]
        assert hmac.new(key, clear.student_no.encode(), hashlib.sha256).hexdigest() == r.student_token
        assert clear.name and clear.id_number and r.birth_month.day == 1
        assert r.guardian_phone is None or "****" in r.guardian_phone  # 监护人电话 is optional
    assert sum(1 for r in enrolled if r.guardian_phone) > len(enrolled) // 2


def identifier_leaks(table_path: Path) -> list[str]:
    """Identifier values of the `secrets` relation found in a Delta table: any cell equal to one, or any
    11/18/19-character window of a run of ID-like characters inside a cell (an ID number inside a file
    name, a phone inside a note). Computed in DuckDB: the tables are not small."""
    con = support.duck()
    cols = con.sql(f"SELECT * FROM delta_scan('{table_path}') LIMIT 0").columns
    cells = ", ".join(f'CAST(to_json("{c}") AS VARCHAR)' for c in cols)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cells AS SELECT DISTINCT cell FROM
        (SELECT unnest([{cells}]) AS cell FROM delta_scan('{table_path}')) WHERE cell IS NOT NULL""")
    windows = con.sql("""
        SELECT cell AS value FROM cells
        UNION SELECT trim(cell, '"') FROM cells
        UNION SELECT substring(run, i, w) FROM (SELECT unnest(regexp_extract_all(cell, '[G0-9Xx]{11,}')) AS run FROM cells),
              (SELECT unnest([11, 18, 19]) AS w), range(1, 64) AS r(i)
        WHERE i <= greatest(length(run) - w + 1, 1)""")
    hits = con.sql("SELECT value FROM windows SEMI JOIN secrets ON windows.value = secrets.secret LIMIT 3")
    del windows
    return [r[0] for r in hits.fetchall()]


def test_no_identifier_in_clear_outside_restricted(lake):
    con = support.duck()
    fields = [c for c in privacy.identity_fields(standard.load())
              if c in con.sql(f"SELECT * FROM delta_scan('{lake.paths.identity}') LIMIT 0").columns]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE secrets AS SELECT DISTINCT secret FROM
        (SELECT unnest([{', '.join(f'CAST("{c}" AS VARCHAR)' for c in fields)}]) AS secret
         FROM delta_scan('{lake.paths.identity}')) WHERE secret IS NOT NULL AND length(secret) >= 2""")
    assert con.sql("SELECT count(*) FROM secrets").fetchone()[0] >= 1000  # real identifiers to look for
    tables = support.lake_tables(lake.home, with_run_records=True)  # ops/lineage too
    outside = {name: p for name, p in tables.items() if not name.startswith("restricted/")}
    assert any(n.startswith("silver/") for n in outside) and "ops/batches" in outside
    leaks = {name: found for name, p in outside.items() if (found := identifier_leaks(p))}
    assert not leaks, leaks
    for zone in ("landing", "bronze", "quarantine", "identity"):
        assert (lake.paths.restricted / zone).exists()
    # the scan does find identifiers where they are kept in clear
    assert identifier_leaks(lake.paths.identity)


def table_versions(home: Path) -> dict[str, int]:
    from deltalake import DeltaTable

    return {name: DeltaTable(str(p)).version() for name, p in support.lake_tables(home).items()}


def test_ingesting_again_changes_nothing(lake):
    before = table_versions(lake.home)
    # the same files again, and the same bytes under another name
    source = lake.paths.inbox / "exam" / SUBSET["exam"][0]
    again = source.with_name(source.stem + "_重发" + source.suffix)
    shutil.copy(source, again)
    try:
        results = pipeline.ingest_all()
    finally:
        again.unlink()
    assert all(r.ok and not r.landed and not r.entries for r in results)
    assert again.name in next(r for r in results if r.feed == "exam").unchanged
    assert table_versions(lake.home) == before


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


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_rejected_naming_the_file(edulake_home, case, engine):
    """The same clear rejection on both engines (landing reads the file before any engine work)."""
    name = _bad_file(settings.paths().inbox, case)
    feed = "health" if name.startswith("体测") else "enrollment"
    result = pipeline.ingest(feed, engine=engine)
    assert not result.ok and len(result.errors) == 1
    assert name in str(result.errors[0]) and BAD[case] in str(result.errors[0])
    assert_nothing_written(edulake_home)
    (entry,) = support.read(ledger.path())
    assert entry.status == "rejected" and name in entry.reason and entry.rows_received == 0


def test_cli_exits_non_zero_with_the_reason(edulake_home):
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
# a slice of the generated sources small enough to ingest three more times: the reference data the
# exam rules look up (school_exists), and the two latest 中考 files
SUBSET = {"reference": None, "exam": ["考试成绩_ZK-2025.csv", "考试成绩_ZK-2026.csv"]}


def copy_subset(lake, home: Path) -> None:
    inbox = settings.Paths(home).inbox
    for feed, names in SUBSET.items():
        src = lake.paths.inbox / feed
        for path in sorted(src.iterdir()) if names is None else [src / n for n in names]:
            (inbox / feed).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, inbox / feed / path.name)


def ingest_in_process(home: Path, feed: str, engine: str | None = None) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        result = pipeline.ingest(feed, engine=engine)
    assert result.ok, [str(e) for e in result.errors]


@pytest.fixture(scope="module")
def subset_reference(generated_lake, tmp_path_factory) -> Path:
    """A clean in-process ingest of SUBSET: what a crashed-and-rerun or cluster run must reproduce."""
    home = tmp_path_factory.mktemp("subset_reference")
    copy_subset(generated_lake, home)
    for feed in SUBSET:
        ingest_in_process(home, feed)
    return home


def compare_feed(home: Path, reference: Path, feed: str) -> None:
    """The tables a feed writes are the same in both homes (run times aside), row for row."""
    std = standard.load()
    only = (f"restricted/bronze/{feed}", f"restricted/quarantine/{feed}",
            *[f"silver/{t.entity}" for t in std.feed(feed).tables])
    got, want = support.snapshot(home, only), support.snapshot(reference, only)
    assert any(n.startswith("silver/") and rows for n, rows in want.items())
    assert set(got) == set(want) and got == want
    led = "batch_id, status, rows_received, rows_accepted, rows_quarantined, rows_collapsed"

    def ledger_of(h: Path):
        return sorted(tuple(vars(r).values()) for r in support.read(settings.Paths(h).ops / "batches",
                                                                    f"feed = '{feed}'", led))

    assert ledger_of(home) == ledger_of(reference)
    ids = {(r.token, r.student_no) for r in support.read(settings.Paths(home).identity)}
    assert ids and ids == {(r.token, r.student_no) for r in support.read(settings.Paths(reference).identity)}


def run_cli(home: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = standalone.job_env({"EDULAKE_HOME": str(home)})
    env.pop("EDULAKE_CRASH_AT", None)
    if crash_at:
        env["EDULAKE_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "edulake.cli", "ingest", *args], env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_killed_runs_converge_to_the_clean_run(generated_lake, subset_reference, tmp_path):
    home = tmp_path / "crash_home"
    copy_subset(generated_lake, home)
    ingest_in_process(home, "reference")
    for point in ("after_bronze", "before_silver_merge"):
        killed = run_cli(home, CRASH_FEED, crash_at=point)
        assert killed.returncode == -9, killed.stderr[-2000:]
    assert support.lake_tables(home)  # the kills left partial state behind
    finished = run_cli(home, CRASH_FEED)
    assert finished.returncode == 0, finished.stderr[-3000:]
    compare_feed(home, subset_reference, CRASH_FEED)


@pytest.mark.slow
@pytest.mark.spark
def test_standalone_cluster_matches_the_embedded_engine(generated_lake, subset_reference, tmp_path):
    """The Spark engine on a standalone cluster writes the same tables as the DuckDB engine (run in
    process for `subset_reference`): the reference data by the Spark engine in local mode, the exam feed
    by spark-submit on the cluster."""
    home = tmp_path / "cluster_home"
    copy_subset(generated_lake, home)
    ingest_in_process(home, "reference", engine="spark")
    with standalone.start(tmp_path / "cluster", cores=1, memory="2g") as cluster:
        cmd = standalone.submit_command("ingest", CRASH_FEED, master=cluster.master_url)
        env = standalone.job_env({"EDULAKE_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"})
        env.pop("EDULAKE_CRASH_AT", None)
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "app-" in run.stderr  # the job ran as an application of the standalone master
    compare_feed(home, subset_reference, CRASH_FEED)


def test_a_gbk_file_arriving_as_utf8_with_bom_is_accepted_and_the_encoding_recorded(session_home, edulake_home):
    header, rows = support.rows("enrollment.roster", 3)
    name = "学籍名册_2024_110101.csv"
    support.write_csv(settings.paths().inbox / "enrollment" / name, header, rows, "utf-8-sig")
    result = pipeline.ingest("enrollment")
    assert result.ok, [str(e) for e in result.errors]
    assert len(result.warnings) == 1 and name in result.warnings[0] and "UTF-8-SIG" in result.warnings[0]
    (entry,) = support.read(ledger.path())
    assert entry.status == "loaded" and entry.encoding == "utf-8-sig" and entry.rows_received == 3


def test_a_long_value_is_quoted_cut_in_the_reason_and_kept_whole_in_raw(session_home, edulake_home):
    header, rows = support.rows("enrollment.roster", 2)
    rows[1]["出生日期"] = "9" * 100_000  # not a date, and far too long to quote whole
    support.write_csv(settings.paths().inbox / "enrollment" / "学籍名册_2024_110101.csv", header, rows, "gbk")
    pipeline.ingest("enrollment")
    (hit,) = [r for r in support.read(quarantine.path("enrollment")) if r.rule == "type"]
    assert len(hit.reason) < 400 and "100000" in hit.reason and hit._row_number == 2
    assert hit.raw["出生日期"] == "9" * 100_000


def test_a_second_ingest_of_the_same_feed_waits_then_fails_clearly(session_home, edulake_home):
    from edulake.lake.locks import feed_lock

    header, rows = support.rows("enrollment.roster", 2)
    support.write_csv(settings.paths().inbox / "enrollment" / "学籍名册_2024_110101.csv", header, rows, "gbk")
    with feed_lock("enrollment"):
        env = {**standalone.job_env({"EDULAKE_HOME": str(edulake_home)}), "EDULAKE_LOCK_WAIT": "1"}
        second = subprocess.run([sys.executable, "-m", "edulake.cli", "ingest", "enrollment"], env=env,
                                capture_output=True, text=True, timeout=300)
    assert second.returncode != 0
    assert "another ingest of 'enrollment' holds its lock" in second.stderr + second.stdout
    assert "Traceback" not in second.stderr
    assert not support.read(ledger.path())  # it wrote nothing
    assert pipeline.ingest("enrollment").landed  # once the first is done, the same run goes through

"""The Airflow DAGs end to end with `dag.test()` (real Airflow on SQLite, real Spark, Delta, dbt, DuckDB):
every ingest DAG on small generated data with one corrupt file in the exam feed, then the build DAG.

Data: the generator at scale 0.005 (the issue's scale) for one school year (2025): every table and every
district; more school years would multiply the module's time (the cost is per file, not per row) for no
extra coverage of the orchestration (the multi-year lake is tested in tests/integration).
Tasks run inside this process (dag.test without an executor), so they share the test run's Spark session.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from edulake import settings, standard
from edulake.orchestration import config, deltaread, inprocess, names, runlog

CORRUPT = "考试成绩_CORRUPT-2099.csv"  # matches the exam feed's file pattern; its header is not the standard's
CORRUPT_FEED = "exam"


@dataclass
class Runs:
    home: Path
    states: dict[str, str]  # dag_id -> final state of the first run
    run_ids: dict[str, str]

    @property
    def paths(self) -> settings.Paths:
        return settings.Paths(self.home)


def write_sources(inbox: Path) -> None:
    from edulake.generate import run_generate

    run_generate(scale=0.005, seed=11, out=inbox, years=(2025, 2025), defect_rate=0.002, progress=False)


@pytest.fixture(scope="module")
def airflow_home(session_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        for key, value in config.airflow_env(port_=18795).items():
            mp.setenv(key, value)
        inprocess.reconfigure()
        inprocess.prepare_metadata()
        write_sources(settings.paths().inbox)
        (settings.paths().inbox / CORRUPT_FEED / CORRUPT).write_text("foo,bar\n1,2\n", encoding="utf-8")
        yield home


@pytest.fixture(scope="module")
def ingested(airflow_home) -> Runs:
    from edulake.lake.pipeline import feed_order

    states, run_ids = {}, {}
    for feed in feed_order():  # reference first, as `edulake run` does
        dag_id = names.ingest_dag_id(feed)
        states[dag_id], run_ids[dag_id] = inprocess.test_dag(dag_id)
    return Runs(airflow_home, states, run_ids)


def _ledger(where: str = "true") -> list[dict]:
    return deltaread.query(settings.paths().ops / "batches", f"SELECT * FROM batches WHERE {where}", name="batches")


def test_ingest_dags_succeed_except_the_feed_with_the_corrupt_file(ingested):
    expected = {names.ingest_dag_id(f): "failed" if f == CORRUPT_FEED else "success" for f in standard.load().feeds}
    assert ingested.states == expected


def test_the_failure_is_recorded_in_ops_runs_with_batch_and_reason(ingested):
    dag_id = names.ingest_dag_id(CORRUPT_FEED)
    run_id = ingested.run_ids[dag_id]
    [rejected] = _ledger(f"feed = '{CORRUPT_FEED}' AND status = 'rejected'")
    assert rejected["source_file"] == CORRUPT
    failed = runlog.read(f"run_id = {runlog.quote(run_id)} AND state = 'failed'")
    task_rows = [r for r in failed if r["task_id"] == names.CHECK_REJECTIONS_TASK]
    assert [(r["batch_id"], r["source_file"]) for r in task_rows] == [(rejected["batch_id"], CORRUPT)]
    assert task_rows[0]["reason"] == rejected["reason"] and CORRUPT in task_rows[0]["reason"]
    assert task_rows[0]["try_number"] == 1  # a rejected batch is not retried
    [dag_row] = [r for r in failed if r["task_id"] is None]
    assert dag_row["dag_id"] == dag_id and CORRUPT in dag_row["reason"]
    # the feed's good files were still loaded and published
    assert _ledger(f"feed = '{CORRUPT_FEED}' AND status = 'loaded'")


def test_silver_holds_every_accepted_row(ingested):
    for table in standard.load().tables():
        accepted = sum(r["rows_accepted"] for r in _ledger(f"\"table\" = '{table.qualified_name}' AND status = 'loaded'"))
        assert accepted > 0, table.qualified_name
        rows = deltaread.query(ingested.paths.silver / table.entity, "SELECT count(*) AS n FROM t")
        assert rows[0]["n"] == accepted, table.entity


def test_successful_runs_are_logged_per_dag(ingested):
    last = {r["dag_id"]: r["state"] for r in runlog.last_runs()}
    assert last == ingested.states


@pytest.fixture(scope="module")
def built(ingested) -> tuple[str, str]:
    return inprocess.test_dag(names.BUILD_DAG_ID)


def test_build_dag_builds_and_publishes_the_warehouse(built, ingested):
    import duckdb

    state, run_id = built
    assert state == "success"
    detail = runlog.last_success_detail(names.BUILD_DAG_ID, names.BUILD_TASK)
    assert detail and detail["build"]["success"] and detail["build"]["fail"] == 0
    warehouse = ingested.paths.warehouse
    assert detail["warehouse"] == str(warehouse)
    silver_vision = deltaread.query(ingested.paths.silver / "vision_screening", "SELECT count(*) AS n FROM t")[0]["n"]
    silver_schools = deltaread.query(ingested.paths.silver / "school", "SELECT count(*) AS n FROM t")[0]["n"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def count(model: str, where: str = "true") -> int:
            [(schema,)] = con.execute("select table_schema from information_schema.tables where table_name = ?",
                                      [model]).fetchall()
            return con.execute(f'select count(*) from "{schema}"."{model}" where {where}').fetchone()[0]

        assert count("fct_vision_screening") == silver_vision > 0  # one row per student and screening
        assert count("dim_school", "is_in_registry") == silver_schools > 0


def test_a_second_run_changes_nothing(built, ingested):
    before = deltaread.version(ingested.paths.ops / "batches")
    warehouse_mtime = ingested.paths.warehouse.stat().st_mtime_ns
    for feed in ("reference", "health"):
        assert inprocess.test_dag(names.ingest_dag_id(feed))[0] == "success"
    assert inprocess.test_dag(names.BUILD_DAG_ID)[0] == "success"
    assert deltaread.version(ingested.paths.ops / "batches") == before  # nothing landed, nothing moved
    assert ingested.paths.warehouse.stat().st_mtime_ns == warehouse_mtime  # the build skipped


def test_status_shows_runs_ledger_and_quarantine(ingested):
    import json

    from click.testing import CliRunner

    from edulake.orchestration.cli import status

    result = CliRunner().invoke(status, ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    runs = {r["dag_id"]: r["state"] for r in report["runs"]}
    assert {d: runs[d] for d in ingested.states} == ingested.states
    assert [r["source_file"] for r in report["rejected"]] == [CORRUPT]
    ledger_rows = sum(r["received"] or 0 for r in report["batches"])
    assert ledger_rows == sum(r["rows_received"] for r in _ledger())
    quarantined = sum(r["quarantined"] or 0 for r in report["batches"])
    # per rule: a row failing two rules counts under both
    assert sum(r["rows"] for r in report["quarantine"]) >= quarantined


def test_the_daily_monitor_raises_an_overdue_feed_once(ingested):
    """monitor_deliveries judges every feed although none of its DAGs ran: two years and a month on, with
    nothing delivered since, every feed is overdue (the calendar of each has passed a due date twice); the run fails naming them (ops/runs), and the next run as of the
    same day only logs them (an alert is raised once). Last in the module: it leaves alerts behind."""
    import datetime as dt

    from edulake.monitoring import alerts

    later = {"as_of": (dt.date.today() + dt.timedelta(days=2 * 365 + 30)).isoformat()}
    state, run_id = inprocess.test_dag(names.MONITOR_DAG_ID, later)
    assert state == "failed"
    overdue = alerts.read("kind = 'overdue'")
    assert {a["feed"] for a in overdue} == set(standard.load().feeds)
    failed = [r for r in runlog.read() if r["dag_id"] == names.MONITOR_DAG_ID and r["run_id"] == run_id
              and r["task_id"] == names.CHECK_ALERTS_TASK and r["state"] == "failed"]
    assert failed and "逾期未报送" in failed[0]["reason"], failed
    assert inprocess.test_dag(names.MONITOR_DAG_ID, later)[0] == "success"
    assert len(alerts.read("kind = 'overdue'")) == len(overdue)

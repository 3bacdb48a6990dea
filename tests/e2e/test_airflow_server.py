"""The embedded Airflow as `edulake run` uses it: real api-server, scheduler and dag-processor processes
on loopback (SQLite, LocalExecutor), DAGs parsed by the dag-processor, a run triggered over the REST API
and executed by the executor in its own task process (its own Spark session), then a clean stop.

test_airflow.py covers the DAGs' behaviour in-process with dag.test(); this covers the server path the
README's main command takes. Data: the reference feed only (the smallest DAG that lands, bronzes and
merges a real batch), from the generator at scale 0.001.
"""

from __future__ import annotations

import shutil

import pytest

from edulake import settings
from edulake.orchestration import deltaread, names, server

pytestmark = pytest.mark.spark
PORT = 18797


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    from edulake.commands.setup import ensure_pseudonym_key
    from edulake.generate import run_generate

    home = tmp_path_factory.mktemp("airflow_server")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        ensure_pseudonym_key()  # as `edulake run` does: the ingest task pseudonymises with it
        inbox = settings.paths().inbox
        run_generate(scale=0.001, seed=3, out=inbox, years=(2025, 2025), progress=False)
        for feed_dir in inbox.iterdir():
            if feed_dir.is_dir() and feed_dir.name != "reference":
                shutil.rmtree(feed_dir)
        started = server.start(PORT)
        try:
            yield started
        finally:
            server.stop()


def test_all_components_start_healthy_and_parse_every_dag(airflow):
    assert not airflow.reused
    assert set(airflow.pids) == set(server.COMPONENTS)
    client = airflow.client()
    assert not server.unhealthy(client.health())
    client.wait_for_dags(names.all_dag_ids())
    assert client.import_errors() == []
    again = server.start(PORT)  # a second start finds the running one
    assert again.reused and again.pids == airflow.pids


def test_a_triggered_ingest_runs_on_the_executor_and_lands_the_batch(airflow):
    client = airflow.client()
    dag_id = names.ingest_dag_id("reference")
    client.wait_for_dags([dag_id])
    client.unpause(dag_id)
    run_id = client.trigger(dag_id, note="test")["dag_run_id"]
    run = client.wait(dag_id, run_id, timeout=900)
    states = {ti["task_id"]: ti["state"] for ti in client.task_instances(dag_id, run_id)}
    assert run["state"] == "success", states
    ledger = deltaread.query(settings.paths().ops / "batches",
                             "SELECT status, rows_received, rows_accepted FROM batches WHERE feed = 'reference'",
                             name="batches")
    assert ledger and all(r["status"] == "loaded" for r in ledger), ledger
    assert sum(r["rows_accepted"] for r in ledger) > 0


def test_stop_ends_every_component(airflow):
    pids = dict(airflow.pids)
    assert sorted(server.stop()) == sorted(server.COMPONENTS)
    assert not any(server._alive(pid) for pid in pids.values())
    assert server.running() is None

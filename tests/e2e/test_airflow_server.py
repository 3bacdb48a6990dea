"""The embedded Airflow as `edulake run` uses it: real api-server, scheduler and dag-processor processes
on loopback (SQLite, LocalExecutor), DAGs parsed by the dag-processor, a run triggered over the REST API
and executed by the executor in its own task process (its own Spark session), then a clean stop.

test_airflow.py covers the DAGs' behaviour in-process with dag.test(); this covers the server path the
README's main command takes. Data: the reference feed only (the smallest DAG that lands, bronzes and
merges a real batch), from the generator at scale 0.001.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import pytest

from edulake import permissions, settings
from edulake.orchestration import config, deltaread, names, server

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _airflow_support as support  # noqa: E402

pytestmark = pytest.mark.spark


PORT = support.free_port_pair()


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    yield from support.served_home(tmp_path_factory, "airflow_server", PORT, feeds=("reference",))


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


def test_every_listening_socket_is_on_loopback(airflow):
    sockets = support.listening(airflow.pids.values())
    ports = {port for _ip, port in sockets}
    log_port = int(config.airflow_env(PORT)["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"])
    assert {PORT, log_port} <= ports, sockets  # the api-server and the worker log server both listen
    open_to_network = {addr: name for addr, name in sockets.items() if not ipaddress.ip_address(addr[0]).is_loopback}
    assert not open_to_network, open_to_network


def test_airflow_state_and_task_logs_are_owner_only(airflow):
    """After a DAG run on the executor: Airflow's metadata, the task logs, the secrets and the inbox are
    owner-only (the lake written by the task's Spark: see tests/integration/test_home_permissions.py)."""
    p = settings.paths()
    assert any(p.logs.rglob("*.log")) and (p.airflow_home / "airflow.db").exists()
    found = [x for zone in (p.airflow_home, p.logs, p.secrets, p.inbox) for x in permissions.exposed(zone)]
    assert not found, permissions.describe(found, p.home)


def test_stop_ends_every_component(airflow):
    pids = dict(airflow.pids)
    assert sorted(server.stop()) == sorted(server.COMPONENTS)
    assert not any(server._alive(pid) for pid in pids.values())
    assert server.running() is None

"""The production profile (`edulake airflow serve --profile production`): the same DAGs, Airflow's metadata in
this home's own PostgreSQL cluster (Debian's postgresql, unix socket only), LocalExecutor with two heavy
slots — and two feeds really ingest at once.

The server path of test_airflow_server.py (real api-server, scheduler, dag-processor, tasks in executor
processes), on the other profile: reference first (the other feeds are checked against it), then enrollment
and health triggered together; the task instances' start and end times in the PostgreSQL metadata show that
their `ingest` tasks overlapped. Data: the generator at scale 0.001, one school year, those three feeds.
Runtime on the 2-core CI machine: about 2–3 minutes (start ~45 s, the three DAG runs ~1–2 min).
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import psutil
import pytest

from edulake import permissions, settings
from edulake.orchestration import config, deltaread, names, postgres, server

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _airflow_support as support  # noqa: E402

PORT = support.free_port_pair()
PARALLEL_FEEDS = ("enrollment", "health")


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    try:
        postgres.bindir()
    except postgres.PostgresUnavailable as e:
        pytest.fail(f"{e} (CI installs it: `make postgres`, part of `make test`)")
    yield from support.served_home(tmp_path_factory, "airflow_prod", PORT, feeds=("reference", *PARALLEL_FEEDS),
                                   EDULAKE_AIRFLOW_PROFILE="production")


def test_the_metadata_is_in_postgresql_with_two_heavy_slots(production):
    assert production.profile == "production" and not production.reused
    client = production.client()
    assert not server.unhealthy(client.health())
    client.wait_for_dags(names.all_dag_ids())
    assert client.import_errors() == []
    dags = {r["dag_id"] for r in postgres.query("SELECT dag_id FROM dag")}
    assert dags == set(names.all_dag_ids())  # the same DAGs as the embedded profile
    [pool] = postgres.query("SELECT slots FROM slot_pool WHERE pool = %s", (names.HEAVY_POOL,))
    assert pool["slots"] == config.heavy_slots("production") == 2
    assert not (settings.paths().airflow_home / "airflow.db").exists()  # no SQLite beside it


def _run(client, dag_ids: list[str]) -> dict[str, str]:
    runs = {d: client.trigger(d, note="production profile test")["dag_run_id"] for d in dag_ids}
    return {d: client.wait(d, run_id, timeout=900)["state"] for d, run_id in runs.items()}


def test_two_feeds_ingest_at_once(production):
    client = production.client()
    client.wait_for_dags(names.all_dag_ids())
    # the asset-triggered build is not what this test measures: keep it from taking a heavy slot
    client.request("PATCH", f"/api/v2/dags/{names.BUILD_DAG_ID}", {"is_paused": True})
    assert _run(client, [names.ingest_dag_id("reference")]) == {names.ingest_dag_id("reference"): "success"}
    parallel = [names.ingest_dag_id(f) for f in PARALLEL_FEEDS]
    assert _run(client, parallel) == dict.fromkeys(parallel, "success")

    spans = postgres.query(
        "SELECT dag_id, start_date, end_date FROM task_instance WHERE task_id = %s AND dag_id = ANY(%s)",
        (names.INGEST_TASK, parallel))
    assert len(spans) == 2 and all(s["start_date"] and s["end_date"] for s in spans), spans
    overlap = min(s["end_date"] for s in spans) - max(s["start_date"] for s in spans)
    print(f"ingest tasks: {[(s['dag_id'], str(s['start_date']), str(s['end_date'])) for s in spans]}; "
          f"overlap {overlap.total_seconds():.1f} s")
    assert overlap.total_seconds() > 0, spans  # both ran at the same time, in two executor processes
    loaded = deltaread.query(settings.paths().ops / "batches",
                             "SELECT feed, count(*) AS n FROM batches WHERE status = 'loaded' GROUP BY feed",
                             name="batches")
    assert {r["feed"] for r in loaded} == {"reference", *PARALLEL_FEEDS}


def test_postgres_listens_on_no_network_socket_and_its_files_are_owner_only(production):
    pids = list(production.pids.values()) + postgres.server_pids()
    assert postgres.server_pids(), "the cluster is not running"
    sockets = support.listening(pids)
    assert not {a: n for a, n in sockets.items() if not ipaddress.ip_address(a[0]).is_loopback}, sockets
    pg_tcp = {a for a, _ in support.listening(postgres.server_pids()).items()}
    assert not pg_tcp, pg_tcp  # unix socket only
    p = settings.paths()
    found = [x for zone in (postgres.folder(), p.secrets, p.logs, p.airflow_home) for x in permissions.exposed(zone)]
    assert not found, permissions.describe(found, p.home)
    assert "password" in postgres.credentials() and postgres.secrets_file().stat().st_mode & 0o077 == 0


def test_stop_ends_airflow_and_the_cluster(production):
    pg_pids = postgres.server_pids()
    assert "postgres" in server.stop()
    assert not postgres.running()
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pg_pids)
    assert server.running() is None

"""build_warehouse — the holistic education database and the marts, rebuilt when silver changes.

Scheduled on the silver Assets: any ingest DAG that loads a batch triggers it.

    wait_for_ingest ─► check_silver ─► dbt_build (emits the warehouse Asset) ─► share_extracts
                    └► source_freshness

wait_for_ingest  waits while any ingest DAG run is queued or running, so a burst of feeds (as in
                 `edulake run`) gives one build over all of them, not one per feed. Polls every 60 s in
                 reschedule mode: no worker slot held, one short process per poke.
check_silver     every silver entity must exist (else skip: a later feed will trigger again), and silver
                 must have changed since the last successful build (else skip: runs queued during the
                 build find nothing new — a rerun is a no-op).
source_freshness `dbt source freshness` on silver (`_loaded_at` against the source's warn/error policy),
                 results appended to ops/source_freshness; stale tables are logged, not fatal.
dbt_build        one task: `dbt build` (models, contracts, tests) on DuckDB into a new file, then the atomic
                 publish to warehouse/edulake.duckdb. One task rather than a task group per model
                 (astronomer-cosmos): on DuckDB the whole graph takes under a few minutes in one process,
                 dbt's own log and run_results show per-model results, and a rerun after a fix is one click;
                 a task per model would start ~100 processes and open the single-writer DuckDB file
                 from each.
share_extracts   the 16 district packages ($EDULAKE_HOME/extracts/) and the Delta Sharing tables from the
                 warehouse just published (edulake.sharing.publish; unchanged data changes no byte).

The work lives in edulake.orchestration.tasks and edulake.warehouse; this file only wires it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAny, PokeReturnValue, get_current_context, task

from edulake import permissions
from edulake.orchestration import assets, callbacks, names, tasks

# Airflow imports this file in its dag-processor and in every task process: whoever started Airflow, the
# warehouse and the task's files are written owner-only.
permissions.restrict_process()

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": names.OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=60),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
    "on_failure_callback": callbacks.on_task_failure,
    "on_retry_callback": callbacks.on_task_retry,
}

with DAG(
    dag_id=names.BUILD_DAG_ID,
    description="全息教育数据库与专题集市构建: dbt build (DuckDB) → 发布 warehouse/edulake.duckdb",
    doc_md=__doc__,
    schedule=AssetAny(*assets.silver_assets()),
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # DuckDB has one writer; builds queue
    tags=["edulake", "build", "dbt"],
    default_args=DEFAULT_ARGS,
    on_success_callback=callbacks.on_dag_success,
    on_failure_callback=callbacks.on_dag_failure,
) as dag:

    @task.sensor(task_id="wait_for_ingest", poke_interval=60, timeout=4 * 3600, mode="reschedule")
    def wait_for_ingest() -> PokeReturnValue:
        active = tasks.active_ingest_runs(get_current_context()["ti"].get_dr_count)
        if active:
            log.info("%d 个入湖运行未结束 (ingest runs still active): waiting", active)
        return PokeReturnValue(is_done=active == 0)

    @task.short_circuit(task_id="check_silver")
    def check_silver() -> dict | None:
        needed, why, versions = tasks.build_needed()
        log.info("%s", why)
        return {"silver_versions": versions} if needed else None

    @task(task_id=names.BUILD_TASK, pool=names.HEAVY_POOL, outlets=[assets.warehouse_asset()],
          execution_timeout=timedelta(hours=3))
    def dbt_build(check: dict) -> dict:
        detail = tasks.build_warehouse(check["silver_versions"])
        callbacks.record_success(get_current_context(), detail)
        return detail

    @task(task_id=names.SHARE_TASK, pool=names.HEAVY_POOL, execution_timeout=timedelta(hours=1))
    def share_extracts(built: dict) -> dict:
        from edulake.sharing import publish  # imported when the task runs, not when the DAG is parsed

        return publish.publish_all()

    @task(task_id="source_freshness")
    def source_freshness() -> dict:
        from edulake.warehouse import freshness

        summary = freshness.summary(freshness.check())
        log.info("source freshness: %s", summary)
        return summary

    checked = check_silver()
    waited = wait_for_ingest()
    waited >> checked
    waited >> source_freshness()
    share_extracts(dbt_build(checked))

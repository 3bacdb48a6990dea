"""Ingest DAGs — one per feed of the data standard (schemas/feeds/*.yaml): ingest_reference, ingest_enrollment, …

    detect_new_files ─► ingest ─┬─► publish_silver   (emits the feed's silver Assets → build_warehouse)
                                ├─► check_rejections (fails, without retry, when a batch was rejected)
                                └─► check_alerts     (all_done: fails, without retry, on a new operations alert)

detect_new_files  inbox/<feed>/ files whose sha256 is not in the batch ledger, plus unfinished batches;
                  nothing to do → the rest is skipped (no engine start). Non-reference feeds wait (retry)
                  until the reference data is in silver.
ingest            landing → bronze → validation (GX) → silver on the lake engine (EDULAKE_ENGINE: DuckDB by
                  default, Spark for scale-out), one process (pool edulake_heavy).
                  Transient errors retry with exponential backoff; the lake's steps resume from the ledger.
publish_silver    runs when at least one batch reached silver; good batches are published even when
                  another batch of the same run was rejected.
check_rejections  a rejected batch fails the run with the file, batch and reason (also in ops/runs).
check_alerts      runs whatever ingest did (also when nothing new arrived): overdue deliveries against the
                  feed's calendar (schemas/) and failure-rate jumps against the previous batch go to
                  ops/alerts; a new alert fails the run naming feed, district and reason (no retry). A leaf
                  beside the other two, not after them: Airflow judges a run by its leaves, and an all_done
                  task downstream of check_rejections would turn a rejected batch's failed run green.

Re-process a batch after a fix: trigger with conf {"reprocess": ["<batch_id>"]}
(`edulake airflow reprocess <feed> <batch_id>`). The work lives in edulake.orchestration.tasks; this file only wires it.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from edulake import permissions, standard
from edulake.orchestration import assets, callbacks, inbox, names, tasks

permissions.restrict_process()  # an Airflow started by hand: its task processes write owner-only files

DEFAULT_ARGS = {
    "owner": names.OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": callbacks.on_task_failure,
    "on_retry_callback": callbacks.on_task_retry,
}


def ingest_dag(feed: str) -> DAG:
    spec = standard.load().feed(feed)
    feed_assets = assets.feed_assets(feed)
    with DAG(
        dag_id=names.ingest_dag_id(feed),
        description=f"{spec.label}入湖: inbox/{feed} → landing → bronze → 校验 → silver",
        doc_md=__doc__,
        schedule=None,  # triggered by `edulake run` or an operator (UI, `edulake airflow trigger <feed>`)
        start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,  # two runs of one feed would race on its ledger rows
        tags=["edulake", "ingest", feed],
        default_args=DEFAULT_ARGS,
        params={"reprocess": Param([], type="array", items={"type": "string"},
                                   description="重处理的批次号 (batch ids to validate and load again)")},
        on_success_callback=callbacks.on_dag_success,
        on_failure_callback=callbacks.on_dag_failure,
    ) as dag:

        # nothing new skips ingest and what depends on it, not check_alerts (its own trigger rule decides)
        @task.short_circuit(task_id=names.DETECT_TASK, retries=4, ignore_downstream_trigger_rules=False)
        def detect_new_files(params=None) -> dict | None:
            work = tasks.detect_new_files(feed, (params or {}).get("reprocess"))
            return work if inbox.has_work(work) else None

        @task(task_id=names.INGEST_TASK, pool=names.HEAVY_POOL, execution_timeout=timedelta(hours=3))
        def ingest(work: dict) -> dict:
            return tasks.ingest(feed, work)

        @task(task_id=names.PUBLISH_SILVER_TASK, outlets=feed_assets)
        def publish_silver(summary: dict) -> None:
            if not summary["loaded"]:
                raise AirflowSkipException("没有批次进入 silver (no batch reached silver)")
            events = get_current_context()["outlet_events"]
            for asset in feed_assets:
                events[asset].extra = tasks.silver_event_extra(summary, asset.name.removeprefix("silver."))

        @task(task_id=names.CHECK_REJECTIONS_TASK, retries=0)
        def check_rejections(summary: dict) -> None:
            tasks.check_rejections(summary)

        @task(task_id=names.CHECK_ALERTS_TASK, retries=0, trigger_rule="all_done")
        def check_alerts() -> dict:
            return tasks.check_alerts(feed)

        summary = ingest(detect_new_files())
        publish_silver(summary)
        check_rejections(summary)
        summary >> check_alerts()
    return dag


for _feed in standard.load().feeds:
    globals()[names.ingest_dag_id(_feed)] = ingest_dag(_feed)

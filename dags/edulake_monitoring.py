"""monitor_deliveries — 运行监测, every morning: overdue feeds and districts, failure-rate jumps.

    check_alerts   (fails, without retry, on a new operations alert)

Why a DAG of its own: a feed is overdue when its files did NOT arrive, and then no ingest DAG runs to notice
it (their check_alerts task judges the feed whose files came). This DAG judges every feed against its
delivery calendar (schemas/feeds/*.yaml `delivery`) each day at 08:00 Beijing time, writes the figures
`edulake status` prints to ops/deliveries and the alerts to ops/alerts, and fails naming each new alert
(an alert is raised once: later runs only log it). Reads the batch ledger and ops/quality only: no engine,
no JVM, a few seconds.

Paused when created, like every DAG, and `edulake run` leaves it so (on a fresh home it would judge every
feed overdue before anything was ingested): in operation, `edulake airflow unpause monitor`. Trigger it by
hand with `edulake airflow trigger monitor`; conf {"as_of": "YYYY-MM-DD"} judges as of another day.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, task

from edulake import permissions
from edulake.orchestration import callbacks, names, tasks

permissions.restrict_process()

with DAG(
    dag_id=names.MONITOR_DAG_ID,
    description="运行监测: 逾期未报送与质量失败率突增告警 (overdue deliveries, quality jumps) → ops/alerts",
    doc_md=__doc__,
    schedule="0 8 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Shanghai"),
    catchup=False,  # one judgement as of today, not one per missed day
    max_active_runs=1,
    tags=["edulake", "monitoring"],
    default_args={
        "owner": names.OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": callbacks.on_task_failure,
        "on_retry_callback": callbacks.on_task_retry,
    },
    params={"as_of": Param(None, type=["null", "string"], format="date",
                           description="判定日期 (judge as of this day; today when empty)")},
    on_success_callback=callbacks.on_dag_success,
    on_failure_callback=callbacks.on_dag_failure,
) as dag:

    @task(task_id=names.CHECK_ALERTS_TASK, retries=0)
    def check_alerts(params=None) -> dict:
        return tasks.check_alerts(None, (params or {}).get("as_of"))

    check_alerts()

"""Names shared by the DAG files, the task bodies and the client side (no Airflow import here, so the
CLI can use them without paying for Airflow)."""

from __future__ import annotations

from edulake import standard

INGEST_PREFIX = "ingest_"
BUILD_DAG_ID = "build_warehouse"
# daily: an overdue feed is one whose files did NOT arrive, so no ingest DAG run would ever notice it
MONITOR_DAG_ID = "monitor_deliveries"
OWNER = "edulake"

# One slot on the embedded profile (on 2 cores a Spark ingest and a dbt build must not run side by side);
# the production profile gives it more (config.heavy_slots), so feeds ingest in parallel.
HEAVY_POOL = "edulake_heavy"
HEAVY_POOL_DESCRIPTION = "入湖与 dbt 构建的并发上限 (ingest and dbt build tasks at once: 1 embedded, more in production)"

# the task ids the run log and `edulake run` refer to
DETECT_TASK = "detect_new_files"
INGEST_TASK = "ingest"
PUBLISH_SILVER_TASK = "publish_silver"
CHECK_REJECTIONS_TASK = "check_rejections"
CHECK_ALERTS_TASK = "check_alerts"  # the ingest DAG's last task: overdue deliveries, failure-rate jumps
BUILD_TASK = "dbt_build"
SHARE_TASK = "share_extracts"


def ingest_dag_id(feed: str) -> str:
    return f"{INGEST_PREFIX}{feed}"


def feed_of(dag_id: str) -> str | None:
    return dag_id[len(INGEST_PREFIX):] if dag_id.startswith(INGEST_PREFIX) else None


def pipeline_dag_ids() -> list[str]:
    """The DAGs a run of the pipeline (`edulake run`) unpauses and follows: every feed's ingest, the build."""
    return [ingest_dag_id(f) for f in standard.load().feeds] + [BUILD_DAG_ID]


def all_dag_ids() -> list[str]:
    return [*pipeline_dag_ids(), MONITOR_DAG_ID]

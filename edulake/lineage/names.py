"""One naming scheme for datasets and jobs, shared by every emitter.

OpenLineage joins two runs through a dataset only when both name it the same (namespace + name). The lake
names its tables by their path under lake/ (stable across homes and machines), dbt's datasets are renamed
to `<schema>.<model>` in the warehouse namespace, except the silver views, which ARE the lake's silver tables.
"""

from __future__ import annotations

JOB_NAMESPACE = "edulake"
LAKE = "edulake.lake"  # landing/<feed>/<batch>/<file>, restricted/bronze/<feed>, silver/<entity>, ...
WAREHOUSE = "edulake.warehouse"  # <schema>.<model>
# the same models built by `edulake build --target spark` (Delta tables under spark_warehouse/): other
# datasets than the published DuckDB warehouse, which the dashboards read
SPARK_WAREHOUSE = "edulake.spark_warehouse"  # <schema>.<model>
SUPERSET = "edulake.superset"  # dashboard/<slug>

LAYER_CN = {"landing": "落地文件", "bronze": "bronze 原始层", "silver": "silver 明细层", "quarantine": "隔离区",
            "warehouse": "数仓模型", "dashboard": "看板"}


def landing_file(feed: str, batch_id: str, source_file: str) -> str:
    return f"landing/{feed}/{batch_id}/{source_file}"


def bronze(feed: str) -> str:
    return f"restricted/bronze/{feed}"


def quarantine(feed: str) -> str:
    return f"restricted/quarantine/{feed}"


def silver(entity: str) -> str:
    return f"silver/{entity}"


def silver_entities() -> list[str]:
    """The silver tables' names (silver/<entity>), from the standard."""
    from edulake import standard

    return sorted({t.entity for t in standard.load().tables()})


def dashboard(slug: str) -> str:
    return f"dashboard/{slug}"


def ingest_job(feed: str, step: str = "ingest") -> str:
    """lake.ingest.<feed> for a whole ingest; lake.<step>.<feed> for one step run alone."""
    return f"lake.{step}.{feed}"


def layer(namespace: str, name: str) -> str:
    """landing | bronze | silver | quarantine | warehouse | dashboard (what a dataset is, for people)."""
    if namespace in (WAREHOUSE, SPARK_WAREHOUSE):
        return "warehouse"
    if namespace == SUPERSET:
        return "dashboard"
    for part in ("landing", "bronze", "quarantine", "silver"):
        if name.startswith(part) or name.startswith(f"restricted/{part}"):
            return part
    return "other"

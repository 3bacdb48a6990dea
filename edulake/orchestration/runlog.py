"""The run log ops/runs (Delta): what Airflow did, kept with the lake so it outlives the Airflow metadata.

One row per DAG run outcome (task_id empty) and one per failed task and batch, with the reason. The
build's success row carries the silver versions it was built from (detail.silver_versions), which is how
a later build knows there is nothing new. Written with deltalake, not Spark: callbacks run in small
processes (the task runner, the DAG processor) that must not start a JVM.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field

from edulake import settings
from edulake.orchestration import deltaread

log = logging.getLogger(__name__)

UTC = dt.UTC
# (column, arrow type name, nullable); pyarrow is imported when a record is written, not at DAG parse time
COLUMNS = [
    ("dag_id", "string", False),
    ("run_id", "string", False),
    ("task_id", "string", True),
    ("try_number", "int32", True),
    ("state", "string", False),
    ("feed", "string", True),
    ("batch_id", "string", True),
    ("source_file", "string", True),
    ("reason", "string", True),
    ("started_at", "timestamp", True),
    ("finished_at", "timestamp", True),
    ("logged_at", "timestamp", False),
    ("detail", "string", True),  # JSON
]


def schema():
    import pyarrow as pa

    types = {"string": pa.string(), "int32": pa.int32(), "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(name, types[kind], nullable=nullable)
                      for name, kind, nullable in COLUMNS])


@dataclass
class RunRecord:
    dag_id: str
    run_id: str
    state: str
    task_id: str | None = None
    try_number: int | None = None
    feed: str | None = None
    batch_id: str | None = None
    source_file: str | None = None
    reason: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    logged_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))
    detail: dict | None = None

    def row(self) -> dict:
        d = asdict(self)
        d["detail"] = json.dumps(self.detail, ensure_ascii=False, default=str) if self.detail else None
        for key in ("started_at", "finished_at", "logged_at"):
            value = d[key]
            if value is not None and value.tzinfo is None:
                d[key] = value.replace(tzinfo=UTC)
        return d


def path():
    return settings.paths().ops / "runs"


def record(records: list[RunRecord]) -> None:
    """Append records (one commit); another writer committing first is retried (edulake.lake.tables)."""
    if not records:
        return
    import pyarrow as pa

    from edulake.lake import tables

    tables.append(path(), pa.Table.from_pylist([r.row() for r in records], schema=schema()), schema())


def quote(value) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def read(where: str | None = None) -> list[dict]:
    sql = "SELECT * FROM runs" + (f" WHERE {where}" if where else "") + " ORDER BY logged_at"
    rows = deltaread.query(path(), sql, name="runs")
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r.get("detail") else None
    return rows


def last_runs() -> list[dict]:
    """The latest DAG-run outcome per DAG."""
    latest: dict[str, dict] = {}
    for r in read("task_id IS NULL"):
        latest[r["dag_id"]] = r
    return [latest[k] for k in sorted(latest)]


def last_success_detail(dag_id: str, task_id: str) -> dict | None:
    """The detail of the latest successful run of a task (e.g. what the last build was built from)."""
    rows = read(f"dag_id = {quote(dag_id)} AND task_id = {quote(task_id)} AND state = 'success'")
    return rows[-1]["detail"] if rows else None

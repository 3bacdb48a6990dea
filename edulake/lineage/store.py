"""ops/lineage (Delta): every OpenLineage event the lake, dbt and Airflow wrote, one row per event.

The event files (emitter.events_dir()) are loaded here and moved to events/loaded/; a row's `event_id` is
the SHA-256 of the event's JSON, so loading the same file twice (two loaders at once, a crash before the
move) changes nothing. Columns, for `edulake status`, the ops mart and anyone with SQL:

  event_id, event_time (UTC), event_type (START | RUNNING | COMPLETE | FAIL | ABORT | OTHER),
  run_id, parent_run_id, job_namespace, job_name, integration (EDULAKE | DBT | AIRFLOW | SUPERSET),
  inputs / outputs  list<struct<namespace, name, version, rows>>  (rows: inputStatistics / outputStatistics),
  rows_in, rows_out  (sums of the known counts; NULL when the event states none),
  error (errorMessage facet), event (the event as emitted, JSON), event_file, loaded_at

The last state of a run is its latest event by event_time; `latest_runs()` gives it per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from pathlib import Path

import pyarrow as pa

from edulake import permissions, settings
from edulake.lake import tables
from edulake.lineage import emitter

log = logging.getLogger(__name__)
_TS = pa.timestamp("us", tz="UTC")
DATASET = pa.struct([("namespace", pa.string()), ("name", pa.string()), ("version", pa.string()),
                     ("rows", pa.int64())])
SCHEMA = pa.schema([
    pa.field("event_id", pa.string(), nullable=False), ("event_time", _TS), ("event_type", pa.string()),
    ("run_id", pa.string()), ("parent_run_id", pa.string()), ("job_namespace", pa.string()),
    ("job_name", pa.string()), ("integration", pa.string()), ("inputs", pa.list_(DATASET)),
    ("outputs", pa.list_(DATASET)), ("rows_in", pa.int64()), ("rows_out", pa.int64()), ("error", pa.string()),
    ("event", pa.string()), ("event_file", pa.string()), ("loaded_at", _TS),
])


def path() -> Path:
    return settings.paths().ops / "lineage"


def _dataset(d: dict, statistics: str, facet_group: str) -> dict:
    stats = (d.get(facet_group) or {}).get(statistics) or {}
    version = ((d.get("facets") or {}).get("version") or {}).get("datasetVersion")
    return {"namespace": d.get("namespace"), "name": d.get("name"), "version": version,
            "rows": stats.get("rowCount")}


def _integration(event: dict) -> str | None:
    job_type = ((event.get("job") or {}).get("facets") or {}).get("jobType") or {}
    if job_type.get("integration"):
        return str(job_type["integration"]).upper()
    producer = event.get("producer", "")
    return "AIRFLOW" if "airflow" in producer else "DBT" if "dbt" in producer else None


def _sum(values: list) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def row(line: str, event_file: str, loaded_at: dt.datetime) -> dict:
    """One ops/lineage row from one event's JSON."""
    event = json.loads(line)
    run = event.get("run") or {}
    run_facets = run.get("facets") or {}
    parent = (run_facets.get("parent") or {}).get("run") or {}
    inputs = [_dataset(d, "inputStatistics", "inputFacets") for d in event.get("inputs") or []]
    outputs = [_dataset(d, "outputStatistics", "outputFacets") for d in event.get("outputs") or []]
    return {
        "event_id": hashlib.sha256(line.encode("utf-8")).hexdigest(),
        "event_time": dt.datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")).astimezone(dt.UTC),
        "event_type": event.get("eventType"), "run_id": run.get("runId"), "parent_run_id": parent.get("runId"),
        "job_namespace": (event.get("job") or {}).get("namespace"), "job_name": (event.get("job") or {}).get("name"),
        "integration": _integration(event), "inputs": inputs, "outputs": outputs,
        "rows_in": _sum([d["rows"] for d in inputs]), "rows_out": _sum([d["rows"] for d in outputs]),
        "error": emitter.scrub((run_facets.get("errorMessage") or {}).get("message")),
        "event": line, "event_file": event_file, "loaded_at": loaded_at,
    }


def pending_files() -> list[Path]:
    folder = emitter.events_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".json", ".jsonl"))


def load() -> int:
    """Load every waiting event file into ops/lineage (one commit) and move it to events/loaded/.
    Returns the number of events loaded. A file that is not OpenLineage JSON is named in the error."""
    files = pending_files()
    if not files:
        return 0
    loaded_at = dt.datetime.now(dt.UTC)
    rows = []
    for f in files:
        for number, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(row(line.strip(), f.name, loaded_at))
                except (ValueError, KeyError, TypeError) as e:
                    raise ValueError(f"{f}: 第 {number} 行不是 OpenLineage 事件 (line {number} is not an "
                                     f"OpenLineage event): {e}") from e
    if rows:
        unique = list({r["event_id"]: r for r in rows}.values())
        tables.merge(path(), pa.Table.from_pylist(unique, SCHEMA), SCHEMA, ["event_id"])
    done = emitter.events_dir() / "loaded"
    permissions.private_dir(done)
    for f in files:
        try:
            os.replace(f, done / f.name)
        except FileNotFoundError:  # another loader moved it first: its rows are the same rows
            pass
    return len(rows)


def load_quietly() -> int:
    """load(), logging instead of raising: called at the end of an ingest or a build, whose work is done."""
    try:
        return load()
    except Exception as e:  # noqa: BLE001
        log.warning("ops/lineage 未能载入血缘事件 (lineage events not loaded from %s): %s", emitter.events_dir(), e)
        return 0


def query(sql: str) -> list[dict]:
    """SQL over ops/lineage registered as `lineage`; [] before the first event."""
    return tables.query(path(), sql, name="lineage")


def latest_runs(where: str = "TRUE") -> list[dict]:
    """The last event of every run (its current state), newest first."""
    return query("SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY run_id ORDER BY event_time DESC, "
                 "CASE event_type WHEN 'START' THEN 1 ELSE 0 END) AS n FROM lineage) AS r "
                 f"WHERE n = 1 AND ({where}) ORDER BY event_time DESC")

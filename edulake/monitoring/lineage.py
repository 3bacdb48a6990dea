"""The last lineage run, from ops/lineage when that table exists (OpenLineage events loaded by the lineage
part of the platform). Tolerant by design: no table, or columns named otherwise, gives None."""

from __future__ import annotations

from edulake import settings
from edulake.lake import tables

TIME_COLUMNS = ("event_time", "eventTime", "time")


def path():
    return settings.paths().ops / "lineage"


def last_run() -> dict | None:
    if not tables.exists(path()):
        return None
    try:
        rows = tables.query(path(), "SELECT * FROM t LIMIT 0") or []
        columns = set(rows[0]) if rows else set(_columns())
        order = next((c for c in TIME_COLUMNS if c in columns), None)
        if order is None:
            return None
        wanted = [c for c in ("job_name", "job", "run_id", "event_type", "state", order, "integration")
                  if c in columns]
        select = ", ".join(f'"{c}"' for c in wanted)
        found = tables.query(path(), f'SELECT {select} FROM t ORDER BY "{order}" DESC LIMIT 1')
    except Exception:  # another part's table: a schema we do not know must not break `edulake status`
        return None
    return found[0] if found else None


def _columns() -> list[str]:
    from deltalake import DeltaTable

    return [f.name for f in DeltaTable(str(path())).schema().fields]

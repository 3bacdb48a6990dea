"""The last lineage run for `edulake status`: the newest run's current state in ops/lineage (edulake.lineage
loads the OpenLineage events there); None before anything has emitted."""

from __future__ import annotations

from edulake.lineage import store

SHOWN = ("job_name", "run_id", "event_type", "event_time", "integration")


def last_run() -> dict | None:
    runs = store.latest_runs()
    return {k: runs[0][k] for k in SHOWN} if runs else None

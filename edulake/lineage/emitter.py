"""The openlineage-python client, writing each event as a JSON file into the lake's restricted zone.

Why files and not Marquez: Marquez needs a Java service and PostgreSQL; files need nothing, and store.py loads
them into ops/lineage (Delta) where SQL, `edulake lineage` and the ops dashboard read them.
Why one file per event (the file transport without `append`): Airflow tasks, the lake and dbt emit from
different processes at once; separate files never interleave. The folder is owner-only like the rest of the
restricted zone (edulake.permissions): event files name landing files and batches.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path

from edulake import permissions, settings

log = logging.getLogger(__name__)
PRODUCER = "https://github.com/edulake/edulake/tree/main/edulake/lineage"
# an error message may quote a value; these patterns are what the identity vault holds in clear
_IDENTIFIERS = re.compile(r"G?\d{17}[\dXx]|\d{15}|1[3-9]\d{9}")


def events_dir() -> Path:
    """Where every emitter (the lake, dbt, Airflow's provider) writes its event files."""
    return settings.paths().restricted / "lineage" / "events"


def transport_config(source: str) -> dict:
    """The file transport's settings for one emitter (`source`: lake | dbt | airflow), as the client and
    Airflow's provider take them."""
    return {"type": "file", "log_file_path": str(events_dir() / source), "append": False}


def scrub(message: str | None, limit: int = 500) -> str | None:
    """An error message fit for an event: identifier-like digit runs masked, cut to `limit` characters."""
    if message is None:
        return None
    return _IDENTIFIERS.sub("<已屏蔽>", str(message))[:limit]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def new_run_id() -> str:
    """A UUIDv7 (time-ordered), as OpenLineage recommends for run ids."""
    from openlineage.client.uuid import generate_new_uuid

    return str(generate_new_uuid())


_clients: dict[tuple[str, str, int], object] = {}


def client(source: str):
    """One client per emitter, home (tests switch homes) and process (a forked child names its own files)."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.file import FileConfig, FileTransport

    key = (source, str(settings.home()), os.getpid())
    if key not in _clients:
        folder = events_dir()
        permissions.private_dir(folder)
        # pid in the prefix: two processes emitting in the same microsecond still write two files
        config = FileConfig.from_dict(dict(transport_config(source), log_file_path=str(folder / f"{source}-{os.getpid()}")))
        _clients[key] = OpenLineageClient(transport=FileTransport(config))
    return _clients[key]


def emit(source: str, event) -> bool:
    """Write one event. Lineage is a record of the work, not the work: a failure to write it is logged
    loudly and the step goes on (the next load of ops/lineage shows the gap as a run without its end)."""
    try:
        client(source).emit(event)
        return True
    except Exception as e:  # noqa: BLE001 - any transport error
        log.warning("血缘事件写入失败 (lineage event not written to %s): %s", events_dir(), e)
        return False


"""The access log ops/audit (Delta): who read what, when, how many rows, and the outcome.

Every extract, share query, file download and API call adds a row. Servers buffer rows and append them in
one commit a second (a Delta commit per request would cost more than the request); the buffer is flushed
when the server stops. Written with deltalake, like ops/runs: no JVM, whichever engine wrote the lake.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import asdict, dataclass, field

from edulake.sharing import config

log = logging.getLogger(__name__)
UTC = dt.UTC

# (column, arrow type, nullable)
COLUMNS = [
    ("at", "timestamp", False),
    ("actor", "string", False),  # token id, or cli:<user> for a command
    ("scope", "string", True),  # district | city | cli
    ("district", "string", True),  # the district the actor is bound to
    ("channel", "string", False),  # extract | sharing | api
    ("action", "string", False),  # e.g. query, file, list_shares, GET /api/v1/schools
    ("resource", "string", True),  # table, share, path
    ("rows", "int64", True),  # rows returned (files: rows in the file)
    ("outcome", "string", False),  # ok | denied | invalid | not_found | error
    ("status", "int32", True),  # HTTP status for the servers
    ("detail", "string", True),  # JSON
]


def schema():
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "int32": pa.int32(),
             "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(n, types[t], nullable=nl) for n, t, nl in COLUMNS])


@dataclass
class Entry:
    actor: str
    channel: str
    action: str
    outcome: str
    scope: str | None = None
    district: str | None = None
    resource: str | None = None
    rows: int | None = None
    status: int | None = None
    detail: dict | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))

    def row(self) -> dict:
        d = asdict(self)
        d["detail"] = json.dumps(self.detail, ensure_ascii=False, default=str) if self.detail else None
        return d


def append(entries: list[Entry]) -> None:
    """One commit; a concurrent writer committing first is retried (edulake.lake.tables)."""
    if not entries:
        return
    import pyarrow as pa

    from edulake.lake import tables

    tables.append(config.audit_path(), pa.Table.from_pylist([e.row() for e in entries], schema=schema()), schema())


def read(where: str | None = None) -> list[dict]:
    from edulake.orchestration import deltaread

    sql = "SELECT * FROM audit" + (f" WHERE {where}" if where else "") + " ORDER BY at"
    return deltaread.query(config.audit_path(), sql, name="audit")


class Buffer:
    """Collects entries in memory and appends them from a background thread every `interval` seconds."""

    def __init__(self, interval: float = 1.0) -> None:
        self._entries: list[Entry] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interval = interval
        self._thread: threading.Thread | None = None

    def add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def flush(self) -> None:
        with self._lock:
            entries, self._entries = self._entries, []
        try:
            append(entries)
        except Exception:  # the log must not take the server down; put them back for the next try
            log.exception("audit append failed; %d entries kept for the next flush", len(entries))
            with self._lock:
                self._entries[:0] = entries

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audit-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self.flush()

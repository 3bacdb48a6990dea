"""The batch ledger ops/batches: one row per batch, upserted as the batch moves through the zones.

received = accepted + quarantined + collapsed, always (checked before every write).
Status: landed -> bronze -> loaded, or rejected (with the reason). Validation and the silver MERGE
happen in one step whose writes are each idempotent, so no intermediate status is needed to resume.
`started_at` is when the batch landed; `finished_at` when it reached its current status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace

import pyarrow as pa

from edulake import settings
from edulake.lake import tables

STATUSES = ("landed", "bronze", "loaded", "rejected")

_TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema([
    pa.field("batch_id", pa.string(), nullable=False),
    ("feed", pa.string()), ("table", pa.string()), ("source_file", pa.string()), ("sha256", pa.string()),
    ("rows_received", pa.int64()), ("rows_accepted", pa.int64()), ("rows_quarantined", pa.int64()),
    ("rows_collapsed", pa.int64()), ("status", pa.string()), ("reason", pa.string()),
    ("started_at", _TS), ("finished_at", _TS), ("seconds", pa.float64()),
    ("encoding", pa.string()),  # the decoding the reader used (a declared GBK file may arrive as UTF-8)
])


@dataclass(frozen=True)
class Entry:
    batch_id: str
    feed: str
    table: str | None
    source_file: str
    sha256: str | None
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime
    rows_received: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_collapsed: int = 0
    reason: str | None = None
    encoding: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown batch status {self.status!r}")
        if self.rows_received != self.rows_accepted + self.rows_quarantined + self.rows_collapsed \
                and self.status in ("loaded", "rejected"):
            raise AssertionError(f"batch {self.batch_id} does not reconcile: received {self.rows_received} != "
                                 f"accepted {self.rows_accepted} + quarantined {self.rows_quarantined} "
                                 f"+ collapsed {self.rows_collapsed}")

    def moved(self, status: str, finished_at: dt.datetime, **changes) -> Entry:
        return replace(self, status=status, finished_at=finished_at, **changes)

    def row(self) -> dict:
        d = asdict(self)
        d["seconds"] = round((self.finished_at - self.started_at).total_seconds(), 3)
        return d


def path():
    return settings.paths().ops / "batches"


def record(entries: list[Entry]) -> None:
    """Upsert entries (one commit). The ledger is small: delta-rs on either engine."""
    if not entries:
        return
    data = pa.Table.from_pylist([e.row() for e in entries], SCHEMA)
    tables.merge(path(), data, SCHEMA, ["batch_id"])


def rows(where: str = "TRUE") -> list[dict]:
    """Ledger rows matching a SQL condition over its columns."""
    return tables.query(path(), f"SELECT * FROM t WHERE {where}")


def statuses(feed: str) -> dict[str, str]:
    """batch_id -> current status, for one feed."""
    feed_sql = feed.replace("'", "''")
    return {r["batch_id"]: r["status"] for r in
            tables.query(path(), f"SELECT batch_id, status FROM t WHERE feed = '{feed_sql}'")}

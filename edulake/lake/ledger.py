"""The batch ledger ops/batches: one row per batch, upserted as the batch moves through the zones.

received = accepted + quarantined + collapsed, always (checked before every write).
Status: landed -> bronze -> loaded, or rejected (with the reason). Validation and the silver MERGE
happen in one step whose writes are each idempotent, so no intermediate status is needed to resume.
`started_at` is when the batch landed; `finished_at` when it reached its current status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake import settings
from edulake.lake import delta

STATUSES = ("landed", "bronze", "loaded", "rejected")

SCHEMA = T.StructType([
    T.StructField("batch_id", T.StringType(), False),
    T.StructField("feed", T.StringType()),
    T.StructField("table", T.StringType()),
    T.StructField("source_file", T.StringType()),
    T.StructField("sha256", T.StringType()),
    T.StructField("rows_received", T.LongType()),
    T.StructField("rows_accepted", T.LongType()),
    T.StructField("rows_quarantined", T.LongType()),
    T.StructField("rows_collapsed", T.LongType()),
    T.StructField("status", T.StringType()),
    T.StructField("reason", T.StringType()),
    T.StructField("started_at", T.TimestampType()),
    T.StructField("finished_at", T.TimestampType()),
    T.StructField("seconds", T.DoubleType()),
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


def record(spark: SparkSession, entries: list[Entry]) -> None:
    """Upsert entries (one commit)."""
    if not entries:
        return
    df = spark.createDataFrame([e.row() for e in entries], SCHEMA)
    delta.upsert(df, path(), ["batch_id"])


def read(spark: SparkSession) -> DataFrame:
    if not delta.exists(path()):
        return spark.createDataFrame([], SCHEMA)
    return delta.read(spark, path())


def statuses(spark: SparkSession, feed: str) -> dict[str, str]:
    """batch_id -> current status, for one feed."""
    rows = read(spark).where(F.col("feed") == feed).select("batch_id", "status").collect()
    return {r.batch_id: r.status for r in rows}

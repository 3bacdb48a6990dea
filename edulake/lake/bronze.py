"""Bronze: the landed raw rows appended to bronze/<feed> (Delta), every raw column a string.

Schema: _batch_id, _table (feed.table), _source_file, _row_number (first data row = 1),
_raw map<column, raw text> (keys are the standard's column names; the header exactly as delivered
is in the landing manifest), _shape_error (rows whose field count differs from the header),
_ingested_at. Appending a batch replaces that batch's rows in one commit, so a rerun is a no-op
in content and a killed run leaves bronze as it was.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from edulake import settings
from edulake.lake import delta
from edulake.lake.landing import LandedBatch

COLUMNS = ("_batch_id", "_table", "_source_file", "_row_number", "_raw", "_shape_error")


def path(feed: str):
    return settings.paths().bronze / feed


def append(spark: SparkSession, feed: str, batches: list[LandedBatch]) -> None:
    if not batches:
        return
    landed = spark.read.parquet(*[str(b.rows_path) for b in batches])
    df = landed.select(*COLUMNS, F.current_timestamp().alias("_ingested_at"))
    delta.replace_batches(df, path(feed), "_batch_id", [b.batch_id for b in batches])


def read_batches(spark: SparkSession, feed: str, table: str, batch_ids: list[str]) -> DataFrame:
    return (delta.read(spark, path(feed))
            .where(F.col("_batch_id").isin(batch_ids) & (F.col("_table") == table)))

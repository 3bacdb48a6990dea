"""quarantine/<feed> (Delta, restricted zone): every rejected row, once per (row, rule, column) failure.

Columns: feed, table, batch_id, _source_file, _row_number, rule, column, severity, reason,
expectation, raw (every raw column of the row, map<column, text>), quarantined_at.
Written per batch with replace semantics, so a rerun never doubles a row.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake import settings
from edulake.lake import delta

SCHEMA = T.StructType([
    T.StructField("feed", T.StringType()),
    T.StructField("table", T.StringType()),
    T.StructField("batch_id", T.StringType()),
    T.StructField("_source_file", T.StringType()),
    T.StructField("_row_number", T.IntegerType()),
    T.StructField("rule", T.StringType()),
    T.StructField("column", T.StringType()),
    T.StructField("severity", T.StringType()),
    T.StructField("reason", T.StringType()),
    T.StructField("expectation", T.StringType()),
    T.StructField("raw", T.MapType(T.StringType(), T.StringType())),
    T.StructField("quarantined_at", T.TimestampType()),
])


def path(feed: str):
    return settings.paths().quarantine / feed


def rows(staged: DataFrame, feed: str, table: str) -> DataFrame:
    """Quarantine rows for the rejected rows of a staged frame (silver.stage)."""
    rejected = staged.where(F.col("_status") == "quarantined")
    exploded = rejected.select(
        F.lit(feed).alias("feed"), F.lit(table).alias("table"), F.col("_batch_id").alias("batch_id"),
        "_source_file", "_row_number", F.explode("_failures").alias("f"), F.col("_raw").alias("raw"))
    return exploded.select(
        "feed", "table", "batch_id", "_source_file", "_row_number",
        "f.rule", "f.column", "f.severity", "f.reason", "f.expectation", "raw",
        F.current_timestamp().alias("quarantined_at"),
    ).select(*[F.col(f.name).cast(f.dataType) for f in SCHEMA.fields])


def write(df: DataFrame, feed: str, batch_ids: list[str]) -> None:
    delta.replace_batches(df, path(feed), "batch_id", batch_ids)


def read(spark: SparkSession, feed: str) -> DataFrame:
    p = path(feed)
    return delta.read(spark, p) if delta.exists(p) else spark.createDataFrame([], SCHEMA)


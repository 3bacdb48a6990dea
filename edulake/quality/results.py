"""Keeping validation results: a summary per batch, feed and expectation appended to ops/quality (Delta),
and the GX validation result of each load with its Data Docs under paths().quality/gx.
"""

from __future__ import annotations

import datetime as dt
import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake import settings, standard
from edulake.lake import delta
from edulake.quality.checks import checks
from edulake.standard import Table

SCHEMA = T.StructType([
    T.StructField("run_at", T.TimestampType()),
    T.StructField("batch_id", T.StringType()),
    T.StructField("feed", T.StringType()),
    T.StructField("table", T.StringType()),
    T.StructField("expectation", T.StringType()),
    T.StructField("rule", T.StringType()),
    T.StructField("column", T.StringType()),
    T.StructField("severity", T.StringType()),
    T.StructField("evaluated", T.LongType()),
    T.StructField("failed", T.LongType()),
    T.StructField("failure_rate", T.DoubleType()),
])


def path():
    return settings.paths().ops / "quality"


def summary_rows(table: Table, staged: DataFrame, batch_ids: list[str]) -> list[dict]:
    """One row per (batch, expectation): every check of the suite (failed 0 included) plus any other
    rule that failed rows (parse checks, natural key, batch-level). Reads the staged (persisted) frame."""
    evaluated_rows = staged.where(F.col("_status") != "collapsed")
    counts = {r._batch_id: r["count"] for r in evaluated_rows.groupBy("_batch_id").count().collect()}
    failed = (evaluated_rows.select("_batch_id", F.explode("_failures").alias("f"))
              .groupBy("_batch_id", "f.expectation", "f.rule", "f.column", "f.severity").count().collect())
    std = standard.load()
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out: dict[tuple, dict] = {}
    for b in batch_ids:
        for c in checks(table, std):
            out[(b, c.expectation, c.rule, c.column)] = dict(
                run_at=run_at, batch_id=b, feed=table.feed, table=table.qualified_name, expectation=c.expectation,
                rule=c.rule, column=c.column, severity=c.severity, evaluated=counts.get(b, 0), failed=0)
    for r in failed:
        key = (r._batch_id, r.expectation, r.rule, r.column)
        row = out.setdefault(key, dict(
            run_at=run_at, batch_id=r._batch_id, feed=table.feed, table=table.qualified_name,
            expectation=r.expectation, rule=r.rule, column=r.column, severity=r.severity,
            evaluated=counts.get(r._batch_id, 0), failed=0))
        row["failed"] += r["count"]
    for row in out.values():
        row["failure_rate"] = row["failed"] / row["evaluated"] if row["evaluated"] else 0.0
    return sorted(out.values(), key=lambda r: (r["batch_id"], r["rule"], r["column"] or "", r["expectation"] or ""))


def record_summary(spark: SparkSession, table: Table, staged: DataFrame, batch_ids: list[str]) -> int:
    """Append (replacing these batches' earlier rows, so a rerun does not double count) to ops/quality."""
    rows = summary_rows(table, staged, batch_ids)
    if not rows:
        return 0
    df = spark.createDataFrame(rows, SCHEMA)
    delta.replace_batches(df, path(), "batch_id", batch_ids)
    return len(rows)


def gx_enabled() -> bool:
    """GX's own run (validation results + Data Docs) during ingestion:
    EDULAKE_GX_DOCS=1 turns it on (off by default: GX resolves ~7 metrics per expectation one by one). Routing never depends on it."""
    return os.environ.get("EDULAKE_GX_DOCS", "0") in ("1", "true", "yes")

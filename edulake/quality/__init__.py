"""Data-standard validation (Great Expectations, generated from schemas/).

The lake (edulake.lake.silver) calls:
  - with_lookups(table, frame)  the lookup columns some rules read (the enrollment roster), joined on;
  - row_failures_column(table, std, table_rules)  the failure array of every row check, one pass;
  - batch_failures(spark, table, std, frame, batch_ids)  the batch-level (fatal) failures;
  - record(spark, table, staged, batch_ids)  ops/quality summary + GX validation results and Data Docs.
validate_batch(table, typed_df, raw_df, batch_id) is the same validation for one batch on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from edulake import standard
from edulake.lake import normalise
from edulake.quality import batch, conditions, lookups, rows
from edulake.quality.checks import text


@dataclass
class ValidationResult:
    row_failures: DataFrame | None
    batch_failures: list[tuple[str, str]]


def row_failures_column(table, std, table_rules: bool = True):
    conditions.clear_reference_cache()
    return rows.failures_column(table, std, table_rules)


def with_lookups(table, frame: DataFrame) -> DataFrame:
    """The validation frame plus the lookup columns its table's rules read (see lookups.py)."""
    return lookups.with_lookups(table, frame)


def batch_failures(spark, table, std, frame: DataFrame, batch_ids: list[str]) -> dict[str, list]:
    return batch.failures(spark, table, std, frame, batch_ids)


def validation_frame(table, typed_df: DataFrame, raw_df: DataFrame) -> DataFrame:
    """typed_df (typed fields + lineage) joined with raw_df (raw text per field) into the frame the checks
    read: typed values, folded text (`__text_<field>`), and `_raw` (source header -> raw text)."""
    raw = raw_df.select("_row_number", *[F.col(f.name).alias(f"__rawv_{f.name}") for f in table.fields])
    df = typed_df.join(raw, "_row_number")
    texts = [normalise.fold(F.col(f"__rawv_{f.name}")).alias(text(f.name)) for f in table.fields]
    raw_map = F.create_map(*[x for f in table.fields for x in (F.lit(f.column), F.col(f"__rawv_{f.name}"))])
    return df.select(*typed_df.columns, *texts, raw_map.alias("_raw"))


def validate_batch(table, typed_df: DataFrame, raw_df: DataFrame, batch_id: str) -> ValidationResult:
    """Row failures (_row_number, rule, column, severity, reason, expectation) and batch failures
    [(rule, message)] of one batch."""
    std = standard.load()
    frame = validation_frame(table, typed_df, raw_df)
    if "_batch_id" not in frame.columns:
        frame = frame.withColumn("_batch_id", F.lit(batch_id))
    conditions.clear_reference_cache()
    frame = lookups.with_lookups(table, frame)
    found = rows.row_failures(table, std, frame)
    fatal = batch.failures(typed_df.sparkSession, table, std, frame, [batch_id]).get(batch_id, [])
    return ValidationResult(found, fatal)


def record(spark, table, staged: DataFrame, batch_ids: list[str]) -> None:
    """After staging a load: append the per-batch, per-expectation summary to ops/quality; when
    EDULAKE_GX_DOCS=1, also run the suite with GX itself and rebuild Data Docs (slow: see README)."""
    from edulake.quality import results

    results.record_summary(spark, table, staged, batch_ids)
    if results.gx_enabled():
        from edulake.quality import gx_run

        frame = staged.where(F.col("_status") != "collapsed")
        gx_run.validate(table, frame, run_name="+".join(batch_ids)[:200])

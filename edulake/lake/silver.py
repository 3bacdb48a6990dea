"""Silver: bronze batches typed, validated, pseudonymised, deduplicated and MERGEd into silver/<entity>.

For the batches of one table, in one pass over bronze:
  1. type and normalise every field (normalise.py); identifiers are still in clear, in memory only;
  2. collapse exact duplicates (all raw columns equal) within a batch: the first row stays;
  3. validate: rules.py (parse checks) and edulake.quality (every rule of the standard, GX);
     `error` failures reject the row, `warn` failures are kept in the silver column `_warnings`
     (array of "rule:column"), a batch-level (fatal) failure rejects every row of the batch;
  4. rows sharing a natural key with different content inside a batch are all rejected
     (rule unique_natural_key): the source must say which one is right;
  5. write quarantine (replace per batch), identity (MERGE on token), then silver: ONE MERGE per
     entity on the natural key, the newest batch winning (batches are given oldest first).
Every row ends in exactly one of accepted / quarantined / collapsed; the counts go to the ledger.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake import settings
from edulake.lake import bronze, delta, faults, identity, normalise, privacy, quarantine, rules, stopwatch
from edulake.standard import Standard, Table

LINEAGE = ("_batch_id", "_source_file", "_row_number")


def path(entity: str):
    return settings.paths().silver / entity


@dataclass(frozen=True)
class BatchCounts:
    batch_id: str
    received: int
    accepted: int
    quarantined: int
    collapsed: int
    rejected_reason: str | None = None


def typed_frame(table: Table, std: Standard, raw: DataFrame) -> DataFrame:
    """Bronze rows plus, per field, its folded text (rules.text_col) and typed value (field.name)."""
    texts = [normalise.fold(F.col("_raw")[f.column]).alias(rules.text_col(f)) for f in table.fields]
    df = raw.select("_batch_id", "_source_file", "_row_number", "_raw", "_shape_error", *texts)
    typed = [normalise.typed_value(F.col(rules.text_col(f)), f, std).cast(normalise.spark_type(f)).alias(f.name)
             for f in table.fields]
    return df.select("*", *typed)


def raw_frame(table: Table, typed: DataFrame) -> DataFrame:
    """The raw text of every field under its field name, with lineage: what validate_batch reads as raw_df."""
    return typed.select(*LINEAGE, *[F.col("_raw")[f.column].alias(f.name) for f in table.fields])


def quality_module():
    """edulake.quality (the standard's rules, Great Expectations), or None when it is not installed."""
    try:
        return importlib.import_module("edulake.quality")
    except ImportError:
        return None


def quality_results(table: Table, std: Standard, df: DataFrame, batch_ids: list[str]) -> dict[str, list]:
    """{batch_id: [(rule, message)]}: the batch-level (fatal) failures from edulake.quality."""
    quality = quality_module()
    if quality is None:
        return {}
    return quality.batch_failures(df.sparkSession, table, std, df, batch_ids)


def stage(table: Table, std: Standard, raw: DataFrame, batch_ids: list[str], with_quality: bool = True) -> DataFrame:
    """Every bronze row of the batches with `_status` (accepted|quarantined|collapsed), `_failures`, `_seq`.

    `with_quality=False` leaves out the standard's table rules and batch-level expectations (the
    field rules stay): the routing mechanism alone, as its tests exercise it."""
    typed = typed_frame(table, std, raw)
    quality = quality_module()
    if quality is not None and with_quality:
        typed = quality.with_lookups(table, typed)  # e.g. the enrollment roster, for student_enrolled
    seq = F.create_map(*[F.lit(x) for i, b in enumerate(batch_ids) for x in (b, i)])[F.col("_batch_id")]
    # One shuffle serves both windows: exact duplicates share their natural key, so partitioning by
    # (batch, key) clusters both the duplicates and the key conflicts.
    key = [F.col(n) for n in table.natural_key]
    raw_values = [F.col("_raw")[c] for c in table.columns]
    same_raw = Window.partitionBy("_batch_id", *key, "_shape_error", *raw_values).orderBy("_row_number")
    df = (typed.withColumn("_seq", seq).repartition("_batch_id", *key)
          .withColumn("_collapsed", F.row_number().over(same_raw) > 1))
    # the standard's rules come from edulake.quality in the same pass (one array column, no join)
    standard_checks = quality.row_failures_column(table, std, table_rules=with_quality) if quality else None
    df = df.withColumn("_failures", rules.failures_column(table, std, standard_checks))

    fatal = quality_results(table, std, typed, batch_ids) if with_quality else {}
    if fatal:
        fatal_failure = F.create_map(*[x for b, fs in fatal.items() for x in (F.lit(b), _fatal_array(fs))])
        df = df.withColumn("_failures", F.concat("_failures", F.coalesce(fatal_failure[F.col("_batch_id")],
                                                                          F.array().cast(rules.FAILURES))))

    has_error = F.exists("_failures", lambda x: x.severity.isin("error", "fatal"))
    df = df.withColumn("_valid", ~F.col("_collapsed") & ~has_error)
    same_key = Window.partitionBy("_batch_id", *key)
    df = (df.withColumn("_key_rows", F.count(F.when(F.col("_valid"), 1)).over(same_key))
          .withColumn("_key_row_list", F.array_join(F.array_sort(
              F.collect_list(F.when(F.col("_valid"), F.col("_row_number"))).over(same_key)), ",")))
    conflict = F.col("_valid") & (F.col("_key_rows") > 1)
    key_columns = ", ".join(table.field(n).column for n in table.natural_key)
    conflict_failure = F.struct(
        F.lit("unique_natural_key").alias("rule"), F.lit(key_columns).alias("column"), F.lit("error").alias("severity"),
        F.concat(F.col("_source_file"), F.lit(" 第"), F.col("_row_number").cast("string"),
                 F.lit(f"行: 自然键 ({key_columns}) 在本批次中重复且内容不同，涉及第 "), F.col("_key_row_list"),
                 F.lit(" 行 (natural key duplicated in the batch with different content)")).alias("reason"),
        F.lit("expect_compound_columns_to_be_unique").alias("expectation"))
    df = df.withColumn("_failures", F.when(conflict, F.concat("_failures", F.array(conflict_failure)))
                       .otherwise(F.col("_failures")))
    status = (F.when(F.col("_collapsed"), "collapsed")
              .when(~F.col("_valid") | conflict, "quarantined")
              .otherwise("accepted"))
    warnings = F.transform(F.filter("_failures", lambda x: x.severity == "warn"),
                           lambda x: F.concat(x.rule, F.lit(":"), F.coalesce(x.column, F.lit(""))))
    return (df.withColumn("_status", status).withColumn("_warnings", warnings)
            .drop("_valid", "_key_rows", "_key_row_list", "_collapsed"))


def _fatal_array(failures: list[tuple[str, str]]) -> Column:
    return F.array(*[F.struct(F.lit(rule).alias("rule"), F.lit(None).cast("string").alias("column"),
                              F.lit("fatal").alias("severity"), F.lit(message).alias("reason"),
                              F.lit(None).cast("string").alias("expectation")) for rule, message in failures])


def silver_rows(table: Table, accepted: DataFrame, key: bytes) -> DataFrame:
    """Silver columns (privacy applied) plus lineage; one row per natural key, the newest batch's."""
    columns = [privacy.silver_value(f, key) for f in table.silver_fields]
    df = accepted.select(*columns, "_warnings", *LINEAGE, "_seq", F.current_timestamp().alias("_loaded_at"))
    newest = Window.partitionBy(*table.natural_key_silver).orderBy(F.desc("_seq"), F.desc("_row_number"))
    return df.withColumn("_rank", F.row_number().over(newest)).where("_rank = 1").drop("_rank", "_seq")


def schema(table: Table) -> T.StructType:
    """The silver schema of a table, from the standard."""
    return T.StructType(
        [T.StructField(f.silver_name, privacy.silver_type(f)) for f in table.silver_fields]
        + [T.StructField("_warnings", T.ArrayType(T.StringType())),
           T.StructField("_batch_id", T.StringType()), T.StructField("_source_file", T.StringType()),
           T.StructField("_row_number", T.IntegerType()), T.StructField("_loaded_at", T.TimestampType())])


def load(spark: SparkSession, std: Standard, table: Table, batch_ids: list[str]) -> list[BatchCounts]:
    """Run bronze -> quarantine, identity, silver for batches of one table (oldest first).

    Writes in this order, each one commit and each idempotent for these batches: quarantine
    (replace), identity (MERGE on token), silver (one MERGE on the natural key). A crash between
    them leaves the batches at status `bronze`, and the rerun converges to the same tables."""
    key = privacy.pseudonym_key()
    with stopwatch.timed(table.feed, "validate"):
        staged, counts = validate(spark, std, table, batch_ids)
    try:
        with stopwatch.timed(table.feed, "write"):
            _write(spark, table, staged, counts, key)
        return counts
    finally:
        staged.unpersist()


def validate(spark: SparkSession, std: Standard, table: Table, batch_ids: list[str],
             with_quality: bool = True) -> tuple[DataFrame, list[BatchCounts]]:
    """Read the batches from bronze, stage them (persisted: the caller unpersists) and count them — the
    first action computes every check; with quality, record the ops/quality summary (and GX docs if
    enabled). `with_quality=False` is the same work without the standard's table rules: what the
    benchmark compares it with to find the rules' own cost."""
    raw = bronze.read_batches(spark, table.feed, table.qualified_name, batch_ids)
    staged = stage(table, std, raw, batch_ids, with_quality=with_quality).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = _counts(staged, batch_ids)
        quality = quality_module()
        if quality is not None and with_quality:
            quality.record(spark, table, staged, batch_ids)
    except BaseException:
        staged.unpersist()
        raise
    return staged, counts


def _write(spark: SparkSession, table: Table, staged: DataFrame, counts: list[BatchCounts], key: bytes) -> None:
    """Quarantine, identity, then the silver MERGE (see load for the order's reason)."""
    batch_ids = [c.batch_id for c in counts]
    # a clean first load creates no quarantine table; otherwise replace these batches' rows
    if any(c.quarantined for c in counts) or delta.exists(quarantine.path(table.feed)):
        quarantine.write(quarantine.rows(staged, table.feed, table.qualified_name), table.feed, batch_ids)
    faults.crash_point("after_quarantine")
    accepted = staged.where(F.col("_status") == "accepted")
    ids = identity.rows(accepted, table, key)
    if ids is not None:
        identity.write(ids)
    faults.crash_point("before_silver_merge")
    target = path(table.entity)
    delta.ensure_table(spark, target, schema(table))
    rows = silver_rows(table, accepted, key).select(*[F.col(f.name).cast(f.dataType) for f in schema(table).fields])
    delta.upsert(rows, target, table.natural_key_silver, update_condition="t._batch_id <> s._batch_id")
    faults.crash_point("after_silver_merge")


def _counts(staged: DataFrame, batch_ids: list[str]) -> list[BatchCounts]:
    fatal = F.exists("_failures", lambda x: x.severity == "fatal")
    rows = (staged.groupBy("_batch_id").agg(
        F.count("*").alias("received"),
        F.sum((F.col("_status") == "accepted").cast("long")).alias("accepted"),
        F.sum((F.col("_status") == "quarantined").cast("long")).alias("quarantined"),
        F.sum((F.col("_status") == "collapsed").cast("long")).alias("collapsed"),
        F.max(F.when(fatal, F.element_at(F.filter("_failures", lambda x: x.severity == "fatal"), 1).reason))
        .alias("fatal_reason"),
    ).collect())
    by_id = {r._batch_id: r for r in rows}
    out = []
    for b in batch_ids:
        r = by_id.get(b)
        if r is None:
            out.append(BatchCounts(b, 0, 0, 0, 0))
        else:
            out.append(BatchCounts(b, r.received, r.accepted, r.quarantined, r.collapsed, r.fatal_reason))
    return out

"""Delta writes of the Spark engine (delta-spark): idempotent writes keyed on batch, MERGE upserts, retry on concurrent commits.

Every write here is one Delta commit, so a reader sees all of it or none of it; a process killed
mid-write leaves only unreferenced files, and re-running the same write converges.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from edulake.lake import tables
from edulake.lake.tables import exists, in_list

R = TypeVar("R")


def read(spark: SparkSession, path: Path) -> DataFrame:
    return spark.read.format("delta").load(str(path))


def _concurrency_errors() -> tuple[type[BaseException], ...]:
    from delta.exceptions import (
        ConcurrentAppendException,
        ConcurrentDeleteDeleteException,
        ConcurrentDeleteReadException,
        ConcurrentTransactionException,
        ConcurrentWriteException,
        DeltaConcurrentModificationException,
        MetadataChangedException,
        ProtocolChangedException,
    )

    return (ConcurrentAppendException, ConcurrentDeleteDeleteException, ConcurrentDeleteReadException,
            ConcurrentTransactionException, ConcurrentWriteException, DeltaConcurrentModificationException,
            MetadataChangedException, ProtocolChangedException)


def with_retry(action: Callable[[], R], attempts: int = 8) -> R:
    """tables.with_retry with delta-spark's commit-conflict errors."""
    return tables.with_retry(action, attempts, _concurrency_errors())


def replace_batches(df: DataFrame, path: Path, column: str, batch_ids: list[str]) -> None:
    """Atomically replace the rows of these batches with `df` (one commit: delete + insert)."""
    def write() -> None:
        (df.write.format("delta").mode("overwrite")
         .option("replaceWhere", in_list(column, batch_ids))
         .save(str(path)))

    if not exists(path):
        ensure_table(df.sparkSession, path, df.schema)
    with_retry(write)


def ensure_table(spark: SparkSession, path: Path, schema: T.StructType, partition_by: list[str] | None = None) -> None:
    if exists(path):
        return
    from delta.tables import DeltaTable

    from edulake.lake.tables import PROPERTIES

    def create() -> None:
        if not exists(path):
            # a first write killed mid-way leaves a `_delta_log` without a commit: delta-spark then takes the
            # folder for a table and fails (DELTA_TABLE_NOT_FOUND); delta-rs writes over it (found by the kill suite)
            tables.drop_uncommitted_log(path)
            builder = DeltaTable.createIfNotExists(spark).location(str(path)).addColumns(schema)
            for key, value in PROPERTIES.items():  # delta-rs must be able to read what Spark writes
                builder = builder.property(key, value)
            if partition_by:
                builder = builder.partitionedBy(*partition_by)
            builder.execute()

    with_retry(create)


def upsert(source: DataFrame, path: Path, keys: list[str], update_condition: str | None = None,
           update_set: dict[str, str] | None = None, partition_by: list[str] | None = None) -> None:
    """MERGE `source` into the table at `path` on `keys` (one commit). Source keys must be unique. With a
    partition column the predicate names the partitions the source touches (only their files are rewritten);
    when those partitions hold nothing yet, the source is appended."""
    from delta.tables import DeltaTable

    spark = source.sparkSession
    ensure_table(spark, path, source.schema, partition_by)
    from edulake.lake.tables import holds_rows_in

    conditions = [f"t.`{k}` = s.`{k}`" for k in keys]
    touched = {p: sorted(r[0] for r in source.select(p).distinct().collect() if r[0] is not None)
               for p in partition_by or []}
    for p, values in touched.items():
        if values:
            conditions.append(in_list(f"t.`{p}`", values))
    on = " AND ".join(conditions)
    if not holds_rows_in(path, touched):  # a new partition (school year): nothing to match, append
        with_retry(lambda: source.write.format("delta").mode("append").save(str(path)))
        return

    def merge() -> None:
        builder = DeltaTable.forPath(spark, str(path)).alias("t").merge(source.alias("s"), on)
        if update_set is not None:
            builder = builder.whenMatchedUpdate(condition=update_condition, set=update_set)
        else:
            builder = builder.whenMatchedUpdateAll(condition=update_condition)
        builder.whenNotMatchedInsertAll().execute()

    with_retry(merge)

"""Row failures: every check of a table evaluated in one pass over the batch frame.

The result is an array<struct<rule, column, severity, reason, expectation>> column (the lake's
rules.FAILURES shape), so the lake adds it to its staging frame without a join or a second scan.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake.quality.checks import Check, checks
from edulake.standard import Standard, Table

FAILURE = T.StructType([
    T.StructField("rule", T.StringType()),
    T.StructField("column", T.StringType()),
    T.StructField("severity", T.StringType()),
    T.StructField("reason", T.StringType()),
    T.StructField("expectation", T.StringType()),
])
FAILURES = T.ArrayType(FAILURE)


def reason(table: Table, check: Check) -> Column:
    """Names the file, row, column and the bad value: what an engineer needs to fix the source."""
    parts = [F.col("_source_file"), F.lit(" 第"), F.col("_row_number").cast("string"), F.lit("行")]
    if check.column:
        parts.append(F.lit(f" 列「{check.column}」"))
    if check.value_field:
        value = F.coalesce(F.col("_raw")[table.field(check.value_field).column], F.lit(""))
        parts += [F.lit(" 值 '"), value, F.lit("'")]
    parts.append(F.lit(f": {check.message} [{check.rule}]"))
    return F.concat(*parts)


def failure(table: Table, check: Check) -> Column:
    return F.when(check.unexpected(), F.struct(
        F.lit(check.rule).alias("rule"), F.lit(check.column).cast("string").alias("column"),
        F.lit(check.severity).alias("severity"), reason(table, check).alias("reason"),
        F.lit(check.expectation).alias("expectation")))


def failures_column(table: Table, std: Standard, table_rules: bool = True) -> Column:
    """array<FAILURE> of the checks a row breaks (empty when clean)."""
    items = [failure(table, c) for c in checks(table, std, table_rules)]
    if not items:
        return F.array().cast(FAILURES)
    return F.filter(F.array(*items).cast(FAILURES), lambda x: x.isNotNull())


def row_failures(table: Table, std: Standard, frame: DataFrame) -> DataFrame:
    """One row per failure: _row_number, rule, column, severity, reason, expectation."""
    return (frame.select("_row_number", F.explode(failures_column(table, std)).alias("f"))
            .select("_row_number", "f.rule", "f.column", "f.severity", "f.reason", "f.expectation"))

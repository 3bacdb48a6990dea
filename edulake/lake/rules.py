"""Parse checks, as Spark expressions; failures route rows to quarantine.

The lake owns what only the reader can know:
  - `type` (a value is present but cannot be read as the field's type) and
  - `row_shape` (the row has a different number of fields than the header).
Every rule of the standard (required, codes, pattern, range, max_length and the table rules) is
edulake.quality's (Great Expectations, generated from schemas/); its failure array is passed in here.
Each check yields at most one failure per (row, rule, column). The row_failures shape is shared with
edulake.quality.validate_batch: _batch_id, _row_number, rule, column, severity, reason, expectation.
`column` is the column header as the standard names it in the source file (e.g. 学籍号).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake.standard import Field, Standard, Table

FAILURE = T.StructType([
    T.StructField("rule", T.StringType()),
    T.StructField("column", T.StringType()),
    T.StructField("severity", T.StringType()),
    T.StructField("reason", T.StringType()),
    T.StructField("expectation", T.StringType()),
])
FAILURES = T.ArrayType(FAILURE)
PARSE_RULES = ("type", "row_shape")
# the standard's per-field rules, checked by edulake.quality (named here for the lake's own tests)
FIELD_RULES = ("required", "codes", "pattern", "range", "max_length")


def text_col(field: Field) -> str:
    """The working column holding a field's folded text (typed values are under field.name)."""
    return f"__text_{field.name}"


def raw_value(field: Field) -> Column:
    return F.col("_raw")[field.column]


def _reason(field: Field, message: str, show_value: bool = True) -> Column:
    """Names the file, row, column and the bad value: what an engineer needs to fix the source."""
    value = F.coalesce(raw_value(field), F.lit(""))
    parts = [F.col("_source_file"), F.lit(" 第"), F.col("_row_number").cast("string"), F.lit(f"行 列「{field.column}」")]
    if show_value:
        parts += [F.lit(" 值 '"), value, F.lit("'")]
    parts.append(F.lit(f": {message}"))
    return F.concat(*parts)


def _failure(condition: Column, rule: str, field: Field | None, reason: Column, expectation: str | None,
             severity: str = "error") -> Column:
    return F.when(condition, F.struct(
        F.lit(rule).alias("rule"),
        F.lit(field.column if field else None).cast("string").alias("column"),
        F.lit(severity).alias("severity"),
        reason.alias("reason"),
        F.lit(expectation).cast("string").alias("expectation"),
    ))


def _present(field: Field) -> Column:
    return F.col(text_col(field)).isNotNull()


def parse_checks(table: Table) -> list[Column]:
    checks = [_failure(F.col("_shape_error").isNotNull(), "row_shape", None,
                       F.concat(F.col("_source_file"), F.lit(" 第"), F.col("_row_number").cast("string"),
                                F.lit("行: "), F.col("_shape_error")),
                       "expect_table_columns_to_match_ordered_list")]
    for f in table.fields:
        if f.type in ("string", "code"):
            continue  # any text is a string; an unknown code is a `codes` failure
        checks.append(_failure(_present(f) & F.col(f.name).isNull(), "type", f,
                               _reason(f, f"不是有效的{_TYPE_LABELS[f.type]} (not a valid {f.type})"),
                               "expect_column_values_to_be_parseable"))
    return checks


_TYPE_LABELS = {"integer": "整数", "decimal": "数值", "date": "日期", "duration": "时长", "boolean": "是/否"}


def failures_column(table: Table, std: Standard, standard_checks: Column | None = None) -> Column:
    """array<FAILURE> of every rule the row breaks (empty when clean): the parse checks here plus
    `standard_checks` (edulake.quality's failure array). A row with a shape error is reported for its
    shape only: its cells are misaligned, so per-field failures would be noise."""
    checks = parse_checks(table)
    shape = F.array(checks[0]).cast(FAILURES)
    fields = F.array(*checks[1:]).cast(FAILURES) if len(checks) > 1 else F.array().cast(FAILURES)
    fields = F.filter(fields, lambda x: x.isNotNull())
    if standard_checks is not None:
        fields = F.concat(fields, standard_checks.cast(FAILURES))
    chosen = F.when(F.col("_shape_error").isNotNull(), shape).otherwise(fields)
    return F.filter(chosen, lambda x: x.isNotNull())


def row_failures(table: Table, std: Standard, typed: DataFrame, standard_checks: Column | None = None) -> DataFrame:
    """The row_failures DataFrame (one row per failure) for a typed frame from silver.typed_frame."""
    exploded = typed.select("_batch_id", "_row_number",
                            F.explode(failures_column(table, std, standard_checks)).alias("f"))
    return exploded.select("_batch_id", "_row_number", "f.rule", "f.column", "f.severity", "f.reason", "f.expectation")

"""Row-level rules the standard states per field, as Spark expressions; failures route rows to quarantine.

Two separable families, so the quality layer (edulake.quality, Great Expectations) can take over the
field-level checks while the parse checks stay here:
  - parse_checks: `type` (a value is present but cannot be read as the field's type) and
    `row_shape` (the row has a different number of fields than the header);
  - field_checks: `required`, `codes` (not in the code list / allowed values), `pattern`, `range`,
    `max_length`.
Each check yields at most one failure per (row, rule, column). The row_failures shape is shared with
edulake.quality.validate_batch: _batch_id, _row_number, rule, column, severity, reason, expectation.
`column` is the column header as the standard names it in the source file (e.g. 学籍号).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake.lake import normalise
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


def field_checks(table: Table, std: Standard) -> list[Column]:
    checks = []
    for f in table.fields:
        value, text = F.col(f.name), F.col(text_col(f))
        if f.required:
            checks.append(_failure(text.isNull(), "required", f, _reason(f, "必填项为空 (required value missing)", False),
                                   "expect_column_values_to_not_be_null"))
        if f.type == "code":
            checks.append(_failure(_present(f) & value.isNull(), "codes", f,
                                   _reason(f, f"不在代码表 {f.codes} 中 (not in code list {f.codes}, by {f.code_key})"),
                                   "expect_column_values_to_be_in_set"))
        if f.allowed:
            allowed = ", ".join(f.allowed)
            checks.append(_failure(value.isNotNull() & ~value.isin(*f.allowed), "codes", f,
                                   _reason(f, f"不是允许的取值 (allowed: {allowed})"),
                                   "expect_column_values_to_be_in_set"))
        if f.pattern:
            checks.append(_failure(_present(f) & ~text.rlike(f.pattern), "pattern", f,
                                   _reason(f, f"格式不符合 {f.pattern} (does not match pattern)"),
                                   "expect_column_values_to_match_regex"))
        if f.min is not None or f.max is not None:
            low = value < normalise.bound_literal(f, f.min) if f.min is not None else F.lit(False)
            high = value > normalise.bound_literal(f, f.max) if f.max is not None else F.lit(False)
            checks.append(_failure(value.isNotNull() & (low | high), "range", f,
                                   _reason(f, f"超出范围 [{f.min}, {f.max}] (out of range)"),
                                   "expect_column_values_to_be_between"))
        if f.max_length:
            checks.append(_failure(F.length(text) > f.max_length, "max_length", f,
                                   _reason(f, f"长度超过 {f.max_length} (longer than {f.max_length} characters)"),
                                   "expect_column_value_lengths_to_be_between"))
    return checks


def failures_column(table: Table, std: Standard, include_field_checks: bool = True) -> Column:
    """array<FAILURE> of every rule the row breaks (empty when clean). A row with a shape error is
    reported for its shape only: its cells are misaligned, so per-field failures would be noise."""
    checks = parse_checks(table) + (field_checks(table, std) if include_field_checks else [])
    shape = F.array(checks[0]).cast(FAILURES)
    fields = F.array(*checks[1:]).cast(FAILURES) if len(checks) > 1 else F.array().cast(FAILURES)
    chosen = F.when(F.col("_shape_error").isNotNull(), shape).otherwise(fields)
    return F.filter(chosen, lambda x: x.isNotNull())


def row_failures(table: Table, std: Standard, typed: DataFrame, include_field_checks: bool = True) -> DataFrame:
    """The row_failures DataFrame (one row per failure) for a typed frame from silver.typed_frame."""
    exploded = typed.select("_batch_id", "_row_number",
                            F.explode(failures_column(table, std, include_field_checks)).alias("f"))
    return exploded.select("_batch_id", "_row_number", "f.rule", "f.column", "f.severity", "f.reason", "f.expectation")

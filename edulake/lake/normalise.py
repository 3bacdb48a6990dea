"""Typing and normalising raw source text, as Spark SQL expressions (no Python UDFs: this runs on every row).

Lenient about format, strict about meaning (schemas/standard.yaml `types:`): full-width characters are
folded to half-width and text trimmed; dates and durations are accepted in every format the sources
write; codes are looked up in the field's code list through its `code_key`. A value that is present
but cannot be read yields NULL here; rules.py turns that into a `type` (or `codes`) failure.
"""

from __future__ import annotations

from decimal import Decimal

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake.standard import Field, Standard

# Full-width ASCII (U+FF01-FF5E) -> ASCII, ideographic and no-break spaces -> space, as NFKC does for
# these ranges; BOM and zero-width space are deleted (no counterpart in the replacement string).
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0\ufeff\u200b"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + "  "

DECIMAL_PRECISION = 18
DURATION_TYPE = T.DecimalType(10, 1)

_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_GROUPED_NUMBER = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"  # 1,234.5 as spreadsheets format it
_DATE_SEPARATED = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"
_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SECONDS = r"^(\d+(\.\d+)?)\s*秒?$"
_MIN_SEC = r"""^(\d+)\s*(?:'|′|’|:|分)\s*(\d{1,2}(?:\.\d+)?)\s*(?:"|''|″|”|秒)?$"""


def fold(raw: Column) -> Column:
    """Full-width to half-width, trimmed; empty becomes NULL. (btrim/nullif: ~3x faster than a regex
    trim inside CASE WHEN, which evaluates the text twice.)"""
    return F.nullif(F.btrim(F.translate(raw, _FULL, _HALF), F.lit(" \t\r\n")), F.lit(""))


def spark_type(field: Field) -> T.DataType:
    """The silver type of a field's typed value (before any privacy treatment)."""
    return {
        "string": T.StringType(),
        "code": T.StringType(),
        "integer": T.IntegerType(),
        "decimal": T.DecimalType(DECIMAL_PRECISION, field.scale or 0),
        "date": T.DateType(),
        "duration": DURATION_TYPE,
        "boolean": T.BooleanType(),
    }[field.type]


def _plain_number(text: Column) -> Column:
    grouped = F.regexp_replace(text, ",", "")
    return F.when(text.rlike(_GROUPED_NUMBER), grouped).otherwise(text)


def parse_integer(text: Column) -> Column:
    number = _plain_number(text)
    whole = number.rlike(r"^[+-]?\d+(\.0*)?$")  # 12.0 is how spreadsheets write 12
    digits = F.regexp_extract(number, r"^([+-]?\d+)", 1)
    # beyond 9 digits an int overflows: leave NULL so it is reported, not wrapped
    return F.when(whole & (F.length(F.regexp_replace(digits, r"^[+-]?0*", "")) <= 9), digits.cast(T.IntegerType()))


def parse_decimal(text: Column, scale: int) -> Column:
    number = _plain_number(text)
    return F.when(number.rlike(_NUMBER), number.cast(T.DecimalType(DECIMAL_PRECISION, scale)))


def parse_date(text: Column) -> Column:
    separated = [F.regexp_extract(text, _DATE_SEPARATED, i) for i in (1, 2, 3)]
    compact = [F.regexp_extract(text, _DATE_COMPACT, i) for i in (1, 2, 3)]
    y, m, d = (F.when(text.rlike(_DATE_SEPARATED), s).when(text.rlike(_DATE_COMPACT), c)
               for s, c in zip(separated, compact, strict=True))
    iso = F.concat_ws("-", y, F.lpad(m, 2, "0"), F.lpad(d, 2, "0"))
    return F.when(y.isNotNull(), F.try_to_date(iso, "yyyy-MM-dd"))


def parse_duration(text: Column) -> Column:
    """Seconds from 225 / 225.4 / 3'45" / 3'45 / 3分45秒 / 3:45."""
    seconds = F.regexp_extract(text, _SECONDS, 1)
    minutes = F.regexp_extract(text, _MIN_SEC, 1)
    rest = F.regexp_extract(text, _MIN_SEC, 2)
    return (F.when(text.rlike(_SECONDS), seconds.cast(DURATION_TYPE))
            .when(text.rlike(_MIN_SEC) & (rest.cast("double") < 60),
                  (minutes.cast("decimal(8,0)") * 60 + rest.cast("decimal(8,1)")).cast(DURATION_TYPE)))


def _literal_map(mapping: dict[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for kv in sorted(mapping.items()) for x in kv])


def boolean_lookup(std: Standard) -> dict[str, str]:
    """Source spellings of yes/no -> 'true'/'false', from the yes_no code list (是/否 and its value column)."""
    yes_no = std.codes("yes_no")
    lookup = {r["code"]: r["value"] for r in yes_no.rows}
    lookup.update({r["value"]: r["value"] for r in yes_no.rows})
    return lookup


def parse_boolean(text: Column, std: Standard) -> Column:
    return _literal_map(boolean_lookup(std))[F.lower(text)] == F.lit("true")


def code_lookup(field: Field, std: Standard) -> dict[str, str]:
    return std.codes(field.codes).lookup(field.code_key)


def _fixed_width(keys) -> int | None:
    """Width of all-digit code keys of one width (ethnicity 01-58): a spreadsheet drops the leading zero."""
    widths = {len(k) for k in keys}
    return widths.pop() if len(widths) == 1 and all(k.isdigit() for k in keys) else None


def map_code(text: Column, field: Field, std: Standard) -> Column:
    lookup = code_lookup(field, std)
    width = _fixed_width(lookup)
    key = text
    if width:
        key = F.when(text.rlike(r"^\d+$") & (F.length(text) < width), F.lpad(text, width, "0")).otherwise(text)
    return _literal_map(lookup)[key]


def typed_value(text: Column, field: Field, std: Standard) -> Column:
    """The field's value typed and normalised from its folded text (NULL when unreadable)."""
    if field.type == "string":
        return text
    if field.type == "code":
        return map_code(text, field, std)
    if field.type == "integer":
        return parse_integer(text)
    if field.type == "decimal":
        return parse_decimal(text, field.scale or 0)
    if field.type == "date":
        return parse_date(text)
    if field.type == "duration":
        return parse_duration(text)
    if field.type == "boolean":
        return parse_boolean(text, std)
    raise ValueError(f"unknown type {field.type!r} for field {field.name}")


def bound_literal(field: Field, bound) -> Column:
    """A min/max from the standard as a literal comparable with the typed value."""
    if field.type == "date":
        return F.lit(str(bound)).cast(T.DateType())
    if field.type in ("decimal", "duration"):
        return F.lit(Decimal(str(bound)))
    return F.lit(bound)

"""Typing and normalising raw source text, as SQL expressions (one dialect, see sql.py): every row, no UDF.

Lenient about format, strict about meaning (schemas/standard.yaml `types:`): full-width characters are
folded to half-width and text trimmed; dates and durations are accepted in every format the sources
write; codes are looked up in the field's code list through its `code_key`. A value that is present
but cannot be read yields NULL here; the `type` (or `codes`) check turns that into a failure.
"""

from __future__ import annotations

from decimal import Decimal

from edulake.quality.sql import case_map, lit
from edulake.standard import Field, Standard

# Full-width ASCII (U+FF01-FF5E) -> ASCII, ideographic and no-break spaces -> space, as NFKC does for
# these ranges; BOM and zero-width space are deleted (no counterpart in the replacement string).
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0\ufeff\u200b"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + "  "
# translate() with a 96-character map costs ~5 µs a call on DuckDB; most text has nothing to fold, so
# it runs only where a character of the map occurs (measured 6.8 s -> 0.2 s for 15 columns of 85k rows).
_HAS_FULL = "[\uff01-\uff5e\u3000\u00a0\ufeff\u200b]"

DECIMAL_PRECISION = 18
DURATION_SQL = "DECIMAL(10,1)"

_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_GROUPED_NUMBER = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"  # 1,234.5 as spreadsheets format it
_DATE_SEPARATED = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"
_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SECONDS = r"^(\d+(\.\d+)?)\s*秒?$"
_MIN_SEC = r"""^(\d+)\s*(?:'|′|’|:|分)\s*(\d{1,2}(?:\.\d+)?)\s*(?:"|''|″|”|秒)?$"""


_TRIMMED = " \t\r\n"  # what trim() removes from both ends
_SEPARATOR = "\x1f"  # between a row's values in needs_folding(): landing refuses control characters in cells


def fold(raw: str, row_needs_folding: str | None = None) -> str:
    """Full-width to half-width, trimmed; empty becomes NULL.

    `row_needs_folding`: a condition true where the row holds a character to fold or a value with whitespace
    at an end (needs_folding() over the row, once per row: a search per value cost more than the rest of the
    typing, 5.0 s of operator time for 511 k exam rows against 1.5 s typing them). Elsewhere the value is
    taken as it is: DuckDB's trim() with a character set costs ~0.15 µs a value (4.5 s for 2.9 M rows of 11
    values), and translate() with its 96-character map ~2.5 µs. Within a row that needs it, translate()
    runs only on the values holding such a character: in the exam feed 16% of rows hold one (full-width
    brackets in 考试名称), in one value of eleven (measured 22.8 s -> 3.2 s for 2.9 M rows, results identical).
    Without it, each value is searched."""
    folded = f"CASE WHEN {has_wide(raw)} THEN translate({raw}, {lit(_FULL)}, {lit(_HALF)}) ELSE {raw} END"
    cleaned = f"trim({folded}, {lit(_TRIMMED)})"
    if row_needs_folding is None:
        return f"NULLIF({cleaned}, '')"
    return f"NULLIF(CASE WHEN {row_needs_folding} THEN {cleaned} ELSE {raw} END, '')"


def has_wide(text: str) -> str:
    """SQL: the text holds a character fold() translates."""
    return f"regexp_matches({text}, {lit(_HAS_FULL)})"


def needs_folding(values: list[str]) -> str:
    """SQL: one of these values holds a character fold() translates or starts or ends with whitespace (one
    search of the row's values joined by a separator that no value holds)."""
    edge = f"[{_TRIMMED}]"
    pattern = f"{_HAS_FULL}|(^|{_SEPARATOR}){edge}|{edge}({_SEPARATOR}|$)"
    return f"regexp_matches(concat_ws({lit(_SEPARATOR)}, {', '.join(values)}), {lit(pattern)})"


def sql_type(field: Field) -> str:
    """The SQL type of a field's typed value (before any privacy treatment)."""
    return {
        "string": "VARCHAR",
        "code": "VARCHAR",
        "integer": "INTEGER",
        "decimal": f"DECIMAL({DECIMAL_PRECISION},{field.scale or 0})",
        "date": "DATE",
        "duration": DURATION_SQL,
        "boolean": "BOOLEAN",
    }[field.type]


def _plain_number(text: str) -> str:
    # the grouping pattern needs a comma: the LIKE spares the regex the values without one (most of them)
    return (f"(CASE WHEN {text} LIKE '%,%' AND regexp_matches({text}, {lit(_GROUPED_NUMBER)}) "
            f"THEN replace({text}, ',', '') ELSE {text} END)")


# Fast paths. Most cells are already in the canonical form the parsers below normalise to; a value that comes
# back unchanged from casting it to the type and back to text is in that form, and for it the regular expressions
# (up to six calls per value; typed values and their normalisation were 4.4 of the fitness table's 22.8 CPU s in
# `checked`, scale 1.0) give exactly that cast. Everything else takes the general path. canonical() is the test;
# tests/integration/test_lake_normalise.py holds each parser to its general path on both engines.
def canonical(text: str, type_sql: str) -> str:
    """SQL: the text is the type's own spelling of its value (casting it to the type and back gives it again)."""
    return f"CAST(TRY_CAST({text} AS {type_sql}) AS VARCHAR) = {text}"


def _fast(condition: str, value: str, general: str) -> str:
    return f"(CASE WHEN {condition} THEN {value} ELSE {general} END)"


def general_integer(text: str) -> str:
    number = _plain_number(text)
    digits = f"regexp_extract({number}, '^([+-]?\\d+)', 1)"
    # beyond 9 digits an int overflows: leave NULL so it is reported, not wrapped; 12.0 is how spreadsheets write 12
    return (f"(CASE WHEN regexp_matches({number}, '^[+-]?\\d+(\\.0*)?$') "
            f"AND length(regexp_replace({digits}, '^[+-]?0*', '')) <= 9 THEN TRY_CAST({digits} AS INTEGER) END)")


def parse_integer(text: str) -> str:
    # at most 9 characters: at most 9 digits, as the general path allows
    return _fast(f"length({text}) <= 9 AND {canonical(text, 'INTEGER')}", f"TRY_CAST({text} AS INTEGER)",
                 general_integer(text))


def general_decimal(text: str, scale: int) -> str:
    number = _plain_number(text)
    return f"(CASE WHEN regexp_matches({number}, {lit(_NUMBER)}) THEN TRY_CAST({number} AS DECIMAL({DECIMAL_PRECISION},{scale})) END)"


def parse_decimal(text: str, scale: int) -> str:
    decimal = f"DECIMAL({DECIMAL_PRECISION},{scale})"
    return _fast(canonical(text, decimal), f"TRY_CAST({text} AS {decimal})", general_decimal(text, scale))


def general_date(text: str) -> str:
    def part(i: int) -> str:
        return (f"(CASE WHEN regexp_matches({text}, {lit(_DATE_SEPARATED)}) THEN regexp_extract({text}, {lit(_DATE_SEPARATED)}, {i}) "
                f"WHEN regexp_matches({text}, {lit(_DATE_COMPACT)}) THEN regexp_extract({text}, {lit(_DATE_COMPACT)}, {i}) END)")

    iso = f"concat_ws('-', {part(1)}, lpad({part(2)}, 2, '0'), lpad({part(3)}, 2, '0'))"
    return f"(CASE WHEN {part(1)} IS NOT NULL THEN TRY_CAST({iso} AS DATE) END)"


def parse_date(text: str) -> str:
    # 10 characters: a four-digit year, as the general path requires
    return _fast(f"length({text}) = 10 AND {canonical(text, 'DATE')}", f"TRY_CAST({text} AS DATE)", general_date(text))


def general_duration(text: str) -> str:
    """parse_duration's regular-expression path: every spelling it accepts."""
    seconds = f"regexp_extract({text}, {lit(_SECONDS)}, 1)"
    minutes = f"regexp_extract({text}, {lit(_MIN_SEC)}, 1)"
    rest = f"regexp_extract({text}, {lit(_MIN_SEC)}, 2)"
    return (f"(CASE WHEN regexp_matches({text}, {lit(_SECONDS)}) THEN TRY_CAST({seconds} AS {DURATION_SQL}) "
            f"WHEN regexp_matches({text}, {lit(_MIN_SEC)}) AND TRY_CAST({rest} AS DOUBLE) < 60 "
            f"THEN CAST(TRY_CAST({minutes} AS DECIMAL(8,0)) * 60 + TRY_CAST({rest} AS DECIMAL(8,1)) AS {DURATION_SQL}) END)")


def parse_duration(text: str) -> str:
    """Seconds from 225 / 225.4 / 3'45" / 3'45 / 3分45秒 / 3:45."""
    # plain seconds (no sign: the general path reads none), whole or with one decimal
    plain = f"{text} NOT LIKE '-%' AND ({canonical(text, DURATION_SQL)} OR {canonical(text, 'INTEGER')})"
    return _fast(plain, f"TRY_CAST({text} AS {DURATION_SQL})", general_duration(text))


def boolean_lookup(std: Standard) -> dict[str, str]:
    """Source spellings of yes/no -> 'true'/'false', from the yes_no code list (是/否 and its value column)."""
    yes_no = std.codes("yes_no")
    lookup = {r["code"]: r["value"] for r in yes_no.rows}
    lookup.update({r["value"]: r["value"] for r in yes_no.rows})
    return lookup


def parse_boolean(text: str, std: Standard) -> str:
    return f"({case_map(f'lower({text})', boolean_lookup(std))} = 'true')"


def code_lookup(field: Field, std: Standard) -> dict[str, str]:
    return std.codes(field.codes).lookup(field.code_key)


def _fixed_width(keys) -> int | None:
    """Width of all-digit code keys of one width (ethnicity 01-58): a spreadsheet drops the leading zero."""
    widths = {len(k) for k in keys}
    return widths.pop() if len(widths) == 1 and all(k.isdigit() for k in keys) else None


def map_code(text: str, field: Field, std: Standard) -> str:
    lookup = code_lookup(field, std)
    width = _fixed_width(lookup)
    key = text
    if width:
        # the length first: most codes arrive at full width and need no search
        key = f"(CASE WHEN length({text}) < {width} AND regexp_matches({text}, '^\\d+$') THEN lpad({text}, {width}, '0') ELSE {text} END)"
    return case_map(key, lookup)


def typed_value(text: str, field: Field, std: Standard) -> str:
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


def bound_literal(field: Field, bound) -> str:
    """A min/max from the standard as a literal comparable with the typed value."""
    if field.type == "date":
        return f"CAST({lit(str(bound))} AS DATE)"
    if field.type in ("decimal", "duration"):
        return f"CAST({lit(str(Decimal(str(bound))))} AS DECIMAL(18,4))"
    return lit(bound)

"""Building SQL text in ONE dialect (DuckDB's), which each engine runs: DuckDB as written, Spark after
sqlglot transpiles it (edulake.lake.engines.spark). Rules are written once, as these strings.

Only constructs that sqlglot carries to Spark faithfully are used (checked by the parity tests):
CASE, regexp_matches / regexp_extract, replace, translate, substring, lpad, concat_ws, length, LIKE, TRY_CAST
and CAST to VARCHAR, windows, list_filter over list literals. No map literals (CASE instead), no 'g' regex flags.
"""

from __future__ import annotations

from collections.abc import Iterable


def lit(value) -> str:
    """A SQL literal for a Python value (str, int, float, bool, None)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def in_list(value_sql: str, values: Iterable) -> str:
    """`value IN (...)`; FALSE for an empty list (no value is in nothing)."""
    items = [lit(v) for v in values]
    return f"({value_sql} IN ({', '.join(items)}))" if items else "FALSE"


def case_map(key_sql: str, mapping: dict, default: str = "NULL") -> str:
    """mapping[key] as a CASE expression (a literal lookup table, e.g. a code list)."""
    if not mapping:
        return default
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(mapping.items()))
    return f"(CASE {key_sql} {whens} ELSE {default} END)"


def ok(condition: str) -> str:
    """A rule's expected condition where NULL (cannot judge) counts as satisfied."""
    return f"COALESCE({condition}, TRUE)"


def concat(*parts: str) -> str:
    """Text concatenation where a NULL part counts as empty (as the reasons need)."""
    return "(" + " || ".join(f"COALESCE(CAST({p} AS VARCHAR), '')" for p in parts) + ")"


def greatest_bool(conditions: list[str]) -> str:
    """TRUE when any condition is TRUE (each must be non-NULL)."""
    return "(" + " OR ".join(conditions) + ")" if conditions else "FALSE"

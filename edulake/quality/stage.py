"""The validation and routing of a load as SQL (one dialect, see sql.py): what both engines run.

Relations the engine provides (edulake.lake.engines):
  bronze_batches   _batch_id, _source_file, _row_number, _raw (map header -> raw text), _shape_error
  school_register  school_id                   (silver/school's keys; empty when not loaded)
  roster           student_token, school_year  (silver/student_enrollment; empty when not loaded)
and materialises, in order:
  typed    lineage, `__text_<field>` folded text, `<field>` typed value,
           `__token_<field>` a hashed field's pseudonym, lookup columns (not the raw map: see typed_sql)
  checked    typed + `__c<i>` (TRUE = the row fails check i) + `_collapsed` (exact duplicate in its batch)
             + `_row_valid`
  conflicts  (batch, natural key) repeated with other content among valid rows
  staged     (a view) checked + `_key_conflict` + the batch rules' verdict: `_valid`, `_conflict`, `_status`
             (accepted | quarantined | collapsed) and `_warnings` (array of "rule:column")
Batch-level (fatal) failures are decided between `checked` and `staged` (batch.py) and passed in.
Every row ends in exactly one status; quarantine gets one row per (rejected row, failure).
"""

from __future__ import annotations

from dataclasses import dataclass

from edulake.quality import checks as K
from edulake.quality import conditions as C
from edulake.quality import normalise
from edulake.quality.sql import concat, ident, lit
from edulake.standard import Standard, Table

LINEAGE = ("_batch_id", "_source_file", "_row_number")
WIDE = "__wide"  # the raw row holds a full-width character or a value to trim (fold's work): most rows do not
ROSTER = "student_enrollment"  # silver entity of the enrollment roster (student_enrolled joins on it)


@dataclass(frozen=True)
class Program:
    """A table's compiled validation: its checks (row rules, parse checks first) in column order __c0.."""
    table: Table
    checks: tuple[K.Check, ...]
    suite: tuple[K.Check, ...]  # the checks the GX suite declares (reported even when nothing fails)

    def column(self, check: K.Check) -> str:
        return f"__c{self.checks.index(check)}"


def compile_table(table: Table, std: Standard, table_rules: bool = True) -> Program:
    suite = tuple(K.checks(table, std, table_rules=table_rules))
    return Program(table, tuple(K.parse_checks(table)) + suite, suite)


def natural_key_columns(table: Table) -> list[str]:
    return [ident(n) for n in table.natural_key]


def _raw(column: str) -> str:
    return f"_raw[{lit(column)}]"


def token_column(field_name: str) -> str:
    """The column of `typed` (and so of checked and staged) holding a hashed field's pseudonym."""
    return ident(f"__token_{field_name}")


def typed_sql(program: Program, std: Standard, batch_ids: list[str], token_sql) -> str:
    """`typed` from bronze_batches (+ lookups). `token_sql(expr)` is the pseudonym of a value (privacy). It is
    computed once per row here, for silver, identity and the roster lookup alike (an HMAC is two SHA-256: three
    of them cost 2.7 s per 5 M exam rows).

    The raw map stays in bronze: materialised with `checked` it was a third of DuckDB's pool and most of its
    write (5 M exam rows: `checked` copied in 8.7 s with it, 2.8 s without). The few readers that need raw
    cells (quarantine, the batch rules' missing-column statistic) read them from `bronze_batches`."""
    table = program.table
    seq = " ".join(f"WHEN {lit(b)} THEN {i}" for i, b in enumerate(batch_ids))
    texts = ", ".join(f"{normalise.fold(_raw(f.column), WIDE)} AS {K.text(f.name)}" for f in table.fields)
    typed = ", ".join(f"CAST({normalise.typed_value(K.text(f.name), f, std)} AS {normalise.sql_type(f)}) AS {ident(f.name)}"
                      for f in table.fields)
    needs_folding = normalise.needs_folding([_raw(f.column) for f in table.fields])
    searched = f"SELECT *, {needs_folding} AS {WIDE} FROM bronze_batches"  # once per row, not per value
    base = (f"SELECT _batch_id, _source_file, _row_number, _shape_error, CASE _batch_id {seq} END AS _seq, "
            f"{texts} FROM ({searched}) AS w")
    sql = f"SELECT *, {typed} FROM ({base}) AS b"
    hashed = [f for f in table.fields if f.treatment == "hash"]
    if hashed:
        tokens = ", ".join(f"{token_sql(ident(f.name))} AS {token_column(f.name)}" for f in hashed)
        sql = f"SELECT *, {tokens} FROM ({sql}) AS h"
    names = {r.name for r in table.rules}
    if "school_exists" in names:
        sql = (f"SELECT t.*, s.school_id IS NOT NULL AS {C.SCHOOL_KNOWN} FROM ({sql}) AS t "
               f"LEFT JOIN (SELECT DISTINCT school_id FROM school_register) AS s ON t.{K.text('school_id')} = s.school_id")
    if "student_enrolled" in names:
        token = f"t.{token_column('student_no')}"
        sql = (f"SELECT t.*, CASE WHEN r.student_token IS NOT NULL THEN TRUE WHEN y.school_year IS NOT NULL THEN FALSE END "
               f"AS {C.ENROLLED} FROM ({sql}) AS t "
               f"LEFT JOIN (SELECT DISTINCT school_year FROM roster) AS y ON t.school_year = y.school_year "
               f"LEFT JOIN (SELECT DISTINCT student_token, school_year FROM roster) AS r "
               f"ON r.student_token = {token} AND r.school_year = t.school_year")
    return sql


def checked_sql(program: Program) -> str:
    """`checked` from `typed`: one boolean per check (a shape-error row fails only row_shape), exact duplicates
    within a batch (`_collapsed`: every row but the first with the same raw values) and row validity before
    batch rules (`_row_valid`). Materialised once; `staged` is a view over it and `conflicts`.

    Duplicates are rare, so they are found in two steps: a grouping on a hash of the raw values names the
    candidates, and only those rows are ranked on the raw values themselves (exact) and joined back by (batch,
    row). A window over every row carries the whole typed row through its sort (measured: 1.9 s for 170 k
    fitness rows; the grouping, 0.3 s)."""
    flags = ", ".join(f"(_shape_error IS NULL AND {c.unexpected()}) AS {program.column(c)}" for c in program.checks)
    # every delivered cell, in the file's order: a batch is one file, so its rows hold the same keys in the same
    # order (a shape error, in the partition below, fixes their number); 15 map lookups per row cost 0.6 s of a
    # 1.7 M-row roster run, map_values nothing to speak of
    values = "map_values(_raw)"
    digest = f"hash({values})"  # equal rows, equal hashes; the converse is checked below (exact)
    candidates = (f"SELECT b._batch_id, b._row_number, b._shape_error, {values} AS __values FROM "
                  f"(SELECT *, {digest} AS __digest FROM bronze_batches) AS b JOIN "
                  f"(SELECT _batch_id, {digest} AS __digest FROM bronze_batches GROUP BY _batch_id, {digest} "
                  f"HAVING count(*) > 1) AS g ON b._batch_id = g._batch_id AND b.__digest = g.__digest")
    ranked = (f"SELECT _batch_id, _row_number, row_number() OVER (PARTITION BY _batch_id, _shape_error, __values "
              f"ORDER BY _row_number) AS __n FROM ({candidates}) AS c")
    joined = (f"SELECT t.*, d._row_number IS NOT NULL AS _collapsed FROM typed AS t LEFT JOIN "
              f"(SELECT _batch_id, _row_number FROM ({ranked}) AS r WHERE __n > 1) AS d "
              f"ON t._batch_id = d._batch_id AND t._row_number = d._row_number")
    errors = [program.column(c) for c in program.checks if c.severity == "error"]
    invalid = " OR ".join(["_shape_error IS NOT NULL", *errors])
    return (f"SELECT *, NOT _collapsed AND NOT ({invalid}) AS _row_valid FROM "
            f"(SELECT *, {flags} FROM ({joined}) AS j) AS f")


def conflicts_sql(program: Program) -> str:
    """`conflicts` from `checked`: each (batch, natural key) held by more than one valid row. Few rows: a
    grouping, not a window over every row."""
    key = ", ".join(["_batch_id", *natural_key_columns(program.table)])
    return f"SELECT {key} FROM checked WHERE _row_valid GROUP BY {key} HAVING count(*) > 1"


def staged_sql(program: Program, fatal_batches: list[str]) -> str:
    """`staged` from `checked` and `conflicts`: natural-key conflicts among valid rows (`_key_conflict`), the
    batch rules' verdict, status and warnings (scalar, and a join with few rows: a view suffices)."""
    fatal = f"_batch_id IN ({', '.join(lit(b) for b in fatal_batches)})" if fatal_batches else "FALSE"
    warns = [f"CASE WHEN {program.column(c)} THEN {lit(c.rule + ':' + (c.column or ''))} END"
             for c in program.checks if c.severity == "warn"]
    warnings = (f"list_filter([{', '.join(warns)}], x -> x IS NOT NULL)" if warns else "CAST([] AS VARCHAR[])")
    status = ("CASE WHEN _collapsed THEN 'collapsed' WHEN NOT _valid OR _conflict THEN 'quarantined' "
              "ELSE 'accepted' END")
    on = " AND ".join(f"c.{k} IS NOT DISTINCT FROM k.{k}" for k in ["_batch_id", *natural_key_columns(program.table)])
    keyed = (f"SELECT c.*, c._row_valid AND k._batch_id IS NOT NULL AS _key_conflict FROM checked AS c "
             f"LEFT JOIN conflicts AS k ON {on}")
    judged = (f"SELECT *, _row_valid AND NOT ({fatal}) AS _valid, _key_conflict AND NOT ({fatal}) AS _conflict "
              f"FROM ({keyed}) AS q")
    return f"SELECT *, {status} AS _status, {warnings} AS _warnings FROM ({judged}) AS k"


REPEATED = "repeated_keys"  # repeated_keys_sql(keys), materialised by edulake.lake.newest
_NEWEST = "_seq * 4294967296 + _row_number"  # batch order, then row order, as one number


def repeated_keys_sql(keys: list[str]) -> str:
    """The values of `keys` (expressions over `staged`) held by more than one accepted row of the load, with the
    newest such row's position (`__newest`). Keys seldom repeat across the batches of a load: usually empty."""
    aliases = [f"__k{i}" for i in range(len(keys))]
    return (f"SELECT {', '.join(f'{k} AS {a}' for k, a in zip(keys, aliases, strict=True))}, max({_NEWEST}) AS __newest "
            f"FROM staged WHERE _status = 'accepted' GROUP BY {', '.join(keys)} HAVING count(*) > 1")


def newest_accepted(select: str, keys: list[str], repeated: str | None) -> str:
    """`select` (SQL expressions over `staged`) for the accepted rows, one per value of `keys` (expressions
    over `staged`): the newest batch's, then the last row. Only the repeated keys are joined back: a window over
    every row would carry all of `select`'s columns through its sort. `repeated`: the relation holding
    repeated_keys_sql(keys), or None when it is empty (every accepted row is then the only one with its key)."""
    if repeated is None:
        return f"SELECT {select} FROM staged WHERE _status = 'accepted'"
    on = " AND ".join(f"{k} IS NOT DISTINCT FROM n.__k{i}" for i, k in enumerate(keys))
    return (f"SELECT {select} FROM staged LEFT JOIN {repeated} AS n ON {on} "
            f"WHERE _status = 'accepted' AND (n.__newest IS NULL OR {_NEWEST} = n.__newest)")


def counts_sql() -> str:
    return ("SELECT _batch_id, count(*) AS received, "
            "sum(CASE WHEN _status = 'accepted' THEN 1 ELSE 0 END) AS accepted, "
            "sum(CASE WHEN _status = 'quarantined' THEN 1 ELSE 0 END) AS quarantined, "
            "sum(CASE WHEN _status = 'collapsed' THEN 1 ELSE 0 END) AS collapsed FROM staged GROUP BY _batch_id")


def failure_counts_sql(program: Program) -> str:
    """Per batch: rows evaluated (not collapsed) and rows failing each check, shape and key conflict."""
    sums = ", ".join(f"sum(CASE WHEN {program.column(c)} THEN 1 ELSE 0 END) AS {program.column(c)}"
                     for c in program.checks)
    return (f"SELECT _batch_id, count(*) AS evaluated, {sums}, "
            f"sum(CASE WHEN _shape_error IS NOT NULL THEN 1 ELSE 0 END) AS __shape, "
            f"sum(CASE WHEN _conflict THEN 1 ELSE 0 END) AS __conflict "
            f"FROM staged WHERE _status <> 'collapsed' GROUP BY _batch_id")


UNIQUE_KEY = K.Check("unique_natural_key", "error", None, None, "expect_compound_columns_to_be_unique", {}, "TRUE")


QUARANTINED_ROWS = "quarantined_rows"


def quarantined_rows_sql() -> str:
    """The quarantined rows of `staged`, without their raw map: materialised first, so that the engine knows
    how few they are when it joins them with bronze (quarantined_sql). In one statement DuckDB read the raw
    maps of the whole load into the join: 3.2 s for 5 M exam rows, against 0.8 + 0.7 s in two."""
    return "SELECT * FROM staged WHERE _status = 'quarantined'"


def quarantined_sql() -> str:
    """The quarantined rows (materialised from quarantined_rows_sql) with their raw map, joined back from
    `bronze_batches` by (batch, row): few, and read once per check by quarantine_sql, so materialised (over
    `staged` itself, each check would re-read every row of the load and redo its join)."""
    return (f"SELECT q.*, b._raw FROM {QUARANTINED_ROWS} AS q "
            "JOIN bronze_batches AS b ON q._batch_id = b._batch_id AND q._row_number = b._row_number")


def quarantine_sql(program: Program, fatal: dict[str, list[tuple[str, str]]], feed: str, table_name: str,
                   source: str = "quarantined") -> str:
    """One row per (quarantined row, failure): quarantine's columns, from `source`: the quarantined rows with
    their raw map, as materialised from quarantined_sql."""
    table = program.table
    where = "_status = 'quarantined'"
    staged = source

    def select(rule, column, severity, reason, expectation, condition, source=staged):
        return (f"SELECT {lit(feed)} AS feed, {lit(table_name)} AS \"table\", _batch_id AS batch_id, _source_file, "
                f"_row_number, {lit(rule)} AS rule, CAST({lit(column)} AS VARCHAR) AS \"column\", {lit(severity)} AS severity, "
                f"{reason} AS reason, CAST({lit(expectation)} AS VARCHAR) AS expectation, _raw AS raw, "
                f"current_timestamp AS quarantined_at FROM {source} WHERE {where} AND {condition}")

    parts = [select("row_shape", None, "error", concat("_source_file", "' 第'", "CAST(_row_number AS VARCHAR)",
                                                        "'行: '", "_shape_error"),
                    K.ROW_SHAPE.expectation, "_shape_error IS NOT NULL")]
    parts += [select(c.rule, c.column, c.severity, K.reason(table, c), c.expectation, program.column(c))
              for c in program.checks]
    key_columns = ", ".join(table.field(n).column for n in table.natural_key)
    on = " AND ".join(f"s.{k} = g.{k}" for k in ["_batch_id", *natural_key_columns(table)])
    rows = (f"SELECT s.*, g.__rows FROM {staged} AS s JOIN (SELECT _batch_id, {', '.join(natural_key_columns(table))}, "
            f"array_to_string(list_sort(list(_row_number)), ',') AS __rows FROM {staged} WHERE _conflict "
            f"GROUP BY _batch_id, {', '.join(natural_key_columns(table))}) AS g ON {on}")
    reason = concat("_source_file", "' 第'", "CAST(_row_number AS VARCHAR)",
                    lit(f"行: 自然键 ({key_columns}) 在本批次中重复且内容不同，涉及第 "), "__rows",
                    lit(" 行 (natural key duplicated in the batch with different content)"))
    parts.append(select(UNIQUE_KEY.rule, key_columns, "error", reason, UNIQUE_KEY.expectation, "_conflict",
                        source=f"({rows}) AS c"))
    for batch_id, failures in fatal.items():
        parts += [select(rule, None, "fatal", lit(message), None, f"_batch_id = {lit(batch_id)}")
                  for rule, message in failures]
    return " UNION ALL ".join(parts)

"""Keeping validation results: a summary per batch, feed and expectation in ops/quality (Delta, delta-rs on
either engine), from the failure counts of the load's one pass (stage.failure_counts_sql).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from edulake import settings
from edulake.lake import tables
from edulake.quality import stage
from edulake.standard import Table

SCHEMA = pa.schema([
    ("run_at", pa.timestamp("us", tz="UTC")), ("batch_id", pa.string()), ("feed", pa.string()),
    ("table", pa.string()), ("expectation", pa.string()), ("rule", pa.string()), ("column", pa.string()),
    ("severity", pa.string()), ("evaluated", pa.int64()), ("failed", pa.int64()), ("failure_rate", pa.float64()),
])


def path():
    return settings.paths().ops / "quality"


def summary_rows(table: Table, program: stage.Program, counts: list[dict], batch_ids: list[str],
                 fatal: dict[str, list]) -> list[dict]:
    """One row per (batch, expectation): every check of the suite (failed 0 included) plus any other rule
    that failed rows (parse checks, row shape, natural key, batch-level)."""
    run_at = dt.datetime.now(dt.UTC)
    by_batch = {r["_batch_id"]: r for r in counts}
    out = []
    for b in batch_ids:
        r = by_batch.get(b, {})
        evaluated = int(r.get("evaluated") or 0)

        def row(rule, column, severity, expectation, failed, b=b, evaluated=evaluated):
            return dict(run_at=run_at, batch_id=b, feed=table.feed, table=table.qualified_name,
                        expectation=expectation, rule=rule, column=column, severity=severity,
                        evaluated=evaluated, failed=failed, failure_rate=failed / evaluated if evaluated else 0.0)

        for c in program.checks:
            failed = int(r.get(program.column(c)) or 0)
            if c in program.suite or failed:
                out.append(row(c.rule, c.column, c.severity, c.expectation, failed))
        if r.get("__shape"):
            out.append(row("row_shape", None, "error", "expect_table_columns_to_match_ordered_list", int(r["__shape"])))
        if r.get("__conflict"):
            key_columns = ", ".join(table.field(n).column for n in table.natural_key)
            out.append(row(stage.UNIQUE_KEY.rule, key_columns, "error", stage.UNIQUE_KEY.expectation,
                           int(r["__conflict"])))
        for rule, _ in fatal.get(b, []):
            out.append(row(rule, None, "fatal", None, evaluated))
    return sorted(out, key=lambda r: (r["batch_id"], r["rule"], r["column"] or "", r["expectation"] or ""))


def record_summary(table: Table, program: stage.Program, counts: list[dict], batch_ids: list[str],
                   fatal: dict[str, list]) -> int:
    """Replace these batches' rows of ops/quality (a rerun does not double count)."""
    rows = summary_rows(table, program, counts, batch_ids, fatal)
    if rows:
        tables.replace_where(path(), pa.Table.from_pylist(rows, SCHEMA), SCHEMA, "batch_id", batch_ids)
    return len(rows)


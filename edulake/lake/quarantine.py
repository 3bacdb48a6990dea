"""quarantine/<feed> (Delta, restricted zone): every rejected row, once per (row, rule, column) failure.

Columns: feed, table, batch_id, _source_file, _row_number, rule, column, severity, reason,
expectation, raw (every raw column of the row, map<column, text>), quarantined_at.
Written per batch with replace semantics, so a rerun never doubles a row.
"""

from __future__ import annotations

import pyarrow as pa

from edulake import settings

SCHEMA = pa.schema([
    ("feed", pa.string()), ("table", pa.string()), ("batch_id", pa.string()), ("_source_file", pa.string()),
    ("_row_number", pa.int32()), ("rule", pa.string()), ("column", pa.string()), ("severity", pa.string()),
    ("reason", pa.string()), ("expectation", pa.string()), ("raw", pa.map_(pa.string(), pa.string())),
    ("quarantined_at", pa.timestamp("us", tz="UTC")),
])


def path(feed: str):
    return settings.paths().quarantine / feed


def write(engine, sql: str, feed: str, batch_ids: list[str]) -> None:
    engine.replace_batches(path(feed), sql, SCHEMA, "batch_id", batch_ids)

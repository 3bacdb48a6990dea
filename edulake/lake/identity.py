"""restricted/identity (Delta): token -> identifiers in clear. Never read by dbt or extracts.

One row per token: token, then one column per identifier the standard hashes, drops or masks
(student_no, id_number, name, guardian_phone ...), _batch_id (last batch that wrote it), _updated_at.
A feed that lacks a column (fitness has no id_number) never blanks what another feed wrote.
"""

from __future__ import annotations

import pyarrow as pa

from edulake import settings, standard
from edulake.lake import privacy
from edulake.quality import stage
from edulake.quality.sql import ident
from edulake.standard import Table


def path():
    return settings.paths().identity


def columns() -> list[str]:
    return privacy.identity_fields(standard.load())


def schema() -> pa.Schema:
    return pa.schema([pa.field("token", pa.string(), nullable=False)] + [(c, pa.string()) for c in columns()]
                     + [("_batch_id", pa.string()), ("_updated_at", pa.timestamp("us", tz="UTC"))])


def rows_sql(table: Table, key: bytes) -> str | None:
    """One identity row per token among a table's accepted rows in `staged` (the newest batch's values win)."""
    token_field = privacy.token_field(table)
    if token_field is None:
        return None
    present = {f.name for f in table.fields}
    values = ", ".join(f"{f'CAST({ident(c)} AS VARCHAR)' if c in present else 'CAST(NULL AS VARCHAR)'} AS {ident(c)}"
                       for c in columns())
    token = privacy.hmac_sql(ident(token_field.name), key)
    return stage.newest_accepted(f"{token} AS token, {values}, _batch_id, current_timestamp AS _updated_at",
                                 [ident(token_field.name)])


def write(engine, sql: str) -> None:
    update = {c: f"coalesce(s.`{c}`, t.`{c}`)" for c in columns()}
    update.update({"_batch_id": "s._batch_id", "_updated_at": "s._updated_at"})
    engine.merge(path(), sql, schema(), ["token"], update_set=update)

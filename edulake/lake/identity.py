"""restricted/identity (Delta): token -> identifiers in clear. Never read by dbt or extracts.

One row per token: token, then one column per identifier the standard hashes, drops or masks
(student_no, id_number, name, guardian_phone ...), _batch_id (last batch that wrote or changed it), _updated_at.
A feed that lacks a column (fitness has no id_number) never blanks what another feed wrote.
"""

from __future__ import annotations

import pyarrow as pa

from edulake import settings, standard
from edulake.lake import locks, newest, privacy
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


def holds_identifiers(table: Table) -> bool:
    """Whether the table's rows carry a pseudonymised identifier (a token) for identity."""
    return privacy.token_field(table) is not None


def rows_sql(engine, table: Table) -> str:
    """One identity row per token among a table's accepted rows in `staged` (the newest batch's values win)."""
    token_field = privacy.token_field(table)
    present = {f.name for f in table.fields}
    values = ", ".join(f"{f'CAST({ident(c)} AS VARCHAR)' if c in present else 'CAST(NULL AS VARCHAR)'} AS {ident(c)}"
                       for c in columns())
    token = stage.token_column(token_field.name)
    return newest.accepted_sql(engine, f"{token} AS token, {values}, _batch_id, current_timestamp AS _updated_at",
                               [ident(token_field.name)])


DELIVERED = "identity_delivered"  # the delivered rows that are new or change a held identifier
HELD = "identity_held"


def write(engine, sql: str) -> None:
    """Add the rows of `sql` (one per token) to identity. A known token is updated only where a delivered
    identifier differs from the one held: every roster names every student again each year, and updating
    their `_batch_id` alone rewrote the whole table on every load (a 1.7 M-row identity, 166 MB, per table
    and run at scale 1.0). `_batch_id`/`_updated_at`: the batch that last wrote or changed the row.

    The engine first joins the delivery with the tokens held (its scan of identity is pruned by the join:
    0.15 s where delta-rs's MERGE read the whole table, ~1 s a table at scale 1.0) and keeps the new and the
    changed rows. New rows alone are appended; a changed identifier needs the MERGE. The identity lock keeps
    another writer from adding the same token between the read and the commit."""
    names = columns()
    selected = ", ".join(ident(c) for c in ["token", *names, "_batch_id", "_updated_at"])
    with locks.identity_lock():
        engine.register_delta(HELD, path(), columns=["token", *names], empty=schema())
        try:
            engine.materialize(DELIVERED, f"SELECT s.*, t.token IS NOT NULL AS __known FROM ({sql}) AS s "
                                          f"LEFT JOIN {HELD} AS t ON s.token = t.token "
                                          f"WHERE t.token IS NULL OR {_changed(names, ident)}")
            (counts,) = engine.rows(f"SELECT count(*) AS rows, count(CASE WHEN __known THEN 1 END) AS known "
                                    f"FROM {DELIVERED}")
            if not counts["rows"]:
                return
            rows = f"SELECT {selected} FROM {DELIVERED}"
            if not counts["known"]:
                engine.append(path(), rows, schema())
                return
            update = {c: f"coalesce(s.`{c}`, t.`{c}`)" for c in names}
            update.update({"_batch_id": "s._batch_id", "_updated_at": "s._updated_at"})
            engine.merge(path(), rows, schema(), ["token"], update_set=update,
                         update_condition=_changed(names, lambda c: f"`{c}`"))  # the MERGE's own dialect
        finally:
            engine.drop(DELIVERED, HELD)


def _changed(names: list[str], quote) -> str:
    """SQL: the delivered row `s` names an identifier that differs from the held row `t`'s."""
    return " OR ".join(f"(s.{quote(c)} IS NOT NULL AND s.{quote(c)} IS DISTINCT FROM t.{quote(c)})" for c in names)

"""What the published warehouse holds: the reader schemas, nothing else.

dbt builds every layer into one DuckDB file: silver views over the lake, staging views, intermediate
tables, stored test failures (audit) beside the marts. Readers (Superset, extracts, the sharing API,
analysts) get only the marts, the reference code lists and the census history; everything else is
dropped from the built file before it is renamed over the published one, so nothing built for the
builder's own use (e.g. intermediate.int_student__school_years, which holds pseudonym tokens) is
published.
"""

from __future__ import annotations

from pathlib import Path

# core model, application marts, reference seeds (code lists with provenance), snapshot history
# (kept in the published file: the next build copies it to carry the census history on), and the
# operations marts (ops: lineage runs and datasets from lake/ops/lineage, delivery status and alerts from
# lake/ops/deliveries and ops/alerts; no personal data)
READER_SCHEMAS = ("core", "health", "inspection", "enrollment", "cockpit", "reference", "history", "ops")
DEFAULT_SCHEMA = "main"  # DuckDB's own; cannot be dropped and must stay empty


def strip_to_reader_schemas(path: Path) -> list[str]:
    """Drop every schema of the file that is not a reader schema; returns the dropped schemas."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        schemas = [r[0] for r in con.execute(
            "select schema_name from duckdb_schemas() where not internal and database_name = current_database()"
        ).fetchall()]
        dropped = [s for s in schemas if s not in READER_SCHEMAS and s != DEFAULT_SCHEMA]
        # views first: a view in one schema may read a table in another
        for schema, view in con.execute(
                "select schema_name, view_name from duckdb_views() where not internal"
                " and database_name = current_database()").fetchall():
            if schema not in READER_SCHEMAS:
                con.execute(f'drop view if exists "{schema}"."{view}"')
        for schema in dropped:
            con.execute(f'drop schema if exists "{schema}" cascade')
        leftovers = con.execute(
            "select table_name from duckdb_tables() where schema_name = ? and database_name = current_database()",
            [DEFAULT_SCHEMA]).fetchall()
        if leftovers:
            raise RuntimeError(f"tables in schema {DEFAULT_SCHEMA} would be published: {leftovers}")
        con.execute("CHECKPOINT")
        return dropped
    finally:
        con.close()


def write_published(built: Path, dest: Path) -> None:
    """A new file at `dest` holding the reader schemas of `built` (which is left as it was): strip a copy,
    then copy its catalog and data into `dest` (COPY FROM DATABASE keeps the tables' and columns' comments).
    The copy is compact: dropping tables in place would leave their blocks (pseudonym tokens of the
    intermediate tables among them) in the file's free space."""
    import shutil

    import duckdb

    stripped = dest.with_name(dest.name + ".stripped")
    try:
        shutil.copy2(built, stripped)
        strip_to_reader_schemas(stripped)
        dest.unlink(missing_ok=True)
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH '{stripped}' AS built (READ_ONLY)")
            con.execute(f"ATTACH '{dest}' AS published")
            con.execute("COPY FROM DATABASE built TO published")
            con.execute("CHECKPOINT published")
        finally:
            con.close()
    finally:
        stripped.unlink(missing_ok=True)
        stripped.with_name(stripped.name + ".wal").unlink(missing_ok=True)


def checkpoint(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()

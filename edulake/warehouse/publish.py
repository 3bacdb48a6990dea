"""What the published warehouse holds: the reader schemas, nothing else, built in place.

dbt builds into two DuckDB files (profiles.py): the builder's own (silver views, staging views,
intermediate tables, stored test failures in audit: pseudonym tokens among them) and the next published
file, attached as `published`, which receives the reader schemas only (dbt var core:published_schemas:
the marts, the reference code lists and the census history; macro generate_database_name). Publishing is
then a rename of a file that never held anything else: no copy of every mart (≈10 s for 15 M rows at
scale 1.0), and no free blocks of private tables in the published file.

An incremental build starts from a copy of the published file (its incremental marts replace the keys
that changed); a full build from a new file holding the census history alone (the snapshot is the one
reader table a build cannot recompute), so it is compact again.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import yaml

from edulake.settings import DBT_PROJECT_DIR

ALIAS = "published"  # the attached file's name in dbt's session (macro generate_database_name)
HISTORY = "history"  # dbt snapshots: carried from build to build
HISTORY_KEPT = "builder_history"  # the builder's own copy of the census history (start's fallback)


@functools.cache
def reader_schemas() -> tuple[str, ...]:
    """The reader schemas, as the dbt project declares them (one list for dbt and the publisher)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return tuple(project["vars"]["core:published_schemas"])


def start(previous: Path | None, dest: Path, full: bool, state: Path | None = None) -> None:
    """The file the build's reader schemas go into: a copy of the published one (`previous`), or for a full
    build a new file holding the census history only — the published file's, or when that one is missing or
    damaged (`previous` None) the copy the builder's state keeps (keep_history). Without either, dbt creates it."""
    dest.unlink(missing_ok=True)
    if previous is not None and previous.exists() and not full:
        shutil.copy2(previous, dest)
        return
    source, schema = ((previous, HISTORY) if previous is not None and previous.exists()
                      else (state, HISTORY_KEPT) if state is not None and state.exists() else (None, None))
    if source is None:
        return
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{source}' AS previous (READ_ONLY)")
        con.execute(f"ATTACH '{dest}' AS fresh")
        _copy_schema(con, "previous", schema, "fresh", HISTORY)
        con.execute("CHECKPOINT fresh")
    finally:
        con.close()


def keep_history(published: Path, builder_file: Path) -> None:
    """A copy of the published census history in the builder's own file: the snapshot is the one reader table
    a build cannot recompute, and a damaged published file must not take it along."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{builder_file}' AS builder")
        con.execute(f"ATTACH '{published}' AS built (READ_ONLY)")
        con.execute(f'DROP SCHEMA IF EXISTS builder."{HISTORY_KEPT}" CASCADE')
        con.execute(f'CREATE SCHEMA builder."{HISTORY_KEPT}"')
        _copy_schema(con, "built", HISTORY, "builder", HISTORY_KEPT)
        con.execute("CHECKPOINT builder")
    finally:
        con.close()


def _copy_schema(con, source_db: str, source_schema: str, dest_db: str, dest_schema: str) -> None:
    """Every table of one schema into another attached database's schema (created with its first table)."""
    for (table,) in con.execute("select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
                                [source_db, source_schema]).fetchall():
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{dest_db}"."{dest_schema}"')
        con.execute(f'CREATE TABLE "{dest_db}"."{dest_schema}"."{table}" AS '
                    f'FROM "{source_db}"."{source_schema}"."{table}"')


def drop_reader_schemas(builder_file: Path) -> list[str]:
    """Drop the reader schemas from the builder's own file, where a build before the split left them: they
    are the published file's now, and a stale copy would only take space. Returns the dropped schemas."""
    import duckdb

    con = duckdb.connect(str(builder_file))
    try:
        present = {r[0] for r in con.execute("select schema_name from duckdb_schemas() where not internal "
                                             "and database_name = current_database()").fetchall()}
        dropped = [s for s in reader_schemas() if s in present]
        for schema in dropped:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')
        if dropped:
            con.execute("CHECKPOINT")
        return dropped
    finally:
        con.close()


def check_reader_only(path: Path) -> None:
    """Refuse to publish a file holding anything but the reader schemas (a model configured into the
    published database by hand, a table in `main`)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        found = con.execute("select schema_name, table_name from duckdb_tables() where not internal union all "
                            "select schema_name, view_name from duckdb_views() where not internal").fetchall()
    finally:
        con.close()
    stray = sorted(f"{s}.{t}" for s, t in found if s not in reader_schemas())
    if stray:
        raise RuntimeError(f"not a reader schema, would be published: {', '.join(stray[:10])}")


def checkpoint(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()

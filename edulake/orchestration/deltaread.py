"""Reading Delta tables without a JVM (deltalake + its SQL engine), for callbacks, sensors and `status`.

QueryBuilder rather than DeltaTable.to_pyarrow_table(): the latter can abort the process at exit on
this stack (see STACK_NOTES).
"""

from __future__ import annotations

from pathlib import Path


def exists(path: Path) -> bool:
    return (Path(path) / "_delta_log").is_dir()


def query(path: Path, sql: str, name: str = "t") -> list[dict]:
    """Run `sql` over the Delta table at `path`, registered as `name`; [] when the table does not exist."""
    if not exists(path):
        return []
    import pyarrow as pa
    from deltalake import DeltaTable, QueryBuilder

    reader = QueryBuilder().register(name, DeltaTable(str(path))).execute(sql)
    return pa.table(reader.read_all()).to_pylist()


def version(path: Path) -> int | None:
    """The table's current Delta version, None when it does not exist."""
    if not exists(path):
        return None
    from deltalake import DeltaTable

    return DeltaTable(str(path)).version()

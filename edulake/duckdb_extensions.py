"""DuckDB extensions from their PyPI wheels (duckdb-extension-*): nothing downloads at run time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb


def extension_path(name: str) -> Path:
    """The `<name>.duckdb_extension` file shipped in the `duckdb-extension-<name>` wheel for this DuckDB."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"DuckDB extension {name!r} is not installed (PyPI package duckdb-extension-{name})")
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
    path = folder / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"no {name} extension for DuckDB {duckdb.__version__} in {folder.parent} "
                           f"(pin duckdb-extension-{name} to the DuckDB version)")
    return path


def load(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Install from the wheel's file and load; autoloading is off so DuckDB never tries the network."""
    con.execute("SET autoinstall_known_extensions = false")
    for name in names:
        con.execute(f"INSTALL '{extension_path(name)}'")
        con.execute(f"LOAD {name}")

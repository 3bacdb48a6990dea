"""The baseline: DuckDB reads the same raw source files and writes them as typed Parquet.

This is the least work any pipeline must do on this machine (decode, parse, type, write columnar),
so pipeline seconds / baseline seconds says what the lakehouse's guarantees cost. Types come from
the standard; values that do not parse become NULL (the baseline validates nothing).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb

from edulake import duckdb_extensions, standard
from edulake.lake.sources import table_for
from edulake.standard import Field, Table

# DuckDB's name for GBK: GB 18030 is its superset and decodes every GBK file.
ENCODINGS = {"gbk": "gb18030", "utf-8-sig": "utf-8", "utf-8": "utf-8"}


def _typed(field: Field) -> str:
    col = '"' + field.column.replace('"', '""') + '"'
    if field.type == "integer":
        return f"TRY_CAST({col} AS BIGINT)"
    if field.type in ("decimal", "duration"):
        return f"TRY_CAST({col} AS DOUBLE)"
    if field.type == "date":
        return f"TRY_CAST({col} AS DATE)"
    if field.type == "boolean":
        return f"CASE WHEN {col} IN ('是', '1', 'Y') THEN true WHEN {col} IN ('否', '0', 'N') THEN false END"
    return col


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _readers(table: Table, paths: list[Path]) -> list[str]:
    """One reader over all CSV files of a table (DuckDB takes a list), one per XLSX file."""
    xlsx = [p for p in paths if p.suffix.lower() == ".xlsx"]
    csv = [p for p in paths if p.suffix.lower() != ".xlsx"]
    readers = [f"read_xlsx({_quote(p)}, all_varchar = true, header = true)" for p in xlsx]
    if csv:
        encoding = ENCODINGS.get((table.encoding or "utf-8").lower(), table.encoding)
        columns = ", ".join(f"{c!r}: 'VARCHAR'" for c in table.columns)
        # store_rejects: a line the encoding or shape cannot read (the generator's defects) is set aside in
        # reject_errors and counted, as the lake quarantines it, instead of failing the whole read
        readers.append(f"read_csv([{', '.join(map(_quote, csv))}], encoding = '{encoding}', header = true, "
                       f"auto_detect = false, columns = {{{columns}}}, store_rejects = true)")
    return readers


def tables_of(files: list[Path]) -> dict[str, list[Path]]:
    """Files grouped by the standard table they deliver (qualified name), as the lake assigns them."""
    std = standard.load()
    grouped: dict[str, list[Path]] = defaultdict(list)
    for f in files:
        grouped[table_for(std.feed(f.parent.name), f.name).qualified_name].append(f)
    return grouped


def run(files: list[Path], out: Path, work: Path) -> int:
    """Write one Parquet file per table under `out`; returns the rows read (written + rejected lines)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work / "baseline.duckdb"))
    con.execute(f"SET extension_directory = '{work / 'duckdb_extensions'}'")
    duckdb_extensions.load(con, "encodings", "excel")
    rows = 0
    std = standard.load()
    for name, paths in sorted(tables_of(files).items()):
        table = std.table(name)
        typed = ", ".join(f"{_typed(f)} AS {f.name}" for f in table.fields)
        union = " UNION ALL ".join(f"SELECT {typed} FROM {r}" for r in _readers(table, paths))
        target = out / f"{table.qualified_name}.parquet"
        con.execute(f"COPY ({union}) TO '{target}' (FORMAT parquet)")
        rows += con.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
    if any(p.suffix.lower() != ".xlsx" for p in files):  # reject_errors accumulates over the session's scans
        rows += con.execute("SELECT count(DISTINCT (scan_id, file_id, line)) FROM reject_errors").fetchone()[0]
    con.close()
    return rows

"""The floor: the delivered files turned into typed Parquet by the fastest readers this machine has.

Any pipeline must at least read every delivered file, decode it, parse it, type its columns and write
them columnar. This module does only that, as fast as it can, so that pipeline seconds ÷ floor seconds
says what the lake's guarantees cost (folding, the standard's rules, quarantine, pseudonyms, Delta
commits, MERGE, the ledger) and nothing else. It validates nothing.

- CSV: bytes decoded by Python's codec where the file is not UTF-8 (GBK as GB 18030, its superset, as the
  lake decodes it: ~100 MB/s, against ~2 MB/s for DuckDB's `encodings` extension, which made the previous
  baseline 12x slower than this floor on the same GBK files), parsed by Arrow's multithreaded CSV
  reader as text (empty is NULL); a row whose field count differs from the header is set aside and counted.
- XLSX: fastexcel (calamine's parser with Arrow columns out, cells as text: at scale 1.0 a 229k-row sheet in
  1.8 s against 3.8 s for python-calamine's cells turned into text in Python, which DuckDB's `read_xlsx` was
  slower than again). The lake reads plain sheets the same way (edulake/lake/sources.py).
- Typing: DuckDB over those Arrow columns, `TRY_CAST` to the standard's SQL types (edulake.quality.normalise)
  and the yes/no code list for booleans; what does not parse is NULL. One Parquet file per table.
- Files are read two at a time (this machine's two cores), ahead of DuckDB typing and writing the ones
  before: XLSX a third faster than one at a time, CSV the same (benchmarks/README.md).

Rows are counted as the lake receives them: every data row (set-aside rows included, blank
spreadsheet lines not); a file whose columns are not the standard's is skipped (the lake rejects it).
"""

from __future__ import annotations

import csv
import functools
import os
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import fastexcel
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from edulake import standard
from edulake.lake.sources import canonical_header, table_for
from edulake.quality.normalise import boolean_lookup, sql_type
from edulake.quality.sql import case_map, ident
from edulake.standard import Field, Standard, Table

# Python's codec per declared encoding; None: the bytes are UTF-8 already (a BOM is skipped)
CODECS = {"gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "utf-8": None, "utf-8-sig": None}
BOM = b"\xef\xbb\xbf"


@dataclass
class Read:
    """One file's rows as text columns named as the standard names them."""

    columns: pa.Table | None  # None: the file is not a delivery of its table (skipped)
    set_aside: int = 0


def _names(header: list[str], table: Table) -> list[str] | None:
    """The standard's column for each delivered header, or None when they are not the standard's columns."""
    wanted = {canonical_header(c): c for c in table.columns}
    names = [wanted.get(canonical_header(h)) for h in header]
    return names if None not in names and sorted(names) == sorted(table.columns) else None


def read_csv(path: Path, table: Table) -> Read:
    data = path.read_bytes()
    codec = CODECS.get(table.encoding.lower(), table.encoding)
    if codec:
        data = data.decode(codec).encode("utf-8")
    elif data.startswith(BOM):
        data = data[len(BOM):]
    first, _, _ = data.partition(b"\n")
    names = _names(next(csv.reader([first.decode("utf-8").rstrip("\r")]), []), table)
    if names is None:
        return Read(None)
    set_aside = 0

    def aside(_row) -> str:
        nonlocal set_aside
        set_aside += 1
        return "skip"

    columns = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=aside),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True))
    return Read(columns.select(table.columns), set_aside)


def read_xlsx(path: Path, table: Table) -> Read:
    cells = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_arrow()
    texts = [pc.utf8_trim_whitespace(pc.fill_null(c.cast(pa.string()), "")) for c in cells.columns]
    filled = [pc.not_equal(c, "") for c in texts]
    lines = pc.indices_nonzero(functools.reduce(pc.or_, filled)) if filled else pa.array([], pa.uint64())
    if len(lines) == 0:  # blank lines are not rows
        return Read(None)
    header = [c[lines[0].as_py()].as_py() for c in cells.columns]
    while header and not header[-1].strip():
        header.pop()
    names = _names(header, table) if header else None
    if names is None:
        return Read(None)
    body = lines[1:]
    columns = {n: pc.take(cells.column(j), body).cast(pa.string()) for j, n in enumerate(names)}
    return Read(pa.table(columns).select(table.columns))


def read(path: Path, table: Table) -> Read:
    return read_xlsx(path, table) if path.suffix.lower() == ".xlsx" else read_csv(path, table)


def typed(field: Field, std: Standard) -> str:
    """The field as the standard types it; NULL where the text does not parse (no folding, no rules)."""
    col = ident(field.column)
    if field.type in ("string", "code"):
        return col
    if field.type == "boolean":
        return f"({case_map(col, boolean_lookup(std))} = 'true')"
    return f"TRY_CAST({col} AS {sql_type(field)})"


def tables_of(files: list[Path], std: Standard) -> dict[str, list[Path]]:
    """Files grouped by the standard table they deliver (qualified name), as the lake assigns them."""
    grouped: dict[str, list[Path]] = defaultdict(list)
    for f in files:
        grouped[table_for(std.feed(f.parent.name), f.name).qualified_name].append(f)
    return grouped


def _ahead(pool: ThreadPoolExecutor, fn, items: list, depth: int) -> Iterator:
    """fn over items in order, `depth` of them running ahead of the consumer (bounded memory)."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) > depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@dataclass
class Tally:
    rows: int = 0  # written + set aside
    set_aside: int = 0
    files: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


def _batches(pool: ThreadPoolExecutor, workers: int, paths: list[Path], table: Table,
             tally: Tally) -> Iterator[pa.RecordBatch]:
    """The table's files as record batches, read `workers` at a time ahead of DuckDB consuming them."""
    for path, r in _ahead(pool, lambda p: (p, read(p, table)), paths, workers):
        tally.files += 1
        if r.columns is None:
            tally.skipped.append(str(path))
            continue
        tally.set_aside += r.set_aside
        tally.rows += r.set_aside
        yield from r.columns.to_batches()


def run(files: list[Path], out: Path) -> dict:
    """One typed Parquet file per table under `out`. Returns the rows received (written + set aside), the
    seconds (timed here, as the lake's stages are timed inside their process: no interpreter start or
    imports), and per feed the rows and seconds, the rows set aside and the files skipped."""
    begin_all = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    std = standard.load()
    con = duckdb.connect()
    workers = max(1, min(2, os.cpu_count() or 1))
    feeds: dict[str, Tally] = defaultdict(Tally)
    with ThreadPoolExecutor(workers) as pool:
        for name, paths in sorted(tables_of(files, std).items()):
            begin = time.perf_counter()
            table = std.table(name)
            tally = feeds[table.feed]
            schema = pa.schema([(c, pa.string()) for c in table.columns])
            source = pa.RecordBatchReader.from_batches(schema, _batches(pool, workers, paths, table, tally))  # noqa: F841 (DuckDB scans it by name)
            target = out / f"{name}.parquet"
            select = ", ".join(f"{typed(f, std)} AS {ident(f.name)}" for f in table.fields)
            con.execute(f"COPY (SELECT {select} FROM source) TO '{target}' (FORMAT parquet)")
            tally.rows += con.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
            tally.seconds += time.perf_counter() - begin
    con.close()
    return {"rows": sum(t.rows for t in feeds.values()), "seconds": round(time.perf_counter() - begin_all, 3),
            "set_aside": sum(t.set_aside for t in feeds.values()),
            "skipped_files": [f for t in feeds.values() for f in t.skipped],
            "feeds": {feed: {"rows": t.rows, "files": t.files, "seconds": round(t.seconds, 3),
                             "set_aside": t.set_aside} for feed, t in feeds.items()}}

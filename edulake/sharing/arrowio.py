"""Arrow tables out of the warehouse and into files, written the same way every time.

Byte-identical output needs: rows in a total order (the catalog's ORDER BY ALL), fixed Parquet writer
options, no timestamps or random ids inside files, and one normalisation of types shared by the packages
and the Delta tables.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BOM = "\ufeff".encode()
PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True,
                       version="2.6", data_page_version="1.0", row_group_size=1_000_000, store_schema=True)


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> pa.Table:
    return normalise(con.execute(sql, params).arrow().read_all())


def normalise(table: pa.Table) -> pa.Table:
    """Timestamps without a zone become UTC ('timestamp' in Delta: the sharing client's parser rejects
    timestamp_ntz); no schema metadata."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_timestamp(t) and t.tz is None:
            t = pa.timestamp("us", tz="UTC")
        fields.append(pa.field(f.name, t, nullable=True))
    return table.cast(pa.schema(fields))


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **PARQUET_OPTIONS)


def write_csv(table: pa.Table, path: Path) -> None:
    """UTF-8 with a BOM so Excel opens the Chinese text; nested values as JSON."""
    columns = []
    for col in table.columns:
        if pa.types.is_nested(col.type):
            col = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_pylist()],
                           pa.string())
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
        columns.append(col)
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(columns, names=table.column_names), buf,
                    pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    path.write_bytes(BOM + buf.getvalue())



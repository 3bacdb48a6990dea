"""Bronze: the landed raw rows appended to bronze/<feed> (Delta), every raw column a string.

Schema: _batch_id, _table (feed.table), _source_file, _row_number (first data row = 1),
_raw map<column, raw text> (keys are the standard's column names; the header exactly as delivered
is in the landing manifest), _shape_error (rows whose field count differs from the header),
_ingested_at (when the batch landed: its manifest's landed_at). Appending a batch replaces that batch's rows in one commit, so a
rerun is a no-op in content and a killed run leaves bronze as it was.

Landing writes each batch's rows file in this schema, and the embedded engine adopts that file as bronze's
data file (hard-linked and named in the commit, tables.adopt) instead of re-encoding its rows; the Spark
engine writes its own. So on the embedded engine a bronze data file and landing's rows.parquet are one inode:
damage to one is damage to both, and the independent copy is the landed source file beside it.
"""

from __future__ import annotations

import pyarrow as pa

from edulake import settings
from edulake.lake.landing import LandedBatch

SCHEMA = pa.schema([
    ("_batch_id", pa.string()), ("_table", pa.string()), ("_source_file", pa.string()),
    ("_row_number", pa.int32()), ("_raw", pa.map_(pa.string(), pa.string())), ("_shape_error", pa.string()),
    ("_ingested_at", pa.timestamp("us", tz="UTC")),
])
COLUMNS = tuple(SCHEMA.names[:-1])


def path(feed: str):
    return settings.paths().bronze / feed


def append(engine, feed: str, batches: list[LandedBatch]) -> None:
    if batches:
        engine.bronze_append(path(feed), [b.rows_path for b in batches], [b.batch_id for b in batches], SCHEMA)


def register(engine, feed: str, table: str, batch_ids: list[str], name: str = "bronze_batches") -> None:
    """The bronze rows of these batches of a table, as the relation `name`."""
    from edulake.lake.tables import in_list

    engine.register_delta(name, path(feed), where=f"{in_list('_batch_id', batch_ids)} AND _table = '{table}'",
                          columns=list(COLUMNS), empty=SCHEMA)

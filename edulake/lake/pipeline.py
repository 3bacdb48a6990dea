"""Ingestion of a feed through landing -> bronze -> silver, with the batch ledger. The public API.

The three steps are separate functions (Airflow runs them as tasks, spark_jobs/ wraps them for
spark-submit) and each picks up whatever the previous one left, according to the ledger, so any step
can be re-run, and a run killed at any point converges when re-run:

    run_landing(engine, feed, files=None)  inbox -> landing/<feed>/<batch_id>/  (status landed)
    run_bronze(engine, feed)               landing -> bronze/<feed>             (status bronze)
    run_silver(engine, feed)               bronze -> quarantine, identity, silver (loaded | rejected)
    ingest(feed, files=None)               all three; ingest_all() does every feed, reference first
`engine` is an edulake.lake.engines engine (DuckDB by default, Spark for scale-out); landing and the
ledger are the same code on both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from edulake import standard
from edulake.lake import bronze, engines, faults, gx_run, ledger, silver
from edulake.lake.errors import BatchRejected, IngestError
from edulake.lake.landing import (
    LandedBatch,
    batch_id_for,
    inbox_files,
    land,
    landed_batches,
    now,
    remove_unfinished,
    resolve_inbox_file,
    sha256_of,
)
from edulake.lake.locks import feed_lock

Events = Callable[[str], None] | None
# one silver run (validation + one MERGE) holds its batches' cells in memory several times over: bound the cells
# (rows x the table's columns), not the rows, since tables differ 6-fold in width. At scale 1.0 a run of 4 M
# roster rows (15 columns) peaked at 7.6 GB; 40 M cells keeps the widest feeds near 5 GB.
MAX_CELLS_PER_SILVER_RUN = int(os.environ.get("EDULAKE_SILVER_MAX_CELLS", 40_000_000))
MAX_ROWS_PER_SILVER_RUN = int(os.environ.get("EDULAKE_SILVER_MAX_ROWS", 4_000_000))
# files parsed at once while landing (one per core, two at most: a file's parse holds its rows several times over)
LANDING_WORKERS = int(os.environ.get("EDULAKE_LANDING_WORKERS", min(2, os.cpu_count() or 1)))


@dataclass
class FeedResult:
    feed: str
    landed: list[str] = field(default_factory=list)  # batches landed by this run
    unchanged: list[str] = field(default_factory=list)  # files already ingested: no-op
    entries: list[ledger.Entry] = field(default_factory=list)  # final ledger entries of batches this run moved
    errors: list[IngestError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # accepted, but worth a look (e.g. another encoding)

    @property
    def ok(self) -> bool:
        return not self.errors


def feed_order(std=None) -> list[str]:
    """Reference data first: the others are checked against it (school_exists)."""
    std = std or standard.load()
    return sorted(std.feeds, key=lambda f: (f != "reference", list(std.feeds).index(f)))


def _say(on_event: Events, message: str) -> None:
    if on_event is not None:
        on_event(message)


def _entry(batch: LandedBatch, status: str, **counts) -> ledger.Entry:
    return ledger.Entry(batch.batch_id, batch.feed, batch.table, batch.source_file, batch.sha256, status,
                        dt.datetime.fromisoformat(batch.landed_at), now(), encoding=batch.encoding, **counts)


def run_landing(engine, feed: str, files: list[str | Path] | None = None,
                on_event: Events = None, result: FeedResult | None = None, record_landed: bool = True) -> FeedResult:
    """Land inbox files (all of inbox/<feed>/, or the named ones). Unreadable files are rejected
    (ledger status rejected, error in the result) and nothing of them is written to the lake.
    `record_landed=False` leaves the `landed` ledger entries to bronze (one commit fewer when the
    same process runs bronze next: a landed batch without an entry is still picked up)."""
    standard.load().feed(feed)  # unknown feed: fail before touching anything
    result = result or FeedResult(feed)
    with feed_lock(feed):
        _land_files(feed, files, on_event, result, record_landed)
    faults.crash_point("after_landing")
    return result


def _land_files(feed: str, files, on_event: Events, result: FeedResult, record_landed: bool) -> None:
    remove_unfinished(feed)
    known = ledger.statuses(feed)
    new_entries, rejected = [], []
    names = list(files if files is not None else inbox_files(feed))
    for name, landed in zip(names, _land_each(feed, names), strict=True):
        if isinstance(landed, IngestError):
            result.errors.append(landed)
            _say(on_event, f"拒收 (rejected) {landed}")
            rejected.append(_rejected_entry(feed, name, landed))
            continue
        batch, is_new = landed
        # the same bytes twice in one run are one batch, landed once (the second is not in `known` yet)
        if batch.batch_id not in result.landed and (is_new or batch.batch_id not in known):
            new_entries.append(_entry(batch, "landed", rows_received=batch.rows))
            result.landed.append(batch.batch_id)
            _say(on_event, f"落地 {batch.source_file} -> {batch.batch_id} ({batch.rows} 行)")
            warning = encoding_warning(batch)
            if warning:
                result.warnings.append(warning)
                _say(on_event, f"警告 (warning) {warning}")
        else:  # the same bytes again, maybe under another name: reported under the name it arrived as
            arrived = Path(name).name
            same = "" if arrived == batch.source_file else f" = {batch.source_file}"
            result.unchanged.append(arrived)
            _say(on_event, f"已接收过 {arrived}{same} ({batch.batch_id}, {known.get(batch.batch_id, 'landed')}): 跳过")
    ledger.record((new_entries if record_landed else []) + [e for e in rejected if e is not None])


def _land_each(feed: str, names: list) -> Iterator[tuple[LandedBatch, bool] | IngestError]:
    """land() of each file, in the order given, LANDING_WORKERS files at a time: parsing a file is single-threaded
    (the codec, Arrow's reader, the sheet scan, the Parquet write) and most of it releases the GIL, so two
    files at once use both cores (measured in benchmarks/README.md). A file's refusal is its result; any other
    error stops the landing as before. Each file lands whole or not at all (landing.land), whatever the order."""
    def one(name):
        try:
            return land(feed, Path(name))
        except IngestError as e:
            return e

    if LANDING_WORKERS < 2 or len(names) < 2:
        yield from map(one, names)
        return
    pool = ThreadPoolExecutor(LANDING_WORKERS, thread_name_prefix="landing")
    try:
        yield from pool.map(one, names)
    finally:  # an error stops the landing as it did one file at a time: files not yet started are not landed
        pool.shutdown(wait=True, cancel_futures=True)


def encoding_warning(batch: LandedBatch) -> str | None:
    """A file read in another encoding than its table declares (a GBK export saved as UTF-8): accepted,
    since strict decoding proved the text, but the source system's export setting has changed."""
    declared = standard.load().table(batch.table).encoding
    if not batch.encoding or not declared or batch.encoding.replace("-sig", "") == declared.lower().replace("-sig", ""):
        return None
    if declared.lower() in ("gbk", "gb2312", "gb18030") and batch.encoding == "gb18030":
        return None
    return (f"{batch.source_file}: 声明编码 {declared.upper()}，实际为 {batch.encoding.upper()} "
            f"(declared {declared}, read as {batch.encoding}; recorded in the ledger)")


def _rejected_entry(feed: str, name, error: IngestError) -> ledger.Entry | None:
    """A ledger entry for a rejected file that is in the inbox (a path outside it gets none)."""
    try:
        path = resolve_inbox_file(feed, name)
    except IngestError:
        return None
    sha = sha256_of(path)
    t = now()
    return ledger.Entry(batch_id_for(feed, sha), feed, None, path.name, sha, "rejected", t, t, reason=str(error))


def _pending(feed: str, statuses: tuple[str | None, ...], batch_ids: list[str] | None) -> list[LandedBatch]:
    known = ledger.statuses(feed)
    return [b for b in landed_batches(feed)
            if known.get(b.batch_id) in statuses and (batch_ids is None or b.batch_id in batch_ids)]


def run_bronze(engine, feed: str, batch_ids: list[str] | None = None,
               on_event: Events = None) -> list[str]:
    """Append landed batches not yet in bronze (one commit). Returns their batch ids."""
    with feed_lock(feed):
        return _bronze(engine, feed, batch_ids, on_event)


def _bronze(engine, feed: str, batch_ids: list[str] | None, on_event: Events) -> list[str]:
    pending = _pending(feed, (None, "landed"), batch_ids)
    if not pending:
        return []
    _say(on_event, f"bronze/{feed}: {len(pending)} 个批次, {sum(b.rows for b in pending)} 行")
    bronze.append(engine, feed, pending)
    faults.crash_point("after_bronze")
    ledger.record([_entry(b, "bronze", rows_received=b.rows) for b in pending])
    return [b.batch_id for b in pending]


def run_silver(engine, feed: str, batch_ids: list[str] | None = None,
               on_event: Events = None, result: FeedResult | None = None) -> FeedResult:
    """Validate bronze batches and load them into silver, table by table in the standard's order."""
    std = standard.load()
    result = result or FeedResult(feed)
    with feed_lock(feed):
        try:
            _silver(engine, std, feed, batch_ids, on_event, result)
        except BaseException:
            with contextlib.suppress(Exception):  # the loads GX validated before the failure get their pages
                gx_run.build_docs(feed)
            raise
        gx_run.build_docs(feed)
    return result


def _silver(engine, std, feed: str, batch_ids: list[str] | None, on_event: Events, result: FeedResult) -> None:
    pending = _pending(feed, ("bronze",), batch_ids)
    if pending:
        gx_run.prefetch(engine)  # a silver step on its own: GX's import overlaps the first queries
    for table in std.feed(feed).tables:
        batches = [b for b in pending if b.table == table.qualified_name]
        for group in silver_groups(batches, len(table.columns)):
            _say(on_event, f"silver/{table.entity}: {len(group)} 个批次, {sum(b.rows for b in group)} 行")
            _load_group(engine, std, table, group, result)


def silver_groups(batches: list, columns: int) -> list[list]:
    """Batches processed together (one MERGE), bounded in rows and cells to bound memory. Any items with
    `.rows` (the benchmark replays the same grouping)."""
    limit = min(MAX_ROWS_PER_SILVER_RUN, max(1, MAX_CELLS_PER_SILVER_RUN // max(columns, 1)))
    groups, current, rows = [], [], 0
    for b in batches:
        if current and rows + b.rows > limit:
            groups.append(current)
            current, rows = [], 0
        current.append(b)
        rows += b.rows
    return groups + ([current] if current else [])


def _load_group(engine, std, table, group: list[LandedBatch], result: FeedResult) -> None:
    by_id = {b.batch_id: b for b in group}
    entries = []
    for c in silver.load(engine, std, table, list(by_id)):
        entry = _entry(by_id[c.batch_id], "rejected" if c.rejected_reason else "loaded",
                       rows_received=c.received, rows_accepted=c.accepted, rows_quarantined=c.quarantined,
                       rows_collapsed=c.collapsed, reason=c.rejected_reason)
        if entry.status == "rejected":
            result.errors.append(BatchRejected(entry.source_file, entry.reason or "batch rejected"))
        entries.append(entry)
    ledger.record(entries)
    result.entries.extend(entries)


def ingest(feed: str, files: list[str | Path] | None = None, engine=None, on_event: Events = None) -> FeedResult:
    """Landing, bronze and silver for one feed on `engine` (default: EDULAKE_ENGINE, else DuckDB).
    Check `result.ok`; `result.errors` name every rejection."""
    from edulake.lineage.lake import ingest_run

    engine = engine if engine is not None and not isinstance(engine, str) else engines.get(engine)
    if files or inbox_files(feed):
        gx_run.prefetch(engine)  # silver will validate with GX: its import overlaps landing
    with ingest_run(engine, feed) as lineage:  # one OpenLineage run: landing files in, lake tables out
        result = lineage.result = run_landing(engine, feed, files, on_event, record_landed=False)
        lineage.bronzed = run_bronze(engine, feed, on_event=on_event)
        run_silver(engine, feed, on_event=on_event, result=result)
    return result


def ingest_all(engine=None, on_event: Events = None) -> list[FeedResult]:
    engine = engine if engine is not None and not isinstance(engine, str) else engines.get(engine)
    return [ingest(feed, None, engine, on_event) for feed in feed_order()]

"""Detect and repair damaged state: `edulake repair [--check]`.

What can be damaged, how it is found, and what the repair does:

| damage | found by | repair |
|---|---|---|
| the last Delta log entry of a table is truncated or not JSON | parsing `_delta_log/<version>.json` | Delta's own semantics: a commit whose entry is not whole never happened. The entry is moved aside (the table is at the version before), then the batches it may have held are reprocessed |
| an earlier log entry is damaged, or a data file the log names is missing | parsing the log; listing the files the table's current version needs | the table is moved aside and rebuilt from the zone before it (silver, quarantine, identity from bronze; bronze from landing); for the ledger, its batches are re-derived from landing |
| the published warehouse `warehouse/edulake.duckdb` (or the builder's state) cannot be opened or read | opening it read-only and counting every table's rows | moved aside, then `edulake build` (dbt) rebuilds and publishes it from silver (the census history comes from the builder's state when that is whole) |

Everything moved aside goes to `$EDULAKE_HOME/repair/<time>/{lake,warehouse}/` (owner-only) and is never
deleted by the repair. Reprocessing goes through the ordinary pipeline steps (each idempotent per batch): the
ledger entries of the batches concerned are put back to the status before the damaged zone, and the steps
from that zone on run again. A batch rejected by a batch-level rule is only re-judged when the quarantine
that holds its rows is rebuilt.

Run it with no ingest or build under way: it moves tables aside without taking the lake's lock (its own
reprocessing takes the feed locks as every lake step does, and a lock cannot be held around them).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from edulake import settings, standard
from edulake.lake import tables


@dataclass
class Problem:
    kind: str  # truncated_log | damaged_log | missing_file | unreadable | warehouse
    table: str  # the table's name relative to lake/ (e.g. silver/student_enrollment), or the warehouse file
    path: Path
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.table}: {self.detail}" + (f" — 修复 repair: {self.fix}" if self.fix else "")


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def lake_tables(p: settings.Paths | None = None) -> dict[str, Path]:
    p = p or settings.paths()
    if not p.lake.is_dir():
        return {}
    return {str(d.parent.relative_to(p.lake)): d.parent for d in sorted(p.lake.rglob("_delta_log"))
            if tables.exists(d.parent)}


def _commit_files(table: Path) -> list[Path]:
    return sorted(f for f in (table / "_delta_log").glob("*.json") if f.stem.isdigit())


def _entry_problem(entry: Path) -> str | None:
    try:
        text = entry.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return f"cannot read: {e}"
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return "empty"
    for i, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except json.JSONDecodeError as e:
            return f"line {i} is not JSON ({e.msg}){' — truncated' if not text.endswith(chr(10)) else ''}"
    return None


def check_table(name: str, table: Path) -> Problem | None:
    """The first problem of one Delta table, None when it reads whole."""
    commits = _commit_files(table)
    for entry in commits:
        bad = _entry_problem(entry)
        if bad:
            last = entry == commits[-1]
            return Problem("truncated_log" if last else "damaged_log", name, table,
                           f"Delta 日志 {entry.name} 损坏 (log entry {entry.name} {bad})",
                           "roll back to the version before it, reprocess" if last else "rebuild from the zone before")
    try:
        from deltalake import DeltaTable

        dt = DeltaTable(str(table))
        missing = [u for u in dt.file_uris() if not Path(u.removeprefix("file://")).exists()]
    except Exception as e:  # noqa: BLE001 - whatever delta-rs says, it is this table that cannot be read
        return Problem("unreadable", name, table, f"无法读取 (cannot read the table: {str(e).splitlines()[0][:300]})",
                       "rebuild from the zone before")
    if missing:
        first = Path(missing[0].removeprefix("file://"))
        return Problem("missing_file", name, table,
                       f"数据文件缺失 ({len(missing)} data file(s) of version {dt.version()} missing, e.g. "
                       f"{first.relative_to(table) if first.is_relative_to(table) else first})",
                       "rebuild from the zone before")
    return None


def check_warehouse_file(path: Path, label: str) -> Problem | None:
    if not path.exists():
        return None
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            names = con.execute("select schema_name, table_name from duckdb_tables() "
                                "where database_name = current_database()").fetchall()
            for schema, table in names:
                con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        finally:
            con.close()
    except Exception as e:  # noqa: BLE001 - DuckDB's errors for a damaged file vary
        return Problem("warehouse", label, path, f"数仓文件损坏 (cannot read {path.name}: "
                                                 f"{str(e).splitlines()[0][:300]})", "move aside, rebuild with dbt")
    return None


def diagnose(lake: bool = True, warehouse: bool = True) -> list[Problem]:
    p = settings.paths()
    problems = []
    if lake:
        for name, table in lake_tables(p).items():
            problem = check_table(name, table)
            if problem:
                problems.append(problem)
    if warehouse:
        from edulake.warehouse.runner import builder_state

        for path, label in ((p.warehouse, "warehouse/edulake.duckdb"),
                            (builder_state(p), "warehouse/builder_state.duckdb")):
            problem = check_warehouse_file(path, label)
            if problem:
                problems.append(problem)
    return problems


# --- repair -------------------------------------------------------------------------------------------

def _aside_dir(root: Path) -> Path:
    """$EDULAKE_HOME/repair/<time>/<lake|warehouse>/: outside the zones (nothing that scans the lake finds it),
    owner-only (it may hold restricted tables)."""
    p = settings.paths()
    top = p.home / "repair"
    d = top / time.strftime("%Y%m%dT%H%M%S") / root.name
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    for folder in (top, d.parent, d):
        folder.chmod(0o700)
    return d


def _move_aside(path: Path, aside: Path, relative_to: Path) -> Path:
    dest = aside / path.relative_to(relative_to)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(dest))
    return dest


def _version_sidecars(entry: Path) -> list[Path]:
    """What delta-spark writes beside a commit for the same version: `<version>.crc` (the checksum readers
    trust), `<version>.checkpoint*.parquet`, and Hadoop's hidden checksums of each (`.<version>.json.crc`, ...).
    Left behind when the commit is moved aside, they describe a version the log no longer has: delta-rs refuses
    the table ("CRC file version N is newer than log segment version N-1"), and Spark's next commit of that
    version keeps the stale Hadoop checksum and then fails reading its own commit (ChecksumException)."""
    log = entry.parent
    return sorted(f for f in (*log.glob(f"{entry.stem}.*"), *log.glob(f".{entry.stem}.*"))
                  if f != entry and f.is_file())


def _reset(feeds: set[str] | None, status_from: tuple[str, ...], status_to: str, table: str | None = None) -> int:
    """Put ledger entries back to an earlier status (their counts cleared): the pipeline then redoes them."""
    import pyarrow as pa

    from edulake.lake import ledger, tables

    rows = [r for r in ledger.rows() if r["status"] in status_from and r["table"]
            and (feeds is None or r["feed"] in feeds) and (table is None or r["table"] == table)]
    for r in rows:
        r.update(status=status_to, rows_accepted=0, rows_quarantined=0, rows_collapsed=0, reason=None)
    if rows:
        tables.merge(ledger.path(), pa.Table.from_pylist(rows, ledger.SCHEMA), ledger.SCHEMA, ["batch_id"])
    return len(rows)


def _plan(problem: Problem, std) -> tuple[set[str] | None, str, str | None]:
    """(feeds to reprocess (None: all), the status their batches go back to, only this table)."""
    name = problem.table
    parts = name.split("/")
    if name.startswith("silver/"):
        t = next(t for t in std.tables() if t.entity == parts[1])
        return {t.feed}, "bronze", t.qualified_name
    if name.startswith("restricted/quarantine/"):
        return {parts[2]}, "bronze", None
    if name.startswith("restricted/bronze/"):
        return {parts[2]}, "landed", None
    if name == "ops/batches":
        return None, "", None  # the ledger itself: what it forgot is redone from landing
    return None, "bronze", None  # identity, ops/quality: every feed's loads again


def repair(on_event=print, engine=None) -> Report:
    """Repair every problem diagnose() finds (see the module's doc). Returns what was found and done."""
    from edulake.lake import engines, pipeline

    p = settings.paths()
    std = standard.load()
    report = Report(diagnose())
    lake_problems = [pr for pr in report.problems if pr.kind != "warehouse"]
    warehouse_problems = [pr for pr in report.problems if pr.kind == "warehouse"]
    reprocess: dict[str, str] = {}  # feed -> the earliest step to run again
    if lake_problems:
        aside = _aside_dir(p.lake)
        for pr in lake_problems:
            if pr.kind == "truncated_log":
                entry = _commit_files(pr.path)[-1]
                _move_aside(entry, aside, p.lake)
                for sidecar in _version_sidecars(entry):  # a version's .crc and checkpoint go with its commit
                    _move_aside(sidecar, aside, p.lake)
                checkpoint = pr.path / "_delta_log" / "_last_checkpoint"
                if checkpoint.exists() and json.loads(checkpoint.read_text()).get("version", -1) >= int(entry.stem):
                    _move_aside(checkpoint, aside, p.lake)
                report.actions.append(f"{pr.table}: 日志 {entry.name} 移出 (moved aside to {aside}); "
                                      f"the table is at version {int(entry.stem) - 1}")
            else:
                _move_aside(pr.path, aside, p.lake)
                report.actions.append(f"{pr.table}: 表已移出 (table moved aside to {aside}), rebuilt below")
        for pr in lake_problems:
            feeds, status_to, table = _plan(pr, std)
            targets = set(std.feeds) if feeds is None else feeds
            if status_to:
                status_from = (("bronze", "loaded", "rejected") if status_to == "landed"
                               else ("loaded", "rejected") if pr.table.startswith("restricted/quarantine/")
                               else ("loaded",))
                n = _reset(feeds, status_from, status_to, table)
                report.actions.append(f"{pr.table}: {n} 个批次重新处理 (batches put back to {status_to!r})")
            for feed in targets:
                step = "bronze" if status_to in ("landed", "") else "silver"
                if reprocess.get(feed) != "bronze":
                    reprocess[feed] = step
        if reprocess:
            lake_engine = engine if engine is not None else engines.get()
            for feed in pipeline.feed_order(std):
                if feed not in reprocess:
                    continue
                if reprocess[feed] == "bronze":
                    pipeline.run_bronze(lake_engine, feed, on_event=on_event)
                result = pipeline.run_silver(lake_engine, feed, on_event=on_event)
                report.actions.append(f"{feed}: 重新处理 reprocessed ({len(result.entries)} batches)"
                                      + (f"; {len(result.errors)} rejected" if result.errors else ""))
    if warehouse_problems:
        from edulake import warehouse

        aside = _aside_dir(p.warehouse_dir)
        for pr in warehouse_problems:
            _move_aside(pr.path, aside, p.warehouse_dir)
            report.actions.append(f"{pr.table}: 移出 (moved aside to {aside})")
        result = warehouse.build(quiet=True)
        if not result.success:
            report.actions.append(f"warehouse: dbt build failed ({result.error or 'see last_build.json'})")
            report.problems.append(Problem("warehouse", "warehouse/edulake.duckdb", p.warehouse,
                                           "rebuild failed", "see warehouse/last_build.json"))
        else:
            report.actions.append(f"warehouse: 已重建并发布 (rebuilt with dbt and published: {result.published})")
    return report

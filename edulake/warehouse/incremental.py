"""Whether a DuckDB build may be incremental, and from when.

A build is incremental when the previous green build left its record (warehouse/builder_state.json, beside
builder_state.duckdb) and nothing since needs a rebuild. The record holds when that build took the lake's
lock, the fingerprint of what shapes the warehouse (the standard in schemas/, the dbt project, dbt's
version) and, per silver table, the Delta version it read and that commit's checksum. The incremental
models (macros/core/incremental.sql) then recompute only the keys whose silver rows were loaded since
that moment: no ingest writes while a build holds the lake's lock, so every row loaded after it has a
later `_loaded_at`.

A full build (dbt --full-refresh) is chosen when asked for, and when the record is missing or unreadable, the
builder's state or the published warehouse is missing, the fingerprint differs (another standard version, changed models or macros),
or a silver table changed in a way other than appending and merging in rows (rewritten, recreated, rows
deleted): superseded rows are replaced by key, deleted ones would be missed. It is also chosen when the rows
written since the last build are a large share of silver (FULL_BUILD_SHARE, e.g. a school year delivered into
a lake of one or two): recomputing "the keys loaded since" costs several times a full pass per row.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from deltalake.exceptions import DeltaError

from edulake.settings import DBT_PROJECT_DIR, SCHEMAS_DIR, Paths

RECORD = "builder_state.json"
# what shapes the built tables (dbt_packages and target/ are derived; logs are not inputs)
PROJECT_PARTS = ("dbt_project.yml", "packages.yml", "models", "macros", "seeds", "snapshots", "tests")
# Delta operations that only add rows or replace rows of the same key (a MERGE's update): what silver's
# ingestion does. Anything else (DELETE, an overwrite, RESTORE, …) may remove rows: a full build.
KEEPS_ROWS = {"MERGE", "OPTIMIZE", "VACUUM START", "VACUUM END", "CREATE TABLE"}
# Above this share of silver's rows written since the last build, a full build is cheaper than an incremental
# one. Measured at scale 1.0 (benchmarks/README.md, session 11): with every row new, the incremental models took
# ~2.7x their full build's time (int_student__school_years 12.7 s against 4.7 s: the changed-key semi-joins over
# every feed, then dbt's delete+insert), while the table models cost the same either way.
FULL_BUILD_SHARE = 0.3
# Delta commit metrics as delta-rs and as Delta Spark name them
ADDED_ROWS = ("num_added_rows", "numOutputRows")  # WRITE
MERGED_ROWS = ("num_target_rows_inserted", "numTargetRowsInserted", "num_target_rows_updated",
               "numTargetRowsUpdated")  # MERGE: rows inserted and rows replaced by key
DELETED_ROWS = ("num_target_rows_deleted", "numTargetRowsDeleted")


@dataclass(frozen=True)
class Plan:
    full: bool
    reason: str
    since: str | None  # the previous build's lock time (UTC, ISO) for an incremental build


def record_path(p: Paths) -> Path:
    return p.warehouse_dir / RECORD


def fingerprint() -> str:
    """One digest of the standard, the dbt project's inputs and dbt's version."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(f"dbt-core {version('dbt-core')} dbt-duckdb {version('dbt-duckdb')}".encode())
    roots = [SCHEMAS_DIR] + [DBT_PROJECT_DIR / part for part in PROJECT_PARTS]
    for root in roots:
        files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.is_file())
        for f in files:
            digest.update(str(f.relative_to(SCHEMAS_DIR.parent)).encode())
            digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def _commit(table: Path, version: int) -> Path:
    return table / "_delta_log" / f"{version:020d}.json"


def _latest_version(table: Path) -> int | None:
    versions = [int(f.stem) for f in (table / "_delta_log").glob("*.json") if f.stem.isdigit()]
    return max(versions) if versions else None


def silver_marks(p: Paths) -> dict[str, dict]:
    """Per silver table: its latest Delta version and that commit's checksum."""
    marks = {}
    for table in sorted(d for d in p.silver.glob("*") if d.is_dir()):
        v = _latest_version(table)
        if v is not None:
            marks[table.name] = {"version": v, "commit": hashlib.sha256(_commit(table, v).read_bytes()).hexdigest()}
    return marks


def _commit_info(commit: Path) -> dict | None:
    for line in commit.read_text(encoding="utf-8").splitlines():
        info = json.loads(line).get("commitInfo") if line.strip() else None
        if info is not None:
            return info
    return None


def _metric(info: dict, names: tuple[str, ...]) -> int:
    metrics = info.get("operationMetrics") or {}
    return sum(int(metrics.get(name) or 0) for name in names)


def _removes_rows(commit: Path) -> str | None:
    """What in this commit may have removed silver rows (None: it only added or replaced by key)."""
    info = _commit_info(commit)
    if info is None:
        return "a commit without commitInfo"
    op = info.get("operation", "")
    if op == "WRITE" and (info.get("operationParameters") or {}).get("mode") == "Append":
        return None
    if op in KEEPS_ROWS:
        deleted = _metric(info, DELETED_ROWS)
        return f"{op} deleted {deleted} rows" if deleted else None
    return op or "an unnamed commit"


def _rows_written(commit: Path) -> int:
    """Rows this commit added or replaced by key (what an incremental build recomputes). Rows, not keys: a key
    merged again by a later ingest counts again. A commit without metrics counts 0: the plan then errs towards
    an incremental build, which is as correct, only slower."""
    info = _commit_info(commit) or {}
    op = info.get("operation", "")
    if op == "WRITE":
        return _metric(info, ADDED_ROWS)
    return _metric(info, MERGED_ROWS) if op == "MERGE" else 0


def silver_changes_that_remove_rows(p: Paths, marks: dict[str, dict]) -> str | None:
    """Why the silver tables cannot be followed by key since `marks` (None when they can)."""
    for name, mark in marks.items():
        table = p.silver / name
        recorded = _commit(table, mark["version"])
        if not recorded.exists() or hashlib.sha256(recorded.read_bytes()).hexdigest() != mark["commit"]:
            return f"silver/{name} was rewritten since the last build (its Delta version {mark['version']} changed)"
        latest = _latest_version(table) or 0
        for v in range(mark["version"] + 1, latest + 1):
            commit = _commit(table, v)
            if not commit.exists():
                return f"silver/{name}: Delta commit {v} is missing"
            what = _removes_rows(commit)
            if what is not None:
                return f"silver/{name}: Delta commit {v} ({what}) may remove rows"
    return None


def rows_written_since(p: Paths, marks: dict[str, dict]) -> tuple[int, int]:
    """(rows written to silver since `marks`, rows silver holds now), from the Delta logs: commit metrics and
    file statistics, no data read. A table the marks do not know is new: all its rows count."""
    from edulake.lake import tables

    written = held = 0
    for table in sorted(d for d in p.silver.glob("*") if d.is_dir()):
        latest = _latest_version(table)
        if latest is None:
            continue
        rows = tables.rows(table)
        held += rows
        mark = marks.get(table.name)
        if mark is None:
            written += rows
        else:
            written += sum(_rows_written(_commit(table, v)) for v in range(mark["version"] + 1, latest + 1))
    return written, held


def plan(p: Paths, state: Path, full_refresh: bool) -> Plan:
    """Full or incremental, and why (the reason is logged and kept in the build record)."""
    if full_refresh:
        return Plan(True, "--full-refresh", None)
    if not state.exists():
        return Plan(True, "no builder state (first build)", None)
    if not p.warehouse.exists():  # the incremental marts live in the published file
        return Plan(True, "no published warehouse", None)
    try:
        rec = json.loads(record_path(p).read_text(encoding="utf-8"))
        since, marks, fp = rec["lock_taken_at"], rec["silver"], rec["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return Plan(True, "no readable record of the previous build", None)
    if fp != fingerprint():
        return Plan(True, "the standard or the dbt project changed since the last build", None)
    why = silver_changes_that_remove_rows(p, marks)
    if why is not None:
        return Plan(True, why, None)
    try:
        written, held = rows_written_since(p, marks)
    except (OSError, ValueError, KeyError, TypeError, DeltaError):  # a damaged table: the build names it
        # when it reads it (choosing a full build here is only about cost)
        return Plan(False, f"rows loaded since {since}", since)
    if held and written / held > FULL_BUILD_SHARE:
        return Plan(True, f"{written:,} of silver's {held:,} rows written since the last build "
                          f"({written / held:.0%}): a full build is cheaper", None)
    return Plan(False, f"rows loaded since {since} ({written:,} of silver's {held:,})", since)


def lock_time() -> str:
    """Now, as the `_loaded_at` values are compared (UTC, microseconds)."""
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"


def remember(p: Paths, lock_taken_at: str, marks: dict[str, dict]) -> None:
    """The record of a green build (written after its state is in place)."""
    record = {"lock_taken_at": lock_taken_at, "fingerprint": fingerprint(), "silver": marks}
    tmp = record_path(p).with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    tmp.replace(record_path(p))


def forget(p: Paths) -> None:
    """No record: the next build is full (a failed build, a state moved aside)."""
    record_path(p).unlink(missing_ok=True)

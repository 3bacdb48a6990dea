"""Run `dbt build` programmatically and publish the warehouse atomically.

Publishing: dbt writes into two fresh files beside the published one (publish.py): a copy of the builder's
own state (warehouse/builder_state.duckdb, owner-only: silver views, staging, intermediate tables with
pseudonym tokens, stored test failures) and the next published file, attached as `published`, which receives
the reader schemas only (a copy of the published file for an incremental build, for a full one a new file
with the census history). Only a successful build is published: the builder's file becomes the state and the
other is renamed over paths().warehouse (os.replace is atomic). Readers that opened the old file read-only keep
reading it; new readers get the new one; nobody ever sees a half-built database, and readers never block the
build (DuckDB allows one writer per file, and the builder never writes the published file). A failed build is
kept as warehouse/last_failed.duckdb (with the stored test failures) and last_failed.published.duckdb, for
inspection. Builds of one home are serialised by a lock file.
A build is incremental when the previous green build's record allows (edulake.warehouse.incremental).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from edulake import permissions, settings
from edulake.settings import DBT_PROJECT_DIR, Paths
from edulake.warehouse import incremental, packages, profiles, publish

Events = Callable[[dict], None] | None
log = logging.getLogger(__name__)


class BuildError(RuntimeError):
    pass


@dataclass
class NodeResult:
    unique_id: str
    resource_type: str
    status: str  # success, pass, fail, error, skipped, warn
    seconds: float
    message: str = ""
    failures: int | None = None


@dataclass
class BuildResult:
    command: str
    target: str
    success: bool
    seconds: float
    published: Path | None  # the warehouse readers open (None when nothing was published)
    kept_failed: Path | None = None  # the failed build, kept for inspection
    nodes: list[NodeResult] = field(default_factory=list)
    error: str = ""
    mode: str = "full"  # or "incremental" (edulake.warehouse.incremental)
    mode_reason: str = ""

    def count(self, *statuses: str) -> int:
        return sum(1 for n in self.nodes if n.status in statuses)

    @property
    def problems(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("fail", "error", "skipped", "runtime error")]

    def summary(self) -> dict:
        return {"command": self.command, "target": self.target, "success": self.success,
                "seconds": round(self.seconds, 1), "published": str(self.published) if self.published else None,
                "mode": self.mode, "mode_reason": self.mode_reason,
                "nodes": len(self.nodes), "ok": self.count("success", "pass"), "warn": self.count("warn"),
                "fail": self.count("fail"), "error": self.count("error", "runtime error"),
                "skipped": self.count("skipped")}


@contextlib.contextmanager
def build_lock(p: Paths) -> Iterator[None]:
    p.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(p.warehouse_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second build of the same home waits for the first
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _lake_read_lock() -> Iterator[None]:
    """The lake's lock, exclusive: no ingest commits while dbt reads silver (see edulake.lake.locks)."""
    from edulake.lake.locks import FeedBusy, lake_lock

    try:
        lock = lake_lock(exclusive=True)
        lock.__enter__()
    except FeedBusy as e:
        raise BuildError(str(e)) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def builder_state(p: Paths) -> Path:
    """The last green build, whole (never read by readers)."""
    return p.warehouse_dir / "builder_state.duckdb"


def _refresh_monitoring() -> None:
    """The 运行监测 figures (lake/ops/deliveries) as of this build, so the ops marts show what `edulake status`
    shows; they never fail a build."""
    try:
        from edulake.monitoring import deliveries

        deliveries.record_snapshot(deliveries.deliveries())
    except Exception as e:  # noqa: BLE001
        log.warning("运行监测数据未刷新 (delivery figures not refreshed): %s", e)


def dbt_vars(p: Paths) -> dict:
    return {"core:silver_path": str(p.silver), "core:ops_path": str(p.ops),
            "core:spark_warehouse_path": str(p.spark_warehouse)}


# Since when silver rows count as changed, for an incremental build (macros/core/incremental.sql). An
# environment variable, not a dbt var: a var that changes every build would make dbt parse the whole
# project again every build; an env var only the files that read it.
CHANGED_SINCE_ENV = "EDULAKE_DBT_CHANGED_SINCE"


@contextlib.contextmanager
def changed_since(since: str | None) -> Iterator[None]:
    os.environ[CHANGED_SINCE_ENV] = since or ""
    try:
        yield
    finally:
        os.environ.pop(CHANGED_SINCE_ENV, None)


def target_dir(p: Paths, target: str) -> Path:
    """dbt's target/ (manifest, run_results) of a target: one per target, so each keeps its partial parse."""
    return profiles.dbt_dir(p) / ("target" if target == "duckdb" else f"target-{target}")


def dbt_args(command: str | list[str], p: Paths, profiles_dir: Path, target: str, select: str | None = None,
             full_refresh: bool = False, extra: list[str] | None = None, quiet: bool = False,
             exclude: str | None = None) -> list[str]:
    state = profiles.dbt_dir(p)
    args = ([command] if isinstance(command, str) else list(command)) + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(profiles_dir),
            "--target", target, "--target-path", str(target_dir(p, target)), "--log-path", str(state / "logs"),
            "--vars", json.dumps(dbt_vars(p))]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if full_refresh:
        args.append("--full-refresh")
    if quiet:  # the caller shows progress itself; dbt's full log still goes to the log file
        args += ["--log-level", "none", "--log-level-file", "debug"]
    return args + list(extra or [])


def release_duckdb() -> None:
    """dbt-duckdb keeps its database instance open for the life of the process: close it, so the file is
    complete (checkpointed) before it is published and the next build can open another file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            with contextlib.suppress(Exception):
                DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def _callback(on_event: Events):
    def handle(event) -> None:
        if on_event is None:
            return
        name = event.info.name
        data = event.data
        if name in ("LogStartLine",):
            on_event({"kind": "start", "index": data.index, "total": data.total,
                      "node": data.node_info.node_name, "description": data.description})
        elif name in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeResult"):
            info = data.node_info
            on_event({"kind": "done", "index": getattr(data, "index", 0), "total": getattr(data, "total", 0),
                      "node": info.node_name, "status": info.node_status,
                      "seconds": round(getattr(data, "execution_time", 0.0), 2)})
    return handle


def invoke(args: list[str], on_event: Events):
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return dbtRunner(callbacks=[_callback(on_event)]).invoke(args)


def _nodes(run_result) -> list[NodeResult]:
    out = []
    for r in getattr(run_result, "results", None) or []:
        node = r.node
        out.append(NodeResult(node.unique_id, str(node.resource_type), str(r.status), float(r.execution_time or 0),
                              r.message or "", r.failures))
    return out


def build(select: str | None = None, target: str = "duckdb", full_refresh: bool = False, docs: bool = False,
          on_event: Events = None, threads: int = 2, quiet: bool = False, exclude: str | None = None) -> BuildResult:
    """`dbt build` (seeds, models, snapshots, tests) into a fresh warehouse, published when it succeeds.

    `select` is a dbt selection ("marts.core+", "fct_fitness_test"), `exclude` one to leave out; `docs=True` also runs
    `dbt docs generate` (catalog and lineage into $EDULAKE_HOME/warehouse/dbt/target)."""
    permissions.restrict_process()  # dbt, DuckDB and Spark write the warehouse owner-only, whoever calls
    if target not in profiles.TARGETS:
        raise BuildError(f"unknown target {target!r}; choose one of {', '.join(profiles.TARGETS)}")
    p = settings.paths()
    if not (p.silver).exists():
        raise BuildError(f"no silver zone at {p.silver}: ingest first (edulake ingest)")
    started = time.monotonic()
    with build_lock(p), _lake_read_lock():
        if target != "duckdb":
            return _build_other(p, select, exclude, target, docs, on_event, started, threads, quiet)
        for leftover in p.warehouse_dir.glob(".edulake.build*"):  # of a build that was killed (we hold the lock)
            if leftover.is_dir():  # DuckDB's spill folder (<file>.tmp), left when the build was killed spilling
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        # one name per file for every build (builds of a home are serialised): the profile, which names the
        # files, stays the same, and dbt can reuse its parse of the project
        fresh, fresh_published = p.warehouse_dir / ".edulake.build.duckdb", p.warehouse_dir / ".edulake.build.published.duckdb"
        state = builder_state(p)
        # the lake is locked from here: rows loaded later are the next build's change
        lock_taken_at, marks = incremental.lock_time(), incremental.silver_marks(p)
        plan = incremental.plan(p, state, full_refresh)
        if state.exists():
            _check_base(state)
        published_ok = p.warehouse.exists() and _readable(p.warehouse)
        if p.warehouse.exists() and not published_ok and not plan.full:  # rebuilt whole; history from the state
            plan = incremental.Plan(True, "the published warehouse is damaged", None)
        log.info("dbt build: %s (%s)", "full" if plan.full else "incremental", plan.reason)
        dbt_exclude = exclude
        if not plan.full:  # seeds are unchanged (they are in the fingerprint): the published copies stand
            dbt_exclude = " ".join(filter(None, ["resource_type:seed", exclude]))
        if state.exists():  # neither the state nor the published file is touched
            shutil.copy2(state, fresh)
            publish.drop_reader_schemas(fresh)  # a state from before the split still holds them
        publish.start(p.warehouse if published_ok else None, fresh_published, plan.full, state)
        profiles_dir = profiles.write(p, fresh, threads, published_file=fresh_published)
        packages.install()
        lineage_parent = _lineage_start()
        _refresh_monitoring()
        try:
            # a full build ignores it; `docs generate` compiles the incremental models as they stand
            with changed_since(plan.since or lock_taken_at):
                res = _dbt_build(p, profiles_dir, target, select, dbt_exclude, plan.full, docs, quiet, on_event)
        finally:
            release_duckdb()
        result = BuildResult("build", target, bool(res.success), time.monotonic() - started, None,
                             nodes=_nodes(res.result), error=str(res.exception or ""),
                             mode="full" if plan.full else "incremental", mode_reason=plan.reason)
        for built in (fresh, fresh_published):
            if built.exists():
                publish.checkpoint(built)
        if result.success:
            publish.check_reader_only(fresh_published)
            publish.keep_history(fresh_published, fresh)
            os.chmod(fresh, 0o600)
            os.chmod(fresh_published, 0o600)
            # the state first: a crash between the renames leaves the previous record, and the next build
            # recomputes from its time (delete+insert by key is idempotent)
            os.replace(fresh, state)
            os.replace(fresh_published, p.warehouse)
            result.published = p.warehouse
            if select is None and exclude is None:  # a partial build leaves the others' change pending
                incremental.remember(p, lock_taken_at, marks)
            kept = [state, p.warehouse]
        else:
            kept = []
            for built, name in ((fresh, "last_failed.duckdb"), (fresh_published, "last_failed.published.duckdb")):
                if built.exists():
                    os.replace(built, p.warehouse_dir / name)
                    kept.append(p.warehouse_dir / name)
            result.kept_failed = kept[0] if kept else None
        for leftover in p.warehouse_dir.glob(".edulake.build*"):
            leftover.unlink(missing_ok=True)
        result.seconds = time.monotonic() - started
        _write_run_record(p, result)
        _lineage_end(lineage_parent, p, target, kept, result)
        return result


def _dbt_build(p: Paths, profiles_dir: Path, target: str, select: str | None, exclude: str | None, full: bool,
               docs: bool, quiet: bool, on_event: Events):
    """`dbt build`, then `dbt docs generate` when asked and the build passed; the failing one's result."""
    res = invoke(dbt_args("build", p, profiles_dir, target, select, full, quiet=quiet, exclude=exclude), on_event)
    if res.success and docs:
        docs_res = invoke(dbt_args(["docs", "generate"], p, profiles_dir, target, quiet=quiet), on_event)
        if not docs_res.success:
            return docs_res
    return res


def _lineage_start() -> dict | None:
    """The build's OpenLineage parent run (edulake.lineage.dbt); lineage never fails a build."""
    try:
        from edulake.lineage import dbt as dbt_lineage

        parent = dbt_lineage.parent_run()
        dbt_lineage.start(parent)
        return parent
    except Exception as e:  # noqa: BLE001
        log.warning("血缘事件未写出 (dbt lineage not started): %s", e)
        return None


def _lineage_end(parent: dict | None, p: Paths, target: str, database: Path | list[Path] | None,
                 result: BuildResult) -> None:
    """dbt's events (openlineage-dbt over target/), the dashboards' edge, then ops/lineage is loaded."""
    if parent is None:
        return
    try:
        from edulake.lineage import dbt as dbt_lineage
        from edulake.lineage import store

        dbt_lineage.emit_build(parent, target_dir(p, target), target, database, result.success,
                               result.error)
        store.load()
    except Exception as e:  # noqa: BLE001
        log.warning("血缘事件未写出 (dbt lineage not written): %s", e)


def _readable(path: Path) -> bool:
    from edulake.lake import repair

    return repair.check_warehouse_file(path, path.name) is None


def _check_base(base: Path) -> None:
    """The file a build starts from must read whole: a damaged one is named, with the command that repairs it."""
    from edulake.lake import repair

    problem = repair.check_warehouse_file(base, str(base.relative_to(base.parent.parent)))
    if problem is not None:
        raise BuildError(f"{problem.detail}; `edulake repair` moves it aside and rebuilds the warehouse")


def _build_other(p, select, exclude, target, docs, on_event, started, threads, quiet) -> BuildResult:
    """The Spark target: dbt-spark in the project's own session, every table Delta under
    paths().spark_warehouse (no DuckDB file to publish: readers read the Delta tables)."""
    from edulake.lake.engines.spark.session import get_spark

    permissions.private_dir(p.spark_warehouse)
    # dbt-spark's `session` method calls SparkSession.builder.getOrCreate(): started here first, the session
    # has the Delta jars and the project's conf whoever asks for it (the lake, dbt, a test).
    spark = get_spark("edulake-dbt")
    quiet_existing_session_warning(spark)
    register_spark_tables(spark, p)
    if select:  # views (staging) have no files to name again: a partial build creates them with its selection
        select = f"{select} config.materialized:view"
    profiles_dir = profiles.write(p, p.warehouse, threads)
    packages.install()
    lineage_parent = _lineage_start()
    # always a full build: the incremental plan (edulake.warehouse.incremental) follows the DuckDB builder's
    # state only, and an incremental model on existing tables without it is refused
    with changed_since(incremental.lock_time()):  # for `docs generate`, which compiles without --full-refresh
        res = _dbt_build(p, profiles_dir, target, select, exclude, True, docs, quiet, on_event)
    result = BuildResult("build", target, bool(res.success), time.monotonic() - started,
                         p.spark_warehouse if res.success else None,
                         nodes=_nodes(res.result), error=str(res.exception or ""))
    _write_run_record(p, result)
    _lineage_end(lineage_parent, p, target, p.spark_warehouse, result)
    return result


def quiet_existing_session_warning(spark) -> None:
    """dbt-spark's session cursor calls SparkSession.builder.enableHiveSupport().getOrCreate() for every
    statement; on the existing session Spark then warns, every time, that the static catalog setting cannot
    change ("Using an existing Spark session; only runtime SQL configurations will take effect"). That one
    logger is set to ERROR; every other warning stays."""
    jvm = spark.sparkContext._jvm
    jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.spark.sql.classic.SparkSession", jvm.org.apache.logging.log4j.Level.ERROR)


def register_spark_tables(spark, p: Paths) -> int:
    """Name every Delta table of the Spark warehouse in the session's catalog before dbt runs. The project's
    session has an in-memory catalog (no Hive metastore in its conf): the Delta files are the state, their
    names are rebuilt here. Named, a table is replaced by dbt's `create or replace`; unnamed, Delta would adopt
    the files at the location and keep their rows (a seed's insert would append to last build's rows). It is
    also what a snapshot extends and what a partial --select builds on. Returns how many tables were named."""
    named = 0
    for schema_dir in sorted(d for d in p.spark_warehouse.glob("*") if d.is_dir()):
        # a table has a first commit; a log without one is a write that was interrupted (dbt writes it again)
        tables = sorted(t for t in schema_dir.glob("*") if any((t / "_delta_log").glob("*.json")))
        if tables:
            spark.sql(f"create schema if not exists `{schema_dir.name}`")
        for table in tables:
            spark.sql(f"create table if not exists `{schema_dir.name}`.`{table.name}` using delta location '{table}'")
            named += 1
    return named


def _write_run_record(p: Paths, result: BuildResult) -> None:
    """Last build's summary, for `edulake status` and the ops dashboard (the DuckDB build's in
    last_build.json, another target's in last_build_<target>.json)."""
    record = dict(result.summary(), finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  problems=[{"node": n.unique_id, "status": n.status, "message": n.message[:500]}
                            for n in result.problems])
    name = "last_build.json" if result.target == "duckdb" else f"last_build_{result.target}.json"
    (p.warehouse_dir / name).write_text(json.dumps(record, ensure_ascii=False, indent=2),
                                                     encoding="utf-8")

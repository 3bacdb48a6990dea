"""Great Expectations on every load, on the lake's embedded engine (DuckDB).

`validate_load(engine, table, program, batch_ids)` runs the table's suite (suites.py: one
UnexpectedRowsExpectation per compiled check) ONCE over all the batches of a load — `_batch_id` is a
column — so GX's fixed cost is paid per table and load, not per file. GX stores its validation result
in a file context under $EDULAKE_HOME/quality/gx/; `build_docs()` then renders the pages of the loads
validated since and the Data Docs index once (the lake calls it when a feed's silver run ends, failed or
not): the index re-reads the latest results on every build, ~0.25 s, paid per run instead of per table.

GX reads the lake's own relation `staged` (a TEMP table of the engine's in-memory DuckDB connection,
which no other connection can see): GX's SQLAlchemy engine is lent that very connection (duckdb-engine
dialect), read-only in effect: GX cannot begin, commit, roll back or close it. Nothing is copied and
the identifiers `staged` holds never leave the process; GX's queries select lineage only (suites.py)
and results are kept at SUMMARY (counts), so no value of a row is stored.

On the Spark engine GX stays off: the suites are in DuckDB's dialect. EDULAKE_GX=0 turns GX off (the
benchmarks' rules-only figures), EDULAKE_GX=1 forces it on (it still needs the embedded engine).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import hashlib
import json
import os
import sys
import threading
from typing import Literal

from edulake import settings
from edulake.standard import Table

DATASOURCE = "edulake_lake"
VALIDATED = "SELECT * FROM staged WHERE _status <> 'collapsed' AND _shape_error IS NULL"  # what ops/quality counts
LOAD_META = "load_batch_ids"  # the stored result's meta: the batches of the load it validated
RESULT_FORMAT = "SUMMARY"  # counts only; the queries select lineage, never values
CHECKPOINT_FORM = "no-actions"  # part of the stored checkpoint's fingerprint: Data Docs are built by build_docs
INDEX_LIMIT = 200  # validation results listed on the Data Docs index


def enabled(engine) -> bool:
    """GX runs on every load of the embedded engine unless EDULAKE_GX=0."""
    if getattr(engine, "name", None) != "duckdb":
        return False
    return os.environ.get("EDULAKE_GX", "1").strip().lower() not in ("0", "false", "no", "off")


# GX's import (~2.5-3 s of Python, once per process), started in the background by the runs that will reach silver
# (ingest, the Airflow task, a silver step), overlaps landing and the engine's first queries instead of delaying the
# first table's validation (benchmarks/README.md, 2026-12-02).
_prefetch: threading.Thread | None = None
_prefetch_error: BaseException | None = None


def prefetch(engine) -> None:
    """Start importing GX (and what the lake's GX run uses) in a daemon thread, once per process, when GX will
    run on `engine`. validate_load waits for it and, if it failed, imports again (raising the error itself)."""
    global _prefetch
    if _prefetch is not None or not enabled(engine) or "great_expectations" in sys.modules:
        return

    def load() -> None:
        global _prefetch_error
        try:
            with _main_named():
                import duckdb_engine  # noqa: F401
                import great_expectations  # noqa: F401
                import sqlalchemy  # noqa: F401

                from edulake.quality import suites  # noqa: F401
        except BaseException as e:  # kept for the log; validate_load's own import raises it again
            _prefetch_error = e

    _prefetch = threading.Thread(target=load, name="gx-import", daemon=True)
    _prefetch.start()


@contextlib.contextmanager
def _main_named():
    """While GX is imported, a `__main__` without a spec or a file (`python -c`) gets a file: GX imports
    pyspark.sql.connect, which takes such a `__main__` for a run of its own doctests and, its Spark Connect extras
    missing here, calls sys.exit(0), so the ingest would end silently with status 0. Removed afterwards: a
    multiprocessing spawn would try to run that file."""
    main = sys.modules.get("__main__")
    nameless = (main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__")
                and not hasattr(sys, "ps1"))
    if nameless:
        main.__file__ = "<edulake>"
    try:
        yield
    finally:
        if nameless:
            with contextlib.suppress(AttributeError):
                del main.__file__


def _imported() -> None:
    """Wait for the background import, if one was started (its error, if any, goes to the log)."""
    if _prefetch is not None:
        _prefetch.join()
        if _prefetch_error is not None:
            import logging

            logging.getLogger(__name__).warning("GX's background import failed (%r): importing it again",
                                                _prefetch_error)


def validate_load(engine, table: Table, program, batch_ids: list[str], always: bool = False):
    """GX's validation of one load of `table` (relation `staged` on `engine`); None when GX is off
    (`always`: even with EDULAKE_GX=0, as `edulake quality docs` asks). Returns GX's CheckpointResult;
    the result is stored and Data Docs are rebuilt."""
    if not batch_ids or getattr(engine, "name", None) != "duckdb" or not (always or enabled(engine)):
        return None
    from edulake.lake import stopwatch

    with stopwatch.timed(table.feed, "gx"):  # GX's import (or what is left of it) included
        _imported()  # before the lock: other feeds' GX runs need not wait for this process's import
        with _main_named():
            import great_expectations as gx

            from edulake.quality import suites
        with _exclusive():
            ctx = context()
            checkpoint = _checkpoint(ctx, table, suites.program_suite(program))
            with _lent(engine):
                result = checkpoint.run(run_id=gx.RunIdentifier(run_name=load_name(table, batch_ids),
                                                                run_time=dt.datetime.now(dt.UTC)))
            for key, validation in result.run_results.items():  # which batches this load was, kept with it
                validation.meta[LOAD_META] = sorted(batch_ids)
                ctx.validation_results_store.set(key, validation)
                _undocumented.append((key, validation.suite_name))
    return result


_undocumented: list = []  # (validation result identifier, suite name) stored but not yet rendered to Data Docs


def build_docs(feed: str) -> None:
    """Render the Data Docs pages of the results stored since the last call, and the index, once (`feed`
    names the run in the benchmark's timings)."""
    if not _undocumented:
        return
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from edulake.lake import stopwatch

    pending = list(_undocumented)
    with stopwatch.timed(feed, "gx_docs"), _exclusive():
        identifiers = [key for key, _ in pending]
        identifiers += [ExpectationSuiteIdentifier(name=n) for n in sorted({n for _, n in pending})]
        context().build_data_docs(resource_identifiers=identifiers)
    del _undocumented[:len(pending)]


def load_name(table: Table, batch_ids: list[str]) -> str:
    """A run name naming the table and its load (the batch ids themselves are in the result's meta)."""
    digest = hashlib.sha256("\n".join(sorted(batch_ids)).encode()).hexdigest()[:12]
    return f"{table.qualified_name}-{len(batch_ids)}-batches-{digest}"


def context():
    root = settings.paths().quality
    root.mkdir(parents=True, exist_ok=True)
    import great_expectations as gx

    _register_datasource_type()
    ctx = gx.get_context(mode="file", project_root_dir=str(root))
    _configure(ctx)
    return ctx


def _configure(ctx) -> None:
    """Once per GX project: no per-metric progress bars in the lake's logs, and a Data Docs index that
    lists the latest INDEX_LIMIT results (GX re-reads every result it lists each time it rebuilds the
    index, i.e. on every load; older results keep their pages)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    sites = copy.deepcopy(ctx.variables.data_docs_sites)
    index = sites["local_site"].setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    if ctx.variables.progress_bars is None or index.get("validation_results_limit") != INDEX_LIMIT:
        index["validation_results_limit"] = INDEX_LIMIT
        sites["local_site"]["show_how_to_buttons"] = False
        ctx.variables.data_docs_sites = sites
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        ctx.variables.save()


def docs_index():
    return settings.paths().quality / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def results_dir():
    return settings.paths().quality / "gx" / "uncommitted" / "validations"


@contextlib.contextmanager
def _exclusive():
    """One GX run at a time per EDULAKE_HOME: ingest tasks of different feeds run in parallel, and GX's
    file context (great_expectations.yml, the Data Docs index) is not safe for concurrent writers."""
    root = settings.paths().quality
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".gx.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


# --- GX objects, created once per context and updated when the suite changes ----------------------
def _checkpoint(ctx, table: Table, suite):
    """The table's checkpoint as stored, when its suite is this one (GX's add_or_update compares every
    expectation pairwise: seconds per table); otherwise (re)created with the datasource and asset."""
    import great_expectations as gx

    suite.meta["fingerprint"] = hashlib.sha256(
        (CHECKPOINT_FORM + json.dumps(suite.to_json_dict(), sort_keys=True, default=str)).encode()).hexdigest()
    name = f"{suite.name}.load"
    with contextlib.suppress(Exception):  # not stored yet, or stored by another GX release
        stored = ctx.checkpoints.get(name)
        if stored.validation_definitions[0].suite.meta.get("fingerprint") == suite.meta["fingerprint"]:
            return stored
    try:
        source = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        source = ctx.data_sources.add_edulake_lake(name=DATASOURCE)
    try:
        asset = source.get_asset(table.qualified_name)
    except LookupError:
        asset = source.add_query_asset(table.qualified_name, query=VALIDATED)
    try:
        batch_definition = asset.get_batch_definition("load")
    except (KeyError, ValueError, LookupError):
        batch_definition = asset.add_batch_definition_whole_table("load")
    suite = ctx.suites.add_or_update(suite)
    vd = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite))
    return ctx.checkpoints.add_or_update(
        gx.Checkpoint(name=name, validation_definitions=[vd], actions=[],
                      result_format={"result_format": RESULT_FORMAT}))


# --- the lake's connection, lent to GX -----------------------------------------------------------
_lent_connection = None


@contextlib.contextmanager
def _lent(engine):
    """GX's datasource reads through the engine's connection while the block runs."""
    global _lent_connection
    _lent_connection = engine.con
    try:
        yield
    finally:
        _lent_connection = None


_registered = None


def _register_datasource_type():
    """Define (once) the GX datasource type over the lent connection: GX registers a datasource type
    when its class is defined, and the file context must know it before reading its config."""
    global _registered
    if _registered is not None:
        return _registered
    import sqlalchemy as sa
    from duckdb_engine import ConnectionWrapper
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    class LentConnection(ConnectionWrapper):
        """The lake's connection as GX's DBAPI connection: GX only reads; the lake owns it."""

        def begin(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def rollback(self) -> None:
            pass

        def close(self) -> None:
            pass

    class EdulakeLakeDatasource(SQLDatasource):
        """The lake engine's DuckDB connection (the relations of the load being validated)."""

        type: Literal["edulake_lake"] = "edulake_lake"
        connection_string: str = "duckdb:///:memory:"  # stands for the lent connection (get_engine)

        def get_engine(self):
            if _lent_connection is None:
                raise RuntimeError("GX datasource edulake_lake is only readable inside gx_run.validate_load")
            con = _lent_connection
            return sa.create_engine("duckdb:///:memory:", creator=lambda: LentConnection(con),
                                    poolclass=sa.pool.StaticPool)

        def get_execution_engine(self):
            return SqlAlchemyExecutionEngine(engine=self.get_engine(), create_temp_table=False)

        def test_connection(self, test_assets: bool = True) -> None:
            pass  # the relation exists only during a load

    _registered = EdulakeLakeDatasource
    return _registered

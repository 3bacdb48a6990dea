"""An incremental `edulake build` gives the warehouse a full rebuild gives.

One small lake (its own home): the bench's cut of a generated history (edulake.bench.change) is ingested as
the routine refresh and built; then the change (1% new rows and 0.5% corrected rows per feed) is ingested
and built incrementally; every published table is compared, row for row both ways, with a --full-refresh
build of the same lake. Then: what makes the next build a full one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

# published tables that record the builds themselves (lineage runs grow by design), and columns that say
# when a build looked (the delivery figures are taken at each build)
BUILD_RECORDS = {("ops", "ops_lineage_runs"), ("ops", "ops_lineage_datasets")}
AS_OF = {("ops", "ops_delivery_status"): "checked_at"}


def _ingest(files: list[Path]) -> None:
    from edulake import settings
    from edulake.lake import pipeline

    inbox = settings.paths().inbox
    for f in files:
        (inbox / f.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, inbox / f.parent.name / f.name)
    results = pipeline.ingest_all()
    assert not [str(e) for r in results for e in r.errors]


def _build(**kw):
    from edulake import warehouse

    result = warehouse.build(**kw)
    assert result.success, [f"{n.status} {n.unique_id}: {n.message}" for n in result.problems] or result.error
    return result


def _tables(con, db: str) -> list[tuple[str, str]]:
    return con.execute("select schema_name, table_name from duckdb_tables() where database_name = ? "
                       "order by 1, 2", [db]).fetchall()


@pytest.fixture()
def cut(tmp_path_factory):
    from edulake.bench import change
    from edulake.generate import run_generate

    sources = tmp_path_factory.mktemp("incr_sources")
    manifest = run_generate(scale=0.002, seed=7, out=sources, years=(2025, 2025), progress=False)
    deliveries, _ = change.cut(sources, tmp_path_factory.mktemp("incr_cut"),
                               {name: f["rows"] for name, f in manifest["files"].items()})
    assert deliveries["change"].rows > 0
    return deliveries


def test_incremental_build_equals_full_refresh(cut, edulake_home, tmp_path, monkeypatch):
    from deltalake import DeltaTable

    from edulake import settings
    from edulake.lake import tables
    from edulake.warehouse import incremental, runner

    monkeypatch.setenv("EDULAKE_PSEUDONYM_KEY", "test-key-not-secret-" + "0" * 44)
    _ingest(cut["backfill"].files + cut["refresh"].files)
    first = _build()
    assert first.mode == "full" and "no builder state" in first.mode_reason
    p = settings.paths()
    record = json.loads(incremental.record_path(p).read_text(encoding="utf-8"))
    assert set(record["silver"]) >= {"exam_score", "fitness_test", "student_enrollment"}

    _ingest(cut["change"].files)
    # the rows written since the build, read from the Delta logs' commit metrics, are the silver rows whose
    # load time is after its lock: what the incremental models recompute
    written, held = incremental.rows_written_since(p, record["silver"])
    since = record["lock_taken_at"]
    loaded = sum(tables.query(t, f"select count(*) as n from t where _loaded_at >= '{since}Z'")[0]["n"]
                 for t in p.silver.iterdir() if t.is_dir())
    assert written == loaded and 0 < written < held * incremental.FULL_BUILD_SHARE, (written, loaded, held)
    with monkeypatch.context() as m:  # a delivery that is most of the lake is built in full
        m.setattr(incremental, "FULL_BUILD_SHARE", written / held / 2)
        plan = incremental.plan(p, runner.builder_state(p), False)
        assert plan.full and f"{written:,} of silver's {held:,} rows" in plan.reason, plan.reason
    change = _build()
    assert change.mode == "incremental", change.mode_reason
    # seeds are not loaded again; the incremental models ran
    ran = {n.unique_id.split(".")[-1] for n in change.nodes}
    assert not any(n.unique_id.startswith("seed.") for n in change.nodes)
    assert {"fct_exam_score", "int_health__fitness_item_scores", "dim_student"} <= ran
    incremental_copy = tmp_path / "incremental.duckdb"
    shutil.copy2(p.warehouse, incremental_copy)

    full = _build(full_refresh=True)
    assert full.mode == "full" and full.mode_reason == "--full-refresh"

    con = duckdb.connect()
    con.execute(f"attach '{incremental_copy}' as inc (read_only)")
    con.execute(f"attach '{p.warehouse}' as full_ (read_only)")
    tables = _tables(con, "full_")
    assert tables == _tables(con, "inc")
    compared = 0
    for schema, table in tables:
        if (schema, table) in BUILD_RECORDS:
            continue
        columns = f"* exclude ({AS_OF[schema, table]})" if (schema, table) in AS_OF else "*"
        for a, b in (("inc", "full_"), ("full_", "inc")):
            extra = con.execute(f'select count(*) from (select {columns} from {a}."{schema}"."{table}" except all '
                                f'select {columns} from {b}."{schema}"."{table}")').fetchone()[0]
            assert extra == 0, f"{schema}.{table}: {extra} rows of the {a} build not in the other"
        compared += 1
    assert compared > 40
    con.close()

    # what makes the next build a full one
    state = runner.builder_state(p)
    assert not incremental.plan(p, state, False).full
    with monkeypatch.context() as m:
        m.setattr(incremental, "fingerprint", lambda: "another standard version")
        assert "changed since the last build" in incremental.plan(p, state, False).reason
    DeltaTable(str(p.silver / "exam_score")).delete("term = 1")  # rows gone from silver: keys cannot follow
    plan = incremental.plan(p, state, False)
    assert plan.full and "silver/exam_score" in plan.reason and "DELETE" in plan.reason, plan.reason
    incremental.forget(p)
    assert incremental.plan(p, state, False).reason == "no readable record of the previous build"

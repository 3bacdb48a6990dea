"""The holistic database built by dbt on DuckDB from the ingested lake (shared `built_home`).

Covers: a green `dbt build` (models, contracts, unit and data tests), only reader schemas published,
`dbt source freshness` and the cockpit's freshness mart agreeing, facts reconciling with silver,
no identifier in clear anywhere in the published warehouse, atomic publishing (a reader keeps its
snapshot, a failed build publishes nothing), snapshot history kept across builds, the CLI and docs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import duckdb
import pytest
from click.testing import CliRunner

from edulake import duckdb_extensions, settings, standard
from edulake.warehouse import codegen, freshness, publish, runner

pytestmark = pytest.mark.spark

FACTS = {  # core fact -> silver entity it must reconcile with
    "fct_enrollment": "student_enrollment",
    "fct_enrollment_status_change": "student_status_change",
    "fct_fitness_test": "fitness_test",
    "fct_vision_screening": "vision_screening",
    "fct_exam_score": "exam_score",
    "fct_school_condition": "school_condition",
    "fct_birth": "birth",
}
RESTRICTED_SCHEMAS: set[str] = set()  # the warehouse has none: identifiers stay in the lake's restricted zone
ID_NUMBER = re.compile(r"\d{17}[0-9X]")
STUDENT_NO = re.compile(r"[GJ]\d{17}[0-9X]|L\d{18}")


def open_warehouse(read_only=True) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.paths().warehouse), read_only=read_only)


def silver_count(entity: str) -> int:
    con = duckdb.connect()
    duckdb_extensions.load(con, "delta")
    return con.execute(f"select count(*) from delta_scan('{settings.paths().silver / entity}')").fetchone()[0]


def last_build() -> dict:
    return json.loads((settings.paths().warehouse_dir / "last_build.json").read_text(encoding="utf-8"))


def last_run_results() -> dict:
    """dbt's run_results.json of the home's last build."""
    return json.loads((settings.paths().warehouse_dir / "dbt/target/run_results.json").read_text(encoding="utf-8"))


def test_build_is_green_and_published(built_home):
    summary = last_build()
    assert summary["success"] and summary["fail"] == 0 and summary["error"] == 0, summary["problems"]
    run = last_run_results()
    kinds = {r["unique_id"].split(".")[0] for r in run["results"]}
    assert {"model", "seed", "snapshot", "test", "unit_test"} <= kinds
    assert settings.paths().warehouse.exists()
    assert not list(settings.paths().warehouse_dir.glob(".edulake.build*"))
    with open_warehouse() as con:
        core = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'core'").fetchall()}
    assert {"dim_student", "dim_school", "dim_district", "dim_grade", "dim_date", "dim_exam", "dim_subject",
            "fct_enrollment", "fct_enrollment_status_change", "fct_fitness_test", "fct_vision_screening",
            "fct_exam_score", "fct_school_condition", "fct_enrollment_census"} <= core


# what readers may see; everything else dbt builds (silver views, staging, intermediate, audit) stays in the
# builder's own file
PUBLISHED_SCHEMAS = {"core", "health", "inspection", "enrollment", "cockpit", "reference", "history", "ops"}


def test_only_reader_schemas_are_published(built_home):
    assert set(publish.reader_schemas()) == PUBLISHED_SCHEMAS
    with open_warehouse() as con:
        schemas = {r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        views = con.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall()
        token_columns = con.execute(
            "select table_schema, table_name from information_schema.columns where column_name = 'student_token'"
        ).fetchall()
        empty_schemas = {r[0] for r in con.execute(
            "select schema_name from duckdb_schemas() where not internal").fetchall()} - PUBLISHED_SCHEMAS
    assert schemas == PUBLISHED_SCHEMAS
    assert views == []  # the published file stands alone: no views over the lake
    assert token_columns == []  # e.g. intermediate.int_student__school_years is not published
    assert empty_schemas <= {"main"}
    # the builder's own file holds the rest, and no copy of a reader schema
    state = duckdb.connect(str(runner.builder_state(settings.paths())), read_only=True)
    try:
        private = {r[0] for r in state.execute("select distinct schema_name from duckdb_tables() union "
                                               "select distinct schema_name from duckdb_views() where not internal")
                   .fetchall()}
    finally:
        state.close()
    assert {"intermediate", "staging", "silver"} <= private
    assert not private & PUBLISHED_SCHEMAS


def test_source_freshness_and_the_cockpit_read_the_same_figures(built_home):
    """`dbt source freshness` (run by the build DAG) records every silver table in ops/source_freshness;
    the published cockpit_source_freshness shows the same max(_loaded_at) under the same policy."""
    from edulake.orchestration import deltaread

    results = freshness.check()
    assert {r.source_table for r in results} == set(FACTS.values()) | {"district", "school"}
    assert all(r.status == "pass" for r in results), [(r.source_table, r.status, r.message) for r in results]
    recorded = deltaread.query(freshness.ops_path(), "select source_table, status from t", name="t")
    assert {r["source_table"] for r in recorded} >= {r.source_table for r in results}
    with open_warehouse() as con:
        mart = {r[0]: r[1:] for r in con.execute(
            "select source_table, last_loaded_at, warn_after_days, error_after_days, freshness_status"
            " from cockpit.cockpit_source_freshness").fetchall()}
    assert set(mart) == {r.source_table for r in results}
    for r in results:
        loaded_at, warn_days, error_days, status = mart[r.source_table]
        assert loaded_at.replace(tzinfo=None) == r.max_loaded_at.astimezone(dt.UTC).replace(tzinfo=None), r
        assert (f"{warn_days:g} day", f"{error_days:g} day") == (r.warn_after, r.error_after)
        assert status == "正常"


def test_core_facts_reconcile_with_silver(built_home):
    with open_warehouse() as con:
        for fact, entity in FACTS.items():
            rows = con.execute(f"select count(*) from core.{fact}").fetchone()[0]
            assert rows == silver_count(entity), fact
            assert rows > 0, fact
        # the census figures add up to the enrolled students of the roster
        enrolled, census = con.execute(
            "select (select count(*) from core.fct_enrollment where is_enrolled),"
            " (select sum(students_as_corrected) from core.fct_enrollment_census)").fetchone()
    assert enrolled == census


def test_every_district_code_and_grade_conforms(built_home):
    std = standard.load()
    with open_warehouse() as con:
        districts = {r[0] for r in con.execute("select district_code from core.dim_district").fetchall()}
        grades = {r[0] for r in con.execute("select grade from core.dim_grade").fetchall()}
    assert districts == std.codes("district").codes
    assert grades == {int(c) for c in std.codes("grade").codes}


def _identity_values() -> set[str]:
    """Clear values of every direct identifier (学籍号, 身份证号, 姓名, phone) from the restricted vault."""
    from edulake.lake import identity, tables

    identifiers = {f.name for t in standard.load().tables() for f in t.fields if f.privacy == "identifier"}
    columns = [c for c in identity.columns() if c in identifiers]
    rows = tables.query(identity.path(), f"SELECT {', '.join(columns)} FROM t")
    return {v for row in rows for v in row.values() if v}


def test_no_identifier_in_clear_outside_restricted_schemas(built_home):
    vault_values = _identity_values()
    assert vault_values, "the identity vault should hold the clear identifiers of the ingested rows"
    token_columns = {f.silver_name for t in standard.load().tables() for f in t.fields if f.treatment == "hash"}
    leaks = []
    with open_warehouse() as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'").fetchall()
        assert columns
        for schema, table, column in columns:
            if schema in RESTRICTED_SCHEMAS:
                continue
            values = {r[0] for r in con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()}
            hits = {v for v in values - {None}
                    if v in vault_values or ID_NUMBER.fullmatch(v) or STUDENT_NO.fullmatch(v)}
            if hits:
                leaks.append((schema, table, column, sorted(hits)[:3]))
        core_columns = {r[0] for r in con.execute(
            "select distinct column_name from information_schema.columns where table_schema = 'core'").fetchall()}
    assert not leaks, leaks
    # the core model carries surrogate keys only, not even the pseudonym token
    assert not (core_columns & token_columns)


def test_rebuild_keeps_readers_and_history_and_generates_docs(built_home):
    p = settings.paths()
    with open_warehouse() as reader:
        before = reader.execute(
            "select census_key, first_reported_at from core.fct_enrollment_census order by 1").fetchall()
        result = CliRunner().invoke(
            _cli(), ["build", "--select", "dim_grade snap_enrollment_census+", "--docs"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "已发布" in result.output
        # the open reader still reads its (old) file, undisturbed by the rename
        assert reader.execute("select count(*) from core.dim_grade").fetchone()[0] == 12
    with open_warehouse() as con:
        after = con.execute("select census_key, first_reported_at from core.fct_enrollment_census order by 1").fetchall()
        versions = con.execute("select count(*), count(distinct census_key) from history.snap_enrollment_census").fetchone()
    assert after == before  # history carried over: nothing re-reported, first_reported_at unchanged
    assert versions[0] == versions[1]  # an unchanged figure adds no version
    catalog = json.loads((p.warehouse_dir / "dbt/target/catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((p.warehouse_dir / "dbt/target/manifest.json").read_text(encoding="utf-8"))
    assert "model.edulake.fct_fitness_test" in catalog["nodes"]
    height = manifest["nodes"]["model.edulake.fct_fitness_test"]["columns"]["height_cm"]["description"]
    assert "身高" in height and "Height" in height  # pulled from schemas/ via the generated doc blocks


def copy_silver_and_warehouse(home) -> None:
    """The built home's silver and published warehouse copied into `home`, to damage there."""
    src = settings.paths()
    shutil.copytree(src.silver, settings.Paths(home).silver)
    settings.Paths(home).warehouse_dir.mkdir(parents=True)
    shutil.copy2(src.warehouse, settings.Paths(home).warehouse)


def test_failed_build_publishes_nothing(built_home, tmp_path, monkeypatch):
    """A build that fails (here: a silver table's Delta log is corrupt) leaves the published warehouse
    untouched. (A silver table not loaded yet is no failure: an empty view stands in for it.)"""
    home = tmp_path / "home"
    copy_silver_and_warehouse(home)
    corrupt = settings.Paths(home).silver / "exam_score"
    shutil.rmtree(corrupt)
    (corrupt / "_delta_log").mkdir(parents=True)
    (corrupt / "_delta_log" / "00000000000000000000.json").write_text("not a Delta commit\n", encoding="utf-8")
    monkeypatch.setenv("EDULAKE_HOME", str(home))
    published = settings.paths().warehouse.read_bytes()
    result = runner.build(select="dim_grade")
    assert not result.success
    assert settings.paths().warehouse.read_bytes() == published
    assert not list(settings.paths().warehouse_dir.glob(".edulake.build*"))


def test_a_null_required_column_fails_its_staging_test_naming_the_column(built_home, tmp_path, monkeypatch):
    """A staging model's required columns are tested by one node (tests/generic/not_null_columns.sql, generated
    from schemas/): a silver row with a required column null fails it, and the stored failures name the column."""
    import deltalake
    import pyarrow as pa

    home = tmp_path / "home"
    copy_silver_and_warehouse(home)
    school = settings.Paths(home).silver / "school"
    rows = deltalake.DeltaTable(school).to_pyarrow_table()
    at = rows.schema.get_field_index("school_name")
    rows = rows.set_column(at, rows.schema.field(at), pa.array([None] + rows["school_name"].to_pylist()[1:],
                                                               rows.schema.field(at).type))
    deltalake.write_deltalake(school, rows, mode="overwrite")
    monkeypatch.setenv("EDULAKE_HOME", str(home))
    result = runner.build(select="stg_reference__school")
    assert not result.success
    assert [(n.unique_id.split(".")[2].startswith("not_null_columns_stg_reference__school"), n.failures)
            for n in result.problems] == [(True, 1)]
    run = last_run_results()
    [stored] = [r["relation_name"] for r in run["results"] if r["unique_id"] == result.problems[0].unique_id]
    con = duckdb.connect()
    con.execute(f"attach '{result.kept_failed}' as edulake (read_only)")  # the catalog dbt names it by
    assert con.execute(f"select null_columns, null_rows from {stored}").fetchall() == [("school_name", 1)]


def test_generated_dbt_files_match_the_standard():
    assert codegen.stale() == [], "run `uv run edulake build --codegen` and commit the result"


def _cli():
    from edulake.cli import main

    return main


@pytest.mark.parametrize("setting", [None, "1500MB"])
def test_dbt_runs_in_a_bounded_duckdb_pool(built_home, tmp_path, monkeypatch, setting):
    """dbt's DuckDB gets EDULAKE_DBT_MEMORY as its memory_limit (default profiles.BUILD_MEMORY_LIMIT), asked of dbt
    itself through the profile a build writes: unbounded, DuckDB would take 80% of the machine (benchmarks/README)."""
    from edulake.warehouse import profiles

    if setting is None:
        monkeypatch.delenv("EDULAKE_DBT_MEMORY", raising=False)
    else:
        monkeypatch.setenv("EDULAKE_DBT_MEMORY", setting)
    expected = duckdb.connect(config={"memory_limit": setting or profiles.BUILD_MEMORY_LIMIT}).sql(
        "SELECT current_setting('memory_limit')").fetchone()[0]
    p = settings.paths()
    folder = profiles.write(p, ":memory:", threads=1, folder=tmp_path / "profile")
    runner.release_duckdb()
    try:
        result = runner.invoke(runner.dbt_args("show", p, folder, "duckdb", quiet=True, extra=[
            "--inline", "select current_setting('memory_limit') as pool", "--output", "json"]), None)
    finally:
        runner.release_duckdb()
    assert result.success, result.exception
    (shown,) = result.result.results
    assert [row[0] for row in shown.agate_table.rows] == [expected]
    assert expected != duckdb.connect().sql("SELECT current_setting('memory_limit')").fetchone()[0]

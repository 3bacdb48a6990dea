"""The holistic database built by dbt-spark (`edulake build --target spark`) agrees with the DuckDB build.

The same dbt project, over the same silver Delta tables (the session's generated lake), is built once on
DuckDB (the shared `built_home`) and once on Spark in the run's one SparkSession (the `spark` fixture:
dbt-spark's session method getOrCreate()s it). Every table the marts schemas publish — the core
dimensions and facts, every app mart (health, inspection, enrollment, cockpit) and the seeds they carry —
must hold the same rows on both engines: same columns, same types, same values (doubles to 6 decimals).
Both sides are read with DuckDB: the published warehouse file, and the Spark build's Delta tables by path.

To keep CI time down, Spark builds only what the core facts and the app marts need (SPARK_SELECTION: the
dimensions no app mart reads, e.g. dim_date, are left out) and runs models, seeds and the snapshot, not the
dbt data and unit tests: they pass on the DuckDB build, and this comparison is stricter (every row). Run
alone it costs the shared ingest and DuckDB build (~1.5 min) plus the Spark build (README: measured time).
"""

from __future__ import annotations

import duckdb
import pytest

from edulake import duckdb_extensions, permissions, settings, warehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MART_SCHEMAS = ("core", "health", "inspection", "enrollment", "cockpit", "reference")
APP_SCHEMAS = ("health", "inspection", "enrollment", "cockpit")
# the core facts, every app mart and everything upstream of them
SPARK_SELECTION = "+path:models/marts/core/fct_* " + " ".join(f"+marts.{app}" for app in APP_SCHEMAS)
# Columns that are "as of this build" by definition: two builds minutes apart differ, whatever the engine.
AS_OF_BUILD = {
    ("cockpit", "cockpit_source_freshness"): {"age_days"},  # now() - last load
    ("core", "fct_enrollment_census"): {"first_reported_at"},  # the snapshot's dbt_valid_from: the build time
}
# Delta has one timestamp type (instants); DuckDB reads it as TIMESTAMP WITH TIME ZONE.
SAME_TYPE = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}
EXCLUDE_TESTS = "resource_type:test resource_type:unit_test"


@pytest.fixture(scope="module")
def spark_built(built_home, spark):
    result = warehouse.build(target="spark", select=SPARK_SELECTION, exclude=EXCLUDE_TESTS)
    assert result.success, [f"{n.status} {n.unique_id}: {n.message[:300]}" for n in result.problems] or result.error
    return result


@pytest.fixture(scope="module")
def con(spark_built):
    p = settings.paths()
    connection = duckdb.connect()
    duckdb_extensions.load(connection, "delta")
    connection.execute(f"attach '{p.warehouse}' as published (read_only)")
    yield connection
    connection.close()


def published_tables(con) -> list[tuple[str, str]]:
    schemas = ", ".join(f"'{s}'" for s in MART_SCHEMAS)
    return con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = 'published' and table_schema in ({schemas}) order by 1, 2").fetchall()


def columns(con, relation: str) -> list[tuple[str, str]]:
    return [(name, SAME_TYPE.get(kind, kind)) for name, kind, *_ in con.execute(f"describe select * from {relation}").fetchall()]


def comparable(name: str, kind: str) -> str:
    if kind in ("DOUBLE", "FLOAT"):
        return f"round({name}, 6) as {name}"  # the engines' float arithmetic may differ in the last bits
    if kind.startswith("TIMESTAMP"):
        return f"cast(cast({name} as timestamptz) at time zone 'UTC' as timestamp) as {name}"
    return name


def built_by_spark(schema: str, table: str) -> bool:
    return (settings.paths().spark_warehouse / schema / table / "_delta_log").is_dir()


def required_tables(con) -> list[tuple[str, str]]:
    """The core facts and every app mart (and the seeds the app schemas carry)."""
    return [(s, t) for s, t in published_tables(con) if s in APP_SCHEMAS or (s == "core" and t.startswith("fct_"))]


def test_spark_build_writes_the_core_facts_and_every_app_mart_as_delta(spark_built, con):
    p = settings.paths()
    assert spark_built.published == p.spark_warehouse
    required = required_tables(con)
    assert {s for s, _ in required} == {"core", *APP_SCHEMAS}
    missing = [f"{s}.{t}" for s, t in required if not built_by_spark(s, t)]
    assert not missing, f"not written by the Spark build: {missing}"
    assert not permissions.exposed(p.spark_warehouse), "the Spark warehouse must be owner-only"


def test_spark_and_duckdb_builds_agree_row_for_row(spark_built, con):
    """Every published table the Spark build wrote (the core facts, every app mart, the dimensions and seeds
    they read) holds the same rows as the DuckDB build's."""
    p = settings.paths()
    disagreements = []
    compared = [(s, t) for s, t in published_tables(con) if built_by_spark(s, t)]
    assert set(required_tables(con)) <= set(compared)
    for schema, table in compared:
        duck = f"published.{schema}.{table}"
        spark = f"delta_scan('{p.spark_warehouse / schema / table}')"
        duck_cols, spark_cols = columns(con, duck), columns(con, spark)
        if duck_cols != spark_cols:
            disagreements.append(f"{schema}.{table}: columns {duck_cols} != {spark_cols}")
            continue
        skip = AS_OF_BUILD.get((schema, table), set())
        select = ", ".join(comparable(n, k) for n, k in duck_cols if n not in skip)
        counts = con.execute(f"select (select count(*) from {duck}), (select count(*) from {spark})").fetchone()
        only_duck = con.execute(f"select count(*) from (select {select} from {duck} except all "
                                f"select {select} from {spark})").fetchone()[0]
        only_spark = con.execute(f"select count(*) from (select {select} from {spark} except all "
                                 f"select {select} from {duck})").fetchone()[0]
        if counts[0] != counts[1] or only_duck or only_spark:
            sample = con.execute(f"(select 'duckdb' as engine, {select} from {duck} except all "
                                 f"select 'duckdb', {select} from {spark}) union all "
                                 f"(select 'spark', {select} from {spark} except all "
                                 f"select 'spark', {select} from {duck}) limit 4").fetchall()
            disagreements.append(f"{schema}.{table}: rows duckdb {counts[0]} spark {counts[1]}, "
                                 f"only in duckdb {only_duck}, only in spark {only_spark}; e.g. {sample}")
    assert not disagreements, "\n".join(disagreements)


def test_the_spark_build_emits_its_lineage(spark_built):
    """dbt-spark's run is in ops/lineage as well (openlineage-dbt over its artifacts): each model a COMPLETE
    run from the lake's silver tables to Delta tables of the Spark warehouse, with row counts, apart from the
    published DuckDB warehouse's datasets (which the dashboards read)."""
    from edulake.lineage import names, store

    runs = store.latest_runs("integration = 'DBT' AND event_type = 'COMPLETE'")
    spark_runs = [r for r in runs if any(o["namespace"] == names.SPARK_WAREHOUSE for o in r["outputs"])]
    written = {o["name"]: o["rows"] for r in spark_runs for o in r["outputs"]}
    assert written.get("core.fct_fitness_test") == con_rows("core.fct_fitness_test"), sorted(written)
    upstream = {i["name"] for r in spark_runs for i in r["inputs"] if i["namespace"] == names.LAKE}
    assert "silver/fitness_test" in upstream, sorted(upstream)
    assert not any(o["namespace"] == names.SUPERSET for r in spark_runs for o in r["outputs"])


def con_rows(relation: str) -> int:
    schema, table = relation.split(".")
    with duckdb.connect() as c:
        duckdb_extensions.load(c, "delta")
        return c.execute(f"select count(*) from delta_scan('{settings.paths().spark_warehouse / schema / table}')"
                         ).fetchone()[0]

"""The two lake engines give the same lake: the same generated sources, defects and all, ingested by the
embedded engine (DuckDB + delta-rs) and by Spark (delta-spark) into homes of their own, give identical
bronze, silver, quarantine, identity, ledger and ops/quality, row for row (load times aside); and the tables
each engine wrote are read by the other engine's readers (DuckDB delta_scan, delta-rs, delta-spark)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from edulake import settings
from edulake.lake import pipeline, tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]
# one school year of two districts (every feed, defects included), the city-wide exams and every district's
# facility file of that year (the facility batch rule wants all districts)
YEAR, DISTRICTS = "2025", ("110101", "110108")


def subset(name: str, feed: str) -> bool:
    if feed in ("reference", "facility"):
        return feed == "reference" or YEAR in name
    return (YEAR in name and any(d in name for d in DISTRICTS)) or name in ("考试成绩_ZK-2026.csv", "考试成绩_GK-2026.csv")


@pytest.fixture(scope="module")
def homes(generated_sources, spark, tmp_path_factory) -> dict[str, Path]:
    out = {}
    for engine in ("duckdb", "spark"):
        home = tmp_path_factory.mktemp(f"parity_{engine}")
        inbox = settings.Paths(home).inbox
        for feed_dir in (d for d in Path(generated_sources.out).iterdir() if d.is_dir()):
            for f in feed_dir.iterdir():
                if subset(f.name, feed_dir.name):
                    (inbox / feed_dir.name).mkdir(parents=True, exist_ok=True)
                    shutil.copy(f, inbox / feed_dir.name / f.name)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EDULAKE_HOME", str(home))
            results = pipeline.ingest_all(engine)
        assert all(r.entries for r in results), engine
        out[engine] = home
    return out


def test_both_engines_write_the_same_tables_row_for_row(homes):
    duck, spark = support.snapshot(homes["duckdb"]), support.snapshot(homes["spark"])
    assert set(duck) == set(spark)
    assert {"silver/fitness_test", "restricted/identity", "ops/batches", "ops/quality"} <= set(duck)
    assert any(name.startswith("restricted/quarantine/") and rows for name, rows in duck.items())
    different = {name: (len(duck[name]), len(spark[name])) for name in duck if duck[name] != spark[name]}
    assert not different, different


def test_both_engines_emit_the_same_lineage(homes):
    """Each engine's feed ingests are OpenLineage runs naming the same files (checksums) in and the same tables
    out with the same row counts; only the processing_engine facet says which engine ran."""
    from edulake.lineage import store

    def lineage(home):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("EDULAKE_HOME", str(home))
            rows = store.query("SELECT job_name, event FROM lineage WHERE integration = 'EDULAKE' "
                               "AND event_type = 'COMPLETE'")
        out, engines = {}, set()
        for r in rows:
            event = json.loads(r["event"])
            engines.add(event["run"]["facets"]["processing_engine"]["name"])
            out[r["job_name"]] = (
                sorted((d["name"], d["facets"]["version"]["datasetVersion"]) for d in event["inputs"]),
                sorted((d["name"], d["outputFacets"]["outputStatistics"]["rowCount"]) for d in event["outputs"]))
        return out, engines

    (duck, duck_engines), (spark, spark_engines) = lineage(homes["duckdb"]), lineage(homes["spark"])
    assert duck and duck == spark
    assert (duck_engines, spark_engines) == ({"duckdb"}, {"spark"})


def test_each_engine_reads_what_the_other_wrote(homes, spark):
    from edulake.lake.engines.spark import delta

    for writer, home in homes.items():
        # bronze: the embedded engine adopts landing's rows files as its data files (tables.adopt)
        for table in (settings.Paths(home).silver / "student_enrollment", settings.Paths(home).bronze / "enrollment"):
            count = support.duck().sql(f"SELECT count(*) FROM delta_scan('{table}')").fetchone()[0]
            assert count > 0, (writer, table.name)
            assert tables.query(table, "SELECT count(*) AS n FROM t")[0]["n"] == count, (writer, table.name)  # delta-rs
            assert delta.read(spark, table).count() == count, (writer, table.name)  # delta-spark
        raw = delta.read(spark, settings.Paths(home).bronze / "enrollment").selectExpr("_raw['学籍号'] AS v")
        assert raw.where("v IS NOT NULL").count() > 0, writer  # the raw map reads as a map
    # no table either engine wrote needs a reader feature delta-rs lacks (deletion vectors)
    for home in homes.values():
        for name, path in support.lake_tables(home, with_run_records=True).items():
            from deltalake import DeltaTable

            assert "deletionVectors" not in (DeltaTable(str(path)).protocol().reader_features or []), name

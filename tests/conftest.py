"""Shared fixtures. The lake runs on the default engine (DuckDB); one Spark session per test run for the
Spark engine's tests (starting one costs ~10-15 s on 2 cores)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# pyspark.sql.connect (imported by GX) takes a __main__ without __spec__ or __file__ for a run of its own doctests
# and exits the process when grpc is missing: pytest-xdist's workers (make test) have such a __main__
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest worker>"

# Five school years: enough history for the 学位预测 backtest (each year forecast from the ones
# before it) while keeping the shared ingest affordable in CI (files, not rows, dominate its cost).
TEST_YEARS = (2021, 2025)


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    """An EDULAKE_HOME for the whole run; tests that need isolation use `edulake_home`."""
    home = tmp_path_factory.mktemp("edulake_home")
    os.environ["EDULAKE_HOME"] = str(home)
    os.environ.setdefault("EDULAKE_PSEUDONYM_KEY", "test-key-not-secret-" + "0" * 44)
    return home


@pytest.fixture()
def edulake_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EDULAKE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def spark(session_home):
    """The one SparkSession of the test run (real Spark, real Delta jars)."""
    from edulake.lake.engines.spark.session import get_spark

    session = get_spark("edulake-tests")
    yield session
    session.stop()


@dataclass
class GeneratedLake:
    """The session's lake: the generator's sources, WITH their defects, ingested once per run."""

    home: Path
    manifest: dict
    results: list

    @property
    def paths(self):
        from edulake import settings

        return settings.Paths(self.home)


@pytest.fixture(scope="session")
def generated_lake(session_home, generated_sources) -> GeneratedLake:
    """Every feed of `generated_sources` through ingest_all into the session home. The lake and quality
    tests check it against the generator's manifest; the warehouse, marts and cockpit tests build on
    it (the holistic database is built from what the lake accepted, quarantined rows and all)."""
    import shutil

    from edulake import settings
    from edulake.lake import pipeline

    inbox = settings.Paths(session_home).inbox
    for feed_dir in (d for d in Path(generated_sources.out).iterdir() if d.is_dir()):
        shutil.copytree(feed_dir, inbox / feed_dir.name, dirs_exist_ok=True)
    results = pipeline.ingest_all()  # the default engine (DuckDB); the Spark engine is parity-tested
    return GeneratedLake(session_home, generated_sources.manifest, results)


@pytest.fixture(scope="session")
def ingested_home(generated_lake) -> Path:
    """The session home with the generated lake, every batch loaded."""
    problems = [str(e) for r in generated_lake.results for e in r.errors]
    assert not problems, problems
    return generated_lake.home


@pytest.fixture(scope="session")
def built_home(ingested_home) -> Path:
    """ingested_home plus one `edulake.warehouse.build()` (published warehouse/edulake.duckdb);
    marts, Airflow and Superset tests share this one build per run."""
    from edulake import warehouse

    result = warehouse.build()
    assert result.success, [f"{n.status} {n.unique_id}: {n.message}" for n in result.problems] or result.error
    return ingested_home


class GeneratedSources(tuple):
    """(out dir, manifest) of one generator run; `.out` is the folder (what ingested_home copies)."""

    @property
    def out(self) -> Path:
        return self[0]

    @property
    def manifest(self) -> dict:
        return self[1]


@pytest.fixture(scope="session")
def generated_sources(tmp_path_factory) -> GeneratedSources:
    """The generator at test scale (0.002, seed 7) with the default defect rate: (dir, manifest)."""
    from edulake.generate import run_generate

    out = tmp_path_factory.mktemp("generated_sources")
    return GeneratedSources((out, run_generate(scale=0.002, seed=7, out=out, years=TEST_YEARS, progress=False)))


@pytest.fixture(scope="session")
def clean_sources(tmp_path_factory) -> GeneratedSources:
    """The same, without defects (defect_rate=0): every row satisfies the standard."""
    from edulake.generate import run_generate

    out = tmp_path_factory.mktemp("clean_sources")
    return GeneratedSources((out, run_generate(scale=0.002, seed=7, out=out, years=TEST_YEARS, defect_rate=0, progress=False)))

"""Fixtures of the fault-and-abuse suite, and the hook that writes its figures: at the end of a session that
ran any of its tests, the sections they recorded are merged into docs/reliability.json and
docs/reliability.md is rendered from it (tests/reliability/render.py)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as support  # noqa: E402

_STARTED = [time.monotonic()]


def pytest_sessionstart(session):
    _STARTED[0] = time.monotonic()


def pytest_sessionfinish(session, exitstatus):
    import resource

    ours = [i for i in session.items if "tests/reliability/" in str(i.path)]
    whole = (all(Path(a).resolve() == Path(__file__).resolve().parent for a in session.config.args)
             and not session.config.option.markexpr and not session.config.option.keyword)  # nothing deselected
    worker = hasattr(session.config, "workerinput")  # a pytest-xdist worker's clock and CPU are its share only
    if support._recorded and whole and len(ours) == len(session.items) and not worker:  # the whole suite alone
        cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for f in ("ru_utime", "ru_stime"))
        support.record("session", tests=len(ours), failed=session.testsfailed, wall_seconds=round(
            time.monotonic() - _STARTED[0]), cpu_seconds=round(cpu))
    with support.results_lock():
        if support.flush():
            import render

            render.write()


@pytest.fixture(scope="session")
def fault_sources(tmp_path_factory) -> Path:
    """The generator's sources at the suite's tiny scale, one school year, defects included."""
    from edulake.generate import run_generate

    out = tmp_path_factory.mktemp("fault_sources")
    run_generate(scale=support.SCALE, seed=support.SEED, out=out, years=support.YEARS, progress=False)
    return out


def add_inbox(home: Path, sources: Path, feed: str, names: list[str] | None = None) -> None:
    dest = home / "inbox" / feed
    dest.mkdir(parents=True, exist_ok=True)
    for p in sorted((sources / feed).iterdir()):
        if names is None or p.name in names:
            shutil.copy(p, dest / p.name)


@pytest.fixture(scope="session")
def reference_home(fault_sources, tmp_path_factory) -> Path:
    """A home with the reference feed (the school register every other feed's rules look up) ingested."""
    home = tmp_path_factory.mktemp("fault_base")
    add_inbox(home, fault_sources, "reference")
    run = support.cli(home, "ingest", "reference")
    assert run.returncode == 0, run.stderr[-3000:]
    return home


@pytest.fixture(scope="session")
def full_home(fault_sources, reference_home, tmp_path_factory) -> Path:
    """Every feed ingested (uninterrupted) and the warehouse built and published once."""
    home = support.copy_home(reference_home, tmp_path_factory.mktemp("fault_full") / "home")
    for feed in ("enrollment", "health", "exam", "facility"):
        add_inbox(home, fault_sources, feed)
    run = support.cli(home, "ingest", "--all")
    assert run.returncode == 0, run.stderr[-3000:]
    started = time.monotonic()
    build = support.cli(home, "build")
    support.TIMINGS["build"] = time.monotonic() - started
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return home


@pytest.fixture(scope="session")
def spark_subreaper():
    """Spark runs under a subreaper: a killed child's JVM is collected here, its CPU time counted."""
    with support.subreaper():
        yield


@pytest.fixture(scope="session")
def uninterrupted_spark(fault_sources, reference_home, tmp_path_factory, spark_subreaper):
    """The Spark engine's uninterrupted runs, and the DuckDB engine's of the same inbox (for parity)."""
    from test_kill_anywhere import PLANS, Plan, measure_uninterrupted

    started, cpu = time.monotonic(), support.cpu_seconds()
    runs = measure_uninterrupted(PLANS["spark"], fault_sources, reference_home, tmp_path_factory)
    duck = measure_uninterrupted(Plan("duckdb", PLANS["spark"].feeds, 0, (1,), PLANS["spark"].files, ""),
                                 fault_sources, reference_home, tmp_path_factory)
    for feed, run in runs.items():
        run["duckdb_snapshot"] = duck[feed]["snapshot"]
    support.record("setup_spark", engine="spark", test_seconds=round(time.monotonic() - started, 1),
                   cpu_seconds=round(support.cpu_seconds() - cpu, 1))
    return runs

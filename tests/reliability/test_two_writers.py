"""Two writers at once: real `edulake` processes racing on one home.

- two `edulake ingest` of the same feed: the second waits for the first's feed lock, then finds every file
  already ingested; the lake equals one uninterrupted run's;
- three feeds ingested at the same moment: their ledger commits collide (one Delta table, ops/batches) and are
  retried: no traceback, no batch lost;
- an ingest during a build: the build holds the lake's lock exclusive, so the ingest waits for it, or, when it
  may not wait (EDULAKE_LOCK_WAIT), fails with a clear message and writes nothing;
- a build during an ingest: the same the other way round; the published warehouse stays as it was.

On the Spark engine (a Spark-written lake, the health files of the Spark kill test): two Spark ingests of the
feed at once, and a Spark ingest while a real `edulake build` (of one model, to keep it short) holds the lake.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import _support as support
import pytest
from conftest import add_inbox

from edulake import settings

CASES: list[dict] = []
SPARK_CASES: list[dict] = []
SPARK = support.ENGINE_ENV["spark"]


def no_traceback(*texts: str) -> None:
    for t in texts:
        assert "Traceback" not in t, t[-3000:]


def ledger_view(home: Path, feeds: tuple[str, ...]) -> list[tuple]:
    cols = ("batch_id", "status", "rows_received", "rows_accepted", "rows_quarantined", "rows_collapsed")
    where = " OR ".join(f"feed = '{f}'" for f in feeds)
    return sorted(tuple(getattr(r, c) for c in cols) for r in support.ledger_rows(home, where))


@pytest.fixture(scope="module", autouse=True)
def _record():
    started = time.monotonic()
    yield
    if CASES:
        support.record("writers", cases=list(CASES), test_seconds=round(time.monotonic() - started, 1))
    if SPARK_CASES:
        support.record("writers_spark", engine="spark", cases=list(SPARK_CASES),
                       test_seconds=round(sum(c.pop("seconds") for c in SPARK_CASES), 1),
                       cpu_seconds=round(sum(c.pop("cpu_seconds") for c in SPARK_CASES), 1))


@pytest.mark.slow
def test_two_ingests_of_one_feed_serialise(fault_sources, reference_home, tmp_path):
    once = support.copy_home(reference_home, tmp_path / "once")
    add_inbox(once, fault_sources, "exam")
    assert support.cli(once, "ingest", "exam").returncode == 0
    home = support.copy_home(reference_home, tmp_path / "twice")
    add_inbox(home, fault_sources, "exam")
    a, b = support.Child.start(home, "ingest", "exam"), support.Child.start(home, "ingest", "exam")
    ra, rb = a.finish(), b.finish()
    no_traceback(a.text, b.text)
    assert (ra, rb) == (0, 0), a.text[-2000:] + b.text[-2000:]
    skipped = [c for c in (a, b) if "跳过" in c.text and "落地" not in c.text]
    assert len(skipped) == 1  # one did the work, the other found every file already ingested
    assert support.snapshot(home) == support.snapshot(once)
    CASES.append({"case": "two `edulake ingest exam` at once", "outcome": "second waited for the feed lock, then "
                  "skipped every file; lake = one run's", "message": next(line for line in skipped[0].text.splitlines()
                                                                           if "跳过" in line).strip()[:200]})


@pytest.mark.slow
def test_three_feeds_at_once_lose_no_batch(full_home, reference_home, fault_sources, tmp_path):
    feeds = ("enrollment", "exam", "facility")
    home = support.copy_home(reference_home, tmp_path / "home")
    for f in feeds:
        add_inbox(home, fault_sources, f)
    children = [support.Child.start(home, "ingest", f) for f in feeds]
    codes = [c.finish() for c in children]
    no_traceback(*(c.text for c in children))
    assert codes == [0, 0, 0], [c.text[-1500:] for c in children]
    files = sum(len(list((home / "inbox" / f).iterdir())) for f in feeds)
    got = ledger_view(home, feeds)
    assert len(got) == files and got == ledger_view(full_home, feeds)
    assert all(r[2] == r[3] + r[4] + r[5] for r in got)
    CASES.append({"case": "enrollment, exam and facility ingested at the same moment", "outcome":
                  f"all {len(got)} batches loaded, ledger = sequential run's (commit conflicts retried)",
                  "message": "exit 0 ×3, no traceback"})


def lake_lock_path(home: Path) -> Path:
    return settings.Paths(home).restricted / "locks" / "lake.lock"


def wait_for_lake_lock(home: Path, pid: int, timeout: float = 120) -> None:
    lock = lake_lock_path(home)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.exists() and f"pid {pid} " in lock.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise TimeoutError("the build never took the lake's lock")


def watch_exclusive_hold(home: Path) -> tuple[dict, threading.Event]:
    """A thread trying a shared flock on the lake's lock every 10 ms until it gets one: `held_at` is when the last
    refused try began, so the exclusive holder still held the lock at or after that moment. Timed from before each
    try, it stays a true lower bound of the release however late this thread runs under load."""
    seen = {"held_at": None}
    done = threading.Event()
    fd = os.open(lake_lock_path(home), os.O_RDONLY)

    def watch() -> None:
        try:
            while True:
                began = time.monotonic()
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    seen["held_at"] = began
                    time.sleep(0.01)
                    continue
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
        finally:
            os.close(fd)
            done.set()

    threading.Thread(target=watch, daemon=True).start()
    return seen, done


@pytest.mark.slow
def test_an_ingest_during_a_build_waits_or_fails_clearly(full_home, fault_sources, tmp_path):
    home = support.copy_home(full_home, tmp_path / "home")
    (home / "inbox" / "exam" / "考试成绩_ZK-2026.csv").rename(home / "exam-later.csv")  # arrives during the build
    build = support.Child.start(home, "build")
    wait_for_lake_lock(home, build.proc.pid)
    held, released = watch_exclusive_hold(home)
    (home / "exam-later.csv").rename(home / "inbox" / "exam" / "考试成绩_ZK-2026.csv")
    impatient = support.cli(home, "ingest", "exam", EDULAKE_LOCK_WAIT="1")
    no_traceback(impatient.stderr)
    assert impatient.returncode == 1 and "a warehouse build holds the lake's lock" in impatient.stderr
    before = ledger_view(home, ("exam",))
    patient = support.Child.start(home, "ingest", "exam")
    assert build.finish() == 0, build.text[-3000:]
    assert patient.finish() == 0, patient.text[-3000:]
    assert released.wait(10) and held["held_at"] is not None
    skips = [patient.started + t for t, line in patient.lines if "跳过" in line]
    # it did its work only once the build had released the lake: after the build was last seen holding it
    assert skips and min(skips) > held["held_at"]
    assert ledger_view(home, ("exam",)) == before  # the file was ingested before: nothing new, nothing lost
    CASES.append({"case": "`edulake ingest` while `edulake build` runs", "outcome": "with EDULAKE_LOCK_WAIT=1: exit 1, "
                  "clear message; by default: waited for the build, then ran", "message":
                  impatient.stderr.strip().splitlines()[-1][:200]})


@pytest.mark.slow
def test_a_build_during_an_ingest_fails_clearly_and_publishes_nothing(full_home, tmp_path, monkeypatch):
    from edulake.lake.locks import feed_lock

    home = support.copy_home(full_home, tmp_path / "home")
    published = settings.Paths(home).warehouse
    before = published.read_bytes()
    monkeypatch.setenv("EDULAKE_HOME", str(home))
    with feed_lock("health"):  # what an ingest of health holds while it writes
        run = support.cli(home, "build", EDULAKE_LOCK_WAIT="1")
    no_traceback(run.stderr, run.stdout)
    assert run.returncode == 1 and "an ingest is writing the lake" in run.stderr
    assert published.read_bytes() == before
    CASES.append({"case": "`edulake build` while an ingest holds the lake", "outcome": "exit 1, clear message, "
                  "published warehouse unchanged", "message": run.stderr.strip().splitlines()[-1][:200]})


@pytest.mark.slow
@pytest.mark.spark
def test_two_spark_ingests_of_one_feed_serialise(uninterrupted_spark, tmp_path):
    started, cpu = time.monotonic(), support.cpu_seconds()
    ref = uninterrupted_spark["health"]
    home = support.copy_home(ref["before"], tmp_path / "twice")
    a, b = support.Child.start(home, "ingest", "health", **SPARK), support.Child.start(home, "ingest", "health", **SPARK)
    ra, rb = a.finish(), b.finish()  # each returns once its JVM has ended too
    no_traceback(a.text, b.text)
    assert (ra, rb) == (0, 0), a.text[-2000:] + b.text[-2000:]
    assert support.snapshot(home) == ref["snapshot"]  # = one uninterrupted Spark run: no batch lost or doubled
    got = ledger_view(home, ("health",))
    assert len(got) == len(list((home / "inbox" / "health").iterdir())) and all(r[1] == "loaded" for r in got)
    waited = [c for c in (a, b) if "跳过" in c.text]
    SPARK_CASES.append({
        "case": "two `edulake ingest health --engine spark` at once", "outcome": "serialised on the feed lock: "
        f"{'the second skipped the files the first had landed' if waited else 'one after the other'}; lake = one "
        f"uninterrupted Spark run's, all {len(got)} batches loaded once", "message": next(
            (line.strip() for c in waited for line in c.text.splitlines() if "跳过" in line), "exit 0 ×2, no traceback")[:200],
        "seconds": time.monotonic() - started, "cpu_seconds": support.cpu_seconds() - cpu})


@pytest.mark.slow
@pytest.mark.spark
def test_a_spark_ingest_during_a_build_waits_or_fails_clearly(uninterrupted_spark, fault_sources, tmp_path):
    started, cpu = time.monotonic(), support.cpu_seconds()
    home = support.copy_home(uninterrupted_spark["health"]["after"], tmp_path / "home")
    before = ledger_view(home, ("health",))
    build = support.Child.start(home, "build", "--select", "stg_health__fitness_test")
    wait_for_lake_lock(home, build.proc.pid)
    held, released = watch_exclusive_hold(home)
    late = "视力筛查_2025_110107.csv"  # a new delivery arrives while the build runs (not one the home holds)
    assert not (home / "inbox" / "health" / late).exists() and (fault_sources / "health" / late).exists()
    add_inbox(home, fault_sources, "health", [late])
    impatient = support.cli(home, "ingest", "health", EDULAKE_LOCK_WAIT="1", **SPARK)
    no_traceback(impatient.stderr)
    assert impatient.returncode == 1 and "a warehouse build holds the lake's lock" in impatient.stderr
    assert ledger_view(home, ("health",)) == before  # it wrote nothing
    patient = support.Child.start(home, "ingest", "health", **SPARK)
    assert build.proc.poll() is None, "the build ended before the ingests started: nothing was tested"
    assert build.finish() == 0, build.text[-3000:]
    assert patient.finish() == 0, patient.text[-3000:]
    assert released.wait(10) and held["held_at"] is not None
    no_traceback(patient.text)
    landed = [patient.started + t for t, line in patient.lines if "落地" in line]
    # it did its work only once the build had released the lake: after the build was last seen holding it
    assert landed and min(landed) > held["held_at"]
    after = ledger_view(home, ("health",))
    assert set(before) < set(after) and len(after) == len(before) + 1  # the new batch, and nothing else changed
    assert all(r[1] == "loaded" and r[2] == r[3] + r[4] + r[5] for r in after)
    assert support.readable_tables(home)
    SPARK_CASES.append({
        "case": "`edulake ingest health --engine spark` while `edulake build` runs", "outcome": "with "
        "EDULAKE_LOCK_WAIT=1: exit 1, clear message, nothing written; by default: waited for the build, then "
        "loaded the new file on Spark", "message": impatient.stderr.strip().splitlines()[-1][:200],
        "seconds": time.monotonic() - started, "cpu_seconds": support.cpu_seconds() - cpu})

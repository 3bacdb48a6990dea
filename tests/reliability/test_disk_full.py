"""Disk full: EDULAKE_HOME on a small tmpfs that fills during an ingest and during a build.

The file system is a real tmpfs mounted for the test (root and CAP_SYS_ADMIN needed: otherwise the test is
skipped, saying so). A filler file leaves a seeded share of the space the run needs, so the run fails in the
middle (landing, bronze, silver; copying the builder's state, inside dbt). Each failure must be one clear
message naming the path (no traceback); after the filler is removed the rerun converges to an uninterrupted
run, and the published warehouse stays the previous good one throughout.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import _support as support
import pytest
from conftest import add_inbox
from test_kill_anywhere import warehouse_contents

from edulake import settings

FEED = "health"
SHARES = (0.1, 0.45, 0.8)  # of the space the ingest needs, left free


@pytest.fixture()
def tmpfs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320m,mode=0700", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {run.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def used(mnt: Path) -> int:
    s = os.statvfs(mnt)
    return (s.f_blocks - s.f_bfree) * s.f_frsize


def fill(mnt: Path, leave: int) -> Path:
    s = os.statvfs(mnt)
    free = s.f_bavail * s.f_frsize
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.truncate(0)
        os.posix_fallocate(f.fileno(), 0, max(free - leave, 0))
    return filler


def clear_message(run: subprocess.CompletedProcess, home: Path) -> str:
    text = run.stderr + run.stdout
    assert "Traceback" not in text, text[-3000:]
    line = next((ln for ln in text.splitlines() if "no space left on device" in ln), None)
    assert line is not None, text[-3000:]
    assert str(home) in line, line  # it names the path
    return line.strip()


CASES: list[dict] = []
SECONDS = [0.0]  # both tests' time: they record one section


@pytest.mark.slow
def test_an_ingest_that_fills_the_disk_fails_clearly_and_converges(tmpfs, fault_sources, reference_home):
    started = time.monotonic()
    clean = support.copy_home(reference_home, tmpfs / "clean")
    add_inbox(clean, fault_sources, FEED)
    before = used(tmpfs)
    assert support.cli(clean, "ingest", FEED).returncode == 0
    need = used(tmpfs) - before
    want = support.snapshot(clean)
    shutil.rmtree(clean)
    for share in SHARES:
        home = support.copy_home(reference_home, tmpfs / "home")
        add_inbox(home, fault_sources, FEED)
        filler = fill(tmpfs, int(need * share))
        run = support.cli(home, "ingest", FEED)
        assert run.returncode == 1, (share, run.stderr[-3000:])
        message = clear_message(run, home)
        support.readable_tables(home)  # what a reader sees meanwhile reads whole
        filler.unlink()
        rerun = support.cli(home, "ingest", FEED)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        got = support.snapshot(home)
        lost, extra = support.rows_lost(want, got)
        assert got == want and (lost, extra) == (0, 0)
        CASES.append({"case": f"`edulake ingest {FEED}` with {share:.0%} of the space it needs free "
                      f"({int(need * share) // 1024} KiB of {need // 1024} KiB)", "outcome": "exit 1, clear message; "
                      "after freeing space the rerun converged", "message": message, "rows_lost": lost})
        shutil.rmtree(home)
    SECONDS[0] += time.monotonic() - started
    support.record("disk_full", cases=list(CASES), test_seconds=round(SECONDS[0], 1))


@pytest.mark.slow
def test_a_build_that_fills_the_disk_keeps_the_published_warehouse(tmpfs, full_home):
    started = time.monotonic()
    home = support.copy_home(full_home, tmpfs / "home")
    p = settings.Paths(home)
    good = hashlib.sha256(p.warehouse.read_bytes()).hexdigest()
    want = warehouse_contents(p.warehouse)
    state = p.warehouse_dir / "builder_state.duckdb"
    # a build copies the builder's state and the published file before dbt runs
    copies = state.stat().st_size + p.warehouse.stat().st_size
    for leave, where in ((state.stat().st_size // 2, "copying the builder's state"),
                         (copies + 256 * 1024, "inside dbt")):
        filler = fill(tmpfs, leave)
        run = support.cli(home, "build")
        assert run.returncode == 1, run.stdout[-3000:]
        message = clear_message(run, home)
        assert hashlib.sha256(p.warehouse.read_bytes()).hexdigest() == good
        filler.unlink()
        CASES.append({"case": f"`edulake build` with {leave // 1024} KiB free (fails {where})",
                      "outcome": "exit 1, clear message, published warehouse unchanged", "message": message})
    rerun = support.cli(home, "build")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert warehouse_contents(p.warehouse) == want
    CASES.append({"case": "`edulake build` again once space is freed", "outcome": "published, same tables and rows",
                  "message": ""})
    SECONDS[0] += time.monotonic() - started
    support.record("disk_full", cases=list(CASES), test_seconds=round(SECONDS[0], 1),
                   note="EDULAKE_HOME on a 320 MiB tmpfs mounted by the test; a preallocated filler file leaves "
                        "the stated free space.")

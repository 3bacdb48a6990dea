"""Locks between the processes that write or read the lake as a whole.

- One writer per feed: a lake step holds its feed's lock (an flock on a file in the restricted zone), so a
  second `edulake ingest` of the same feed waits for the first, then fails with a clear message if it waited
  too long (EDULAKE_LOCK_WAIT seconds, default 600). Silver entities belong to one feed, so this also makes a
  MERGE into a partition that holds nothing safe to write as an append.
- The lake lock: every lake step holds it shared (ingests of different feeds run in parallel), a warehouse
  build holds it exclusive, so a build reads one consistent state of silver (no ingest commits between two of
  its models' reads) and an ingest started during a build waits for it (and the other way round).

- The identity lock: restricted/identity is written by every feed that names students; its writer holds this
  lock from reading which tokens it already holds to its commit, so that what it appends is still new.

Every lock dies with its process (a killed run leaves no stale lock)."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from edulake import settings
from edulake.lake.errors import IngestError

WAIT_SECONDS = float(os.environ.get("EDULAKE_LOCK_WAIT", 600))


class FeedBusy(IngestError):
    """Another process holds the feed's lock (or the lake's, for a build)."""


def _wait_seconds(wait: float | None) -> float:
    if wait is not None:
        return wait
    return float(os.environ.get("EDULAKE_LOCK_WAIT", WAIT_SECONDS))


def _acquire(fd: int, mode: int, wait: float, busy) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
                raise busy(holder) from None
            time.sleep(0.2)


def _lock_file(name: str) -> int:
    folder = settings.paths().restricted / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def lake_lock(exclusive: bool, wait: float | None = None, who: str = "build"):
    """The lake as a whole: shared by lake steps, exclusive for a warehouse build (see the module's doc)."""
    fd = _lock_file("lake.lock")

    def busy(holder: str) -> FeedBusy:
        if exclusive:
            return FeedBusy("lake", "入湖进程正在写入数据湖，构建未开始 (an ingest is writing the lake; the "
                                    f"{who} waited {_wait_seconds(wait):.0f} s for it); retry when it has finished")
        return FeedBusy("lake", f"数仓构建正在读取数据湖 (a warehouse build holds the lake's lock: {holder}); "
                                f"waited {_wait_seconds(wait):.0f} s; retry when it has finished")

    try:
        _acquire(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, _wait_seconds(wait), busy)
        if exclusive:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{who}, pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _held(name: str, wait: float | None, busy):
    """Lock file `name` held exclusive (it names its holder) for the block; `busy(holder)` is raised when
    another process held it longer than the wait."""
    fd = _lock_file(name)
    try:
        _acquire(fd, fcntl.LOCK_EX, _wait_seconds(wait), busy)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(fd)


@contextmanager
def feed_lock(feed: str, wait: float | None = None):
    """The feed's writer lock, inside the lake lock held shared."""
    def busy(holder: str) -> FeedBusy:
        return FeedBusy(feed, f"另一个入湖进程正在处理该数据源 (another ingest of {feed!r} holds its "
                              f"lock: {holder}); retry when it has finished")

    with lake_lock(exclusive=False, wait=wait), _held(f"{feed}.lock", wait, busy):
        yield


@contextmanager
def identity_lock(wait: float | None = None):
    """restricted/identity's writer lock (taken inside a feed's lock; see the module's doc)."""
    def busy(holder: str) -> FeedBusy:
        return FeedBusy("identity", f"另一个入湖进程正在写入身份表 (another ingest holds restricted/identity's lock: "
                                    f"{holder}); waited {_wait_seconds(wait):.0f} s; retry when it has finished")

    with _held("identity.lock", wait, busy):
        yield

"""One writer per feed: a lake step holds its feed's lock (an flock on a file in the restricted zone), so a
second `edulake ingest` of the same feed waits for the first, then fails with a clear message if it waited too
long. The lock dies with its process (a killed run leaves no stale lock). Silver entities belong to one feed,
so this also makes a MERGE into a partition that holds nothing safe to write as an append."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager

from edulake import settings
from edulake.lake.errors import IngestError

WAIT_SECONDS = float(os.environ.get("EDULAKE_LOCK_WAIT", 600))


class FeedBusy(IngestError):
    """Another process holds the feed's lock."""


@contextmanager
def feed_lock(feed: str, wait: float | None = None):
    folder = settings.paths().restricted / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{feed}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "?"
                    raise FeedBusy(feed, f"另一个入湖进程正在处理该数据源 (another ingest of {feed!r} holds its "
                                         f"lock: {holder}); retry when it has finished") from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock

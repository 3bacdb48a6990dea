"""Peak resident memory of a process tree (a stage's Python process and its JVM), sampled."""

from __future__ import annotations

import threading
import time

import psutil

INTERVAL_S = 0.1


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class PeakSampler:
    """Samples the tree of `pid` every INTERVAL_S until stopped; `.peak` is the largest sum seen,
    `.samples` every (epoch seconds, bytes) seen (to split the peak by the steps of one process)."""

    def __init__(self, pid: int):
        self._proc = psutil.Process(pid)
        self._stop = threading.Event()
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = tree_rss(self._proc)
            except psutil.NoSuchProcess:
                return
            self.peak = max(self.peak, rss)
            self.samples.append((time.time(), rss))
            self._stop.wait(INTERVAL_S)


def peak_between(samples: list[tuple[float, int]], start: float, end: float) -> int:
    """The largest sample taken in [start, end] (or the nearest one before, for a very short step)."""
    inside = [rss for t, rss in samples if start <= t <= end]
    if inside:
        return max(inside)
    before = [rss for t, rss in samples if t <= end]
    return before[-1] if before else 0

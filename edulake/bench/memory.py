"""Peak resident memory of a process tree (a stage's Python process and its JVM), sampled."""

from __future__ import annotations

import threading

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
    """Samples the tree of `pid` every INTERVAL_S until stopped; `.peak` is the largest sum seen."""

    def __init__(self, pid: int):
        self._proc = psutil.Process(pid)
        self._stop = threading.Event()
        self.peak = 0
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
                self.peak = max(self.peak, tree_rss(self._proc))
            except psutil.NoSuchProcess:
                return
            self._stop.wait(INTERVAL_S)

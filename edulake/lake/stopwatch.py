"""Seconds spent per (feed, phase) in this process, for the benchmark's per-feed figures.

Silver's load records its two phases here: `validate` (read bronze, type, evaluate every check, count,
record ops/quality: the work Great Expectations' rules cost) and `write` (quarantine, identity, MERGE).
Process-wide and additive: a reader takes `totals()` after the work it measures."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

_totals: dict[tuple[str, str], float] = defaultdict(float)


@contextmanager
def timed(feed: str, phase: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        _totals[(feed, phase)] += time.perf_counter() - start


def totals() -> dict[tuple[str, str], float]:
    return dict(_totals)


def reset() -> None:
    _totals.clear()

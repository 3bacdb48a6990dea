"""Fault injection for crash-safety tests: EDULAKE_CRASH_AT=<point> kills the process there with SIGKILL.

The named points sit between the commits of a batch (after bronze, after quarantine, before and after
the silver MERGE), which are exactly the states a real crash can leave behind: Delta commits are
atomic, so a kill inside a write is the same as a kill just before its commit. Unset, this is a no-op.
"""

from __future__ import annotations

import os
import signal

POINTS = ("landing_before_rename", "after_landing", "after_bronze", "after_quarantine", "before_silver_merge", "after_silver_merge")


def crash_point(name: str) -> None:
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    if os.environ.get("EDULAKE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)

"""Is a process from a pid file still ours and running? One check for every server edulake starts.

`os.kill(pid, 0)` alone is not enough: it succeeds for a zombie (exited, not yet reaped) and for a
recycled pid now running something else, and acting on either (waiting for it, signalling its process
group) is wrong. Linux /proc tells both apart."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


def state(pid: int) -> str | None:
    """The process's state letter from /proc/<pid>/stat (R, S, D, Z, X, …); None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]  # the state follows "(comm) "; comm may itself hold ")"


def alive(pid: int, program: bytes) -> bool:
    """True while `pid` has not exited (a zombie has) and its command line names `program`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else: cannot be inspected further
    try:
        if state(pid) in (None, "Z", "X"):
            return False
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return True
    # The kernel returns an empty cmdline while the process's memory map is busy (a fork in progress):
    # that is a live process, not an exited one.
    return not cmdline or program in cmdline


def wait_gone(pids: Iterable[int], program: bytes, timeout: float) -> bool:
    """Wait until none of `pids` is alive; True if they all went within `timeout` seconds."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while any(alive(p, program) for p in pids):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True

"""Start, find and stop the Superset web server on 127.0.0.1 (pid file under $EDULAKE_HOME/superset)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

from edulake import permissions, processes
from edulake.superset import config


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    reused: bool


def pid_file() -> Path:
    return config.home() / "superset.pid"


def log_file() -> Path:
    return config.home() / "superset.log"


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


PROGRAM = b"superset"  # in the server's command line (see command())


def _running_pid() -> int | None:
    """The pid in the pid file if that process is our Superset and still running (see edulake.processes)."""
    try:
        pid = int(pid_file().read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if processes.alive(pid, PROGRAM) else None


def command(port: int) -> list[str]:
    return [str(config.superset_bin()), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"]


def start(port: int | None = None, timeout: float = 180) -> Server:
    """Start in the background (or reuse the one of this home on the same port) and wait until healthy."""
    port = port or config.port()
    url = config.base_url(port)
    pid = _running_pid()
    if pid and pid_file().read_text().split()[1:] == [str(port)] and healthy(url):
        return Server(url, pid, reused=True)
    if pid:
        stop()
    permissions.restrict_process()  # superset.db, its log and uploads: the server inherits it
    log = open(log_file(), "ab")
    proc = subprocess.Popen(command(port), env=config.superset_env(port), stdout=log, stderr=subprocess.STDOUT,
                            cwd=config.home(), start_new_session=True)
    pid_file().write_text(f"{proc.pid} {port}")
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if proc.poll() is not None:
            raise click.ClickException(f"Superset exited with {proc.returncode}; see {log_file()}")
        if time.monotonic() > deadline:
            raise click.ClickException(f"Superset not healthy at {url} after {timeout:.0f} s; see {log_file()}")
        time.sleep(1)
    return Server(url, proc.pid, reused=False)


def stop() -> bool:
    pid = _running_pid()
    if pid is None:
        pid_file().unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)  # its own session: the server and its reloader/threads
    if not processes.wait_gone([pid], PROGRAM, 10):
        _signal_group(pid, signal.SIGKILL)
        processes.wait_gone([pid], PROGRAM, 10)  # SIGKILL is not instant: return once it is gone
    pid_file().unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass

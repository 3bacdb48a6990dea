"""Start and stop the Delta Sharing server and the data API on 127.0.0.1 (uvicorn, one process each),
with pid files and logs under $EDULAKE_HOME/sharing/ — the same pattern as the Superset server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

from edulake import processes, settings
from edulake.sharing import config

PROGRAM = b"edulake.sharing"  # in each server's command line


@dataclass(frozen=True)
class Service:
    name: str  # sharing | api
    module: str

    def pid_file(self) -> Path:
        return config.home() / f"{self.name}.pid"

    def log_file(self) -> Path:
        return config.home() / f"{self.name}.log"


SERVICES = {"sharing": Service("sharing", "edulake.sharing.sharing_app:app"),
            "api": Service("api", "edulake.sharing.api_app:app")}


@dataclass(frozen=True)
class Running:
    name: str
    url: str
    pid: int
    reused: bool


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def _running(svc: Service) -> tuple[int, int] | None:
    try:
        pid, port = (int(x) for x in svc.pid_file().read_text().split()[:2])
    except (OSError, ValueError):
        return None
    return (pid, port) if processes.alive(pid, PROGRAM) else None


def start(name: str, port: int, host: str = "127.0.0.1", timeout: float = 60) -> Running:
    svc = SERVICES[name]
    url = f"http://{host}:{port}"
    found = _running(svc)
    if found and found[1] == port and _healthy(url):
        return Running(name, url, found[0], reused=True)
    if found:
        stop(name)
    config.home().mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "EDULAKE_HOME": str(settings.paths().home)}
    cmd = [sys.executable, "-m", "uvicorn", svc.module, "--host", host, "--port", str(port),
           "--no-access-log", "--timeout-graceful-shutdown", "10", "--workers", str(config.workers())]
    with open(svc.log_file(), "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.REPO_ROOT,
                                start_new_session=True)
    svc.pid_file().write_text(f"{proc.pid} {port}")
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None:
            raise click.ClickException(f"{name} server exited with {proc.returncode}; see {svc.log_file()}")
        if time.monotonic() > deadline:
            raise click.ClickException(f"{name} server not healthy at {url} after {timeout:.0f} s; "
                                       f"see {svc.log_file()}")
        time.sleep(0.3)
    return Running(name, url, proc.pid, reused=False)


def stop(name: str) -> bool:
    """SIGTERM (uvicorn shuts down gracefully: the audit buffer is flushed), SIGKILL after 20 s."""
    svc = SERVICES[name]
    found = _running(svc)
    if found is None:
        svc.pid_file().unlink(missing_ok=True)
        return False
    pid = found[0]
    _signal_group(pid, signal.SIGTERM)
    if not processes.wait_gone([pid], PROGRAM, 20):
        _signal_group(pid, signal.SIGKILL)
        processes.wait_gone([pid], PROGRAM, 10)
    svc.pid_file().unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def client_python() -> Path:
    """The official client's interpreter, creating its environment on first use (uv, from
    client-requirements.txt; re-run only when that file changes)."""
    from edulake.superset.venv import uv_command

    venv = config.client_venv()
    marker = venv / ".edulake-requirements"
    wanted = config.CLIENT_REQUIREMENTS.read_text()
    python = venv / "bin" / "python"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    steps = [[*uv_command(), "venv", "-q", "--allow-existing", "--python",
              f"{sys.version_info.major}.{sys.version_info.minor}", str(venv)],
             [*uv_command(), "pip", "install", "-q", "--compile-bytecode", "--python", str(python), "-r",
              str(config.CLIENT_REQUIREMENTS)]]
    for cmd in steps:
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise click.ClickException(f"creating the Delta Sharing client environment failed: {' '.join(cmd)}\n"
                                       f"{result.stdout[-2000:]}{result.stderr[-3000:]}")
    marker.write_text(wanted)
    return python

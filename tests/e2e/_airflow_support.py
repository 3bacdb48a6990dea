"""What the tests of a served Airflow share (test_airflow_server.py on the embedded profile,
test_airflow_production.py on the production one): a free port pair, a home with some feeds of the generator's
sources in its inbox and Airflow started on it, and the listening sockets of a process tree."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator

import psutil
import pytest

from edulake import settings
from edulake.orchestration import server


def free_port_pair() -> int:
    """A free port whose next port is free too (the api-server's, and the worker log server's beside it)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two adjacent free ports")


def served_home(tmp_path_factory, name: str, port: int, feeds: tuple[str, ...], **env: str) -> Iterator:
    """A fresh home (EDULAKE_HOME and `env` set for the module) with the pseudonym key, the generator's
    sources of `feeds` (scale 0.001, one school year) in its inbox, and Airflow started on `port`; stopped
    after the module. For `yield from` in a module fixture."""
    from edulake.commands.setup import ensure_pseudonym_key
    from edulake.generate import run_generate

    home = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        for key, value in env.items():
            mp.setenv(key, value)
        ensure_pseudonym_key()  # as `edulake run` does: the ingest task pseudonymises with it
        inbox = settings.paths().inbox
        run_generate(scale=0.001, seed=3, out=inbox, years=(2025, 2025), progress=False)
        for feed_dir in inbox.iterdir():
            if feed_dir.is_dir() and feed_dir.name not in feeds:
                shutil.rmtree(feed_dir)
        started = server.start(port)
        try:
            yield started
        finally:
            server.stop()


def listening(pids) -> dict[tuple[str, int], str]:
    """(address, port) -> process name, for every listening socket of these processes and their children."""
    procs = []
    for pid in pids:
        root = psutil.Process(pid)
        procs += [root, *root.children(recursive=True)]
    out = {}
    for proc in procs:
        try:
            for c in proc.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN:
                    out[(c.laddr.ip, c.laddr.port)] = proc.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out

"""The one liveness check for the servers edulake starts (edulake.processes), on real processes, and the
Superset server's use of it: a stale pid file naming a zombie or a recycled pid is not "running"."""

import subprocess
import sys
import time

import pytest

from edulake import processes
from edulake.orchestration import server as airflow_server
from edulake.superset import server as superset_server


def _spawn(*marker: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", *marker], start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the kernel shows its own command line (it is empty at first)
        with open(f"/proc/{proc.pid}/cmdline", "rb") as fh:
            if b"time.sleep" in fh.read():
                return proc
        time.sleep(0.02)
    raise AssertionError("the child never showed its command line")


def _until_zombie(proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and processes.state(proc.pid) != "Z":
        time.sleep(0.05)
    assert processes.state(proc.pid) == "Z"


def test_a_running_process_is_alive_and_an_exited_one_is_not():
    proc = _spawn("airflow", "scheduler")
    try:
        assert processes.state(proc.pid) in ("R", "S")
        assert processes.alive(proc.pid, b"airflow") and airflow_server._alive(proc.pid)
        proc.terminate()
        _until_zombie(proc)  # exited, not reaped yet
        assert not processes.alive(proc.pid, b"airflow")
    finally:
        proc.kill()
        proc.wait()
    assert processes.state(proc.pid) is None
    assert not processes.alive(proc.pid, b"airflow")  # reaped: no such process


def test_a_recycled_pid_running_something_else_is_not_ours():
    proc = _spawn()
    try:
        assert not processes.alive(proc.pid, b"airflow")
        assert not processes.alive(proc.pid, b"superset")
    finally:
        proc.kill()
        proc.wait()


def test_wait_gone_returns_when_the_process_exits_and_reports_a_timeout():
    proc = _spawn("airflow")
    try:
        assert not processes.wait_gone([proc.pid], b"airflow", 0.3)
        proc.terminate()
        assert processes.wait_gone([proc.pid], b"airflow", 10)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def superset_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDULAKE_HOME", str(tmp_path))
    superset_server.pid_file().parent.mkdir(parents=True, exist_ok=True)
    return tmp_path


def test_superset_stale_pid_file_of_another_program_is_not_running_and_stop_leaves_it_alone(superset_home):
    proc = _spawn()  # what a recycled pid would be: some other program
    try:
        superset_server.pid_file().write_text(f"{proc.pid} 18088")
        assert superset_server._running_pid() is None
        assert superset_server.stop() is False
        assert proc.poll() is None  # not signalled
        assert not superset_server.pid_file().exists()
    finally:
        proc.kill()
        proc.wait()


def test_superset_stop_ends_a_running_server_process_group(superset_home):
    proc = _spawn("superset", "run")
    try:
        superset_server.pid_file().write_text(f"{proc.pid} 18088")
        assert superset_server._running_pid() == proc.pid
        assert superset_server.stop() is True
        _until_zombie(proc)
        assert superset_server._running_pid() is None
    finally:
        proc.kill()
        proc.wait()

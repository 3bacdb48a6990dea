"""The embedded Airflow's liveness check (edulake.orchestration.server._alive) on real processes."""

import subprocess
import sys
import time

from edulake.orchestration import server


def _spawn(*marker: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", *marker])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the kernel shows its own command line (it is empty at first)
        with open(f"/proc/{proc.pid}/cmdline", "rb") as fh:
            if b"time.sleep" in fh.read():
                return proc
        time.sleep(0.02)
    raise AssertionError("the child never showed its command line")


def test_a_running_airflow_process_is_alive_and_an_exited_one_is_not():
    proc = _spawn("airflow", "scheduler")
    try:
        assert server._alive(proc.pid)
        proc.terminate()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # not reaped yet: a zombie, which has exited
            with open(f"/proc/{proc.pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.05)
        assert not server._alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert not server._alive(proc.pid)  # reaped: no such process


def test_a_recycled_pid_running_something_else_is_not_ours():
    proc = _spawn()
    try:
        assert not server._alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()

"""Support for the fault-and-abuse suite: child processes of the real `edulake` command with their event
lines timed, lake snapshots and checks, and the results file docs/reliability.md is rendered from.

Every fault is injected into a real process (SIGKILL, a full file system, a damaged file, a concurrent
writer); nothing is mocked."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from edulake import settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import _lake_support as lake_support  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "docs" / "reliability.json"
KEY = "test-key-not-secret-" + "0" * 44
# the seed and scale of the sources every fault test starts from (one school year, tiny)
SCALE, SEED, YEARS = 0.0005, 3, (2025, 2025)
TIMINGS: dict[str, float] = {}  # measured uninterrupted runs (the build's, by the full_home fixture)

# What a child needs to run on each lake engine. On Spark the JVM of these short runs is told to compile with C1
# only and to collect with one thread, and Delta's shuffles get one partition: the same engine code and the
# same Delta writes, at about two thirds of the CPU (most of a tiny run is JVM warm-up).
ENGINE_ENV = {
    "duckdb": {"EDULAKE_ENGINE": "duckdb"},
    "spark": {"EDULAKE_ENGINE": "spark", "EDULAKE_SHUFFLE_PARTITIONS": "1",
              "JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1"},
}


def env(home: Path, **extra: str) -> dict[str, str]:
    e = dict(os.environ)
    for k in ("EDULAKE_CRASH_AT",):
        e.pop(k, None)
    e.update({"EDULAKE_HOME": str(home), "EDULAKE_PSEUDONYM_KEY": os.environ.get("EDULAKE_PSEUDONYM_KEY", KEY),
              "EDULAKE_GX": "0", "COLUMNS": "400", "PYTHONUNBUFFERED": "1",
              "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    e.update(extra)
    return e


def cli(home: Path, *args: str, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
    """Run `edulake <args>` to its end in a process group of its own; returns once the whole group (a Spark
    JVM included) has ended."""
    proc = subprocess.Popen([sys.executable, "-m", "edulake.cli", *args], env=env(home, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    finally:
        settle_group(proc.pid)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# --- process groups: a child and what it started (the Spark JVM) -------------------------------------

def group_members(pgid: int, zombies: bool = False) -> list[psutil.Process]:
    """Live processes of a process group (with `zombies`: also those that have ended, not yet collected)."""
    out = []
    for proc in psutil.process_iter(["status"]):
        try:
            if (zombies or proc.info["status"] != psutil.STATUS_ZOMBIE) and os.getpgid(proc.pid) == pgid:
                out.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return out


def _reap(pgid: int) -> None:
    """Collect the exit of the group's ended processes that are now our children (orphans handed to us as a
    subreaper: the JVM, the spark-submit shell), so that their CPU time is counted in RUSAGE_CHILDREN and no
    zombie stays."""
    for proc in group_members(pgid, zombies=True):
        with contextlib.suppress(ChildProcessError, OSError, psutil.Error):
            if proc.status() == psutil.STATUS_ZOMBIE and proc.ppid() == os.getpid():
                os.waitpid(proc.pid, 0)


def settle_group(pgid: int, timeout: float = 60) -> None:
    """Wait until nothing of process group `pgid` runs any more (a JVM outlives its Python parent by a
    moment: it exits when its stdin closes). Raises if something is still running after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        alive = group_members(pgid)
        _reap(pgid)
        if not alive:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still running {timeout} s after its group ended: "
                                 + "; ".join(" ".join(_safe(p.cmdline)[:4]) for p in alive))
        time.sleep(0.1)


@contextlib.contextmanager
def subreaper():
    """While inside: orphans of our children (a JVM whose Python parent was killed) become our children, so
    their CPU time is counted and their exit is collected (Linux; elsewhere a no-op)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        on = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        on = False
    try:
        yield
    finally:
        if on:
            libc.prctl(36, 0, 0, 0, 0)


def cpu_seconds() -> float:
    """User + system CPU of this process and of every child it has collected."""
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


@dataclass
class Child:
    """An `edulake` child process whose stderr lines are read as they come, with their arrival times."""

    proc: subprocess.Popen
    started: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    reader: threading.Thread | None = None
    killed_group: list[str] = field(default_factory=list)  # the programs a kill hit (the JVM's `java` too)

    @classmethod
    def start(cls, home: Path, *args: str, **extra: str) -> Child:
        proc = subprocess.Popen([sys.executable, "-m", "edulake.cli", *args], env=env(home, **extra),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)  # its own process group: a kill reaches the JVM too
        child = cls(proc, time.monotonic())

        def read() -> None:
            for line in proc.stderr:
                child.lines.append((time.monotonic() - child.started, line.rstrip("\n")))

        child.reader = threading.Thread(target=read, daemon=True)
        child.reader.start()
        return child

    def wait_for(self, marker: str, timeout: float = 120) -> float | None:
        """Seconds since start at which a line containing `marker` arrived; None if the process ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, line in list(self.lines):
                if marker in line:
                    return t
            if self.proc.poll() is not None:
                self.reader.join(5)
                hit = [t for t, line in self.lines if marker in line]
                return hit[0] if hit else None
            time.sleep(0.005)
        raise TimeoutError(f"no line with {marker!r} after {timeout} s")

    def kill(self) -> int:
        """SIGKILL now to the whole process group (the Python parent and a Spark JVM it started), if the
        parent still runs; the exit status (-9 when the kill landed). Returns once nothing of the group runs."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            # who was hit: the killed stay listed (as zombies) until collected below
            self.killed_group = [_safe(p.name) or "?" for p in group_members(self.proc.pid, zombies=True)]
        rc = self.proc.wait(60)
        self.reader.join(5)
        settle_group(self.proc.pid)
        return rc

    def finish(self, timeout: float = 600) -> int:
        rc = self.proc.wait(timeout)
        self.reader.join(5)
        settle_group(self.proc.pid)
        return rc

    @property
    def killed_jvm(self) -> bool:
        return "java" in self.killed_group

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def _safe(call):
    try:
        return call()
    except psutil.Error:
        return []


def copy_home(src: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, symlinks=True)
    return dest


def snapshot(home: Path, only: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    return lake_support.snapshot(home, only)


def ledger_rows(home: Path, where: str = "TRUE") -> list:
    return lake_support.read(settings.Paths(home).ops / "batches", where)


def readable_tables(home: Path) -> dict[str, int]:
    """Every Delta table of the lake read whole by DuckDB's delta_scan (what dbt and the tests read with):
    name -> rows. Raises if any table cannot be read."""
    out = {}
    for name, path in lake_support.lake_tables(home).items():
        out[name] = lake_support.duck().sql(f"SELECT count(*) FROM delta_scan('{path}')").fetchone()[0]
    return out


def rows_lost(reference: dict[str, list], got: dict[str, list], prefixes=("silver/", "restricted/quarantine/",
                                                                          "restricted/identity")) -> tuple[int, int]:
    """(rows of the reference missing from `got`, rows in `got` not in the reference), over the zones that
    hold results."""
    from collections import Counter

    lost = extra = 0
    for name in set(reference) | set(got):
        if not name.startswith(prefixes):
            continue
        want, have = Counter(reference.get(name, [])), Counter(got.get(name, []))
        lost += sum((want - have).values())
        extra += sum((have - want).values())
    return lost, extra


# --- results: one section per test module, merged into docs/reliability.json, rendered to the doc --------

_recorded: dict[str, dict] = {}


def record(section: str, **data) -> None:
    """Store a section of figures; conftest.py merges them into docs/reliability.json at the session's end
    and renders docs/reliability.md."""
    _recorded.setdefault(section, {}).update(data)
    _recorded[section]["recorded_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@contextlib.contextmanager
def results_lock():
    """Held while docs/reliability.* are merged and rendered: two test processes (pytest -n 2) end at once."""
    with open(RESULTS.with_suffix(".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def flush() -> bool:
    if not _recorded:
        return False
    merged = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    merged.update(_recorded)
    RESULTS.write_text(json.dumps(merged, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return True

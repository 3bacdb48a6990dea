"""Starting and stopping the embedded Airflow: api-server, scheduler, dag-processor and log server on 127.0.0.1.

On the production profile (config.PROFILES) the home's PostgreSQL cluster is started first and stopped
last (edulake.orchestration.postgres); the components and the DAGs are the same.

The three components rather than `airflow standalone`: standalone also starts a triggerer (no task here
defers) and hides the components behind one process; here each has its own log under
$EDULAKE_HOME/logs/airflow/ and its pid in $AIRFLOW_HOME/edulake-airflow.json, so `stop` ends exactly
the processes it started. Each component runs in its own session (process group): stopping a
component also ends the workers it spawned.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from edulake import permissions, processes, settings
from edulake.orchestration import config
from edulake.orchestration.client import AirflowClient

# Each component's command after the venv's `airflow`, or a module of ours. The scheduler's own log server
# listens on every interface (Airflow hard-codes it): ours binds to the api-server's host instead.
COMMANDS = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "log-server": ["-m", "edulake.orchestration.airflow_log_server"],
}
COMPONENTS = tuple(COMMANDS)
HEALTHY_COMPONENTS = ("metadatabase", "scheduler", "dag_processor")


@dataclass
class Server:
    port: int
    pids: dict[str, int]
    started_at: str
    reused: bool = False
    profile: str = "embedded"

    @property
    def url(self) -> str:
        return config.base_url(self.port)

    def client(self) -> AirflowClient:
        return AirflowClient(self.url, config.ADMIN_USER, config.admin_password())


def state_file() -> Path:
    return settings.paths().airflow_home / "edulake-airflow.json"


def log_dir() -> Path:
    return settings.paths().logs / "airflow"


def _alive(pid: int) -> bool:
    """True while `pid` is one of our Airflow processes (see edulake.processes)."""
    return processes.alive(pid, b"airflow")


def running() -> Server | None:
    """The Airflow this EDULAKE_HOME started, if all its components are still alive."""
    path = state_file()
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    if not all(_alive(pid) for pid in state["pids"].values()):
        return None
    return Server(state["port"], state["pids"], state["started_at"], reused=True,
                  profile=state.get("profile", "embedded"))


def prepare(env: dict[str, str]) -> None:
    """Migrate the metadata DB and create the pool, in one child process with the embedded config."""
    subprocess.run([sys.executable, "-m", "edulake.orchestration.inprocess", "prepare"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start(port: int | None = None, timeout: float = 240, profile: str | None = None) -> Server:
    """Start (or reuse) the embedded Airflow on `profile` (config.profile()) and wait until it is healthy."""
    profile = config.profile(profile)
    current = running()
    if current is not None:
        if current.profile != profile:
            raise RuntimeError(f"Airflow is running on the {current.profile} profile: `edulake airflow stop` "
                               f"before starting it on {profile}")
        wait_healthy(current, timeout)
        return current
    permissions.restrict_process()  # every component, task process and log inherits it
    if profile == "production":
        from edulake.orchestration import postgres

        postgres.start()
    env = {**os.environ, **config.airflow_env(port, profile_=profile)}
    port = int(env["AIRFLOW__API__PORT"])
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    try:
        prepare(env)
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"airflow metadata preparation failed:\n{e.stderr.decode(errors='replace')[-3000:]}") from None
    logs = log_dir()
    logs.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).parent / "airflow")
    pids = {}
    for component, args in COMMANDS.items():
        program = sys.executable if args[0] == "-m" else airflow
        with open(logs / f"{component}.log", "ab") as out:
            proc = subprocess.Popen([program, *args], env=env, cwd=env["AIRFLOW_HOME"], stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        pids[component] = proc.pid
    server = Server(port, pids, dt.datetime.now(dt.UTC).isoformat(), profile=profile)
    state_file().write_text(json.dumps({"port": port, "pids": pids, "started_at": server.started_at,
                                        "profile": profile}))
    try:
        wait_healthy(server, timeout)
    except Exception:
        stop()
        raise
    return server


def unhealthy(health: dict) -> list[str]:
    return [c for c in HEALTHY_COMPONENTS if (health.get(c) or {}).get("status") != "healthy"]


def wait_healthy(server: Server, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    problem = "no answer"
    while time.monotonic() < deadline:
        for component, pid in server.pids.items():
            if not _alive(pid):
                raise RuntimeError(f"airflow {component} exited; see {log_dir() / (component + '.log')}")
        try:
            bad = unhealthy(server.client().health())
            if not bad:
                return
            problem = f"not healthy yet: {', '.join(bad)}"
        except OSError as e:  # not listening yet
            problem = str(e)
        time.sleep(2)
    raise TimeoutError(f"Airflow not healthy after {timeout:.0f} s ({problem}); logs in {log_dir()}")


def stop(timeout: float = 30) -> list[str]:
    """Stop the components this home started (SIGTERM to each process group, SIGKILL after `timeout`), then
    its PostgreSQL cluster on the production profile."""
    path = state_file()
    if not path.exists():
        return []
    state = json.loads(path.read_text())
    pids = state["pids"]
    stopped = []
    for component, pid in pids.items():
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
                stopped.append(component)
            except ProcessLookupError:
                pass
    _wait_gone(pids.values(), timeout)
    for pid in pids.values():
        if _alive(pid):  # never signal a recycled pid's group
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _wait_gone(pids.values(), 10)  # SIGKILL is not instant: return only once they are gone
    if state.get("profile") == "production":
        from edulake.orchestration import postgres

        if postgres.stop():  # after Airflow: its components hold connections until they exit
            stopped.append("postgres")
    path.unlink(missing_ok=True)
    return stopped


def _wait_gone(pids, timeout: float) -> None:
    processes.wait_gone(pids, b"airflow", timeout)

"""A Spark standalone cluster on loopback, started from the installed pyspark, and spark-submit commands.

The lake jobs run unchanged on it (`spark-submit --master spark://127.0.0.1:<port> spark_jobs/ingest.py
<feed>`): this is how scale-out is exercised on one machine. Master and worker are ordinary processes
in their own process group; `stop()` ends exactly those.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from edulake import settings
from edulake.lake.engines.spark.session import delta_jars


def pyspark_bin(name: str) -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "bin" / name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def job_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for spark-submit and the cluster: this interpreter drives PySpark."""
    env = dict(os.environ)
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


@dataclass
class StandaloneCluster:
    master_url: str
    web_url: str
    work_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def alive_workers(self) -> int:
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as r:
            return int(json.load(r).get("aliveworkers", 0))

    def stop(self) -> None:
        for p in reversed(self.processes):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(work_dir: Path, cores: int = 1, memory: str = "2g", timeout: float = 120) -> StandaloneCluster:
    """Start a master and one worker on 127.0.0.1; returns once the worker has registered."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port, web = _free_port(), _free_port()
    cluster = StandaloneCluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web}", work_dir)
    env = job_env({"SPARK_LOG_DIR": str(work_dir / "logs"), "SPARK_LOCAL_IP": "127.0.0.1"})
    spark_class = str(pyspark_bin("spark-class"))

    def launch(name: str, *args: str) -> None:
        log = (work_dir / f"{name}.log").open("wb")
        cluster.processes.append(subprocess.Popen([spark_class, *args], stdout=log, stderr=subprocess.STDOUT,
                                                  env=env, start_new_session=True))

    try:
        launch("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
               "--webui-port", str(web))
        _wait(lambda: _answers(cluster.web_url), timeout, "the master to answer", work_dir / "master.log")
        launch("worker", "org.apache.spark.deploy.worker.Worker", cluster.master_url, "--host", "127.0.0.1",
               "--cores", str(cores), "--memory", memory, "--webui-port", str(_free_port()),
               "--work-dir", str(work_dir / "work"))
        _wait(lambda: cluster.alive_workers() >= 1, timeout, "the worker to register", work_dir / "worker.log")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/json/", timeout=2).close()
        return True
    except OSError:
        return False


def _wait(ready, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise TimeoutError(f"timed out waiting for {what}:\n{tail}")


def submit_command(step: str, *args: str, master: str, executor_memory: str = "1g",
                   driver_memory: str = "2g") -> list[str]:
    """spark-submit of a lake job (spark_jobs/<step>.py) with the Delta jars on driver and executors.
    The driver's JVM is started by spark-submit, so its memory and jars are given here, not by get_spark."""
    return [str(pyspark_bin("spark-submit")), "--master", master,
            "--jars", ",".join(delta_jars()),
            "--driver-memory", driver_memory,
            "--conf", f"spark.executor.memory={executor_memory}",
            "--conf", "spark.driver.host=127.0.0.1",
            str(settings.SPARK_JOBS_DIR / f"{step}.py"), *args]

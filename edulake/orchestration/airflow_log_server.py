"""Airflow's worker log server, bound to the api-server's host (127.0.0.1 by default).

Airflow 3.3 starts this server from the scheduler with the host hard-coded to every interface
(`airflow.utils.serve_logs.core.serve_logs`: `[::]` / `0.0.0.0`, no setting moves it), which exposed the
task logs on :8793 to the network. The embedded Airflow starts its scheduler with `--skip-serve-logs` and
runs the same application here instead, on the same host as the api-server. Run as
`python -m edulake.orchestration.airflow_log_server` with the embedded Airflow's environment (the module's
name puts "airflow" in its command line from the first instant: `edulake airflow stop` and the health
wait recognise their processes by it).
"""

from __future__ import annotations

import os

from edulake import permissions


def main() -> None:
    permissions.restrict_process()
    from airflow.configuration import conf
    from setproctitle import setproctitle

    setproctitle("airflow serve-logs")  # the title Airflow gives its own, for ps
    import uvicorn

    uvicorn.run("airflow.utils.serve_logs.log_server:get_app", factory=True,
                host=os.environ.get("AIRFLOW__API__HOST", "127.0.0.1"),
                port=conf.getint("logging", "worker_log_server_port"),
                log_level=conf.get("logging", "uvicorn_logging_level", fallback="info").lower(),
                log_config=None, access_log=False)


if __name__ == "__main__":
    main()

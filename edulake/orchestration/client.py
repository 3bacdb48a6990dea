"""A small client for the Airflow 3 REST API (/api/v2), enough to trigger DAG runs and wait for them.

Standard library only: the CLI side must not need Airflow imported to talk to it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

FINISHED = ("success", "failed")


class AirflowAPIError(RuntimeError):
    def __init__(self, method: str, url: str, status: int, body: str):
        self.status = status
        self.body = body
        super().__init__(f"Airflow API {method} {url} -> HTTP {status}: {body[:500]}")


class AirflowClient:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self._token: str | None = None

    # ---- plumbing --------------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: dict | None = None, params: dict | None = None,
              auth: bool = True) -> dict:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            raise AirflowAPIError(method, url, e.code, e.read().decode(errors="replace")) from None
        return json.loads(text) if text else {}

    def request(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
        try:
            return self._send(method, path, body, params)
        except AirflowAPIError as e:
            if e.status != 401:
                raise
            self._token = None  # expired: log in again once
            return self._send(method, path, body, params)

    def token(self) -> str:
        if self._token is None:
            answer = self._send("POST", "/auth/token", {"username": self.username, "password": self.password},
                                auth=False)
            self._token = answer["access_token"]
        return self._token

    # ---- health and DAGs -------------------------------------------------------------------------

    def health(self) -> dict:
        return self._send("GET", "/api/v2/monitor/health", auth=False)

    def dag(self, dag_id: str) -> dict | None:
        try:
            return self.request("GET", f"/api/v2/dags/{dag_id}")
        except AirflowAPIError as e:
            if e.status == 404:
                return None
            raise

    def import_errors(self) -> list[dict]:
        return self.request("GET", "/api/v2/importErrors").get("import_errors", [])

    def unpause(self, dag_id: str, attempts: int = 6) -> None:
        """Idempotent, so retried on Airflow's "Database error" (HTTP 500): seen on the SQLite metadata database
        right after start-up, failing the API server's audit-log INSERT (Airflow hides the cause; probably the
        write lock held by the DAG processor)."""
        for attempt in range(attempts):
            try:
                self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                return
            except AirflowAPIError as e:
                if e.status != 500 or "Database error" not in e.body or attempt == attempts - 1:
                    raise
                time.sleep(0.5 * 2 ** attempt)

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 300, poll: float = 3) -> None:
        """Until the DAG processor has parsed every DAG; a DAG file that fails to import fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            missing = [d for d in dag_ids if self.dag(d) is None]
            if not missing:
                return
            errors = self.import_errors()
            if errors:
                raise RuntimeError("DAG import errors:\n" + "\n".join(
                    f"{e.get('filename')}: {e.get('stack_trace', '')[-1500:]}" for e in errors))
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAGs not parsed after {timeout:.0f} s: {', '.join(missing)}")
            time.sleep(poll)

    # ---- runs ------------------------------------------------------------------------------------

    def trigger(self, dag_id: str, conf: dict | None = None, note: str | None = None) -> dict:
        body = {"logical_date": None, "conf": conf or {}}
        if note:
            body["note"] = note
        return self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def dag_runs(self, dag_id: str, limit: int = 20, **filters) -> list[dict]:
        params = {"limit": limit, "order_by": "-run_after", **filters}
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", params=params).get("dag_runs", [])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        return self.request("GET", path).get("task_instances", [])

    def asset_events(self, source_dag_id: str, source_run_id: str) -> list[dict]:
        params = {"source_dag_id": source_dag_id, "source_run_id": source_run_id, "limit": 100}
        return self.request("GET", "/api/v2/assets/events", params=params).get("asset_events", [])

    def wait(self, dag_id: str, run_id: str, timeout: float = 3600, poll: float = 3,
             on_progress: Callable[[dict, list[dict]], None] | None = None) -> dict:
        """Until the run finishes; `on_progress(run, task_instances)` after each poll. Returns the run."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if on_progress is not None:
                on_progress(run, self.task_instances(dag_id, run_id))
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(poll)

"""REST checks against a running Superset: log in, list charts, run each chart's data query.

The query context is built from the chart's saved form data the way the chart's own query is shaped
(x-axis/group-by columns, metrics, WHERE clauses), posted to /api/v1/chart/data; a district user's
session gets the row-level security filters applied by Superset itself.
"""

from __future__ import annotations

import json

import requests


class Client:
    def __init__(self, url: str, username: str, password: str):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        r = self.http.post(f"{self.url}/api/v1/security/login",
                           json={"username": username, "password": password, "provider": "db", "refresh": False},
                           timeout=60)
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        csrf = self.http.get(f"{self.url}/api/v1/security/csrf_token/", timeout=60)
        csrf.raise_for_status()
        self.http.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": self.url})

    def get(self, path: str, **params) -> dict:
        r = self.http.get(f"{self.url}{path}", params={"q": json.dumps(params)} if params else None, timeout=120)
        r.raise_for_status()
        return r.json()

    def charts(self) -> list[dict]:
        return self.get("/api/v1/chart/", columns=["id", "slice_name", "viz_type", "datasource_id", "params"],
                        page_size=100)["result"]

    def dashboards(self) -> list[dict]:
        return self.get("/api/v1/dashboard/", columns=["id", "slug", "dashboard_title"], page_size=100)["result"]

    def chart_data(self, chart: dict) -> dict:
        r = self.http.post(f"{self.url}/api/v1/chart/data", json=query_context(chart), timeout=300)
        if r.status_code != 200:
            raise AssertionError(f"chart {chart['slice_name']} ({chart['id']}): HTTP {r.status_code} {r.text[:500]}")
        return r.json()["result"][0]


def query_context(chart: dict) -> dict:
    form = json.loads(chart["params"])
    where = " AND ".join(f"({f['sqlExpression']})" for f in form.get("adhoc_filters", []))
    if form["viz_type"] == "table":
        columns, metrics = form["all_columns"], []
    elif form["viz_type"] == "big_number":
        columns, metrics = [form["x_axis"]], [form["metric"]]
    else:
        columns, metrics = [form["x_axis"], *form.get("groupby", [])], form["metrics"]
    return {
        "datasource": {"id": chart["datasource_id"], "type": "table"},
        "force": True,
        "queries": [{"columns": columns, "metrics": metrics, "filters": [], "extras": {"where": where, "having": ""},
                     "row_limit": form.get("row_limit", 10000), "orderby": [], "annotation_layers": [],
                     "url_params": {}, "custom_params": {}, "custom_form_data": {}}],
        "form_data": form,
        "result_format": "json",
        "result_type": "full",
    }

"""Cockpit chart-query latency: every chart of 领导驾驶舱 through Superset's `/api/v1/chart/data`
(`force: true`, so Superset's cache answers nothing), as the admin (city) and as one district user (row-level
security applied), R rounds; p50/p95/max per chart and over all.

    uv run python benchmarks/cockpit_latency.py [--rounds 10] [--port 18088]

Needs a published warehouse in $EDULAKE_HOME (`edulake build`, e.g. the scale-1.0 bench home). Provisions
Superset in that home (its own environment, `edulake superset setup`), starts it on 127.0.0.1, measures,
stops it, and writes benchmarks/cockpit-latency.json. The client shares the machine with the server.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from edulake import settings
from edulake.superset import checks, config, provisioning, server

COCKPIT = "cockpit"
DISTRICT = "东城区"  # the district user's role: row-level security on every chart


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 0.95), 1),
            "max_ms": round(max(ms), 1)}


def cockpit_charts(client: checks.Client) -> list[dict]:
    """The charts on the cockpit dashboard (by its slug), with their saved form data."""
    dashboard = next(d for d in client.dashboards() if d["slug"] == COCKPIT)
    ids = {c["id"] for c in client.get(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]}
    return [c for c in client.charts() if c["id"] in ids]


def measure(client: checks.Client, charts: list[dict], rounds: int) -> dict[str, list[float]]:
    per_chart: dict[str, list[float]] = {c["slice_name"]: [] for c in charts}
    for _ in range(rounds):
        for chart in charts:
            begin = time.perf_counter()
            client.chart_data(chart)
            per_chart[chart["slice_name"]].append((time.perf_counter() - begin) * 1000)
    return per_chart


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--port", type=int, default=18088)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("cockpit-latency.json"))
    args = ap.parse_args()

    provisioning.provision(port=args.port, start=False, progress=print)
    district_user = {"username": "bench_dongcheng", "email": "bench_dongcheng@edulake.local",
                     "password": config.password("bench_dongcheng"), "roles": [provisioning.district_role(DISTRICT)]}
    provisioning.run_admin(users=[district_user])
    server.start(args.port)
    try:
        url = config.base_url(args.port)
        users = {"city (admin)": (config.ADMIN_USER, config.password()),
                 f"district ({DISTRICT})": (district_user["username"], district_user["password"])}
        report = {"home": str(settings.paths().home), "machine": {"python": platform.python_version(),
                                                                "platform": platform.platform()},
                  "finished_at": None, "rounds": args.rounds, "users": {}}
        for label, (user, password) in users.items():
            client = checks.Client(url, user, password)
            charts = cockpit_charts(client)
            measure(client, charts, 1)  # warm: DuckDB's first scans, Superset's metadata
            per_chart = measure(client, charts, args.rounds)
            every = [ms for values in per_chart.values() for ms in values]
            report["users"][label] = {"charts": len(charts), "all": figures(every),
                                      "per_chart": {name: figures(v) for name, v in per_chart.items()}}
            print(f"{label}: {len(charts)} charts x {args.rounds}: {figures(every)}")
        report["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"-> {args.out}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""Bounded local load on the data API and the Delta Sharing server (loopback): N concurrent clients for D
seconds each, then it stops by itself and stops the servers it started.

    uv run python benchmarks/sharing_load.py [--clients 50] [--seconds 30] [--api-port 18111] [--sharing-port 18110]

Needs a published warehouse in $EDULAKE_HOME (`edulake build`). Prints requests/s and latency percentiles
per target and writes them to benchmarks/sharing-load.json. The load generator shares the machine with the
servers (and with whatever else runs): the figures are a floor, not a server-only capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path

import httpx

from edulake.sharing import serve, shares, tokens

DISTRICT = "110108"


async def _load(url_of, method: str, headers: dict, body, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        async def worker(i: int):
            nonlocal errors
            n = 0
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                r = await client.request(method, url_of(i, n), json=body)
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code >= 400
                n += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {"requests": len(latencies), "errors": errors, "seconds": round(elapsed, 1),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "mean_ms": round(1000 * statistics.fmean(latencies), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--api-port", type=int, default=18111)
    ap.add_argument("--sharing-port", type=int, default=18110)
    args = ap.parse_args()
    if shares.stale():
        shares.publish()
    tok, clear = tokens.create(DISTRICT, name="load-benchmark", days=1)
    headers = {"Authorization": f"Bearer {clear}"}
    api = serve.start("api", args.api_port)
    sharing = serve.start("sharing", args.sharing_port)
    try:
        api_paths = ["/api/v1/schools?page_size=20", "/api/v1/fitness/summary?page_size=20&scope=district",
                     f"/api/v1/districts/{DISTRICT}/indicators", "/api/v1/enrollment/place-gaps"]
        results = {
            "api": asyncio.run(_load(lambda i, n: api.url + api_paths[(i + n) % len(api_paths)], "GET", headers,
                                     None, args.clients, args.seconds)),
            "sharing_query": asyncio.run(_load(
                lambda i, n: f"{sharing.url}/delta-sharing/shares/{tok.share}/schemas/edulake/tables/"
                             f"{'fct_enrollment' if n % 2 else 'health_fitness_summary'}/query",
                "POST", headers, {}, args.clients, args.seconds)),
        }
    finally:
        serve.stop("api")
        serve.stop("sharing")
        tokens.revoke(tok.id)
    report = {"clients": args.clients, "seconds_each": args.seconds, "cpus": os.cpu_count(),
              "machine": platform.machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              **results}
    print(json.dumps(report, indent=1))
    (Path(__file__).with_name("sharing-load.json")).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()

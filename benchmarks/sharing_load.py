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

from edulake.sharing import serve, shares, tokens

DISTRICT = "110108"


async def _load(host: str, port: int, target_of, method: str, headers: dict, body: bytes | None, clients: int,
                seconds: float) -> dict:
    """`clients` keep-alive HTTP/1.1 connections, each sending its next request when the last answer is in.
    A bare asyncio client (a few dozen microseconds a request) rather than httpx (milliseconds), so the
    generator does not eat the CPU the servers are measured on."""
    latencies: list[float] = []
    errors = 0
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    payload = body or b""

    async def worker(i: int):
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        n = 0
        while time.monotonic() < deadline:
            head = (f"{method} {target_of(i, n)} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
                    f"Content-Length: {len(payload)}\r\n"
                    + ("Content-Type: application/json\r\n" if payload else "") + "\r\n").encode()
            t0 = time.perf_counter()
            writer.write(head + payload)
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            lines = status_and_headers.decode("latin-1").split("\r\n")
            length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            errors += int(lines[0].split()[1]) >= 400
            n += 1
        writer.close()

    deadline = time.monotonic() + 3  # warm-up (opening the warehouse, first answers), not measured
    await asyncio.gather(*(worker(i) for i in range(clients)))
    latencies.clear()
    errors = 0
    deadline = time.monotonic() + seconds
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
    serve.start("api", args.api_port)
    serve.start("sharing", args.sharing_port)
    try:
        api_paths = ["/api/v1/schools?page_size=20", "/api/v1/fitness/summary?page_size=20&scope=district",
                     f"/api/v1/districts/{DISTRICT}/indicators", "/api/v1/enrollment/place-gaps"]
        results = {
            "api": asyncio.run(_load("127.0.0.1", args.api_port, lambda i, n: api_paths[(i + n) % len(api_paths)],
                                     "GET", headers, None, args.clients, args.seconds)),
            "sharing_query": asyncio.run(_load(
                "127.0.0.1", args.sharing_port,
                lambda i, n: f"/delta-sharing/shares/{tok.share}/schemas/edulake/tables/"
                             f"{'fct_enrollment' if n % 2 else 'health_fitness_summary'}/query",
                "POST", headers, b"{}", args.clients, args.seconds)),
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

"""`dbt source freshness` over silver, its result appended to ops/source_freshness (Delta).

The policy (warn_after / error_after on `_loaded_at`) is declared once, on the `silver` source
(generated from edulake.warehouse.codegen.FRESHNESS); the cockpit's freshness mart
(cockpit_source_freshness) applies the same policy to the same figure, max(_loaded_at) per table.
Stale data is reported, not fatal: the build DAG records it and builds what the lake holds.
Written with deltalake (no JVM), like the run log.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from dataclasses import asdict, dataclass

from edulake import settings
from edulake.warehouse import packages, profiles, runner

STATUSES = ("pass", "warn", "error", "runtime error")


class FreshnessError(RuntimeError):
    pass


@dataclass
class SourceFreshness:
    checked_at: dt.datetime
    source_table: str
    status: str  # pass / warn / error / runtime error
    max_loaded_at: dt.datetime | None
    age_seconds: float | None
    warn_after: str | None
    error_after: str | None
    message: str | None


def ops_path():
    return settings.paths().ops / "source_freshness"


def _after(threshold) -> str | None:
    if threshold is None or threshold.count is None:
        return None
    return f"{threshold.count} {threshold.period}"


def _utc(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def check(record: bool = True) -> list[SourceFreshness]:
    """Run `dbt source freshness` on every silver table; append the results to ops/source_freshness."""
    p = settings.paths()
    if not p.silver.exists():
        raise FreshnessError(f"no silver zone at {p.silver}: ingest first (edulake ingest)")
    checked_at = dt.datetime.now(dt.UTC)
    with runner.build_lock(p):
        # the silver views live only in this scratch database (on-run-start registers them)
        scratch = p.warehouse_dir / ".freshness.duckdb"
        scratch.unlink(missing_ok=True)
        profiles_dir = profiles.write(p, scratch)
        packages.install()
        try:
            res = runner.invoke(runner.dbt_args(["source", "freshness"], p, profiles_dir, "duckdb", quiet=True), None)
        finally:
            runner.release_duckdb()
            scratch.unlink(missing_ok=True)
            scratch.with_name(scratch.name + ".wal").unlink(missing_ok=True)
    if res.result is None:
        raise FreshnessError(f"dbt source freshness did not run: {res.exception}")
    results = []
    for r in res.result.results:
        node = r.node
        if str(node.resource_type) != "source":  # the on-run-start hook reports a result too
            continue
        criteria = getattr(node, "freshness", None)
        results.append(SourceFreshness(
            checked_at=checked_at, source_table=node.name, status=str(r.status),
            max_loaded_at=_utc(getattr(r, "max_loaded_at", None)),
            age_seconds=float(r.age) if getattr(r, "age", None) is not None else None,
            warn_after=_after(criteria.warn_after) if criteria else None,
            error_after=_after(criteria.error_after) if criteria else None,
            message=r.message or None))
    if record:
        _append(results)
    return results


def summary(results: list[SourceFreshness]) -> dict:
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    return {"sources": len(results), **counts,
            "stale": sorted(r.source_table for r in results if r.status in ("warn", "error"))}


def _append(results: list[SourceFreshness], attempts: int = 8) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake
    from deltalake.exceptions import CommitFailedError

    ts = pa.timestamp("us", tz="UTC")
    schema = pa.schema([("checked_at", ts), ("source_table", pa.string()), ("status", pa.string()),
                        ("max_loaded_at", ts), ("age_seconds", pa.float64()), ("warn_after", pa.string()),
                        ("error_after", pa.string()), ("message", pa.string())])
    table = pa.Table.from_pylist([asdict(r) for r in results], schema=schema)
    target = ops_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(attempts):
        try:
            write_deltalake(str(target), table, mode="append")
            return
        except CommitFailedError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1) + random.random() / 2)


if __name__ == "__main__":
    print(json.dumps(summary(check()), ensure_ascii=False, indent=2))

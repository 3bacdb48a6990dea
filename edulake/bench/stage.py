"""One benchmark stage, run in its own process so its peak memory (with its JVM) is its own.

    python -m edulake.bench.stage STAGE PARAMS_JSON RESULT_JSON

EDULAKE_HOME is set by the parent. Each stage writes {"rows": n, ...} to RESULT_JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def generate(params: dict) -> dict:
    from edulake.generate import run_generate

    manifest = run_generate(scale=params["scale"], seed=params["seed"], out=Path(params["out"]),
                            years=tuple(params["years"]), progress=False)
    return {"rows": sum(f["rows"] for f in manifest["files"].values()), "files": len(manifest["files"])}


def lake(params: dict) -> dict:
    """landing, bronze and silver of every feed in ONE process and Spark session, as `edulake ingest`
    runs them; `marks` holds each step's [start, end] (epoch seconds) so the parent can split the wall
    time and the memory samples by step, `feed_marks` the same per feed and step, `validate_seconds`
    the part of each feed's silver spent validating. Landing's mark includes starting the Spark session."""
    import time

    from pyspark.sql import functions as F

    from edulake.commands.setup import ensure_pseudonym_key
    from edulake.lake import ledger, pipeline, stopwatch
    from edulake.lake.spark import get_spark

    ensure_pseudonym_key()  # the bench's own lake gets its own key, as `edulake setup` makes one
    marks, feed_marks, errors = {}, {}, []
    start = time.time()
    spark = get_spark("edulake-bench-lake")
    marks["spark"] = [start, time.time()]
    before = ledger.read(spark).groupBy("feed").agg(F.sum("rows_received")).collect()
    for step in ("landing", "bronze", "silver"):
        begin = start if step == "landing" else time.time()
        for feed in pipeline.feed_order():
            feed_begin = time.time()
            if step == "landing":
                errors += pipeline.run_landing(spark, feed, record_landed=False).errors
            elif step == "bronze":
                pipeline.run_bronze(spark, feed)
            else:
                errors += pipeline.run_silver(spark, feed).errors
            feed_marks.setdefault(feed, {})[step] = [feed_begin, time.time()]
        marks[step] = [begin, time.time()]
    totals = ledger.read(spark).groupBy("feed").agg(F.sum("rows_received")).collect()
    received_before = {r[0]: r[1] for r in before}
    feed_rows = {r[0]: int(r[1] - received_before.get(r[0], 0)) for r in totals}
    counts = ledger.read(spark).groupBy().sum("rows_received", "rows_accepted", "rows_quarantined",
                                              "rows_collapsed").collect()[0]
    validate = {feed: round(s, 2) for (feed, phase), s in stopwatch.totals().items() if phase == "validate"}
    return {"marks": marks, "feed_marks": feed_marks, "feed_rows": feed_rows, "validate_seconds": validate,
            "errors": [str(e) for e in errors], "ledger_received": counts[0],
            "ledger_accepted": counts[1], "ledger_quarantined": counts[2], "ledger_collapsed": counts[3]}


def build(params: dict) -> dict:
    from edulake.warehouse import build as build_warehouse

    result = build_warehouse()
    return {"ok": result.success, "error": "" if result.success else
            "; ".join(f"{n.status} {n.unique_id}" for n in result.problems)[:2000] or result.error}


def baseline(params: dict) -> dict:
    from edulake.bench import baseline as base

    return {"rows": base.run([Path(f) for f in params["files"]], Path(params["out"]), Path(params["work"]))}


STAGES = {
    "generate": generate,
    "lake": lake,
    "build": build,
    "baseline": baseline,
}


def main(argv: list[str]) -> int:
    stage, params, result_path = argv[0], json.loads(argv[1]), Path(argv[2])
    result = STAGES[stage](params)
    result_path.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

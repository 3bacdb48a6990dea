"""Command-line entry of the lake jobs, shared by spark_jobs/*.py (spark-submit: the Spark engine) and `python -m`.

    spark-submit spark_jobs/ingest.py <feed> [FILE...]     landing + bronze + silver
    spark-submit spark_jobs/landing.py <feed> [FILE...]
    spark-submit spark_jobs/bronze.py <feed> [BATCH_ID...]
    spark-submit spark_jobs/silver.py <feed> [BATCH_ID...]
    ... --all instead of a feed runs every feed, reference first.
Exit status 1 when a file or batch was rejected (the reasons are printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from edulake.lake import engines, pipeline

STEPS = ("ingest", "landing", "bronze", "silver")


def run_step(step: str, feed: str, items: list[str] | None, engine=None, on_event=None) -> pipeline.FeedResult:
    """Run one step for one feed. `items` are inbox files (ingest, landing) or batch ids (bronze, silver)."""
    from edulake.lineage.lake import ingest_run

    engine = engine or engines.get()
    if step == "ingest":
        return pipeline.ingest(feed, items, engine, on_event)
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; one of {', '.join(STEPS)}")
    with ingest_run(engine, feed, step=step) as lineage:  # one step alone is an OpenLineage run too
        if step == "landing":
            lineage.result = pipeline.run_landing(engine, feed, items, on_event)
        elif step == "bronze":
            lineage.result = pipeline.FeedResult(feed)
            lineage.bronzed = pipeline.run_bronze(engine, feed, items, on_event)
            lineage.result.landed = list(lineage.bronzed)
        else:
            lineage.result = pipeline.run_silver(engine, feed, items, on_event)
    return lineage.result


def main(step: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"spark_jobs/{step}.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("feed", nargs="?", help="feed name (schemas/feeds/<feed>.yaml)")
    parser.add_argument("items", nargs="*", help="inbox files (ingest, landing) or batch ids (bronze, silver)")
    parser.add_argument("--all", action="store_true", help="every feed, reference first")
    parser.add_argument("--engine", choices=engines.ENGINES, default="spark",
                        help="lake engine (spark-submit runs the Spark engine by default)")
    args = parser.parse_args(argv)
    if bool(args.all) == bool(args.feed):
        parser.error("give a feed or --all")
    feeds = pipeline.feed_order() if args.all else [args.feed]
    engine = engines.get(args.engine)
    failed = False
    for feed in feeds:
        result = run_step(step, feed, args.items or None, engine, on_event=lambda m: print(m, flush=True))
        for error in result.errors:
            print(f"REJECTED {error}", file=sys.stderr, flush=True)
        failed = failed or not result.ok
    return 1 if failed else 0

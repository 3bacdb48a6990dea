"""One benchmark stage, run in its own process so its seconds and peak memory (with the engine: DuckDB, or
Spark's JVM) are its own.

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
    """landing, bronze and silver of every feed in ONE process on the engine params["engine"], as
    `edulake ingest` runs them; `marks` holds each step's [start, end] (epoch seconds) so the parent can
    split the wall time and the memory samples by step, `feed_marks` the same per feed and step,
    `validate_seconds` the part of each feed's silver spent validating. Landing's mark includes starting
    the engine (a Spark session; nothing to speak of for DuckDB)."""
    import time

    from edulake.commands.setup import ensure_pseudonym_key
    from edulake.lake import engines, gx_run, pipeline, stopwatch

    ensure_pseudonym_key()  # the bench's own lake gets its own key, as `edulake setup` makes one
    marks, feed_marks, errors = {}, {}, []
    start = time.time()
    engine = engines.get(params.get("engine"))
    gx_run.prefetch(engine)  # as pipeline.ingest does: GX's import overlaps landing
    if engine.name == "spark":
        engine.spark  # noqa: B018 (start the session inside the landing mark, as before)
    marks["engine"] = [start, time.time()]
    before = _ledger_by_feed()
    silver_batches = []
    for step in ("landing", "bronze", "silver"):
        begin = start if step == "landing" else time.time()
        for feed in pipeline.feed_order():
            feed_begin = time.time()
            if step == "landing":
                errors += pipeline.run_landing(engine, feed, record_landed=False).errors
            elif step == "bronze":
                pipeline.run_bronze(engine, feed)
            else:
                result = pipeline.run_silver(engine, feed)
                errors += result.errors
                silver_batches += [[e.feed, e.table, e.batch_id, e.rows_received] for e in result.entries]
            feed_marks.setdefault(feed, {})[step] = [feed_begin, time.time()]
        marks[step] = [begin, time.time()]
    after = _ledger_by_feed()
    feed_rows = {feed: int(sums[0] - before.get(feed, (0,))[0]) for feed, sums in after.items()}
    counts = [sum(sums[i] for sums in after.values()) for i in range(4)]
    validate = {feed: round(s, 2) for (feed, phase), s in stopwatch.totals().items() if phase == "validate"}
    return {"marks": marks, "feed_marks": feed_marks, "feed_rows": feed_rows, "validate_seconds": validate,
            "silver_batches": silver_batches,
            "errors": [str(e) for e in errors], "ledger_received": counts[0],
            "ledger_accepted": counts[1], "ledger_quarantined": counts[2], "ledger_collapsed": counts[3]}


def _ledger_by_feed() -> dict[str, tuple[int, int, int, int]]:
    """Per feed: the ledger's received, accepted, quarantined, collapsed sums (one read)."""
    from edulake.lake import ledger, tables

    rows = tables.query(ledger.path(), "SELECT feed, sum(rows_received) AS a, sum(rows_accepted) AS b, "
                        "sum(rows_quarantined) AS c, sum(rows_collapsed) AS d FROM t GROUP BY feed")
    return {r["feed"]: tuple(int(r[k] or 0) for k in "abcd") for r in rows}


def validation(params: dict) -> dict:
    """The standard's rules' own cost: the batches a workload loaded into silver, grouped as silver groups
    them, are validated again from bronze twice — with every rule (as silver runs them) and with the
    field rules only (typing, parse checks, duplicates: what loading needs anyway); nothing is written
    but ops/quality's summary, which replaces those batches' rows with the same figures. The engine is
    warmed up first; the rules still run first on each group (a colder cache), so their difference leans
    high: an upper bound. Seconds per feed and mode."""
    import time
    from collections import defaultdict
    from types import SimpleNamespace

    from edulake import standard
    from edulake.commands.setup import ensure_pseudonym_key
    from edulake.lake import engines, pipeline, silver

    ensure_pseudonym_key()
    engine = engines.get(params.get("engine"))
    std = standard.load()
    modes = params.get("modes", ["rules", "field_rules"])  # "rules" alone may be left out: see validation_figures
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(modes, 0.0))
    rows: dict[str, int] = defaultdict(int)
    batches = [SimpleNamespace(feed=f, table=t, batch_id=b, rows=n) for f, t, b, n in params["batches"]]
    _warm_up(engine, std, batches)
    for table in std.tables():
        mine = [b for b in batches if b.table == table.qualified_name]
        for group in pipeline.silver_groups(mine, len(table.columns)):
            ids = [b.batch_id for b in group]
            rows[table.feed] += sum(b.rows for b in group)
            for mode in modes:
                begin = time.perf_counter()
                try:
                    silver.validate(engine, std, table, ids, with_quality=mode == "rules")
                finally:
                    engine.drop(*silver.WORK)
                seconds[table.feed][mode] += time.perf_counter() - begin
    return {"rows": sum(rows.values()),
            "feeds": {f: {"rows": rows[f], **{m: round(s, 2) for m, s in by_mode.items()}}
                      for f, by_mode in seconds.items()}}


def _warm_up(engine, std, batches: list) -> None:
    """The engine's first-use costs (a Spark session and its first jobs; DuckDB's delta extension and first
    scans) paid before the clock starts, on the smallest batch, so neither mode below carries them."""
    from edulake.lake import silver

    if not batches:
        return
    smallest = min(batches, key=lambda b: b.rows)
    try:
        silver.validate(engine, std, std.table(smallest.table), [smallest.batch_id], with_quality=False)
    finally:
        engine.drop(*silver.WORK)


def build(params: dict) -> dict:
    from edulake.warehouse import build as build_warehouse

    result = build_warehouse()
    return {"ok": result.success, "error": "" if result.success else
            "; ".join(f"{n.status} {n.unique_id}" for n in result.problems)[:2000] or result.error}


def floor(params: dict) -> dict:
    from edulake.bench import floor as fastest

    return fastest.run([Path(f) for f in params["files"]], Path(params["out"]))


def cut(params: dict) -> dict:
    """The workloads' deliveries (edulake.bench.change), reused from the last cut when nothing changed."""
    from edulake.bench import change

    manifest = json.loads((Path(params["sources"]) / "defects.json").read_text(encoding="utf-8"))
    deliveries, reused = change.cut(Path(params["sources"]), Path(params["out"]),
                                    {name: f["rows"] for name, f in manifest["files"].items()})
    return {"rows": sum(d.rows for d in deliveries.values()), "reused": reused,
            "deliveries": {d.name: {"files": [str(f) for f in d.files], "rows": d.rows} for d in deliveries.values()}}


STAGES = {
    "generate": generate,
    "cut": cut,
    "lake": lake,
    "validation": validation,
    "build": build,
    "floor": floor,
}


def main(argv: list[str]) -> int:
    stage, params, result_path = argv[0], json.loads(argv[1]), Path(argv[2])
    # DuckDB's replacement scans and pyarrow's numpy conversions import pandas on first use (seconds where
    # bytecode is not cached): imported here, before the clocks the lake's steps and the floor keep
    import pandas  # noqa: F401
    result = STAGES[stage](params)
    result_path.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Runs the workloads stage by stage in child processes, on one engine or both, and measures them.

Workloads over one generated history (see change.py): `backfill` (all years but the last, into an
empty lake), `refresh` (the last school year's deliveries, into that lake: the routine refresh) and
`change` (a 1% change to each feed, into the same lake: the incremental run). With both engines, each
runs every workload on the same deliveries into its own lake home (WORK/home-<engine>), workload by
workload, one engine after the other, so that a busy spell of the machine does not land on one engine
only. Per engine and workload: landing, bronze, silver (validation + MERGE), for the refresh the
`validation` stage (the standard's rules' own cost), and the dbt build; the floor (floor.py: the same
files to typed Parquet by the fastest readers here) runs once per workload. Landing, bronze and silver
share one child process and engine, as `edulake ingest` runs them (three JVM starts per workload would
measure JVM start-up); their seconds and peak memory are split at the marks the child records.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from edulake.bench.change import Delivery
from edulake.bench.memory import PeakSampler, peak_between

WORKLOADS = ("backfill", "refresh", "change")
LAKE_STAGES = ("landing", "bronze", "silver")
INGESTION_STAGES = LAKE_STAGES
PIPELINE_STAGES = (*LAKE_STAGES, "build")


@dataclass
class StageResult:
    workload: str
    stage: str
    seconds: float
    rows: int
    peak_rss_mb: float
    ok: bool
    detail: dict
    engine: str = ""  # the lake engine; "" for the stages that do not use one (generate, cut, floor)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "rows_per_s": round(self.rows_per_s, 1)}


def run_stage(workload: str, stage: str, params: dict, home: Path, rows: int, work: Path,
              engine: str = "") -> StageResult:
    """Run one stage in a child process; wall seconds and the peak RSS of its process tree."""
    result, _ = _run_child(workload, stage, params, home, rows, work, engine)
    return result


def run_lake(workload: str, home: Path, rows: int, work: Path, engine: str) -> list[StageResult]:
    """landing, bronze, silver in one child process, split into three results at the child's marks."""
    whole, samples = _run_child(workload, "lake", {"engine": engine}, home, rows, work, engine)
    marks = whole.detail.get("marks")
    if not marks:  # the child died before recording them: the failure is the landing's
        return [StageResult(workload, s, whole.seconds if s == "landing" else 0.0, rows, whole.peak_rss_mb,
                            False, whole.detail if s == "landing" else {}, engine) for s in LAKE_STAGES]
    out = []
    for s in LAKE_STAGES:
        start, end = marks[s]
        detail = {k: v for k, v in whole.detail.items() if k != "marks"} if s == "silver" else {}
        if s == "landing":
            detail["engine_start_seconds"] = round(marks["engine"][1] - marks["engine"][0], 2)
        if s == "silver":
            detail["feeds"] = feed_figures(workload, engine, whole.detail, samples)
        out.append(StageResult(workload, s, round(end - start, 2), rows,
                               round(peak_between(samples, start, end) / 2**20, 1), whole.ok, detail, engine))
    return out


def feed_figures(workload: str, engine: str, detail: dict, samples: list[tuple[float, int]]) -> list[dict]:
    """Per feed: rows, seconds of landing, bronze, silver and of silver's validation, rows per second,
    and the peak RSS while that feed's steps ran (from the child's per-feed marks)."""
    out = []
    for feed, steps in detail.get("feed_marks", {}).items():
        rows = int(detail.get("feed_rows", {}).get(feed, 0))
        seconds = {s: round(end - start, 2) for s, (start, end) in steps.items()}
        lake = sum(seconds.values())
        validate = float(detail.get("validate_seconds", {}).get(feed, 0.0))
        peak = max(peak_between(samples, start, end) for start, end in steps.values())
        out.append({"engine": engine, "workload": workload, "feed": feed, "rows": rows,
                    **{f"{s}_seconds": seconds.get(s, 0.0) for s in LAKE_STAGES},
                    "validate_seconds": validate, "lake_seconds": round(lake, 2),
                    "rows_per_s": round(rows / lake, 1) if lake else 0.0,
                    "validate_rows_per_s": round(rows / validate, 1) if validate else 0.0,
                    "peak_rss_mb": round(peak / 2**20, 1)})
    return out


def _run_child(workload: str, stage: str, params: dict, home: Path, rows: int, work: Path,
               engine: str = "") -> tuple[StageResult, list[tuple[float, int]]]:
    stem = f"{engine}-{workload}-{stage}" if engine else f"{workload}-{stage}"
    result_file, log_file = work / f"{stem}.json", work / f"{stem}.log"
    result_file.unlink(missing_ok=True)
    env = {**os.environ, "EDULAKE_HOME": str(home)}
    if engine:
        env["EDULAKE_ENGINE"] = engine
    log = log_file.open("w")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "edulake.bench.stage", stage, json.dumps(params), str(result_file)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    with PeakSampler(proc.pid) as sampler:
        code = proc.wait()
    seconds = time.perf_counter() - start
    log.close()
    detail = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    if code != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        detail["error"] = "\n".join(tail)
    # a stage that ran but failed its work (a rejected file, a failed dbt test) is not ok either
    ok = code == 0 and detail.get("ok", True) and not detail.get("errors")
    if "seconds" in detail:  # timed by the stage itself (the floor), as the lake's steps are: no start-up
        detail["process_seconds"], seconds = round(seconds, 2), detail["seconds"]
    return (StageResult(workload, stage, round(seconds, 2), int(detail.get("rows", rows)),
                        round(sampler.peak / 2**20, 1), bool(ok), detail, engine), sampler.samples)


def _inbox(home: Path, files: list[Path]) -> None:
    """Deliver files into the lake's inbox (copies: the sources stay reusable)."""
    inbox = home / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    for f in files:
        target = inbox / f.parent.name / f.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)


def machine() -> dict:
    return {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def run(scale: float, seed: int, work: Path, years: tuple[int, int] | None = None, engines: tuple[str, ...] = ("duckdb",),
        say: Callable[[str], None] = print) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    sources = work / f"sources-scale{scale:g}-seed{seed}"
    results: list[StageResult] = []
    params = {"scale": scale, "seed": seed, "out": str(sources), "years": list(years or (2018, 2025))}
    if not _generated(sources, params):
        say(f"生成源数据 scale={scale:g} seed={seed} -> {sources}")
        shutil.rmtree(sources, ignore_errors=True)
        _record(results, run_stage("sources", "generate", params, work / "generate-home", 0, work), say)
        if not results[-1].ok:
            raise RuntimeError(f"generate failed:\n{results[-1].detail.get('error')}")
    else:
        say(f"复用已生成的源数据 {sources}")
    say("切分工作负载: backfill / refresh / change")
    cut = run_stage("sources", "cut", {"sources": str(sources), "out": str(work / f"deliveries-{sources.name}")},
                    work / "generate-home", 0, work)
    _record(results, cut, say)
    if not cut.ok:
        raise RuntimeError(f"the workload cut failed:\n{cut.detail.get('error')}")
    say("  (复用上次切分的结果)" if cut.detail["reused"] else "  (已切分并缓存)")
    deliveries = {name: Delivery(name, [Path(f) for f in d["files"]], d["rows"])
                  for name, d in cut.detail["deliveries"].items()}

    homes = {engine: work / f"home-{engine}" for engine in engines}
    for home in homes.values():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir()
    for name in WORKLOADS:
        delivery = deliveries[name]
        say(f"[{name}] {len(delivery.files)} 个文件, {delivery.rows} 行")
        for engine in engines:
            home = homes[engine]
            _inbox(home, delivery.files)
            lake = run_lake(name, home, delivery.rows, work, engine)
            for r in lake:
                _record(results, r, say)
            loaded = lake[-1].detail.pop("silver_batches", [])
            if name == "refresh":  # the routine run: what the standard's rules cost in it (validation ≤ ingestion)
                _record(results, run_stage(name, "validation", {"batches": loaded, "engine": engine}, home,
                                           delivery.rows, work, engine), say)
            _record(results, run_stage(name, "build", {}, home, delivery.rows, work, engine), say)
        floor = {"files": [str(f) for f in delivery.files], "out": str(work / "floor" / name)}
        _record(results, run_stage(name, "floor", floor, work / "floor", delivery.rows, work), say)
    return summarise(scale, seed, engines, results, deliveries)


def _generated(sources: Path, params: dict) -> bool:
    """Sources generated before with these parameters (the manifest says which years it holds)."""
    manifest = sources / "defects.json"
    if not manifest.exists():
        return False
    made = json.loads(manifest.read_text(encoding="utf-8"))
    return [made.get("scale"), made.get("seed"), list(made.get("years", []))] == \
        [params["scale"], params["seed"], params["years"]]


def _record(results: list[StageResult], r: StageResult, say: Callable[[str], None]) -> None:
    results.append(r)
    say(f"  {r.engine or '':<6} {r.stage:<10} {r.seconds:>9.1f} s  {r.rows_per_s:>12,.0f} 行/s  "
        f"峰值 {r.peak_rss_mb:>8,.0f} MB" + ("" if r.ok else "  失败"))


def _ratio(a: float, b: float | None, digits: int = 1) -> float | None:
    return round(a / b, digits) if b else None


def summarise(scale: float, seed: int, engines: tuple[str, ...], results: list[StageResult],
              deliveries: dict[str, Delivery]) -> dict:
    floors = {r.workload: r for r in results if r.stage == "floor"}
    floor = {name: {"seconds": r.seconds, "rows": r.rows, "rows_per_s": round(r.rows_per_s, 1),
                    "peak_rss_mb": r.peak_rss_mb, "ok": r.ok, "set_aside": r.detail.get("set_aside", 0),
                    "skipped_files": r.detail.get("skipped_files", []), "feeds": r.detail.get("feeds", {})}
             for name, r in floors.items()}
    per_engine = {engine: _engine_figures(engine, results, deliveries, floors) for engine in engines}
    cut = next((r for r in results if r.stage == "cut"), None)
    return {
        "scale": scale, "seed": seed, "engines": list(engines), "machine": machine(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cut": {"seconds": cut.seconds, "reused": cut.detail.get("reused")} if cut else None,
        "stages": [r.to_dict() for r in results],
        "floor": floor,
        "engine": per_engine,
        "ok": all(r.ok for r in results),
    }


def _engine_figures(engine: str, results: list[StageResult], deliveries: dict[str, Delivery],
                    floors: dict[str, StageResult]) -> dict:
    """One engine's workloads against the floor, its per-feed figures, the rules' cost, the incremental ratio."""
    mine = [r for r in results if r.engine == engine]
    workloads = {}
    for name, delivery in deliveries.items():
        stages = [r for r in mine if r.workload == name and r.stage in PIPELINE_STAGES]
        ingestion = sum(r.seconds for r in stages if r.stage in INGESTION_STAGES)
        total = sum(r.seconds for r in stages)
        base = floors.get(name)
        floor_s = base.seconds if base and base.ok else None
        workloads[name] = {
            "files": len(delivery.files), "rows": delivery.rows,
            "ingestion_seconds": round(ingestion, 2), "ingestion_to_floor": _ratio(ingestion, floor_s),
            "pipeline_seconds": round(total, 2), "pipeline_to_floor": _ratio(total, floor_s),
            "pipeline_rows_per_s": round(delivery.rows / total, 1) if total else 0,
            "pipeline_peak_rss_mb": max((r.peak_rss_mb for r in stages), default=0),
            "floor_seconds": floor_s,
            "ok": all(r.ok for r in stages) and bool(base and base.ok),
        }
    floor_feeds = {name: r.detail.get("feeds", {}) for name, r in floors.items()}
    feeds = []
    for f in (f for r in mine if r.stage == "silver" for f in r.detail.get("feeds", [])):
        floor_s = floor_feeds.get(f["workload"], {}).get(f["feed"], {}).get("seconds")
        feeds.append({**f, "floor_seconds": floor_s, "lake_to_floor": _ratio(f["lake_seconds"], floor_s)})
    slowest = max((r for r in mine if r.stage in PIPELINE_STAGES), key=lambda r: r.seconds, default=None)
    refresh, change = workloads.get("refresh"), workloads.get("change")
    return {
        "workloads": workloads,
        "feeds": feeds,
        "validation": validation_figures(mine),
        "incremental_vs_full": (_ratio(change["pipeline_seconds"], refresh["pipeline_seconds"], 3)
                                if refresh and change else None),
        "incremental_vs_full_ingestion": (_ratio(change["ingestion_seconds"], refresh["ingestion_seconds"], 3)
                                          if refresh and change else None),
        "slowest_stage": f"{slowest.workload}/{slowest.stage}" if slowest else None,
        "ok": all(r.ok for r in mine),
    }


def validation_figures(results: list[StageResult]) -> list[dict]:
    """Per feed of the validated workload (one engine's results): the silver validate phase with every rule
    and with the field rules only (the `validation` stage), their difference — the standard's rules' own
    cost — and the rest of that feed's ingestion (landing + bronze + silver of the lake run, less the rules)."""
    run = next((r for r in results if r.stage == "validation" and r.ok), None)
    if run is None:
        return []
    lake = {f["feed"]: f for r in results if r.workload == run.workload and r.stage == "silver"
            for f in r.detail.get("feeds", [])}
    out = []
    for feed, v in run.detail.get("feeds", {}).items():
        if "rules" not in v:  # not re-run: silver's own validate phase of the lake run (first, as in production)
            v = {**v, "rules": lake[feed]["validate_seconds"]}
        cost = round(v["rules"] - v["field_rules"], 2)
        ingestion = round(lake[feed]["lake_seconds"] - cost, 2) if feed in lake else 0.0
        out.append({"engine": run.engine, "workload": run.workload, "feed": feed, "rows": v["rows"],
                    "with_rules_seconds": v["rules"], "field_rules_only_seconds": v["field_rules"],
                    "rules_seconds": cost, "rules_rows_per_s": round(v["rows"] / cost, 1) if cost > 0 else None,
                    "ingestion_seconds": ingestion,
                    "rules_to_ingestion": round(cost / ingestion, 3) if ingestion > 0 else None})
    return out

"""The benchmark report as JSON and as markdown tables, the engines side by side."""

from __future__ import annotations

import json
from pathlib import Path

from edulake.bench.runner import LAKE_STAGES, WORKLOADS

ENGINE_STAGES = (*LAKE_STAGES, "validation", "build")


def _table(header: list[str], rows: list[list], right_from: int = 2) -> list[str]:
    """A markdown table; numbers right-aligned from column `right_from` on."""
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|",
            *("| " + " | ".join(str(c) for c in r) + " |" for r in rows), ""]


def _n(value, digits: int = 0) -> str:
    """A figure as the tables print it; – when there is none."""
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else str(value)


def _side_by_side(report: dict) -> list[str]:
    engines = report["engines"]
    stages = {(s["engine"], s["workload"], s["stage"]): s for s in report["stages"]}
    header = ["workload", "stage", "rows"] + [f"{e} {what}" for e in engines for what in ("s", "rows/s", "peak MB")]
    rows = []
    for workload in WORKLOADS:
        for stage in ENGINE_STAGES:
            mine = [stages.get((e, workload, stage)) for e in engines]
            if not any(mine):
                continue
            rows_n = next(s["rows"] for s in mine if s)
            cells = []
            for s in mine:
                cells += ([_n(s["seconds"], 1) + ("" if s["ok"] else " (failed)"), _n(s["rows_per_s"]),
                           _n(s["peak_rss_mb"])] if s else ["–"] * 3)
            rows.append([workload, stage, _n(rows_n), *cells])
    return _table(header, rows)


def _workloads(report: dict) -> list[str]:
    engines, floor = report["engines"], report["floor"]
    header = ["workload", "files", "rows", "floor s"]
    for e in engines:
        header += [f"{e} ingestion s", f"{e} ingestion ÷ floor", f"{e} pipeline s", f"{e} pipeline ÷ floor",
                   f"{e} rows/s", f"{e} peak MB"]
    rows = []
    for workload in WORKLOADS:
        first = next((report["engine"][e]["workloads"].get(workload) for e in engines), None)
        if first is None:
            continue
        cells = [workload, first["files"], _n(first["rows"]), _n(floor.get(workload, {}).get("seconds"), 1)]
        for e in engines:
            w = report["engine"][e]["workloads"][workload]
            cells += [_n(w["ingestion_seconds"], 1), _n(w["ingestion_to_floor"], 1), _n(w["pipeline_seconds"], 1),
                      _n(w["pipeline_to_floor"], 1), _n(w["pipeline_rows_per_s"]), _n(w["pipeline_peak_rss_mb"])]
        rows.append(cells)
    return _table(header, rows, right_from=1)


def _floor(report: dict) -> list[str]:
    rows = [[name, _n(f["rows"]), _n(f["seconds"], 1), _n(f["rows_per_s"]), _n(f["peak_rss_mb"]), _n(f["set_aside"]),
             len(f["skipped_files"]), "yes" if f["ok"] else "NO"] for name, f in report["floor"].items()]
    return _table(["workload", "rows", "seconds", "rows/s", "peak RSS MB", "rows set aside", "files skipped", "ok"],
                  rows, right_from=1)


def _incremental(report: dict) -> list[str]:
    rows = [[e, _n(x["incremental_vs_full"], 3), _n(x["incremental_vs_full_ingestion"], 3), x["slowest_stage"] or "–"]
            for e, x in report["engine"].items()]
    return _table(["engine", "1% change ÷ full refresh (pipeline)", "(ingestion only)", "slowest stage"], rows,
                  right_from=1)


def _feeds_side_by_side(report: dict) -> list[str]:
    engines = report["engines"]
    by = {(f["engine"], f["workload"], f["feed"]): f for e in engines for f in report["engine"][e]["feeds"]}
    keys = list(dict.fromkeys((w, feed) for (_, w, feed) in by))
    header = ["workload", "feed", "rows", "floor s"]
    for e in engines:
        header += [f"{e} lake s", f"{e} ÷ floor", f"{e} of which validation s", f"{e} rows/s", f"{e} peak MB"]
    rows = []
    for workload, feed in keys:
        mine = [by.get((e, workload, feed)) for e in engines]
        first = next(f for f in mine if f)
        cells = [workload, feed, _n(first["rows"]), _n(first["floor_seconds"], 2)]
        for f in mine:
            cells += ([_n(f["lake_seconds"], 1), _n(f["lake_to_floor"], 1), _n(f["validate_seconds"], 1),
                       _n(f["rows_per_s"]), _n(f["peak_rss_mb"])] if f else ["–"] * 5)
        rows.append(cells)
    return _table(header, rows)


def _feed_steps(report: dict) -> list[str]:
    rows = [[f["engine"], f["workload"], f["feed"], _n(f["rows"]), _n(f["landing_seconds"], 1),
             _n(f["bronze_seconds"], 1), _n(f["silver_seconds"], 1), _n(f["validate_seconds"], 1),
             _n(f["validate_rows_per_s"])]
            for e in report["engines"] for f in report["engine"][e]["feeds"]]
    return _table(["engine", "workload", "feed", "rows", "landing s", "bronze s", "silver s",
                   "of which validation s", "validation rows/s"], rows, right_from=3)


def _rules(report: dict) -> list[str]:
    rows = [[v["engine"], v["workload"], v["feed"], _n(v["rows"]), _n(v["with_rules_seconds"], 1),
             _n(v["field_rules_only_seconds"], 1), _n(v["rules_seconds"], 1), _n(v["rules_rows_per_s"]),
             _n(v["ingestion_seconds"], 1), _n(v["rules_to_ingestion"], 3)]
            for e in report["engines"] for v in report["engine"][e]["validation"]]
    return _table(["engine", "workload", "feed", "rows", "with rules s", "field rules only s", "rules s",
                   "rules rows/s", "ingestion s", "rules ÷ ingestion"], rows, right_from=3)


def markdown(report: dict) -> str:
    m, cut = report["machine"], report.get("cut") or {}
    lines = [f"## edulake bench — scale {report['scale']:g}, seed {report['seed']}, "
             f"engine{'s' if len(report['engines']) > 1 else ''} {' + '.join(report['engines'])}", "",
             f"Machine: {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, {m['platform']}; "
             f"finished {report['finished_at']}. Workload cut: {_n(cut.get('seconds'), 1)} s"
             f"{' (reused)' if cut.get('reused') else ''}.", "",
             "Per workload (ingestion = landing + bronze + silver; pipeline = ingestion + dbt build; "
             "the floor = the same files to typed Parquet by the fastest readers here, once per workload):", "",
             *_workloads(report),
             *_incremental(report),
             "Per stage (`validation` re-runs the refresh's validation from bronze: the rules' own cost below):", "",
             *_side_by_side(report),
             "The floor:", "", *_floor(report),
             "Per feed (landing + bronze + silver; the floor's seconds for the same feed's files):", "",
             *_feeds_side_by_side(report),
             "Per feed and step:", "", *_feed_steps(report)]
    if any(report["engine"][e]["validation"] for e in report["engines"]):
        lines += ["The standard's rules' own cost (silver's validation run again from bronze: with every rule, "
                  "then with the field rules only; ingestion = landing + bronze + silver less the rules):", "",
                  *_rules(report)]
    return "\n".join(lines)


def write(report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bench-scale{report['scale']:g}" + ("" if report["engines"] == ["duckdb"] else "-" + "-".join(report["engines"]))
    js, md = out / f"{stem}.json", out / f"{stem}.md"
    js.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md.write_text(markdown(report), encoding="utf-8")
    return js, md

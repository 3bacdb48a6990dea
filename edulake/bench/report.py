"""The benchmark report as JSON and as a markdown table."""

from __future__ import annotations

import json
from pathlib import Path


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"## edulake bench — scale {report['scale']:g}, seed {report['seed']}",
             "", f"Machine: {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, {m['platform']}; "
             f"finished {report['finished_at']}.", "",
             "| workload | stage | seconds | rows | rows/s | peak RSS MB | ok |",
             "|---|---|---:|---:|---:|---:|---|"]
    for s in report["stages"]:
        lines.append(f"| {s['workload']} | {s['stage']} | {s['seconds']:.1f} | {s['rows']:,} | "
                     f"{s['rows_per_s']:,.0f} | {s['peak_rss_mb']:,.0f} | {'yes' if s['ok'] else 'NO'} |")
    lines += ["", "| workload | files | rows | pipeline s | rows/s | peak RSS MB | baseline s | pipeline ÷ baseline |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, w in report["workloads"].items():
        lines.append(f"| {name} | {w['files']} | {w['rows']:,} | {w['pipeline_seconds']:.1f} | "
                     f"{w['pipeline_rows_per_s']:,.0f} | {w['pipeline_peak_rss_mb']:,.0f} | "
                     f"{w['baseline_seconds'] or 0:.1f} | {w['pipeline_to_baseline'] or '–'} |")
    if report.get("feeds"):
        lines += ["", "Per feed (landing + bronze + silver; validation is part of silver):", "",
                  "| workload | feed | rows | landing s | bronze s | silver s | of which validation s | rows/s | "
                  "validation rows/s | peak RSS MB |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for f in report["feeds"]:
            lines.append(f"| {f['workload']} | {f['feed']} | {f['rows']:,} | {f['landing_seconds']:.1f} | "
                         f"{f['bronze_seconds']:.1f} | {f['silver_seconds']:.1f} | {f['validate_seconds']:.1f} | "
                         f"{f['rows_per_s']:,.0f} | {f['validate_rows_per_s']:,.0f} | {f['peak_rss_mb']:,.0f} |")
    if report.get("validation"):
        lines += ["", "The standard's rules' own cost (silver's validation run again from bronze: with every rule, "
                  "then with the field rules only; ingestion = landing + bronze + silver less the rules):", "",
                  "| workload | feed | rows | with rules s | field rules only s | rules s | rules rows/s | "
                  "ingestion s | rules ÷ ingestion |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for v in report["validation"]:
            lines.append(f"| {v['workload']} | {v['feed']} | {v['rows']:,} | {v['with_rules_seconds']:.1f} | "
                         f"{v['field_rules_only_seconds']:.1f} | {v['rules_seconds']:.1f} | "
                         f"{v['rules_rows_per_s'] or 0:,.0f} | {v['ingestion_seconds']:.1f} | "
                         f"{v['rules_to_ingestion'] if v['rules_to_ingestion'] is not None else '–'} |")
    lines += ["", f"Incremental (1% change) ÷ full refresh: {report['incremental_vs_full']}; "
                  f"slowest stage: {report['slowest_stage']}.", ""]
    return "\n".join(lines)


def write(report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bench-scale{report['scale']:g}"
    js, md = out / f"{stem}.json", out / f"{stem}.md"
    js.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md.write_text(markdown(report), encoding="utf-8")
    return js, md

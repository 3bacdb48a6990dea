"""The issue's multi-year backfill, measured: generated sources delivered school year by school year into an empty
lake (`edulake ingest --all` per year), then the first `edulake build` (a full one), as an operator would run it.

    uv run python benchmarks/backfill_years.py --sources DIR --home DIR [--out benchmarks/backfill-….json]

`--sources` is `edulake generate --out` output (e.g. `--scale 1.0 --years 2018-2025`). Reference data goes in
first, then each school year's files (a file's year as the bench's cut reads it). Each year's inbox files are
deleted once ingested (landing keeps its own copy), so the disk holds the sources and the lake once; the
sources directory itself is left alone. Per step: wall seconds, peak RSS of the process tree (sampled), exit
code, free disk after. Not a test: a figure, run alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from edulake.bench.change import file_year, source_files
from edulake.bench.memory import PeakSampler


def cli(home: Path) -> tuple[dict, str]:
    """The environment for `edulake` on `home`, and the command itself."""
    edulake = shutil.which("edulake") or sys.exit("edulake is not on PATH (run through `uv run`)")
    return {**os.environ, "EDULAKE_HOME": str(home.resolve())}, edulake


def run(cmd: list[str], env: dict, log: Path) -> dict:
    started = time.monotonic()
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with PeakSampler(proc.pid) as sampler:
            rc = proc.wait()
    return {"seconds": round(time.monotonic() - started, 1), "peak_rss_mb": sampler.peak // 2**20, "rc": rc,
            "free_gb_after": round(shutil.disk_usage(log.parent).free / 2**30, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, help="required unless --build-only")
    ap.add_argument("--home", type=Path, required=True, help="an EDULAKE_HOME that does not exist yet")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/backfill-years.json"))
    ap.add_argument("--build-only", action="store_true",
                    help="the lake is already ingested: run the build again and record it in --out (e.g. after a "
                         "failed build)")
    args = ap.parse_args()
    if args.build_only:
        return build_again(args)
    if args.sources is None:
        ap.error("--sources is required")
    if args.home.exists() and any(args.home.iterdir()):
        sys.exit(f"{args.home} exists: the backfill starts from an empty lake")
    env, edulake = cli(args.home)
    args.home.mkdir(parents=True)
    # the lake's own pseudonym key, as `edulake setup` makes one (without its Maven step: the embedded engine)
    subprocess.run([sys.executable, "-c", "from edulake.commands.setup import ensure_pseudonym_key as k; k()"],
                   env=env, check=True)
    log = args.home / "backfill.log"

    by_year: dict[int, list[Path]] = defaultdict(list)
    for path in source_files(args.sources):
        by_year[file_year(path) or 0].append(path)  # 0: reference data (no 学年), first
    report = {"sources": str(args.sources), "home": str(args.home), "years": [], "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "edulake_dbt_memory": os.environ.get("EDULAKE_DBT_MEMORY")}
    inbox = args.home / "inbox"
    for year in sorted(by_year):
        for path in by_year[year]:
            target = inbox / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        step = run([edulake, "ingest", "--all"], env, log)
        report["years"].append({"year": year, "files": len(by_year[year]), **step})
        print(json.dumps(report["years"][-1]), flush=True)
        for path in by_year[year]:
            (inbox / path.parent.name / path.name).unlink(missing_ok=True)
        if step["rc"] != 0:
            break
    report["ingest_seconds"] = round(sum(y["seconds"] for y in report["years"]), 1)
    if all(y["rc"] == 0 for y in report["years"]):
        report["build"] = run([edulake, "build"], env, log)
        print(json.dumps(report["build"]), flush=True)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if report.get("build", {}).get("rc") == 0 else 1


def build_again(args) -> int:
    env, edulake = cli(args.home)
    report = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {"home": str(args.home)}
    if "build" in report:
        report.setdefault("earlier_builds", []).append(report.pop("build"))
    report["build"] = run([edulake, "build"], env, args.home / "backfill.log")
    report["build"]["edulake_dbt_memory"] = os.environ.get("EDULAKE_DBT_MEMORY")
    print(json.dumps(report["build"]), flush=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if report["build"]["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""run_generate: every feed of the synthetic Beijing, district by district and year by year, streamed to disk.

Files go to out/<feed>/ under the names the standard's file patterns expect; out/defects.json is the
manifest: what was written (rows, sha256) and every injected defect (file, row, column, kind, expected
outcome, rule) — the ground truth validation is measured against.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edulake import permissions, standard
from edulake.files import sha256_of
from edulake.generate import feeds, world
from edulake.generate.defects import Injector
from edulake.generate.writers import CsvWriter, XlsxWriter

MANIFEST = "defects.json"
DEFAULT_YEARS = (2018, 2025)


def fitness_format(d: world.District, year: int) -> str:
    """Schools upload the national template (XLSX); some district platforms re-export it as CSV."""
    return "csv" if (d.index + year) % 3 == 0 else "xlsx"


class _Files:
    """The open writers and what the manifest says about them."""

    def __init__(self, out: Path, std: standard.Standard, injector: Injector, seed: int):
        self.out, self.std, self.injector, self.seed = out, std, injector, seed
        self.open: dict[str, CsvWriter | XlsxWriter] = {}
        self.files: dict[str, dict] = {}
        self.defects: list[dict] = []

    def write(self, table_name: str, name: str, values: dict[str, np.ndarray], part: str = "", keep_open=False,
              sheet: str | None = None) -> None:
        table = self.std.table(table_name)
        key = f"{table.feed}/{name}"
        writer = self.open.get(key)
        if writer is None:
            path = self.out / table.feed / name
            writer = XlsxWriter(path, table, sheet or table.label) if name.endswith(".xlsx") else CsvWriter(path, table)
            self.open[key] = writer
        df = feeds.frame(table, values)
        rng = world.rng_for(self.seed, "defects", key, part)
        df, found = self.injector.inject(table, df, key, rng, row_offset=writer.rows)
        writer.write(df)
        self.defects += found
        if not keep_open:
            self.close(key)

    def close(self, key: str) -> None:
        writer = self.open.pop(key)
        writer.close()
        self.files[key] = {"rows": writer.rows, "sha256": sha256_of(writer.path)}

    def close_all(self) -> None:
        for key in list(self.open):
            self.close(key)


def _clear(out: Path, std: standard.Standard) -> None:
    """Remove an earlier run's files (only names the standard's patterns match), so none is left stale."""
    for feed in std.feeds.values():
        folder = out / feed.name
        if folder.is_dir():
            for p in folder.iterdir():
                if p.is_file() and any(fnmatch.fnmatchcase(p.name, t.file_pattern) for t in feed.tables):
                    p.unlink()
    (out / MANIFEST).unlink(missing_ok=True)


def run_generate(scale: float, seed: int, out, years: Iterable[int] = DEFAULT_YEARS,
                 defect_rate: float = 0.002, progress: bool = True) -> dict:
    """Write the synthetic Beijing sources to out/<feed>/ and out/defects.json; return the manifest."""
    first, last = (int(y) for y in years)
    if last < first:
        raise ValueError(f"years {first}-{last}: the last year comes before the first")
    if not (0 < scale <= 5):
        raise ValueError(f"scale {scale}: expected 0 < scale <= 5 (1.0 = Beijing)")
    if not (0 <= defect_rate <= 0.2):
        raise ValueError(f"defect rate {defect_rate}: expected 0 to 0.2")
    permissions.restrict_process()  # the sources carry names and ID numbers: owner-only, whoever calls
    cfg = world.Config(scale, seed, first, last, defect_rate)
    std = standard.load()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out, std)

    ds = world.districts(std)
    counts = {d.code: world.births(cfg, d) for d in ds}
    sch = world.schools(cfg, ds, std)
    files = _Files(out, std, Injector(std, defect_rate, set(sch.school_id.tolist())), seed)
    # reference data is the yardstick the others are checked against: it stays clean
    clean = Injector(std, 0.0, set())
    reference = _Files(out, std, clean, seed)
    reference.write("reference.district", "行政区划.csv", feeds.district_rows(std))
    reference.write("reference.school", "学校名录.csv", feeds.school_rows(sch, ds))
    reference.write("reference.births", "出生人口.csv", feeds.birth_rows(cfg, ds, counts))
    template = {r["code"]: r["fitness_template_code"] for r in std.codes("grade").rows}
    fitness = std.table("health.fitness")

    bar = (Progress(TextColumn("[bold]生成源数据[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn()) if progress else nullcontext())
    with bar:
        task = bar.add_task("", total=len(ds) * len(cfg.years)) if progress else None
        for d in ds:
            p = world.people(cfg, d, counts[d.code], sch)
            caps = feeds.capacities(cfg, p, d)
            for year in cfg.years:
                if progress:
                    bar.update(task, description=f"{d.name} {year}")
                y = feeds.year_of(p, year)
                rng = world.rng_for(seed, "rows", d.code, year)
                files.write("enrollment.roster", f"学籍名册_{year}_{d.code}.csv", feeds.roster_rows(p, y, sch, d))
                files.write("enrollment.status_change", f"学籍异动_{year}_{d.code}.csv",
                            feeds.status_change_rows(p, y, sch, rng))
                files.write("health.fitness", f"体测_{year}_{d.code}.{fitness_format(d, year)}",
                            feeds.fitness_rows(p, y, sch, rng, fitness, template), sheet="体质健康测试数据")
                files.write("health.vision", f"视力筛查_{year}_{d.code}.csv", feeds.vision_rows(p, y, sch, rng))
                for exam in feeds.district_exams(year, d):
                    files.write("exam.score", f"考试成绩_{exam.exam_id}.csv", feeds.exam_rows(p, y, sch, exam, rng))
                for exam in feeds.city_exams(year):
                    files.write("exam.score", f"考试成绩_{exam.exam_id}.csv", feeds.exam_rows(p, y, sch, exam, rng),
                                part=d.code, keep_open=True)
                files.write("facility.condition", f"办学条件_{year}_{d.code}.xlsx",
                            feeds.facility_rows(cfg, y, sch, d, caps, std.table("facility.condition")),
                            sheet="办学条件")
                if progress:
                    bar.advance(task)
            del p
        files.close_all()

    manifest = {
        "seed": seed, "scale": scale, "years": [first, last], "defect_rate": defect_rate,
        "files": dict(sorted({**reference.files, **files.files}.items())),
        "defects": sorted(files.defects, key=lambda x: (x["file"], x["row"], x["kind"])),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest

"""Deliveries for the benchmark's workloads, cut from one generated history.

- backfill: every file of every year but the last (reference data included);
- refresh: the last school year's files, with 0.5% of each feed's rows held back;
- change: per feed, a further delivery of 1%: the held-back rows (new rows) and 0.5% of rows
  re-sent with one value corrected (same natural key: silver's MERGE updates them).
Rows are chosen by position, so the cut is deterministic for a given history. The cut is recorded beside
its deliveries (cut.json) and reused while the sources, the cut's parameters and the code that reads and
writes them are unchanged: at scale 1.0 it is minutes of work.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edulake import standard
from edulake.bench import floor
from edulake.generate import writers
from edulake.lake.sources import table_for
from edulake.standard import Field, Table

EVERY = 200  # 1 in 200 rows held back (0.5%), another 1 in 200 corrected (0.5%)
CORRECTED_FIELDS = ("class_name", "height_cm", "score", "left_uncorrected_va", "classrooms", "remark")
CACHE = "cut.json"  # the last cut's key and deliveries, beside them
INTEGRAL = r"^(-?\d+)\.0$"
YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


@dataclass
class Delivery:
    name: str
    files: list[Path] = field(default_factory=list)
    rows: int = 0


def source_files(sources: Path) -> list[Path]:
    feeds = standard.load().feeds
    return sorted(p for feed in feeds for p in (sources / feed).glob("*") if p.is_file())


def file_year(path: Path) -> int | None:
    """The school year a delivery belongs to; None for reference data (no 学年 column).

    CSV deliveries carry it in their first data row (an exam's file name has the calendar year it
    is held in: 考试成绩_GK-2026 belongs to school year 2025); XLSX deliveries name it (办学条件_2024_…)."""
    table = table_for(standard.load().feed(path.parent.name), path.name)
    year_field = next((f for f in table.fields if f.name == "school_year"), None)
    if year_field is None:
        return None
    if path.suffix.lower() == ".csv":
        with path.open(encoding=table.encoding or "utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lstrip("\ufeff") for h in next(reader)]
            first = next(reader, None)
        if first and year_field.column in header:
            value = first[header.index(year_field.column)].strip()
            if value.isdigit():
                return int(value)
    years = [int(y) for y in YEAR.findall(path.stem)]
    return min(years) if years else None


def corrected_field(table: Table) -> Field | None:
    """A field outside the natural key whose correction keeps the row valid."""
    for name in CORRECTED_FIELDS:
        f = next((f for f in table.fields if f.name == name), None)
        if f is not None and name not in table.natural_key:
            return f
    return None


def corrected_value(f: Field, value: str) -> str | None:
    value = (value or "").strip()
    if f.type in ("integer", "decimal"):
        try:
            number = float(value)
        except ValueError:
            return None
        step = 1 if f.type == "integer" else 10 ** -(f.scale or 1)
        low = float(f.min) if f.min is not None else float("-inf")
        new = number - step if number - step >= low else number + step
        return str(int(new)) if f.type == "integer" else f"{new:.{f.scale or 1}f}"
    if not value:
        return None
    return (value[:-1] + ("乙" if value[-1] != "乙" else "甲"))[: f.max_length or None]


def _write(path: Path, table: Table, columns: dict[str, pa.Array]) -> None:
    """A delivery written as the source systems write it (the generator's writers: CSV in the table's
    encoding, XLSX with numeric cells where the field is numeric)."""
    columns = {c: pc.fill_null(a, "") for c, a in columns.items()}
    writer = (writers.XlsxWriter(path, table, table.label) if path.suffix.lower() == ".xlsx"
              else writers.CsvWriter(path, table))
    writer.write(columns)
    writer.close()


def _columns(path: Path, table: Table) -> dict[str, pa.Array]:
    """The file's rows as one text column per standard column, read by the floor's readers (the fastest
    here: building the lake reader's per-row maps and looking the columns up again cost most of the cut)."""
    read = floor.read(path, table)
    if read.columns is None:
        raise ValueError(f"{path}: not a delivery of {table.qualified_name} (its columns are not the standard's)")
    columns = {c: read.columns.column(c).combine_chunks() for c in table.columns}
    if path.suffix.lower() == ".xlsx":  # numeric cells come as floats: 2025.0 is written 2025, as the lake reads it
        columns = {c: pc.replace_substring_regex(a, INTEGRAL, r"\1") for c, a in columns.items()}
    return columns


def _split(columns: dict[str, pa.Array], first: int, fix: Field | None) -> tuple[dict, dict]:
    """(kept for the refresh, sent again in the change) by running position: every EVERY-th row is held
    back (sent again as a new row), every EVERY-th row half-way between is kept and sent again corrected."""
    n = len(next(iter(columns.values())))
    k = np.arange(first, first + n)
    held = k % EVERY == 0
    again = np.flatnonzero(held)
    corrected: dict[int, str] = {}
    if fix is not None:
        wanted = np.flatnonzero(k % EVERY == EVERY // 2)
        values = columns[fix.column].take(pa.array(wanted)).to_pylist()
        corrected = {int(i): new for i, v in zip(wanted, values, strict=True)
                     if (new := corrected_value(fix, v)) is not None}
    kept = {c: a.filter(pa.array(~held)) for c, a in columns.items()}
    order = np.sort(np.concatenate([again, np.fromiter(corrected, dtype=np.int64, count=len(corrected))]))
    change = {c: a.take(pa.array(order)) for c, a in columns.items()}
    if fix is not None and corrected:
        values = change[fix.column].to_pylist()
        change[fix.column] = pa.array([corrected.get(int(i), v) for i, v in zip(order, values, strict=True)],
                                      pa.string())
    return kept, change


def _concat(parts: list[dict[str, pa.Array]]) -> dict[str, pa.Array]:
    return {c: pa.concat_arrays([p[c] for p in parts]) for c in parts[0]}


def cut_key(sources: Path) -> str:
    """What a cut depends on: the sources (their manifest holds every file's checksum), the cut's
    parameters and the code that reads and writes them."""
    h = hashlib.sha256((sources / "defects.json").read_bytes())
    h.update(f"{EVERY}|{','.join(CORRECTED_FIELDS)}|".encode())
    for code in (__file__, floor.__file__, writers.__file__):  # this module, its readers and its writers
        h.update(Path(code).read_bytes())
    return h.hexdigest()


def _cached(work: Path, key: str) -> dict[str, Delivery] | None:
    """The deliveries of a previous cut of the same sources with the same parameters, if all still there."""
    record = work / CACHE
    if not record.exists():
        return None
    saved = json.loads(record.read_text(encoding="utf-8"))
    if saved.get("key") != key:
        return None
    deliveries = {name: Delivery(name, [Path(f) for f in d["files"]], d["rows"]) for name, d in saved["deliveries"].items()}
    sizes = saved["sizes"]
    for d in deliveries.values():
        for f in d.files:
            if not f.exists() or f.stat().st_size != sizes.get(str(f)):
                return None
    return deliveries


def _remember(work: Path, key: str, deliveries: dict[str, Delivery]) -> None:
    files = [f for d in deliveries.values() for f in d.files]
    record = {"key": key, "sizes": {str(f): f.stat().st_size for f in files},
              "deliveries": {d.name: {"files": [str(f) for f in d.files], "rows": d.rows} for d in deliveries.values()}}
    (work / CACHE).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")


def cut(sources: Path, work: Path, manifest_rows: dict[str, int]) -> tuple[dict[str, Delivery], bool]:
    """The three deliveries, the refresh and change files written under `work`; and whether they were
    reused from a previous cut (same sources, same parameters, files unchanged)."""
    key = cut_key(sources)
    reused = _cached(work, key)
    if reused is not None:
        return reused, True
    work.mkdir(parents=True, exist_ok=True)
    (work / CACHE).unlink(missing_ok=True)  # written again only once the new cut is complete
    deliveries = _cut(sources, work, manifest_rows)
    _remember(work, key, deliveries)
    return deliveries, False


def _cut(sources: Path, work: Path, manifest_rows: dict[str, int]) -> dict[str, Delivery]:
    std = standard.load()
    files = source_files(sources)
    years = {f: file_year(f) for f in files}
    last = max(y for y in years.values() if y is not None)
    backfill, refresh, change = Delivery("backfill"), Delivery("refresh"), Delivery("change")
    for d in (refresh, change):
        shutil.rmtree(work / d.name, ignore_errors=True)
    position: dict[str, int] = {}  # running row position per feed, so the cut is 1% of each feed
    pending_change: dict[str, list[dict[str, pa.Array]]] = {}
    first_file: dict[str, Path] = {}
    for path in files:
        rel = f"{path.parent.name}/{path.name}"
        if years[path] != last:
            backfill.files.append(path)
            backfill.rows += manifest_rows[rel]
            continue
        feed = path.parent.name
        table = table_for(std.feed(feed), path.name)
        columns = _columns(path, table)
        kept, again = _split(columns, position.get(feed, 0), corrected_field(table))
        position[feed] = position.get(feed, 0) + len(columns[table.columns[0]])
        target = work / "refresh" / feed / path.name
        _write(target, table, kept)
        refresh.files.append(target)
        refresh.rows += len(kept[table.columns[0]])
        pending_change.setdefault(table.qualified_name, []).append(again)
        first_file.setdefault(table.qualified_name, target)
    for qualified, parts in pending_change.items():
        rows = _concat(parts)
        n = len(rows[next(iter(rows))])
        if not n:
            continue
        table, sample = std.table(qualified), first_file[qualified]
        target = work / "change" / table.feed / f"{sample.stem}_更正{sample.suffix}"
        _write(target, table, rows)
        change.files.append(target)
        change.rows += n
    return {"backfill": backfill, "refresh": refresh, "change": change}

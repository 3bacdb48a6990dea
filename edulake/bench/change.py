"""Deliveries for the benchmark's workloads, cut from one generated history.

- backfill: every file of every year but the last (reference data included);
- refresh: the last school year's files, with 0.5% of each feed's rows held back;
- change: per feed, a further delivery of 1%: the held-back rows (new rows) and 0.5% of rows
  re-sent with one value corrected (same natural key: silver's MERGE updates them).
Rows are chosen by position, so the cut is deterministic for a given history.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from edulake import standard
from edulake.lake.sources import read_source, table_for
from edulake.standard import Field, Table

EVERY = 200  # 1 in 200 rows held back (0.5%), another 1 in 200 corrected (0.5%)
CORRECTED_FIELDS = ("class_name", "height_cm", "score", "left_uncorrected_va", "classrooms", "remark")
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


def _write(path: Path, table: Table, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(path)
        return
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(table.encoding or "utf-8"))


def cut(sources: Path, work: Path, manifest_rows: dict[str, int]) -> dict[str, Delivery]:
    """Write the refresh and change deliveries under `work`; return all three deliveries."""
    std = standard.load()
    files = source_files(sources)
    years = {f: file_year(f) for f in files}
    last = max(y for y in years.values() if y is not None)
    backfill, refresh, change = Delivery("backfill"), Delivery("refresh"), Delivery("change")
    for d in (refresh, change):
        shutil.rmtree(work / d.name, ignore_errors=True)
    position: dict[str, int] = {}  # running row position per feed, so the cut is 1% of each feed
    pending_change: dict[tuple[str, str], list[list[str]]] = {}
    headers: dict[tuple[str, str], list[str]] = {}
    for path in files:
        rel = f"{path.parent.name}/{path.name}"
        if years[path] != last:
            backfill.files.append(path)
            backfill.rows += manifest_rows[rel]
            continue
        feed = path.parent.name
        table = table_for(std.feed(feed), path.name)
        parsed = read_source(path, table)
        header = list(parsed.header)
        fix = corrected_field(table)
        kept, sent_again = [], []
        for raw in parsed.rows.column("_raw").to_pylist():
            values = dict(raw)
            row = [values.get(c, "") or "" for c in header]
            k = position.get(feed, 0)
            position[feed] = k + 1
            if k % EVERY == 0:
                sent_again.append(row)  # held back from the refresh: a new row in the change
                continue
            kept.append(row)
            if fix is not None and k % EVERY == EVERY // 2 and fix.column in header:
                i = header.index(fix.column)
                new = corrected_value(fix, row[i])
                if new is not None:
                    sent_again.append(row[:i] + [new] + row[i + 1:])
        target = work / "refresh" / feed / path.name
        _write(target, table, header, kept)
        refresh.files.append(target)
        refresh.rows += len(kept)
        key = (feed, table.qualified_name)
        headers.setdefault(key, header)
        if header == headers[key]:
            pending_change.setdefault(key, []).extend(sent_again)
    for (feed, qualified), rows in pending_change.items():
        if not rows:
            continue
        table = std.table(qualified)
        sample = next(p for p in refresh.files if p.parent.name == feed and
                      table_for(std.feed(feed), p.name).qualified_name == qualified)
        target = work / "change" / feed / f"{sample.stem}_更正{sample.suffix}"
        _write(target, table, headers[(feed, qualified)], rows)
        change.files.append(target)
        change.rows += len(rows)
    return {"backfill": backfill, "refresh": refresh, "change": change}

"""Support for lake tests: small hand-written source files built from the standard's columns (for the
reader's bad-input cases), and a comparable snapshot of a lake (to compare a crashed-and-rerun or
cluster run with a clean one).

Valid values come from each field's type, code list and bounds; a few fields whose pattern carries
meaning (identifiers) get realistic values; code fields cycle through their list so natural keys differ.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

from edulake import settings, standard

SPECIAL = {
    "school_id": lambda i: f"2111{i:06d}",
    "other_school_id": lambda i: "",
    "student_no": lambda i: f"G1101082010{i:07d}X",
    "id_number": lambda i: f"1101082010{i:07d}X",
    "guardian_phone": lambda i: f"138{i:08d}",
    "exam_id": lambda i: "ZK2024-01",
    "stages": lambda i: "小学;初中",
    "name": lambda i: f"张{i}",
    "status": lambda i: "current",
}


def valid_value(field: standard.Field, i: int, std: standard.Standard) -> str:
    if field.name in SPECIAL and not (field.name == "status" and field.type == "code"):
        return SPECIAL[field.name](i)
    if field.allowed:
        return field.allowed[0]
    if field.type == "code":
        keys = sorted(std.codes(field.codes).lookup(field.code_key))
        return keys[(i - 1) % len(keys)]
    if field.type in ("integer", "decimal", "duration"):
        low = float(field.min if field.min is not None else 0)
        high = float(field.max if field.max is not None else low + 10)
        value = (low + high) / 2
        return str(int(value)) if field.type == "integer" else f"{value:.1f}"
    if field.type == "date":
        return "2012-05-17"
    if field.type == "boolean":
        return "否"
    return f"文本{i}"[: field.max_length or 10]


def rows(table_name: str, n: int, start: int = 1) -> tuple[list[str], list[dict]]:
    std = standard.load()
    table = std.table(table_name)
    header = table.columns
    out = []
    for i in range(start, start + n):
        out.append({f.column: valid_value(f, i, std) for f in table.fields})
    return header, out


def write_csv(path: Path, header: list[str], records: list[dict], encoding: str = "utf-8-sig") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in records:
        w.writerow([r.get(h, "") for h in header])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], records: list[dict]) -> Path:
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in records:
        ws.append([r.get(h, "") for h in header])
    wb.save(path)
    return path


# columns whose values are times of the run, not results of it
VOLATILE = {"_ingested_at", "_loaded_at", "quarantined_at", "_updated_at", "started_at", "finished_at", "seconds",
            "run_at", "logged_at",
            # ops/deliveries and ops/alerts: when batches were started (a rerun starts them again), when checked
            "last_delivery", "last_loaded", "checked_at", "first_seen_at", "last_seen_at"}


# records of runs rather than results of them: every run adds its own (run ids, times, the engine's name), so
# two runs of the same work never compare equal; tests compare what they record explicitly (test_lineage.py)
RUN_RECORDS = {"ops/lineage"}


def lake_tables(home: Path, with_run_records: bool = False) -> dict[str, Path]:
    """Every Delta table under a home's lake, by its path relative to lake/ (run records only when asked)."""
    lake = settings.Paths(home).lake
    from edulake.lake import tables

    # a `_delta_log` without a commit (a first write that failed) is no table, for the lake's readers too
    found = {str(p.parent.relative_to(lake)): p.parent for p in sorted(lake.rglob("_delta_log"))
             if tables.exists(p.parent)}
    return {n: p for n, p in found.items() if with_run_records or n not in RUN_RECORDS}


_duck = None


def duck():
    """A DuckDB connection that reads Delta (delta_scan): how the tests look into either engine's lake."""
    global _duck
    if _duck is not None:
        try:  # a failed read can leave the shared connection's transaction aborted: then start a new one
            _duck.execute("SELECT 1")
        except Exception:
            _duck = None
    if _duck is None:
        import duckdb

        from edulake import duckdb_extensions

        _duck = duckdb.connect()
        duckdb_extensions.load(_duck, "delta")
        _duck.execute("SET TimeZone = 'UTC'")
    return _duck


def read(path: Path, where: str = "TRUE", columns: str = "*") -> list[SimpleNamespace]:
    """The rows of a Delta table (attribute access), [] when it does not exist."""
    if not (Path(path) / "_delta_log").is_dir():
        return []
    rel = duck().sql(f"SELECT {columns} FROM delta_scan('{path}') WHERE {where}")
    return [SimpleNamespace(**dict(zip(rel.columns, r, strict=True))) for r in rel.fetchall()]


def snapshot(home: Path, only: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Sorted rows of every Delta table under `home` (or those whose name starts with one of `only`),
    without the columns that record when things ran."""
    out = {}
    for name, path in lake_tables(home).items():
        if only and not name.startswith(only):
            continue
        rel = duck().sql(f"SELECT * FROM delta_scan('{path}')")
        cols = ", ".join(f'"{c}"' for c in rel.columns if c not in VOLATILE)
        rows = [tuple(_comparable(v) for v in r) for r in duck().sql(f"SELECT {cols} FROM delta_scan('{path}')").fetchall()]
        out[name] = sorted(rows, key=repr)
    return out


def _comparable(value):
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(value)
    return value

"""Small hand-written source files for lake tests, built from the standard's columns.

Valid values come from each field's type, code list and bounds; a few fields whose pattern carries
meaning (identifiers) get realistic values. Used for the bad-input cases, which need files the
generator deliberately never writes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from edulake import standard

SPECIAL = {
    "school_id": lambda i: f"2111{i:06d}",
    "other_school_id": lambda i: "",
    "student_no": lambda i: f"G11010820100101{i:03d}X",
    "id_number": lambda i: f"11010820100101{i:03d}X",
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
        lookup = std.codes(field.codes).lookup(field.code_key)
        return sorted(lookup)[0]
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

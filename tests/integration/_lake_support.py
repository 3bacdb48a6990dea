"""Support for lake tests: small hand-written source files built from the standard's columns, and
a comparable snapshot of a lake (to compare a crashed-and-rerun or cluster run with a clean one).

Valid values come from each field's type, code list and bounds; a few fields whose pattern carries
meaning (identifiers) get realistic values; code fields cycle through their list so natural keys differ.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

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
VOLATILE = {"_ingested_at", "_loaded_at", "quarantined_at", "_updated_at", "started_at", "finished_at", "seconds"}


def lake_tables(home: Path) -> dict[str, Path]:
    """Every Delta table under a home's lake, by its path relative to lake/."""
    lake = settings.Paths(home).lake
    return {str(p.parent.relative_to(lake)): p.parent for p in sorted(lake.rglob("_delta_log"))}


def snapshot(spark, home: Path, only: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Sorted rows of every Delta table under `home` (or those whose name starts with one of `only`),
    without the columns that record when things ran."""
    out = {}
    for name, path in lake_tables(home).items():
        if only and not name.startswith(only):
            continue
        df = spark.read.format("delta").load(str(path))
        cols = [c for c in df.columns if c not in VOLATILE]
        rows = [tuple(_comparable(v) for v in r) for r in df.select(*cols).collect()]
        out[name] = sorted(rows, key=repr)
    return out


def _comparable(value):
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(value)
    return value


def _defect(table: str, file: str, row: int, column: str | None, kind: str, expect: str, rule: str | None) -> dict:
    feed = table.split(".")[0]
    return {"feed": feed, "table": table, "file": f"{feed}/{file}", "row": row, "column": column,
            "kind": kind, "expect": expect, "rule": rule}


def write_sample_inbox(inbox: Path) -> dict:
    """A few files per table of every feed, with known defects; returns a manifest in the generator's
    shape: {"files": {path: rows}, "defects": [{feed, table, file, row, column, kind, expect, rule}]}."""
    files, defects = {}, []

    def put(table: str, name: str, records: list[dict], fmt: str = "csv", encoding: str = "utf-8-sig"):
        header = standard.load().table(table).columns
        path = inbox / table.split(".")[0] / name
        if fmt == "xlsx":
            write_xlsx(path, header, records)
        else:
            write_csv(path, header, records, encoding)
        files[f"{table.split('.')[0]}/{name}"] = len(records)

    put("reference.district", "行政区划.csv", rows("reference.district", 5)[1])
    schools = rows("reference.school", 5)[1]
    schools[2]["办学类型代码"] = "999"
    defects.append(_defect("reference.school", "学校名录.csv", 3, "办学类型代码", "unknown_code", "quarantine", "codes"))
    put("reference.school", "学校名录.csv", schools)
    put("reference.births", "出生人口.csv", rows("reference.births", 5)[1])

    roster = rows("enrollment.roster", 6)[1]
    roster[1]["出生日期"] = "2012-13-45"
    defects.append(_defect("enrollment.roster", "学籍名册_2024_110108.csv", 2, "出生日期", "bad_date", "quarantine", "type"))
    roster[2]["学籍号"] = "Ｇ" + roster[2]["学籍号"][1:] + " "
    defects.append(_defect("enrollment.roster", "学籍名册_2024_110108.csv", 3, "学籍号", "full_width", "normalise", None))
    roster[3]["出生日期"] = "2012年5月17日"
    defects.append(_defect("enrollment.roster", "学籍名册_2024_110108.csv", 4, "出生日期", "date_format", "normalise", None))
    roster.append(dict(roster[3]))
    defects.append(_defect("enrollment.roster", "学籍名册_2024_110108.csv", 7, None, "exact_duplicate", "collapse", None))
    roster.append(dict(roster[4], 班级=roster[4]["班级"] + "班"))
    defects.append(_defect("enrollment.roster", "学籍名册_2024_110108.csv", 8, "学籍号", "key_conflict", "quarantine",
                           "unique_natural_key"))
    put("enrollment.roster", "学籍名册_2024_110108.csv", roster, encoding="gbk")
    changes = rows("enrollment.status_change", 4)[1]
    changes[1]["异动日期"] = "2024.09.01"
    defects.append(_defect("enrollment.status_change", "学籍异动_2024_110108.csv", 2, "异动日期", "date_format",
                           "normalise", None))
    put("enrollment.status_change", "学籍异动_2024_110108.csv", changes, encoding="gbk")

    fitness = rows("health.fitness", 5)[1]
    fitness[0]["800米跑"] = "3'45\""
    defects.append(_defect("health.fitness", "体测_2024_110108.xlsx", 1, "800米跑", "duration_format", "normalise", None))
    fitness[3]["身高"] = ""
    defects.append(_defect("health.fitness", "体测_2024_110108.xlsx", 4, "身高", "missing_required", "quarantine",
                           "required"))
    put("health.fitness", "体测_2024_110108.xlsx", fitness, fmt="xlsx")
    vision = rows("health.vision", 4)[1]
    vision[1]["左眼裸眼视力"] = "6.1"
    defects.append(_defect("health.vision", "视力筛查_2024_110108.csv", 2, "左眼裸眼视力", "out_of_range", "quarantine",
                           "range"))
    put("health.vision", "视力筛查_2024_110108.csv", vision)

    scores = rows("exam.score", 5)[1]
    scores[4]["学籍号"] = "G123"
    defects.append(_defect("exam.score", "考试成绩_ZK2024.csv", 5, "学籍号", "bad_pattern", "quarantine", "pattern"))
    scores[1]["分数"] = "８８.５"
    defects.append(_defect("exam.score", "考试成绩_ZK2024.csv", 2, "分数", "full_width", "normalise", None))
    put("exam.score", "考试成绩_ZK2024.csv", scores)

    facility = rows("facility.condition", 3)[1]
    facility[1]["学校名称"] = "很" * 61
    defects.append(_defect("facility.condition", "办学条件_2024_110108.xlsx", 2, "学校名称", "too_long", "quarantine",
                           "max_length"))
    put("facility.condition", "办学条件_2024_110108.xlsx", facility, fmt="xlsx")
    return {"files": files, "defects": defects}

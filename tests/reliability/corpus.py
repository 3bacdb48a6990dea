"""The bad-input corpus and the mutation fuzzer: malformed deliveries built at test time from the generator's
good files (no binary blob is committed).

`cases(sources)` returns Case objects: a feed, a file name that matches the feed's naming rule, a function
that writes the bytes, and the outcomes that are acceptable (`rejected`: the whole file or batch refused with
a reason; `quarantined`: loaded, the bad rows in quarantine naming file, row and column; `loaded`: nothing
wrong that the standard can see, e.g. a UTF-8 file declared GBK). `mutants(sources, n, seed)` gives seeded
byte- and cell-level mutations of good files: any of the three outcomes is acceptable, a traceback or an
unreconciled batch is not.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REJECTED, QUARANTINED, LOADED = "rejected", "quarantined", "loaded"
GIB = 1 << 30


@dataclass
class Case:
    name: str  # what the case is (the doc's row)
    feed: str
    filename: str
    write: Callable[[Path], None]
    expect: tuple[str, ...]
    benchmark_only: bool = False


# --- the good files the corpus starts from --------------------------------------------------------------

def good(sources: Path) -> dict[str, Path]:
    def first(feed: str, prefix: str, suffix: str) -> Path:
        return sorted(p for p in (sources / feed).iterdir() if p.name.startswith(prefix) and p.suffix == suffix)[0]

    return {"roster": first("enrollment", "学籍名册", ".csv"), "status": first("enrollment", "学籍异动", ".csv"),
            "exam": first("exam", "考试成绩_QT", ".csv"), "vision": first("health", "视力筛查", ".csv"),
            "fitness_xlsx": first("health", "体测", ".xlsx"), "fitness_csv": first("health", "体测", ".csv"),
            "facility": first("facility", "办学条件", ".xlsx"), "school": sources / "reference" / "学校名录.csv"}


ENCODING = {"roster": "gbk", "status": "gbk", "exam": "utf-8-sig", "vision": "utf-8-sig", "fitness_csv": "utf-8-sig",
            "school": "utf-8-sig"}
FEED = {"roster": "enrollment", "status": "enrollment", "exam": "exam", "vision": "health", "fitness_csv": "health",
        "fitness_xlsx": "health", "facility": "facility", "school": "reference"}


def read_rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue()


def xlsx_rows(path: Path) -> list[list]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def write_xlsx(dest: Path, rows: list[list], tweak: Callable | None = None) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if tweak:
        tweak(wb, ws)
    wb.save(dest)


def named(kind: str, i: int) -> str:
    """A file name matching the table's pattern, unique per case."""
    return {"roster": f"学籍名册_2025_bad{i:02d}.csv", "status": f"学籍异动_2025_bad{i:02d}.csv",
            "exam": f"考试成绩_QT-2025-1-bad{i:02d}.csv", "vision": f"视力筛查_2025_bad{i:02d}.csv",
            "fitness_csv": f"体测_2025_bad{i:02d}.csv", "fitness_xlsx": f"体测_2025_bad{i:02d}.xlsx",
            "facility": f"办学条件_2025_bad{i:02d}.xlsx", "school": f"学校名录_bad{i:02d}.csv"}[kind]


# --- the corpus --------------------------------------------------------------------------------------------

def cases(sources: Path) -> list[Case]:
    g = good(sources)
    out: list[Case] = []

    def add(name: str, kind: str, expect, write: Callable[[Path], None], filename: str | None = None,
            benchmark_only: bool = False) -> None:
        i = len(out) + 1
        out.append(Case(name, FEED[kind], filename or named(kind, i), write,
                        (expect,) if isinstance(expect, str) else tuple(expect), benchmark_only))

    def text_of(kind: str, rows: list[list[str]] | None = None, head: int = 12) -> str:
        rows = rows if rows is not None else read_rows(g[kind], ENCODING[kind])[:head]
        return csv_text(rows)

    def csv_case(name: str, kind: str, expect, make: Callable[[list[list[str]]], bytes | str],
                 encoding: str | None = None, head: int = 12) -> None:
        def write(dest: Path) -> None:
            rows = read_rows(g[kind], ENCODING[kind])[:head]
            data = make(rows)
            dest.write_bytes(data if isinstance(data, bytes) else data.encode(encoding or ENCODING[kind]))
        add(name, kind, expect, write)

    # encodings and byte-order marks
    csv_case("GBK roster delivered as UTF-16 LE with BOM", "roster", REJECTED,
             lambda r: "\ufeff".encode("utf-16-le") + csv_text(r).encode("utf-16-le"))
    csv_case("GBK roster delivered as UTF-16 BE with BOM", "roster", REJECTED,
             lambda r: b"\xfe\xff" + csv_text(r).encode("utf-16-be"))
    csv_case("GBK roster delivered as UTF-8 with BOM", "roster", LOADED, lambda r: csv_text(r).encode("utf-8-sig"))
    csv_case("GBK roster delivered as UTF-8 without BOM", "roster", LOADED, lambda r: csv_text(r).encode("utf-8"))
    csv_case("GBK roster delivered as Big5", "roster", REJECTED,
             lambda r: csv_text(r).encode("big5", errors="replace"))
    csv_case("GBK roster with one line pasted in as UTF-8 (mixed encodings)", "roster", REJECTED,
             lambda r: csv_text(r[:5]).encode("gbk") + csv_text(r[5:6]).encode("utf-8") + csv_text(r[6:]).encode("gbk"))
    csv_case("GBK roster with a stray invalid byte", "roster", REJECTED,
             lambda r: csv_text(r).encode("gbk").replace(b"\n", b"\x80\xff\n", 3))
    csv_case("UTF-8 exam file with the BOM twice", "exam", REJECTED, lambda r: b"\xef\xbb\xbf" + csv_text(r).encode("utf-8-sig"))
    csv_case("UTF-8 exam file delivered as GBK", "exam", REJECTED, lambda r: csv_text(r).encode("gbk"))
    csv_case("UTF-8 school register delivered as UTF-16", "school", REJECTED,
             lambda r: csv_text(r).encode("utf-16"), head=40)
    csv_case("exam file with Windows line endings (CRLF)", "exam", LOADED, lambda r: csv_text(r).replace("\n", "\r\n"))
    csv_case("exam file with old Mac line endings (CR only)", "exam", REJECTED, lambda r: csv_text(r).replace("\n", "\r"))
    # empty and near-empty
    add("empty file", "vision", REJECTED, lambda d: d.write_bytes(b""))
    add("BOM only", "vision", REJECTED, lambda d: d.write_bytes(b"\xef\xbb\xbf"))
    add("whitespace and blank lines only", "vision", REJECTED, lambda d: d.write_bytes(b"\n\n  \r\n\t\n"))
    csv_case("header only", "vision", REJECTED, lambda r: csv_text(r[:1]))
    # headers
    csv_case("duplicate header column", "roster", REJECTED, lambda r: csv_text([r[0][:-1] + [r[0][1]]] + [x[:-1] + [x[1]] for x in r[1:]]))
    csv_case("a header column missing", "status", REJECTED, lambda r: csv_text([x[1:] for x in r]))
    csv_case("an unknown extra column", "vision", REJECTED, lambda r: csv_text([r[0] + ["备注"]] + [x + ["x"] for x in r[1:]]))
    csv_case("columns in another order", "vision", LOADED, lambda r: csv_text([list(reversed(x)) for x in r]))
    csv_case("full-width header characters (学生数（人） style)", "exam", LOADED,
             lambda r: csv_text([[h.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}) for h in r[0]]] + r[1:]))
    csv_case("header row repeated in the middle of the file", "exam", QUARANTINED,
             lambda r: csv_text(r[:6] + [r[0]] + r[6:]))
    csv_case("10^6 columns in the header", "exam", REJECTED,
             lambda r: ",".join(r[0] + [f"c{i}" for i in range(1_000_000 - len(r[0]))]) + "\n" + csv_text(r[1:]))
    # rows
    csv_case("a row with an extra field", "exam", QUARANTINED, lambda r: csv_text(r[:4] + [r[4] + ["extra"]] + r[5:]))
    csv_case("a row with a field missing", "exam", QUARANTINED, lambda r: csv_text(r[:4] + [r[4][:-1]] + r[5:]))
    csv_case("an unbalanced quote", "exam", (QUARANTINED, REJECTED),
             lambda r: csv_text(r).replace('"', "", 0) .replace(r[3][0], '"' + r[3][0], 1))
    csv_case("control characters in a name (BEL, ESC, NUL)", "roster", REJECTED,
             lambda r: csv_text(r[:3] + [[c if j != 2 else c[:1] + "\x07\x1b\x00" + c[1:] for j, c in enumerate(r[3])]] + r[4:]))
    csv_case("a 2 MB value in a bounded text field", "roster", QUARANTINED,
             lambda r: csv_text(r[:2] + [[c if j != 11 else "班" * 1_000_000 for j, c in enumerate(r[2])]] + r[3:]))
    csv_case("a spreadsheet formula in a text cell (CSV injection)", "roster", REJECTED,
             lambda r: csv_text(r[:2] + [[c if j != 2 else '=HYPERLINK("http://x","y")' for j, c in enumerate(r[2])]] + r[3:]))
    csv_case("a formula in a numeric cell", "exam", REJECTED,
             lambda r: csv_text(r[:2] + [[c if j != 9 else "=SUM(A1:A3)" for j, c in enumerate(r[2])]] + r[3:]))
    csv_case("blank lines between data rows", "exam", QUARANTINED,
             lambda r: csv_text(r[:4]) + "\n\n" + csv_text(r[4:6] + [[c if j != 9 else "abc" for j, c in enumerate(r[6])]] + r[7:]))
    csv_case("every row duplicated", "vision", LOADED, lambda r: csv_text(r[:1] + [x for x in r[1:] for _ in (0, 1)]))
    csv_case("the same student twice with different values (key conflict)", "vision", QUARANTINED,
             lambda r: csv_text(r + [r[1][:6] + ["4.1"] + r[1][7:]]))
    # spreadsheets
    def xlsx_case(name: str, kind: str, expect, make: Callable[[list[list]], None], tweak=None) -> None:
        def write(dest: Path) -> None:
            rows = xlsx_rows(g[kind])[:12]
            make(rows)
            write_xlsx(dest, rows, tweak)
        add(name, kind, expect, write)

    add("truncated XLSX", "fitness_xlsx", REJECTED, lambda d: d.write_bytes(g["fitness_xlsx"].read_bytes()[:3000]))
    add("XLSX that is really a CSV", "fitness_xlsx", REJECTED, lambda d: d.write_bytes(g["fitness_csv"].read_bytes()))
    add("old binary .xls saved as .xlsx", "facility", REJECTED,
        lambda d: d.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096))
    add("HTML table saved as .xlsx", "facility", REJECTED,
        lambda d: d.write_bytes("<html><body><table><tr><td>学校标识码</td></tr></table></body></html>".encode()))
    add("XLSX zip bomb (a 96 MiB sheet of spaces, ~100 KiB zipped)", "fitness_xlsx", REJECTED, _zip_bomb(g["fitness_xlsx"]))
    xlsx_case("XLSX with formulas in numeric cells (no cached values)", "fitness_xlsx", (QUARANTINED, REJECTED),
              lambda rows: rows[2].__setitem__(11, "=B3*100"))
    xlsx_case("XLSX with merged cells over the data", "fitness_xlsx", QUARANTINED, lambda rows: None,
              tweak=lambda wb, ws: ws.merge_cells("L3:M4"))
    xlsx_case("XLSX with a merged header cell", "facility", REJECTED, lambda rows: None,
              tweak=lambda wb, ws: ws.merge_cells("B1:C1"))
    xlsx_case("XLSX with test dates as Excel serial numbers", "fitness_xlsx", QUARANTINED,
              lambda rows: [r.__setitem__(10, 45980) for r in rows[1:4]])
    xlsx_case("XLSX whose first sheet is empty (data on the second)", "fitness_xlsx", REJECTED, lambda rows: None,
              tweak=lambda wb, ws: wb.move_sheet(wb.create_sheet("空白"), offset=-1))
    xlsx_case("XLSX with one cell at XFD1048576 (a 1M x 16K used range)", "fitness_xlsx", REJECTED, lambda rows: None,
              tweak=lambda wb, ws: ws.cell(row=1048576, column=16384, value="x"))
    xlsx_case("XLSX with a duplicate header", "facility", REJECTED,
              lambda rows: [r.__setitem__(2, r[1]) for r in rows[:1]])
    xlsx_case("XLSX with a header row repeated mid-sheet", "fitness_xlsx", QUARANTINED,
              lambda rows: rows.insert(5, list(rows[0])))
    # names and sizes
    add("a file whose name matches no table", "exam", REJECTED, lambda d: d.write_bytes(g["exam"].read_bytes()),
        filename="成绩导出_bad.csv")
    add("a file with an extension not accepted (.txt)", "vision", REJECTED,
        lambda d: d.write_bytes(g["vision"].read_bytes()), filename="视力筛查_2025_bad.txt")
    add("a 2 GiB file (sparse; refused by size before a byte is read)", "exam", REJECTED, _sparse(2 * GIB + 1))
    return out


def _zip_bomb(template: Path) -> Callable[[Path], None]:
    def write(dest: Path) -> None:
        with zipfile.ZipFile(template) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
            for item in src.infolist():
                data = src.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    head, _, tail = data.partition(b"<sheetData>")
                    data = head + b"<sheetData>" + b" " * (96 << 20) + tail
                out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return write


def _sparse(size: int) -> Callable[[Path], None]:
    def write(dest: Path) -> None:
        with open(dest, "wb") as f:
            f.write("考试编号,考试名称\n".encode())
            f.truncate(size)
    return write


# --- the fuzzer -----------------------------------------------------------------------------------------

def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(("flip", "delete", "duplicate", "insert", "truncate"))
        if not b:
            break
        i = rng.randrange(len(b))
        if op == "flip":
            b[i] = rng.randrange(256)
        elif op == "delete":
            del b[i:i + rng.randint(1, 64)]
        elif op == "duplicate":
            b[i:i] = b[i:i + rng.randint(1, 200)]
        elif op == "insert":
            b[i:i] = rng.choice((b",", b'"', b"\n", b"\r", b"\x00", b'""', b",,,", bytes([rng.randrange(256)])))
        else:
            del b[max(i, 1):]
    return bytes(b)


def _mutate_cells(rows: list[list], rng: random.Random) -> list[list]:
    rows = [list(r) for r in rows]
    for _ in range(rng.randint(1, 5)):
        r = rng.randrange(len(rows))
        if not rows[r]:
            continue
        c = rng.randrange(len(rows[r]))
        rows[r][c] = rng.choice(("", " ", "NULL", "-1", "1e309", "９９", "2025-02-30", "=1+1", "\x07", "中" * 300,
                                 None, 3.5, 45980, "﻿", "'" + str(rows[r][c])))
    return rows


def mutants(sources: Path, n: int, seed: int) -> list[Case]:
    """n seeded mutants of good files of every feed: bytes of CSVs, cells and zip bytes of XLSX."""
    g = good(sources)
    rng = random.Random(seed)
    kinds = ("roster", "status", "exam", "vision", "fitness_csv", "fitness_xlsx", "facility", "school")
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        child = random.Random(rng.random())

        def write(dest: Path, kind=kind, child=child) -> None:
            if kind in ("fitness_xlsx", "facility"):
                if child.random() < 0.3:
                    dest.write_bytes(_mutate_bytes(g[kind].read_bytes(), child))
                else:
                    write_xlsx(dest, _mutate_cells(xlsx_rows(g[kind])[:15], child))
            else:
                lines = g[kind].read_bytes().split(b"\n")
                dest.write_bytes(_mutate_bytes(b"\n".join(lines[:15 if kind != "school" else 200]), child))
        name = named(kind, 50 + i).replace("bad", "fuzz")
        out.append(Case(f"mutant {i} of {kind}", FEED[kind], name, write, (REJECTED, QUARANTINED, LOADED)))
    return out

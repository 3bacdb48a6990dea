"""Reading source files exactly as the source systems deliver them.

A source file is parsed into rows of raw strings: nothing is typed or trimmed here, so bronze keeps
what arrived. What cannot be read as the standard says it is delivered (wrong encoding, corrupt
XLSX, an HTML table saved as .xls, missing or unknown columns, no data rows) raises SourceError
naming the file, and the line/row and column where that applies. Rows whose field count differs
from the header are kept (with `_shape_error`) so they reach quarantine instead of vanishing.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from edulake.lake.errors import SourceError
from edulake.standard import Feed, Table

EXTENSION_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".xls": "xls"}
RAW_TYPE = pa.map_(pa.string(), pa.string())


@dataclass(frozen=True)
class ParsedSource:
    path: Path
    table: Table
    format: str
    encoding: str | None  # the decoding actually used (CSV), None for XLSX
    header: tuple[str, ...]  # the header exactly as delivered
    rows: pa.Table  # _row_number int32, _raw map<column, raw string>, _shape_error string

    @property
    def row_count(self) -> int:
        return self.rows.num_rows


def table_for(feed: Feed, name: str) -> Table:
    """The feed table whose file pattern matches `name` (exactly one must)."""
    matches = [t for t in feed.tables if fnmatch.fnmatchcase(name, t.file_pattern)]
    if len(matches) != 1:
        patterns = ", ".join(f"{t.name}: {t.file_pattern}" for t in feed.tables)
        what = "matches no table" if not matches else "matches several tables"
        raise SourceError(name, f"文件名不符合{feed.label}的命名规则 (file name {what} of feed {feed.name!r}; patterns {patterns})")
    return matches[0]


def canonical_header(name: str) -> str:
    """Headers are matched after full-width folding and trimming: 学生数（人） == 学生数(人)."""
    return unicodedata.normalize("NFKC", name).strip()


# Limits that keep a hostile or broken file from taking the machine down (each raises a clear SourceError).
MAX_FILE_BYTES = int(os.environ.get("EDULAKE_MAX_FILE_BYTES", 1 << 30))  # a file is read whole: split bigger deliveries
MAX_UNPACKED_BYTES = int(os.environ.get("EDULAKE_MAX_UNPACKED_BYTES", 1 << 30))  # an XLSX's members, unpacked
MAX_CELLS = int(os.environ.get("EDULAKE_MAX_CELLS", 50_000_000))  # an XLSX sheet's used range
ZIP_BOMB_RATIO = 200  # members this compressible and over 64 MiB are not spreadsheets
MAX_COLUMNS = 1000  # the widest table has a few dozen


def read_source(path: Path, table: Table) -> ParsedSource:
    """Parse `path` as a delivery of `table`; raise SourceError if it is not one."""
    name = path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SourceError(name, f"文件过大 (file of {size:,} bytes exceeds the per-file limit of {MAX_FILE_BYTES:,} "
                                f"bytes, EDULAKE_MAX_FILE_BYTES); deliver it split into smaller files")
    data = path.read_bytes()
    _reject_unreadable(name, data)
    fmt = EXTENSION_FORMATS.get(path.suffix.lower())
    if fmt is None or fmt not in table.formats:
        raise SourceError(name, f"格式不被接受 (format {path.suffix or 'without extension'} not accepted; "
                                f"{table.label} is delivered as {'/'.join(table.formats)})")
    utf8 = None
    if fmt == "csv":
        utf8, encoding = _decode(name, data, table.encoding)  # Arrow parses UTF-8; the garbage check searches it
        header, records, shape_errors = _parse_csv(name, utf8)
    else:
        encoding = None
        header, records, shape_errors = _parse_xlsx(name, path, data)
    keys = _match_header(name, header, table)
    if records.num_rows + len(shape_errors) == 0:
        raise SourceError(name, "只有表头，没有数据行 (header only, no data rows)")
    _reject_garbage_cells(name, keys, records, shape_errors, utf8)
    rows = _to_raw_rows(header, keys, records, shape_errors)
    return ParsedSource(path, table, fmt, encoding, tuple(header), rows)


# control characters other than tab, CR and LF never belong in an export; a cell that starts like a spreadsheet
# formula is a formula the exporting system wrote instead of its value (and a CSV-injection risk downstream)
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL_CHARS = {chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}
_CONTROL_BYTES = bytes(sorted(map(ord, _CONTROL_CHARS)))  # in UTF-8 these bytes are those characters only
_FORMULA = r"^\s*[=@]\s*([A-Za-z_][A-Za-z0-9_.]*\s*\(|[A-Za-z]{1,3}\$?\d+)"


def _reject_garbage_cells(name: str, keys: list[str], records: pa.Table, shape_errors: dict[int, list[str]],
                          utf8: bytes | None = None) -> None:
    """Refuse the file at the first cell holding a control character or a spreadsheet formula, naming its row
    and column (the row number counts data rows from 1, as quarantine does). A CSV's whole text is searched
    first: a check it cannot fail is not run column by column (two regex passes over every cell cost 1 s of
    a 1.3 M-row exam file's 4 s)."""
    checks = [(_CONTROL, "控制字符 (a control character)"), (_FORMULA, "公式 (a spreadsheet formula, not a value)")]
    if utf8 is not None:
        may_hold = {_CONTROL: len(utf8.translate(None, _CONTROL_BYTES)) != len(utf8),
                    _FORMULA: b"=" in utf8 or b"@" in utf8}
        checks = [(pattern, what) for pattern, what in checks if may_hold[pattern]]
    good_numbers = None
    for i, key in enumerate(keys):
        column = records.column(i)
        for pattern, what in checks:
            hits = pc.match_substring_regex(column, pattern)
            if pc.any(hits).as_py():
                index = pc.index(hits, True).as_py()
                if good_numbers is None:
                    good_numbers = [n for n in range(1, records.num_rows + len(shape_errors) + 1)
                                    if n not in shape_errors]
                value = column[index].as_py()
                # the value is not quoted: the reason goes to the ledger (ops/, outside the restricted zone) and
                # the cell may be an identifier
                detail = (f"U+{ord(next(c for c in value if c in _CONTROL_CHARS)):04X}" if pattern == _CONTROL
                          else f"starts with {value.lstrip()[:1]!r}, {len(value)} characters")
                raise SourceError(name, f"单元格含{what} ({detail}); the value is not quoted here; re-export the file",
                                  row=good_numbers[index], column=key)


def _reject_unreadable(name: str, data: bytes) -> None:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        raise SourceError(name, "空文件 (empty file)")
    if head.startswith(b"<") and any(tag in head for tag in (b"<html", b"<table", b"<!doctype", b"<meta")):
        raise SourceError(name, "文件内容是 HTML 表格而不是表格文件 (an HTML table saved with a spreadsheet "
                                "extension, as some systems export): re-export as XLSX or CSV")


def _decode(name: str, data: bytes, declared: str) -> tuple[bytes, str]:
    """The file as UTF-8 bytes (without a UTF-8 BOM) and the encoding it was read in, decoded strictly. GBK feeds
    that arrive as UTF-8 are read as UTF-8: valid UTF-8 with non-ASCII text is never what a GBK export looks
    like, whereas the reverse guess is unsafe. UTF-8 is validated by Arrow and kept as it is (a decode to text
    and back cost 1.3 s of a 5 M-row feed's landing, holding the GIL)."""
    declared = declared.lower()
    for bom, what in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
                      (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise SourceError(name, f"文件为 {what} 编码 (the file is {what} with a byte-order mark; {declared} is "
                                    f"expected): re-export as {declared.upper()} or UTF-8")
    if declared in ("gbk", "gb2312", "gb18030"):
        if data.isascii():  # the same bytes in either encoding
            return data, "gb18030"
        if _valid_utf8(data):
            return _without_bom(data), "utf-8-sig" if data.startswith(_UTF8_BOM) else "utf-8"
        _reject_mixed_utf8(name, data)
        codec = "gb18030"  # superset of GBK: rare name characters exported by newer systems decode too
    else:
        codec = declared
    if codec in ("utf-8", "utf-8-sig") and _valid_utf8(data):
        return (_without_bom(data) if codec == "utf-8-sig" else data), codec
    try:
        return data.decode(codec).encode("utf-8"), codec
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start:e.start + 4].hex(" ")
        raise SourceError(name, f"无法按 {declared.upper()} 解码 (undecodable as {declared}) at byte {e.start}, "
                                f"line {line}: bytes {bad}", row=line - 1 if line > 1 else None) from None


_UTF8_BOM = b"\xef\xbb\xbf"


def _without_bom(data: bytes) -> bytes:
    return data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data


def _as_arrow(data: bytes) -> pa.Array:
    """The bytes as a one-value Arrow binary array, in place (no copy), for Arrow's kernels to read."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])


def _valid_utf8(data: bytes) -> bool:
    """Whether the bytes are UTF-8, checked by Arrow's validator (4x Python's decode, without the GIL and
    without building the text)."""
    try:
        _as_arrow(data).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _reject_mixed_utf8(name: str, data: bytes) -> None:
    """A GBK file with UTF-8 lines (two exports pasted together) decodes as GB18030 without error, as
    mojibake: refuse it, naming the first UTF-8 line. GBK text is almost never valid UTF-8."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        raise SourceError(name, f"编码混杂 (mixed encodings: line {number} is UTF-8, the rest is not; the file "
                                f"decodes as neither): re-export the whole file in one encoding",
                          row=number - 1 if number > 1 else None)


def _parse_csv(name: str, utf8: bytes) -> tuple[list[str], pa.Table, dict[int, list[str]]]:
    """`utf8` is the file as UTF-8 bytes (_decode); it is searched in place, never copied as text."""
    newline = utf8.find(b"\n")
    if newline < 0 and b"\r" in utf8.rstrip(b"\r"):
        raise SourceError(name, "行尾只有 CR (lines end in CR alone, as old Mac exports do): re-export with CRLF or "
                                "LF line ends", row=None)
    first = (utf8 if newline < 0 else utf8[:newline]).decode("utf-8")
    try:
        header = next(csv.reader([first.rstrip("\r")]), [])
    except csv.Error as e:
        raise SourceError(name, f"表头无法解析 (cannot parse the header line: {e})") from None
    if len(header) > MAX_COLUMNS:
        raise SourceError(name, f"表头列数过多 (the header has {len(header):,} columns; no table has more than "
                                f"{MAX_COLUMNS})")
    if newline < 0 or _blank_from(utf8, newline + 1):
        return header, pa.table({f"c{i}": pa.array([], pa.string()) for i in range(len(header))}), {}
    shape_errors: dict[int, list[str]] = {}

    def on_invalid(row) -> str:
        # number is the 1-based record number within `rest`, i.e. the data row number
        try:
            shape_errors[row.number] = next(csv.reader([row.text]), [])
        except csv.Error:  # a stray CR or quote inside: keep the line whole as one field
            shape_errors[row.number] = [row.text]
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    try:
        records = pacsv.read_csv(
            pa.py_buffer(memoryview(utf8)[newline + 1:]),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 26),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as e:
        raise SourceError(name, f"CSV 无法解析 (cannot parse CSV): {e}") from None
    return header, records, shape_errors


_NOT_ASCII_SPACE = re.compile(rb"[^ \t\n\r\x0b\x0c\x1c-\x1f]")


def _blank_from(utf8: bytes, start: int) -> bool:
    """Whether the text from `start` on is all whitespace (str.isspace), stopping at the first byte that is not."""
    found = _NOT_ASCII_SPACE.search(utf8, start)
    if found is None:
        return True
    if found.group() < b"\x80":  # an ASCII character that is not a space
        return False
    return utf8[found.start():].decode("utf-8").isspace()  # Unicode spaces (U+3000, …): rare, decoded


def _cell_text(value) -> str:
    """XLSX cells come typed; bronze keeps text. Integral numbers lose the '.0' Excel adds."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _xlsx_container(name: str, path: Path, data: bytes) -> bool:
    """Refuse what is not a workbook or would not fit; True when its one sheet is plain (see _plain_sheet)."""
    if not data.startswith(b"PK\x03\x04"):
        kind = "an old binary .xls" if data.startswith(b"\xd0\xcf\x11\xe0") else "not a ZIP container"
        raise SourceError(name, f"不是有效的 XLSX 文件 (not a valid XLSX: {kind})")
    return _reject_zip_bomb(name, path)


def _xlsx_rows(name: str, path: Path, data: bytes) -> list[list]:
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
        if sheet.height * sheet.width > MAX_CELLS or sheet.width > MAX_COLUMNS:
            raise SourceError(name, f"工作表范围过大 (the first sheet spans {sheet.height:,} rows × {sheet.width:,} "
                                    f"columns; at most {MAX_CELLS:,} cells and {MAX_COLUMNS} columns are read)")
        return sheet.to_python(skip_empty_area=False)
    except SourceError:
        raise
    except Exception as calamine_error:  # noqa: BLE001 - fall back to openpyxl before giving up
        try:
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        except Exception:  # noqa: BLE001
            raise SourceError(name, f"XLSX 文件损坏或被截断 (corrupt or truncated XLSX): {calamine_error}") from None


def _row_text(row: list) -> list[str]:
    """_cell_text over a row, with its two common cases inline: a call per cell cost more than calamine's
    whole parse of the sheet (measured: 3 M cells, 7 s of a 0.1-scale landing)."""
    return [v if (t := type(v)) is str else
            ((str(int(v)) if v.is_integer() else repr(v)) if t is float else _cell_text(v)) for v in row]


# any attribute spelled r="<letters><digits>" (either quote): a cell's or a row's reference (other elements'
# references are `ref=`/`sqref=`; counting an extra one only makes the check stricter)
_REF = re.compile(rb'\sr=["\']([A-Z]{0,3})(\d{1,9})["\']')
_ROW_TAG = re.compile(rb'<row\s[^>]*?\br=["\'](\d{1,9})["\']')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


_CHUNK = 1 << 24  # sheet XML read per step by _sheet_extent
_OVERLAP = 256  # bytes carried into the next step: longer than any reference or marker it looks for


def _sheet_extent(zf, member, exact: bool = False) -> tuple[int, int, bool]:
    """The largest row and column any cell of a worksheet names, and whether every cell is plain (see
    _plain_sheet), from its XML streamed in chunks: calamine allocates the whole used range when it opens a
    sheet, so one cell at XFD1048576 would take ~17 G cells (the process aborts) before any check could run.

    Per chunk, the bound is proposed by the chunk's last row tag (rows) and the header row (columns), and one
    RE2 count (Arrow, without the GIL) proves that no reference in the chunk lies beyond it; only a chunk where
    one does is searched reference by reference (_exact_extent). Extracting every reference in Python cost
    2.5 s of a 5 M-cell sheet, the proof 0.3 s. Each chunk is searched with the previous one's last bytes
    before it, so what a chunk's edge cuts is found whole in the next; found twice changes neither a maximum
    nor the verdict. A proposed bound is a reference the exact search reads too (the last row's own `r`, the
    header's last cell), so the two agree; where a limit is broken, the exact search says by how much."""
    rows = cols = 0
    header_cols = None  # the header row's widest column: the proposed width
    plain = True
    tail = b""
    with zf.open(member) as f:
        while chunk := f.read(_CHUNK):
            buf = tail + chunk
            if header_cols is None and (end := buf.find(b"</row>")) >= 0:
                header_cols = _exact_extent(buf[:end])[1]
            row_tags = _ROW_TAG.findall(buf, max(0, len(buf) - (1 << 16)))
            proposed = int(row_tags[-1]) if row_tags else None
            if (not exact and header_cols is not None and proposed is not None
                    and not _count(buf, _beyond(proposed, header_cols))):
                rows, cols = max(rows, proposed), max(cols, header_cols)
            else:
                chunk_rows, chunk_cols = _exact_extent(buf)
                rows, cols = max(rows, chunk_rows), max(cols, chunk_cols)
            plain = plain and not _count(buf, _NOT_PLAIN)
            tail = buf[-_OVERLAP:]
    if not exact and (rows * cols > MAX_CELLS or cols > MAX_COLUMNS):
        return _sheet_extent(zf, member, exact=True)
    return rows, cols, plain


def _exact_extent(buf: bytes) -> tuple[int, int]:
    """The largest row and column of the references in `buf`: one findall and maxima over it in C."""
    refs = _REF.findall(buf)
    if not refs:
        return 0, 0
    return max(map(int, map(itemgetter(1), refs))), max(map(_column_number, set(map(itemgetter(0), refs))))


def _count(buf: bytes, pattern: str) -> int:
    """Matches of an RE2 pattern in `buf`, counted by Arrow over the bytes in place."""
    return pc.count_substring_regex(_as_arrow(buf), pattern)[0].as_py()


def _beyond(rows: int, cols: int) -> str:
    """RE2 matching every reference _REF reads whose row is above `rows` or whose column is right of `cols`
    (and some it does not read: matching more only sends a chunk to the exact search)."""
    digits = str(rows)
    letters = _column_letters(cols) if cols else ""
    row_gt = [f"[1-9][0-9]{{{len(digits)},}}"] + [
        f"{digits[:i]}[{int(d) + 1}-9][0-9]{{{len(digits) - i - 1}}}" for i, d in enumerate(digits) if d != "9"]
    col_gt = ([f"[A-Z]{{{len(letters) + 1},}}"] if len(letters) < 3 else []) + [
        f"{letters[:i]}[{chr(ord(c) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}" for i, c in enumerate(letters) if c != "Z"]
    alternatives = [f"[A-Z]*0*(?:{'|'.join(row_gt)})"] + ([f"(?:{'|'.join(col_gt)})[0-9]"] if col_gt else [])
    return r"\sr=[\"'](?:" + "|".join(alternatives) + ")"


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _reject_zip_bomb(name: str, path: Path) -> bool:
    """Refuse a workbook that would unpack or allocate beyond the limits; True when its only sheet is plain."""
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
        members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise SourceError(name, f"XLSX 文件损坏或被截断 (corrupt or truncated XLSX): {e}") from None
    unpacked = sum(m.file_size for m in members)
    bomb = [m for m in members if m.file_size > 64 << 20 and m.file_size > ZIP_BOMB_RATIO * max(m.compress_size, 1)]
    if unpacked > MAX_UNPACKED_BYTES or bomb:
        what = bomb[0].filename if bomb else f"{len(members)} members"
        raise SourceError(name, f"疑似压缩炸弹 (zip bomb: {what} unpacks to {unpacked:,} bytes from "
                                f"{path.stat().st_size:,}; limit {MAX_UNPACKED_BYTES:,} bytes, "
                                f"EDULAKE_MAX_UNPACKED_BYTES)")
    sheets = [m for m in members if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")]
    plain = len(sheets) == 1  # with one sheet, "the first" cannot depend on the workbook's order
    for m in sheets:
        try:
            height, width, plain_sheet = _sheet_extent(zf, m)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise SourceError(name, f"XLSX 文件损坏或被截断 (corrupt or truncated XLSX): {e}") from None
        if height * width > MAX_CELLS or width > MAX_COLUMNS:
            raise SourceError(name, f"工作表范围过大 ({m.filename} has a cell at row {height:,}, column "
                                    f"{width:,}; at most {MAX_CELLS:,} cells and {MAX_COLUMNS} columns are read)")
        plain = plain and plain_sheet
    if plain and "xl/sharedStrings.xml" in zf.namelist():
        plain = not _count(zf.read("xl/sharedStrings.xml"), _ODD_NUMBER)
    return plain


def _parse_xlsx(name: str, path: Path, data: bytes) -> tuple[list[str], pa.Table, dict[int, list[str]]]:
    plain = _plain_sheet(name, path, data)
    if plain is not None:
        return _split_sheet(name, plain)
    rows = [_row_text(row) for row in _xlsx_rows(name, path, data)]
    rows = [r for r in rows if any(c.strip() for c in r)] if rows else []  # drop blank lines
    if not rows:
        raise SourceError(name, "空文件 (empty workbook: no header row)")
    header = rows[0]
    while header and not header[-1].strip():
        header = header[:-1]
    width = len(header)
    body = rows[1:]
    shape_errors = {}
    for i, r in enumerate(body, start=1):
        extra = [c for c in r[width:] if c.strip()]
        if extra:
            shape_errors[i] = r[: width + len(r[width:]) - _trailing_blanks(r)]
    kept = [r[:width] + [""] * (width - len(r)) for i, r in enumerate(body, start=1) if i not in shape_errors]
    by_column = list(zip(*kept, strict=True)) if kept else [()] * width  # transposed in C, not cell by cell
    columns = {f"c{j}": pa.array(by_column[j], pa.string()) for j in range(width)}
    return header, pa.table(columns), shape_errors


# Cells whose text fastexcel writes differently from _cell_text: booleans, ISO dates, errors, styled cells (a
# style is how a number becomes a date) and numbers below 1e-4 ("0.00001", not "1e-05"). Negative zero it writes
# "-0" where _cell_text writes "0": mended after the read, unless a text cell says "-0" itself. RE2 (_count), for
# the sheets and the shared strings alike; XML's whitespace spelled out, as RE2's \s leaves out \v.
_ODD_NUMBER = r'<v>(?:-?0\.0000|[^<]*[Ee]-)|<t(?:[ \t\n\r\f\v][^>]*)?>-0</t>'
_NOT_PLAIN = r'\st=["\'][bde]["\']|\ss=["\']|' + _ODD_NUMBER


def _plain_sheet(name: str, path: Path, data: bytes) -> pa.Table | None:
    """The first sheet as Arrow text columns read by fastexcel (calamine's parser, Arrow out, no Python object
    per cell: 1.8 s against 6.7 s for a 229k-row sheet at scale 1.0), when every cell is text or an unstyled
    number whose text both readers write alike; None otherwise, and the cell-by-cell path keeps its rules."""
    if not _xlsx_container(name, path, data):
        return None
    try:
        import fastexcel

        table = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_arrow()
    except Exception:  # noqa: BLE001 - whatever fastexcel refuses, the cell-by-cell path reads or names
        return None
    texts = [pc.fill_null(c.cast(pa.string()), "") for c in table.columns]
    return pa.table([pc.if_else(pc.equal(c, "-0"), "0", c) for c in texts],
                    names=[f"c{j}" for j in range(table.num_columns)])


def _split_sheet(name: str, cells: pa.Table) -> tuple[list[str], pa.Table, dict[int, list[str]]]:
    """_parse_xlsx's rules on Arrow columns: blank lines go, the first line left is the header, a row with
    text beyond the header's width is a shape error (its cells kept up to its last non-blank one)."""
    filled = [pc.invert(pc.or_(pc.equal(c, ""), pc.utf8_is_space(c))) for c in cells.columns]
    if not filled:
        raise SourceError(name, "空文件 (empty workbook: no header row)")
    lines = pc.indices_nonzero(functools.reduce(pc.or_, filled)).to_numpy()
    if len(lines) == 0:
        raise SourceError(name, "空文件 (empty workbook: no header row)")
    header = [c[int(lines[0])].as_py() for c in cells.columns]
    while header and not header[-1].strip():
        header = header[:-1]
    width = len(header)
    body = pa.array(lines[1:])
    beyond = [pc.take(f, body) for f in filled[width:]]
    if beyond:
        wide = pc.indices_nonzero(functools.reduce(pc.or_, beyond)).to_numpy()
    else:
        wide = np.array([], dtype=np.int64)
    shape_errors = {}
    for i in wide:
        row = [c[int(lines[1 + i])].as_py() for c in cells.columns]
        shape_errors[int(i) + 1] = row[: len(row) - _trailing_blanks(row)]
    keep = pa.array(np.delete(lines[1:], wide))
    columns = {f"c{j}": pc.take(cells.column(j), keep) for j in range(width)}
    return header, pa.table(columns) if columns else pa.table({}), shape_errors


def _trailing_blanks(row: list[str]) -> int:
    n = 0
    for c in reversed(row):
        if c.strip():
            break
        n += 1
    return n


def _match_header(name: str, header: list[str], table: Table) -> list[str]:
    """Map each delivered header to the standard's column name; every column must be there once."""
    wanted = {canonical_header(c): c for c in table.columns}
    keys, seen = [], set()
    unknown = []
    for position, h in enumerate(header, start=1):
        canon = canonical_header(h)
        if not canon:
            raise SourceError(name, f"第 {position} 列没有表头 (column {position} has no header)")
        if canon in seen:
            raise SourceError(name, "表头重复 (duplicate column)", column=h)
        seen.add(canon)
        if canon not in wanted:
            unknown.append(h)
        keys.append(wanted.get(canon, h))
    missing = [c for canon, c in wanted.items() if canon not in seen]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"缺少列 (missing columns): {', '.join(missing)}")
        if unknown:
            more = f" … and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            parts.append(f"未知列 (unknown columns): {', '.join(u[:50] for u in unknown[:10])}{more}")
        raise SourceError(name, "; ".join(parts) + f" — expected the columns of {table.label} ({table.qualified_name})")
    return keys


def _repeated(keys: list[str], n: int) -> pa.Array:
    """The keys, in order, n times, as one string array built from its buffers (taking them from a k-string
    array cost 0.6 s for a 1.3 M-row file; this is a byte tile)."""
    encoded = [k.encode("utf-8") for k in keys]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    if n * int(lengths.sum()) >= 2**31:  # beyond 32-bit string offsets: the slow way, which Arrow chunks for us
        return pa.array(keys, pa.string()).take(pa.array(np.tile(np.arange(len(keys), dtype=np.int32), n)))
    offsets = np.zeros(n * len(keys) + 1, dtype=np.int32)
    np.cumsum(np.tile(lengths.astype(np.int32), n), out=offsets[1:])
    data = np.tile(np.frombuffer(b"".join(encoded), dtype=np.uint8), n)
    return pa.StringArray.from_buffers(n * len(keys), pa.py_buffer(offsets), pa.py_buffer(data))


def _to_raw_rows(header: list[str], keys: list[str], records: pa.Table,
                 shape_errors: dict[int, list[str]]) -> pa.Table:
    """One map per row: standard column name -> raw text, numbered as in the file (first data row = 1)."""
    n, k = records.num_rows, len(keys)
    total = n + len(shape_errors)
    bad_numbers = np.array(sorted(shape_errors), dtype=np.int32)
    # a mask, not np.setdiff1d: its hash-based unique cost 1.5 s of a 5 M-row feed's landing, most files having
    # no shape error at all
    good_numbers = np.arange(1, total + 1, dtype=np.int32)
    if len(bad_numbers):
        keep = np.ones(total, dtype=bool)
        keep[bad_numbers - 1] = False
        good_numbers = good_numbers[keep]
    # one copy of every chunk (combine_chunks, then concat, copied the cells twice)
    values = pa.concat_arrays([c for i in range(k) for c in records.column(i).chunks]) if n else pa.array([], pa.string())
    # cell (row r, column c) sits at c*n + r in `values`; maps want them row by row
    index = np.int32 if n * k < 2**31 else np.int64
    order = (np.arange(k, dtype=index)[None, :] * n + np.arange(n, dtype=index)[:, None]).ravel()
    items = values.take(pa.array(order))
    good = pa.MapArray.from_arrays(pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), _repeated(keys, n), items)
    good_table = pa.table({"_row_number": pa.array(good_numbers, pa.int32()), "_raw": good,
                           "_shape_error": pa.nulls(n, pa.string())})
    if not shape_errors:
        return good_table
    bad_raw, bad_reason = [], []
    for number in bad_numbers:
        cells = shape_errors[int(number)]
        # keep every delivered cell: named where the header names it, by position beyond it
        bad_raw.append([(keys[i] if i < k else f"_extra_{i - k + 1}", c) for i, c in enumerate(cells)])
        bad_reason.append(f"该行有 {len(cells)} 个字段，表头有 {k} 个 (row has {len(cells)} fields, header has {k})")
    bad_table = pa.table({"_row_number": pa.array(bad_numbers, pa.int32()), "_raw": pa.array(bad_raw, RAW_TYPE),
                          "_shape_error": pa.array(bad_reason, pa.string())})
    return pa.concat_tables([good_table, bad_table]).sort_by("_row_number")

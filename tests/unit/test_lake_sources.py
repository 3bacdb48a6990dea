"""Reading and landing source files (no JVM): every bad input names the file and writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from edulake import settings, standard
from edulake.lake import landing, sources
from edulake.lake.errors import SourceError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
import _lake_support as samples  # noqa: E402

ROSTER = "enrollment.roster"
ROSTER_FILE = "学籍名册_2024_110108.csv"


def roster_table():
    return standard.load().table(ROSTER)


def write_roster(folder: Path, records=None, encoding="gbk", name=ROSTER_FILE) -> Path:
    header, rows = samples.rows(ROSTER, 3)
    return samples.write_csv(folder / name, header, rows if records is None else records, encoding)


def raw_rows(parsed) -> list[dict]:
    return [dict(r["_raw"]) | {"_row_number": r["_row_number"], "_shape_error": r["_shape_error"]}
            for r in parsed.rows.to_pylist()]


def test_gbk_csv_keeps_raw_text_and_numbers_rows_from_one(tmp_path):
    header, rows = samples.rows(ROSTER, 3)
    rows[1]["姓名"] = "  欧阳　娜娜 "
    parsed = sources.read_source(samples.write_csv(tmp_path / ROSTER_FILE, header, rows, "gbk"), roster_table())
    got = raw_rows(parsed)
    assert parsed.encoding == "gb18030" and parsed.header == tuple(header)
    assert [r["_row_number"] for r in got] == [1, 2, 3]
    assert got[1]["姓名"] == "  欧阳　娜娜 "  # bronze keeps what arrived: no trimming here
    assert got[0]["学籍号"] == rows[0]["学籍号"]


def test_utf8_delivered_for_a_gbk_feed_is_read_as_utf8(tmp_path):
    parsed = sources.read_source(write_roster(tmp_path, encoding="utf-8"), roster_table())
    assert parsed.encoding == "utf-8"
    assert raw_rows(parsed)[0]["姓名"] == "张1"


def test_undecodable_bytes_name_file_byte_and_line(tmp_path):
    path = write_roster(tmp_path)
    data = bytearray(path.read_bytes())
    second_line = data.index(b"\n") + 1
    third_line = data.index(b"\n", second_line) + 1
    data[third_line:third_line] = b"\x81\xff"  # 0x81 needs a trail byte 0x40-0xFE
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError) as e:
        sources.read_source(path, roster_table())
    assert ROSTER_FILE in str(e.value) and f"byte {third_line}" in str(e.value) and "line 3" in str(e.value)
    assert e.value.row == 2


@pytest.mark.parametrize("case, message", [
    ("empty", "empty file"),
    ("header_only", "header only"),
    ("missing_column", "(missing columns): 姓名"),
    ("unknown_column", "(unknown columns): 备注"),
    ("html_xls", "HTML table"),
])
def test_bad_csv_inputs(tmp_path, case, message):
    header, rows = samples.rows(ROSTER, 2)
    path = tmp_path / ROSTER_FILE
    if case == "empty":
        path.write_bytes(b"")
    elif case == "header_only":
        samples.write_csv(path, header, [], "gbk")
    elif case == "missing_column":
        samples.write_csv(path, [h for h in header if h != "姓名"], rows, "gbk")
    elif case == "unknown_column":
        samples.write_csv(path, header + ["备注"], rows, "gbk")
    elif case == "html_xls":
        path = tmp_path / "体测_2024_110108.xls"
        path.write_text("<html><body><table><tr><td>学校标识码</td></tr></table></body></html>", encoding="utf-8")
    table = standard.load().table("health.fitness" if case == "html_xls" else ROSTER)
    with pytest.raises(SourceError) as e:
        sources.read_source(path, table)
    assert path.name in str(e.value) and message in str(e.value)


def test_rows_with_the_wrong_field_count_are_kept_for_quarantine(tmp_path):
    path = write_roster(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].rsplit(b",", 2)[0]  # data row 2 loses its last two fields
    path.write_bytes(b"\n".join(lines))
    got = raw_rows(sources.read_source(path, roster_table()))
    assert [r["_row_number"] for r in got] == [1, 2, 3]
    assert got[0]["_shape_error"] is None and got[2]["_shape_error"] is None
    assert "row has 13 fields, header has 15" in got[1]["_shape_error"]
    assert got[1]["学籍号"].startswith("G")


def test_xlsx_cells_become_text_as_the_sheet_shows_them(tmp_path):
    table = standard.load().table("health.fitness")
    header, rows = samples.rows(table.qualified_name, 2)
    rows[0]["身高"] = 150.0  # a number cell: Excel shows 150
    rows[0]["体重"] = 41.25
    rows[1]["学年"] = 2024
    parsed = sources.read_source(samples.write_xlsx(tmp_path / "体测_2024_110108.xlsx", header, rows), table)
    got = raw_rows(parsed)
    assert got[0]["身高"] == "150" and got[0]["体重"] == "41.25" and got[1]["学年"] == "2024"
    assert parsed.format == "xlsx" and [r["_row_number"] for r in got] == [1, 2]


def _sheet(path: Path, lines: list[list]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    for line in lines:
        wb.active.append(line)
    wb.save(path)
    return path


def _cell_by_cell(name: str, path: Path, monkeypatch) -> tuple:
    with monkeypatch.context() as m:
        m.setattr(sources, "_plain_sheet", lambda *args: None)
        return sources._parse_xlsx(name, path, path.read_bytes())


def test_plain_sheets_read_by_fastexcel_give_what_the_cell_by_cell_reader_gives(tmp_path, monkeypatch):
    """The Arrow path (_plain_sheet) must not change a single cell's text, row number or shape error."""
    path = _sheet(tmp_path / "plain.xlsx", [
        [None], ["学年", "身高", "备注", None, None],  # a blank line before the header, blank header cells
        [2024, 150.0, "  x ", None, None], [2024, -0.0, "", None, None], [None, None, "   ", None],  # blank line
        ["2024", 41.25, "a", None, "beyond"],  # text beyond the header: a shape error
        [2025, 1e20, "０１", None, None], [2025, 123.5, None, None, None]])
    assert sources._plain_sheet(path.name, path, path.read_bytes()) is not None
    header, records, shape_errors = sources._parse_xlsx(path.name, path, path.read_bytes())
    want_header, want_records, want_errors = _cell_by_cell(path.name, path, monkeypatch)
    assert header == want_header == ["学年", "身高", "备注"]
    assert records.equals(want_records) and shape_errors == want_errors == {3: ["2024", "41.25", "a", "", "beyond"]}
    assert records.column(1).to_pylist() == ["150", "0", "100000000000000000000", "123.5"]


@pytest.mark.parametrize("odd", [dt.date(2024, 9, 1), True, 1e-05, "-0"], ids=["date", "boolean", "tiny", "text-0"])
def test_sheets_with_cells_fastexcel_would_write_otherwise_keep_the_cell_by_cell_reader(tmp_path, monkeypatch, odd):
    path = _sheet(tmp_path / "typed.xlsx", [["学年", "值"], [2024, odd], [2024, -0.0]])
    assert sources._plain_sheet(path.name, path, path.read_bytes()) is None
    assert sources._parse_xlsx(path.name, path, path.read_bytes())[1].equals(
        _cell_by_cell(path.name, path, monkeypatch)[1])


def test_the_sheet_scan_finds_what_a_chunk_edge_cuts(tmp_path, monkeypatch):
    """_sheet_extent reads the sheet XML in chunks: an odd number or a far cell cut by a chunk's edge must be
    found wherever the edge falls."""
    odd = _sheet(tmp_path / "odd.xlsx", [["学年", "值"], [2024, 1e-05], [2024, 2.5]])
    far = _sheet(tmp_path / "far.xlsx", [["学年", "值"], [2024, 2.5]])
    with zipfile.ZipFile(far) as zf, zipfile.ZipFile(tmp_path / "far2.xlsx", "w") as out:
        for item in zf.infolist():
            body = zf.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = body.replace(b"</sheetData>", b'<row r="900000"><c r="ALM900000"><v>1</v></c></row></sheetData>')
            out.writestr(item, body)
    for size in range(1, 200, 7):
        monkeypatch.setattr(sources, "_CHUNK", size)
        assert sources._plain_sheet(odd.name, odd, odd.read_bytes()) is None, size
        with zipfile.ZipFile(tmp_path / "far2.xlsx") as zf:
            member = next(m for m in zf.infolist() if m.filename.startswith("xl/worksheets/"))
            assert sources._sheet_extent(zf, member)[:2] == (900000, 1001), size


@pytest.mark.parametrize("cell, extent", [(b'<c r="XFD3"><v>1</v></c>', (52, 16384)),
                                          (b'<c r="B1048576"><v>1</v></c>', (1048576, 2)),
                                          (b"<c r='C1048576'><v>1</v></c>", (1048576, 3))],
                         ids=["far column", "far row", "single quotes"])
def test_a_far_cell_inside_an_ordinary_row_counts(tmp_path, monkeypatch, cell, extent):
    """The scan proposes the last row tag and the header's width as a sheet's extent and proves that no
    reference lies beyond them: a cell that does, hidden in the third row of fifty, must still be found,
    wherever a chunk's edge falls."""
    path = _sheet(tmp_path / "s.xlsx", [["学年", "值"]] + [[2024, i] for i in range(51)])
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(tmp_path / "far.xlsx", "w") as out:
        for item in zf.infolist():
            body = zf.read(item)
            if item.filename.startswith("xl/worksheets/"):
                third = [i for i in range(len(body)) if body.startswith(b"</row>", i)][2]
                body = body[:third] + cell + body[third:]
            out.writestr(item, body)
    with zipfile.ZipFile(tmp_path / "far.xlsx") as zf:
        member = next(m for m in zf.infolist() if m.filename.startswith("xl/worksheets/"))
        for size in (1 << 24, 300, 97):
            monkeypatch.setattr(sources, "_CHUNK", size)
            assert sources._sheet_extent(zf, member)[:2] == extent, size
            assert sources._sheet_extent(zf, member, exact=True)[:2] == extent, size
    if extent[1] > sources.MAX_COLUMNS:  # and refused before calamine opens the sheet
        far = (tmp_path / "far.xlsx").rename(tmp_path / "体测_2024_110108.xlsx")
        with pytest.raises(SourceError, match="工作表范围过大"):
            sources.read_source(far, standard.load().table("health.fitness"))


def test_truncated_xlsx_is_rejected(tmp_path):
    table = standard.load().table("health.fitness")
    header, rows = samples.rows(table.qualified_name, 50)
    path = samples.write_xlsx(tmp_path / "体测_2024_110108.xlsx", header, rows)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SourceError) as e:
        sources.read_source(path, table)
    assert "体测_2024_110108.xlsx" in str(e.value) and "corrupt or truncated XLSX" in str(e.value)
    assert not zipfile.is_zipfile(path)


def test_headers_match_after_full_width_folding(tmp_path):
    table = standard.load().table("facility.condition")
    header, rows = samples.rows(table.qualified_name, 1)
    delivered = [h.replace("(", "（").replace(")", "）") for h in header]
    rows = [{d: r[h] for d, h in zip(delivered, header, strict=True)} for r in rows]
    parsed = sources.read_source(samples.write_xlsx(tmp_path / "办学条件_2024_110108.xlsx", delivered, rows), table)
    assert parsed.header == tuple(delivered)
    assert "教学及辅助用房面积(平方米)" in raw_rows(parsed)[0]


def test_file_name_must_match_one_table():
    with pytest.raises(SourceError, match="file name matches no table"):
        sources.table_for(standard.load().feed("enrollment"), "roster.csv")
    assert sources.table_for(standard.load().feed("health"), "体测_2024_110108.csv").name == "fitness"


def test_landing_copies_once_with_checksum_and_rows(edulake_home):
    inbox = settings.paths().inbox / "enrollment"
    path = write_roster(inbox)
    batch, new = landing.land("enrollment", path.name)
    assert new and batch.batch_id == f"enrollment-{landing.sha256_of(path)[:16]}"
    assert (batch.folder / ROSTER_FILE).read_bytes() == path.read_bytes()
    manifest = json.loads((batch.folder / landing.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["sha256"] == landing.sha256_of(path) and manifest["rows"] == 3
    assert pq.read_table(batch.rows_path).column("_batch_id").to_pylist() == [batch.batch_id] * 3
    # the same bytes under another name are the same batch: a no-op
    copy = inbox / "学籍名册_2024_110108_重发.csv"
    copy.write_bytes(path.read_bytes())
    again, new_again = landing.land("enrollment", copy.name)
    assert not new_again and again == batch
    assert [b.batch_id for b in landing.landed_batches("enrollment")] == [batch.batch_id]


@pytest.mark.parametrize("name", ["../../etc/passwd", "../health/体测_2024.csv", "/etc/hostname"])
def test_names_escaping_the_inbox_are_refused(edulake_home, name):
    write_roster(settings.paths().inbox / "enrollment")
    with pytest.raises(SourceError, match="escapes the inbox"):
        landing.land("enrollment", name)
    assert not settings.paths().landing.exists()


def test_symlink_out_of_the_inbox_is_refused(edulake_home, tmp_path):
    outside = write_roster(tmp_path / "elsewhere")
    inbox = settings.paths().inbox / "enrollment"
    inbox.mkdir(parents=True)
    (inbox / ROSTER_FILE).symlink_to(outside)
    with pytest.raises(SourceError, match="escapes the inbox"):
        landing.land("enrollment", ROSTER_FILE)


def test_a_rejected_file_lands_nothing(edulake_home):
    inbox = settings.paths().inbox / "enrollment"
    header, rows = samples.rows(ROSTER, 2)
    samples.write_csv(inbox / ROSTER_FILE, header[:-1], rows, "gbk")
    with pytest.raises(SourceError, match="missing columns"):
        landing.land("enrollment", ROSTER_FILE)
    landing_dir = settings.paths().landing / "enrollment"
    assert not landing_dir.exists() or not any(landing_dir.iterdir())


@pytest.mark.parametrize("workers", [1, 2])
def test_landing_files_two_at_a_time_reports_them_in_inbox_order(edulake_home, monkeypatch, workers):
    """Files land LANDING_WORKERS at a time; what the run reports (landed, refused, already received) is
    the same as one at a time, in the inbox's order, and the same bytes twice are one batch."""
    from edulake.lake import engines, ledger, pipeline

    monkeypatch.setattr(pipeline, "LANDING_WORKERS", workers)
    inbox = settings.paths().inbox / "enrollment"
    header, rows = samples.rows(ROSTER, 4)
    first = write_roster(inbox, rows[:2], name="学籍名册_2024_110101.csv")
    samples.write_csv(inbox / "学籍名册_2024_110102.csv", header[:-1], rows, "gbk")  # a column missing
    second = write_roster(inbox, rows[2:], name="学籍名册_2024_110105.csv")
    (inbox / "学籍名册_2024_110108.csv").write_bytes(first.read_bytes())  # sent again under another name
    result = pipeline.run_landing(engines.get("duckdb"), "enrollment")
    ids = [landing.batch_id_for("enrollment", landing.sha256_of(p)) for p in (first, second)]
    assert result.landed == ids
    assert [e.file for e in result.errors] == ["学籍名册_2024_110102.csv"]
    assert result.unchanged == ["学籍名册_2024_110108.csv"]
    assert sorted(b.batch_id for b in landing.landed_batches("enrollment")) == sorted(ids)
    assert {r["batch_id"] for r in ledger.rows("status = 'landed'")} == set(ids)

"""Batch-level expectations (severity fatal: the whole batch is rejected, silver untouched). Pure: the lake
runs `stats_sql` over `checked` and `bronze_batches` and passes in what it read from the ledger and silver.

  - expected_columns_present: every column of the standard is in the batch (the lake's reader already
    refuses such files at landing; this guards batches that reach bronze by another route);
  - row_count_within_band: rows within [ROW_BAND_LOW, ROW_BAND_HIGH] x the previous loaded batch of the
    same table and file series (same file name but for the 学年, from the ledger ops/batches);
  - the standard's fatal table rules, e.g. every_district_delivered (facility: every current district
    has delivered for each school year in the batch, counting what silver already holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edulake.quality.sql import lit
from edulake.standard import Standard, Table

ROW_BAND_LOW, ROW_BAND_HIGH = 0.5, 2.0
BATCH_RULES = ("expected_columns_present", "row_count_within_band")
_YEAR = r"(?<!\d)(?:19|20)\d{2}(?!\d)"


def series(source_file: str) -> str:
    """File series: the name with its 学年 / year tokens replaced, e.g. 学籍名册_*_110101.csv."""
    return re.sub(_YEAR, "*", source_file)


def file_year(source_file: str) -> int:
    """The latest year named in a file name (0 when it names none)."""
    return max((int(y) for y in re.findall(_YEAR, source_file)), default=0)


def needs_districts(table: Table) -> bool:
    return any(r.name == "every_district_delivered" and r.severity == "fatal" for r in table.rules)


def stats_sql(table: Table, source: str = "checked", raw: str = "bronze_batches") -> str:
    """Per batch (over `checked`): rows, the file, the columns missing from it (from the raw maps of `raw`,
    which `checked` does not carry: one row each); with every_district_delivered the (school year, district)
    pairs its valid rows delivered (one row per pair). A row that fails its own rules goes to quarantine and
    delivers nothing: a 学年 out of range in one row (2046) made the whole batch look like the only delivery of
    2046, and rejected it for the districts missing from that year."""
    # a misshapen row (fewer fields than the header) lacks columns on its own: it goes to quarantine as row_shape
    # and must not make the whole batch look as if the file lacked them
    missing = ", ".join(f"bool_or(_shape_error IS NULL AND NOT map_contains(_raw, {lit(c)})) AS {_missing_col(i)}"
                        for i, c in enumerate(table.columns))
    columns = ", ".join(f"m.{_missing_col(i)}" for i in range(len(table.columns)))
    sql = (f"SELECT s._batch_id, s.rows, s.source_file, {columns} FROM "
           f"(SELECT _batch_id, count(*) AS rows, min(_source_file) AS source_file FROM {source} GROUP BY _batch_id) "
           f"AS s JOIN (SELECT _batch_id, {missing} FROM {raw} GROUP BY _batch_id) AS m ON s._batch_id = m._batch_id")
    if needs_districts(table):
        sql = (f"SELECT s.*, d.school_year, d.district_code FROM ({sql}) AS s LEFT JOIN "
               f"(SELECT DISTINCT _batch_id, school_year, district_code FROM {source} WHERE _row_valid) AS d "
               f"ON s._batch_id = d._batch_id")
    return sql


def _missing_col(i: int) -> str:
    return f"__missing{i}"


@dataclass
class BatchStats:
    rows: int
    source_file: str
    missing: list[str]
    delivered: dict[int, set[str]]  # school year -> districts


def collect(table: Table, rows: list[dict]) -> dict[str, BatchStats]:
    """The rows of stats_sql, by batch."""
    out: dict[str, BatchStats] = {}
    for r in rows:
        s = out.get(r["_batch_id"])
        if s is None:
            missing = [c for i, c in enumerate(table.columns) if r[_missing_col(i)]]
            s = out[r["_batch_id"]] = BatchStats(int(r["rows"]), r["source_file"], missing, {})
        if r.get("school_year") is not None:
            s.delivered.setdefault(int(r["school_year"]), set())
            if r.get("district_code"):
                s.delivered[int(r["school_year"])].add(r["district_code"])
    return out


def previous_counts(ledger_rows: list[dict]) -> dict[str, tuple[str, int]]:
    """series -> (source file, rows received) of the latest loaded batch among `ledger_rows` (the table's
    loaded batches outside this load): the one of the latest 学年 in its name, then the last to finish."""
    out: dict[str, tuple] = {}
    for r in sorted(ledger_rows, key=lambda r: (file_year(r["source_file"]), r["finished_at"])):
        out[series(r["source_file"])] = (r["source_file"], r["rows_received"])
    return out


def failures(table: Table, std: Standard, stats: dict[str, BatchStats], previous: dict[str, tuple[str, int]],
             silver_delivered: dict[int, set[str]] | None = None) -> dict[str, list[tuple[str, str]]]:
    """{batch_id: [(rule, message)]} for the batches that fail a batch-level expectation."""
    out: dict[str, list] = {}
    for b, s in stats.items():
        problems = []
        if s.missing:
            problems.append(("expected_columns_present",
                             f"{s.source_file}: 缺少列 (missing columns): {', '.join(s.missing)}"))
        prev = previous.get(series(s.source_file))
        if prev and prev[1] and not (ROW_BAND_LOW * prev[1] <= s.rows <= ROW_BAND_HIGH * prev[1]):
            problems.append(("row_count_within_band",
                             f"{s.source_file}: 行数 {s.rows} 超出上一批次 {prev[0]} ({prev[1]} 行) 的 "
                             f"[{ROW_BAND_LOW}, {ROW_BAND_HIGH}] 倍范围 (row count outside the band of the "
                             f"previous batch)"))
        if problems:
            out[b] = problems
    if needs_districts(table):
        _district_completeness(std, stats, silver_delivered or {}, out)
    return out


def _district_completeness(std: Standard, stats: dict[str, BatchStats], in_silver: dict[int, set[str]],
                           out: dict) -> None:
    """Every current district delivered for each school year: these batches plus silver's rows."""
    current = {r["code"] for r in std.codes("district").rows if r.get("status") == "current"}
    delivered: dict[int, set] = {}
    for s in stats.values():
        for y, districts in s.delivered.items():
            delivered.setdefault(y, set()).update(districts)
    for y in delivered:
        delivered[y] |= in_silver.get(y, set())
    labels = std.codes("district").labels()
    for year, got in delivered.items():
        missing = sorted(current - got)
        if not missing:
            continue
        names = ", ".join(f"{c} {labels.get(c, '')}".strip() for c in missing)
        for b, s in stats.items():
            if year in s.delivered:
                out.setdefault(b, []).append((
                    "every_district_delivered",
                    f"{s.source_file}: {year} 学年办学条件缺少区 (districts not delivered): {names}"))

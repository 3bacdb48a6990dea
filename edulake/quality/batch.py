"""Batch-level expectations (severity fatal: the whole batch is rejected, silver untouched).

  - expected_columns_present: every column of the standard is in the batch (the lake's reader already
    refuses such files at landing; this guards batches that reach bronze by another route);
  - row_count_within_band: rows within [ROW_BAND_LOW, ROW_BAND_HIGH] x the previous loaded batch of the
    same table and file series (same file name but for the 学年, from the ledger ops/batches);
  - the standard's fatal table rules, e.g. every_district_delivered (facility: every current district
    has delivered for each school year in the batch, counting batches already in silver).
All are computed with ONE aggregation over the batches plus small reads of the ledger and silver.
"""

from __future__ import annotations

import re

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from edulake import settings
from edulake.lake import delta, ledger
from edulake.standard import Standard, Table

ROW_BAND_LOW, ROW_BAND_HIGH = 0.5, 2.0
BATCH_RULES = ("expected_columns_present", "row_count_within_band")
_YEAR = r"(?<!\d)(?:19|20)\d{2}(?!\d)"


def checks(table: Table) -> list:
    """Batch rules have no row-level GX expectation; they are described in the suite's meta."""
    return []


def series(source_file: str) -> str:
    """File series: the name with its 学年 / year tokens replaced, e.g. 学籍名册_*_110101.csv."""
    return re.sub(_YEAR, "*", source_file)


def _previous_counts(spark, table: Table, batch_ids: list[str]) -> dict[str, tuple[str, int]]:
    """series -> (source file, rows received) of the latest loaded batch not in batch_ids: the one of the
    latest 学年 in its name (batches of one run share a finish time), then the last to finish."""
    rows = (ledger.read(spark).where((F.col("table") == table.qualified_name) & (F.col("status") == "loaded")
                                     & ~F.col("batch_id").isin(batch_ids))
            .select("source_file", "rows_received", "finished_at").collect())
    out: dict[str, tuple] = {}
    for r in sorted(rows, key=lambda r: (file_year(r.source_file), r.finished_at)):
        out[series(r.source_file)] = (r.source_file, r.rows_received)
    return out


def file_year(source_file: str) -> int:
    """The latest year named in a file name (0 when it names none)."""
    return max((int(y) for y in re.findall(_YEAR, source_file)), default=0)


def failures(spark, table: Table, std: Standard, frame: DataFrame, batch_ids: list[str]) -> dict[str, list]:
    """{batch_id: [(rule, message)]} for the batches that fail a batch-level expectation."""
    fatal_rules = [r.name for r in table.rules if r.severity == "fatal"]
    keys = F.map_keys("_raw")
    aggs = [F.count("*").alias("rows"), F.first("_source_file").alias("source_file"),
            F.array_sort(F.array_distinct(F.flatten(F.collect_set(
                F.array_except(F.array(*[F.lit(c) for c in table.columns]), keys))))).alias("missing")]
    if "every_district_delivered" in fatal_rules:
        aggs += [F.collect_set("school_year").alias("years"), F.collect_set("district_code").alias("districts")]
    stats = {r._batch_id: r for r in frame.groupBy("_batch_id").agg(*aggs).collect()}
    previous = _previous_counts(spark, table, batch_ids)
    out: dict[str, list] = {}
    for b in batch_ids:
        s = stats.get(b)
        if s is None:
            continue
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
    if "every_district_delivered" in fatal_rules:
        _district_completeness(spark, table, std, stats, out)
    return out


def _district_completeness(spark, table: Table, std: Standard, stats: dict, out: dict) -> None:
    """Every current district delivered for each school year: these batches plus silver's rows."""
    current = {r["code"] for r in std.codes("district").rows if r.get("status") == "current"}
    delivered: dict[int, set] = {}
    for s in stats.values():
        for y in s.years:
            delivered.setdefault(y, set()).update(d for d in s.districts if d)
    target = settings.paths().silver / table.entity
    if delta.exists(target) and delivered:
        for r in (delta.read(spark, target).where(F.col("school_year").isin(list(delivered)))
                  .select("school_year", "district_code").distinct().collect()):
            delivered[r.school_year].add(r.district_code)
    labels = std.codes("district").labels()
    for year, got in delivered.items():
        missing = sorted(current - got)
        if not missing:
            continue
        names = ", ".join(f"{c} {labels.get(c, '')}".strip() for c in missing)
        for b, s in stats.items():
            if year in s.years:
                out.setdefault(b, []).append((
                    "every_district_delivered",
                    f"{s.source_file}: {year} 学年办学条件缺少区 (districts not delivered): {names}"))

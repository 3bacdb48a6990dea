"""Per feed and district: the last delivery, rows in, quarantined and rejected, the failure rate of the latest
batches against the previous ones, and freshness against the feed's delivery calendar. From the ledger
ops/batches alone, so every figure reconciles with it.

A batch's district is the district code its file name carries (学籍名册_2025_110101.csv; a legacy code counts
for the district it merged into); a file naming none (学校名录.csv, 中考 ZK-2025) is city-wide (全市,
district_code NULL). A file series is the file name but for its 学年 (edulake.quality.batch.series): the
previous batch of a batch is the series' batch before it, as the row-count band of the lake orders them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from edulake import settings, standard
from edulake.lake import ledger, tables
from edulake.monitoring import calendar
from edulake.quality import batch as batch_rules

CITY = "全市"
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")


def districts() -> dict[str, tuple[str, str]]:
    """Every district code (legacy ones too) -> (current code, current name)."""
    codes = standard.load().codes("district")
    names = {r["code"]: r["name"] for r in codes.rows}
    return {r["code"]: (r["current_code"] or r["code"], names.get(r["current_code"] or r["code"], r["name"]))
            for r in codes.rows}


def current_districts() -> list[str]:
    return sorted(r["code"] for r in standard.load().codes("district").rows if r["status"] == "current")


def district_of(source_file: str, known: dict[str, tuple[str, str]]) -> str | None:
    """The current district code a file name carries, None for a city-wide file."""
    found = [known[c][0] for c in _SIX_DIGITS.findall(source_file or "") if c in known]
    return found[-1] if found else None


def ledger_rows() -> list[dict]:
    """Every batch of the ledger, with its district and file series."""
    known = districts()
    rows = tables.query(ledger.path(), "SELECT * FROM t")
    for r in rows:
        r["district_code"] = district_of(r["source_file"], known)
        r["series"] = f"{r['table']}:{batch_rules.series(r['source_file'] or '')}"
    return rows


def latest_and_previous(loaded: list[dict]) -> dict[str, tuple[dict, dict | None]]:
    """series -> (latest loaded batch, the one before it), in the lake's order (学年 in the name, then time)."""
    by_series: dict[str, list[dict]] = defaultdict(list)
    for r in loaded:
        by_series[r["series"]].append(r)
    out = {}
    for series, rows in by_series.items():
        rows.sort(key=lambda r: (batch_rules.file_year(r["source_file"] or ""), r["finished_at"]))
        out[series] = (rows[-1], rows[-2] if len(rows) > 1 else None)
    return out


def _rate(rows: list[dict]) -> float | None:
    received = sum(r["rows_received"] or 0 for r in rows)
    return sum(r["rows_quarantined"] or 0 for r in rows) / received if received else None


def deliveries(as_of: dt.date | None = None, rows: list[dict] | None = None) -> list[dict]:
    """One row per feed and district (全市 for city-wide files; every current district of a feed delivered
    per district, whether it delivered or not)."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    std = standard.load()
    known = districts()
    names = {code: name for code, name in known.values()}
    rows = ledger_rows() if rows is None else rows
    groups: dict[tuple[str, str | None], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["feed"], r["district_code"])].append(r)
    for feed in std.feeds.values():  # a feed that never delivered is listed too: it is the most overdue
        if feed.delivery and feed.delivery.by_district:
            for code in current_districts():
                groups.setdefault((feed.name, code), [])
        elif not any(name == feed.name for name, _ in groups):
            groups[(feed.name, None)] = []
    feed_last_loaded = {f: max((r["started_at"] for r in rows if r["feed"] == f and r["status"] == "loaded"),
                               default=None) for f in std.feeds}
    out = []
    for (feed_name, district), batches in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        feed = std.feeds.get(feed_name)
        loaded = [r for r in batches if r["status"] == "loaded"]
        pairs = latest_and_previous(loaded).values()
        last_loaded = max((r["started_at"] for r in loaded), default=None)
        fresh = None
        if feed is not None and feed.delivery is not None:
            # a feed delivered per district is judged per district, any other on its whole feed
            basis = last_loaded if feed.delivery.by_district else feed_last_loaded[feed_name]
            fresh = calendar.freshness(feed.delivery, basis, as_of)
        rate, previous_rate = _rate([p[0] for p in pairs]), _rate([p[1] for p in pairs if p[1]])
        out.append({
            "feed": feed_name, "feed_label": feed.label if feed else feed_name,
            "district_code": district, "district_name": names.get(district, CITY) if district else CITY,
            "batches": len(batches), "loaded": len(loaded),
            "rejected": sum(r["status"] == "rejected" for r in batches),
            "last_delivery": max((r["started_at"] for r in batches), default=None),
            "last_loaded": last_loaded,
            "rows_received": sum(r["rows_received"] or 0 for r in batches),
            "rows_accepted": sum(r["rows_accepted"] or 0 for r in batches),
            "rows_quarantined": sum(r["rows_quarantined"] or 0 for r in batches),
            "rows_collapsed": sum(r["rows_collapsed"] or 0 for r in batches),
            "failure_rate": rate, "previous_failure_rate": previous_rate,
            "freshness": fresh.status if fresh else None,
            "due_date": fresh.due_date if fresh else None,
            "period_start": fresh.period_start if fresh else None,
            "next_due": fresh.next_due if fresh else None,
            "days_overdue": fresh.days_overdue if fresh else None,
        })
    return out


def path():
    return settings.paths().ops / "deliveries"


def _snapshot_schema():
    import pyarrow as pa

    ts, n = pa.timestamp("us", tz="UTC"), pa.int64()
    return pa.schema([
        ("feed", pa.string()), ("feed_label", pa.string()), ("district_code", pa.string()),
        ("district_name", pa.string()), ("batches", n), ("loaded", n), ("rejected", n), ("last_delivery", ts),
        ("last_loaded", ts), ("rows_received", n), ("rows_accepted", n), ("rows_quarantined", n),
        ("rows_collapsed", n), ("failure_rate", pa.float64()), ("previous_failure_rate", pa.float64()),
        ("freshness", pa.string()), ("due_date", pa.date32()), ("period_start", pa.date32()),
        ("next_due", pa.date32()), ("days_overdue", n), ("checked_at", ts),
    ])


def record_snapshot(rows: list[dict]) -> None:
    """The figures of `deliveries()` as the Delta table ops/deliveries, replaced whole (one commit), so the
    数据运行监测 dashboard publishes the very figures `edulake status` prints, as of `checked_at`."""
    import pyarrow as pa
    from deltalake import write_deltalake

    checked_at = dt.datetime.now(dt.UTC)
    schema = _snapshot_schema()
    data = pa.Table.from_pylist([{**r, "checked_at": checked_at} for r in rows], schema)
    tables.ensure(path(), schema)
    tables.with_retry(lambda: write_deltalake(str(path()), data, mode="overwrite"))

"""Alerts (ops/alerts, Delta): an overdue feed or district, or a rule whose failure rate jumped against the
previous batch of the same file series. Thresholds: schemas/standard.yaml `monitoring`; calendars: each feed's
`delivery`.

An alert's id is derived from what it is about (kind, feed, table, district, batch, rule, due date), so
evaluating again finds the same alert: it is upserted (last_seen_at moves), never duplicated, and `record`
tells which alerts are new — the ingest DAG's final task fails on those only, so an alert is raised once,
not on every later run. Written with delta-rs (tables.merge): no JVM in a task or a callback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from edulake import settings, standard
from edulake.lake import ops_quality, tables
from edulake.monitoring import calendar, deliveries

OVERDUE, QUALITY_JUMP = "overdue", "quality_jump"
KIND_LABELS = {OVERDUE: "逾期未报送", QUALITY_JUMP: "质量失败率突增"}


def _schema():
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema([
        pa.field("alert_id", pa.string(), nullable=False), ("kind", pa.string()), ("feed", pa.string()),
        ("table", pa.string()), ("district_code", pa.string()), ("batch_id", pa.string()),
        ("previous_batch_id", pa.string()), ("source_file", pa.string()), ("rule", pa.string()),
        ("column", pa.string()), ("observed", pa.float64()), ("previous", pa.float64()),
        ("threshold", pa.float64()), ("failed", pa.int64()), ("due_date", pa.date32()),
        ("period_start", pa.date32()), ("message", pa.string()), ("first_seen_at", ts), ("last_seen_at", ts),
    ])


@dataclass
class Alert:
    kind: str
    feed: str
    message: str
    table: str | None = None
    district_code: str | None = None
    batch_id: str | None = None
    previous_batch_id: str | None = None
    source_file: str | None = None
    rule: str | None = None
    column: str | None = None
    observed: float | None = None
    previous: float | None = None
    threshold: float | None = None
    failed: int | None = None
    due_date: dt.date | None = None
    period_start: dt.date | None = None
    first_seen_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    last_seen_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def alert_id(self) -> str:
        key = "|".join(str(v or "") for v in (self.kind, self.feed, self.table, self.district_code, self.batch_id,
                                               self.rule, self.column, self.due_date))
        return hashlib.sha256(key.encode()).hexdigest()[:20]

    def row(self) -> dict:
        return {"alert_id": self.alert_id, **asdict(self)}


def path():
    return settings.paths().ops / "alerts"


def overdue(rows: list[dict] | None = None, as_of: dt.date | None = None, feeds: list[str] | None = None) -> list[Alert]:
    """One alert per overdue feed (its whole feed, or each district of a feed delivered per district)."""
    std = standard.load()
    out, seen = [], set()
    for d in deliveries.deliveries(as_of, rows):
        if d["freshness"] != calendar.OVERDUE or (feeds and d["feed"] not in feeds):
            continue
        feed = std.feed(d["feed"])
        district = d["district_code"] if feed.delivery.by_district else None
        if (d["feed"], district) in seen:
            continue  # a feed judged as a whole: one alert, not one per district row
        seen.add((d["feed"], district))
        who = f"{feed.label} ({feed.name})" + (f" {d['district_name']} {district}" if district else "")
        last = d["last_loaded"] if feed.delivery.by_district else _feed_last(rows, feed.name)
        out.append(Alert(
            OVERDUE, feed.name, district_code=district, due_date=d["due_date"], period_start=d["period_start"],
            observed=float(d["days_overdue"]), threshold=float(feed.delivery.grace_days),
            message=(f"{who}: 逾期未报送 (overdue) — 截止 {d['due_date']} (宽限 {feed.delivery.grace_days} 天), "
                     f"{d['period_start']} 以来没有入库批次; 最近入库 (last loaded) "
                     f"{last:%Y-%m-%d} " if last else
                     f"{who}: 逾期未报送 (overdue) — 截止 {d['due_date']} (宽限 {feed.delivery.grace_days} 天), "
                     "从未入库 (never loaded) ")
                    + f"已逾期 {d['days_overdue']} 天"))
    return out


def _feed_last(rows: list[dict] | None, feed: str):
    rows = deliveries.ledger_rows() if rows is None else rows
    return max((r["started_at"] for r in rows if r["feed"] == feed and r["status"] == "loaded"), default=None)


def quality_jumps(rows: list[dict] | None = None, feeds: list[str] | None = None) -> list[Alert]:
    """One alert per rule whose failure rate in a series' latest loaded batch exceeds jump_factor x its rate in
    the batch before (and is at least min_failure_rate over min_failed_rows rows)."""
    limits = standard.load().monitoring
    rows = deliveries.ledger_rows() if rows is None else rows
    loaded = [r for r in rows if r["status"] == "loaded" and (not feeds or r["feed"] in feeds)]
    pairs = [(latest, prev) for latest, prev in deliveries.latest_and_previous(loaded).values() if prev]
    if not pairs:
        return []
    wanted = sorted({b["batch_id"] for pair in pairs for b in pair})
    results: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for q in tables.query(ops_quality.path(), f"SELECT * FROM t WHERE {tables.in_list('batch_id', wanted)}"):
        if q["severity"] in ("error", "warn"):  # fatal rules reject the batch: check_rejections reports those
            results[q["batch_id"]][(q["rule"], q["column"], q["expectation"])] = q
    out = []
    for latest, prev in pairs:
        for key, q in results.get(latest["batch_id"], {}).items():
            before = results.get(prev["batch_id"], {}).get(key)
            rate, prev_rate = q["failure_rate"] or 0.0, (before["failure_rate"] or 0.0) if before else 0.0
            if q["failed"] < limits.min_failed_rows or rate < limits.min_failure_rate:
                continue
            if rate <= limits.jump_factor * prev_rate:
                continue
            district = latest["district_code"]
            out.append(Alert(
                QUALITY_JUMP, latest["feed"], table=latest["table"], district_code=district,
                batch_id=latest["batch_id"], previous_batch_id=prev["batch_id"], source_file=latest["source_file"],
                rule=q["rule"], column=q["column"], observed=rate, previous=prev_rate, failed=q["failed"],
                threshold=limits.jump_factor,
                message=(f"{latest['table']} {district or deliveries.CITY}: {latest['source_file']} 规则 {q['rule']}"
                         f"{' (' + q['column'] + ')' if q['column'] else ''} 失败率 {rate:.1%} ({q['failed']} 行), "
                         f"上一批次 {prev['source_file']} {prev_rate:.1%}: 超过 {limits.jump_factor:g} 倍 "
                         "(failure rate jumped)")))
    return out


def evaluate(as_of: dt.date | None = None, feeds: list[str] | None = None) -> list[Alert]:
    rows = deliveries.ledger_rows()
    return overdue(rows, as_of, feeds) + quality_jumps(rows, feeds)


def record(alerts: list[Alert]) -> list[Alert]:
    """Upsert into ops/alerts; returns the alerts not seen before (first_seen_at is kept for the others)."""
    if not alerts:
        return []
    import pyarrow as pa

    known = {r["alert_id"] for r in read()}
    unique = {a.alert_id: a for a in alerts}
    data = pa.Table.from_pylist([a.row() for a in unique.values()], _schema())
    tables.merge(path(), data, _schema(), ["alert_id"], update_set={"last_seen_at": "s.last_seen_at"})
    return [a for i, a in unique.items() if i not in known]


def read(where: str = "TRUE") -> list[dict]:
    return tables.query(path(), f"SELECT * FROM t WHERE {where} ORDER BY first_seen_at, alert_id")


def check(feeds: list[str] | None = None, as_of: dt.date | None = None) -> tuple[list[Alert], list[Alert]]:
    """Evaluate, record the alerts and the per-district figures (ops/deliveries); returns (every current alert,
    the new ones)."""
    rows = deliveries.ledger_rows()
    deliveries.record_snapshot(deliveries.deliveries(as_of, rows))
    current = overdue(rows, as_of, feeds) + quality_jumps(rows, feeds)
    return current, record(current)

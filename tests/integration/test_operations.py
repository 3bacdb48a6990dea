"""运行监测 on real lakes: `edulake status` reconciles with the ledger; an overdue district and a jump in a rule's
failure rate each raise an alert in ops/alerts, once; the ingest DAG's check_alerts task fails naming them.

Lakes: the session's generated lake (tests/conftest.py ingested_home, read only) for status; a copy of its
ledger and ops/quality for the calendar; a small lake ingested here (reference + two school years of one
district's roster, the second with half its 学校标识码 broken) for the failure-rate jump.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil

import pytest
from click.testing import CliRunner

from edulake import settings, standard
from edulake.lake import tables
from edulake.lineage import store as lineage_store
from edulake.monitoring import alerts, calendar, deliveries

TODAY = dt.datetime.now(dt.UTC).date()


def _ledger(home) -> list[dict]:
    return tables.query(settings.Paths(home).ops / "batches", "SELECT * FROM t")


# ---- edulake status ------------------------------------------------------------------------------

def test_status_reconciles_with_the_ledger(ingested_home):
    from edulake.orchestration.cli import status

    result = CliRunner().invoke(status, ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows, ledger = report["deliveries"], _ledger(ingested_home)
    for figure in ("rows_received", "rows_accepted", "rows_quarantined", "rows_collapsed"):
        assert sum(r[figure] for r in rows) == sum(b[figure] for b in ledger), figure
    assert sum(r["batches"] for r in rows) == len(ledger)
    assert sum(r["rejected"] for r in rows) == sum(b["status"] == "rejected" for b in ledger)
    # one district's figures are its own files' batches
    mine = [b for b in ledger if b["feed"] == "enrollment" and "110105" in b["source_file"]]
    [row] = [r for r in rows if r["feed"] == "enrollment" and r["district_code"] == "110105"]
    assert (row["batches"], row["rows_received"], row["rows_quarantined"]) == (
        len(mine), sum(b["rows_received"] for b in mine), sum(b["rows_quarantined"] for b in mine))
    assert row["district_name"] == "朝阳区"
    # every current district of a feed delivered per district has its row; everything arrived in this run
    current = set(deliveries.current_districts())
    for feed in standard.load().feeds.values():
        if feed.delivery.by_district:
            assert {r["district_code"] for r in rows if r["feed"] == feed.name} >= current, feed.name
    assert {r["freshness"] for r in rows} == {calendar.ON_TIME}
    assert report["alerts"] == []  # the generator's defects are rare: no rule jumps past the thresholds
    # the session's runs emitted lineage (ops/lineage): status names the newest run (whatever other tests sharing the
    # session lake left as newest, a run still starting included), and the session's ingests completed
    newest = lineage_store.query("SELECT run_id, max(event_time) AS t FROM lineage GROUP BY run_id ORDER BY t DESC "
                                 "LIMIT 1")
    assert report["lineage"]["run_id"] == newest[0]["run_id"] and report["lineage"]["job_name"]
    completed = lineage_store.query("SELECT DISTINCT job_name FROM lineage WHERE event_type = 'COMPLETE'")
    assert {r["job_name"] for r in completed} >= {f"lake.ingest.{f}" for f in standard.load().feeds}

    text = CliRunner().invoke(status, [])
    assert text.exit_code == 0, text.output
    assert "报送与质量" in text.output and "无告警" in text.output and "最近一次血缘运行 (ops/lineage): job_name=" in text.output


# ---- overdue -------------------------------------------------------------------------------------

@pytest.fixture()
def ops_copy(ingested_home, edulake_home):
    """A home holding a copy of the session lake's ledger and ops/quality (what the alerts read)."""
    for table in ("batches", "quality"):
        shutil.copytree(settings.Paths(ingested_home).ops / table, settings.Paths(edulake_home).ops / table)
    return edulake_home


def test_an_overdue_district_raises_an_alert_once(ops_copy):
    from deltalake import DeltaTable

    assert alerts.evaluate(TODAY) == []  # every feed and district delivered (today)
    # 门头沟区's facility statistics never arrive: drop its batches from the ledger copy
    DeltaTable(str(settings.paths().ops / "batches")).delete("feed = 'facility' AND source_file LIKE '%110109%'")
    [alert] = alerts.evaluate(TODAY)
    assert (alert.kind, alert.feed, alert.district_code) == (alerts.OVERDUE, "facility", "110109")
    assert "办学条件" in alert.message and "门头沟区" in alert.message and "从未入库" in alert.message
    delivery = standard.load().feed("facility").delivery
    assert alert.due_date + dt.timedelta(days=delivery.grace_days) <= TODAY
    assert [a.alert_id for a in alerts.record([alert])] == [alert.alert_id]  # new
    assert alerts.record(alerts.evaluate(TODAY)) == []  # seen before: not raised again
    [row] = alerts.read()
    assert row["kind"] == "overdue" and row["district_code"] == "110109" and row["last_seen_at"] >= row["first_seen_at"]


def test_every_feed_is_overdue_when_nothing_arrives_for_two_years(ops_copy):
    later = TODAY + dt.timedelta(days=2 * 365 + 30)
    raised = {(a.feed, a.district_code) for a in alerts.evaluate(later) if a.kind == alerts.OVERDUE}
    expected = set()
    for feed in standard.load().feeds.values():
        if feed.delivery.by_district:
            expected |= {(feed.name, d) for d in deliveries.current_districts()}
        else:
            expected.add((feed.name, None))
    assert raised == expected


def test_calendar_periods():
    delivery = standard.Delivery(due=("10-31", "03-31"), grace_days=14)
    on = calendar.freshness(delivery, dt.datetime(2026, 4, 2), dt.date(2026, 11, 20))
    assert (on.status, on.due_date, on.period_start) == ("on_time", dt.date(2026, 10, 31), dt.date(2026, 3, 31))
    late = calendar.freshness(delivery, dt.datetime(2026, 3, 1), dt.date(2026, 11, 20))
    assert (late.status, late.days_overdue) == ("overdue", 6)
    within_grace = calendar.freshness(delivery, dt.datetime(2026, 3, 1), dt.date(2026, 11, 10))
    assert (within_grace.status, within_grace.due_date) == ("on_time", dt.date(2026, 3, 31))


# ---- a jump in quality failures ------------------------------------------------------------------

DISTRICT = "110105"  # 朝阳区: the most students, so half of one roster is well above the row floor


def _break_school_ids(path, every: int = 2) -> int:
    """Every `every`-th row's 学校标识码 made invalid (not 10 digits): those rows are quarantined."""
    with path.open(encoding="gbk", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("学校标识码")
    broken = 0
    for i, row in enumerate(rows[1:]):
        if i % every == 0:
            row[column] = "BAD" + row[column][:4]
            broken += 1
    with path.open("w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    return broken


@pytest.fixture()
def jump_lake(session_home, generated_sources, edulake_home, monkeypatch):  # session_home: the pseudonym key
    """reference + 学籍名册 of one district for 2024 (as generated) and 2025 (half its school ids broken)."""
    from edulake.lake import pipeline

    monkeypatch.setenv("EDULAKE_GX", "0")  # GX is tested elsewhere; the figures here come from the lake's pass
    inbox = settings.paths().inbox
    shutil.copytree(generated_sources.out / "reference", inbox / "reference")
    (inbox / "enrollment").mkdir(parents=True)
    for year in (2024, 2025):
        name = f"学籍名册_{year}_{DISTRICT}.csv"
        shutil.copy(generated_sources.out / "enrollment" / name, inbox / "enrollment" / name)
    broken = _break_school_ids(inbox / "enrollment" / f"学籍名册_2025_{DISTRICT}.csv")
    results = pipeline.ingest_all()
    assert not [e for r in results for e in r.errors]
    return broken


def test_a_jump_in_quality_failures_raises_an_alert(jump_lake):
    from edulake.orchestration import tasks
    from edulake.orchestration.errors import OperationsAlertFailure

    with pytest.raises(OperationsAlertFailure) as failed:
        tasks.check_alerts("enrollment")  # the ingest DAG's last task
    jumps = alerts.read("kind = 'quality_jump'")
    assert jumps and {j["district_code"] for j in jumps} == {DISTRICT}
    ledger = {b["source_file"]: b for b in _ledger(settings.paths().home)}
    latest, previous = ledger[f"学籍名册_2025_{DISTRICT}.csv"], ledger[f"学籍名册_2024_{DISTRICT}.csv"]
    assert {(j["batch_id"], j["previous_batch_id"]) for j in jumps} == {(latest["batch_id"], previous["batch_id"])}
    limits = standard.load().monitoring
    school_id = [j for j in jumps if j["column"] == "学校标识码"]
    assert school_id, jumps
    for j in school_id:
        assert j["failed"] >= min(jump_lake, limits.min_failed_rows) and j["observed"] > 0.4
        assert j["observed"] > limits.jump_factor * j["previous"]
    message = str(failed.value)
    assert "enrollment" in message and f"学籍名册_2025_{DISTRICT}.csv" in message and "失败率" in message
    # the other districts never delivered a roster: overdue, raised in the same run
    assert {a["district_code"] for a in alerts.read("kind = 'overdue'")} == set(deliveries.current_districts()) - {DISTRICT}
    # and feeds judged as a whole that never delivered are overdue too (status lists them)
    assert ("exam", None) in {(a.feed, a.district_code) for a in alerts.overdue(feeds=["exam"])}
    # raised once: the next run logs them and passes
    assert tasks.check_alerts("enrollment")["new"] == 0
    # the same figures as `edulake status`, for the dashboard: ops/deliveries
    snapshot = tables.query(deliveries.path(), "SELECT * FROM t")
    assert sum(r["rows_received"] for r in snapshot) == sum(b["rows_received"] for b in ledger.values())
    assert {r["district_code"] for r in snapshot if r["feed"] == "enrollment"} == set(deliveries.current_districts())


# ---- the 数据运行监测 dashboard's figures --------------------------------------------------------

def test_the_published_ops_marts_hold_the_status_figures(built_home):
    """edulake build refreshes lake/ops/deliveries and publishes it as ops.ops_delivery_status: the figures of
    `edulake status`, row for row (the dashboard's 报送与质量 table reads that mart as it is)."""
    import duckdb

    with duckdb.connect(str(settings.Paths(built_home).warehouse), read_only=True) as con:
        published = {(r[0], r[1]): r[2:] for r in con.execute(
            "select feed, district_code, batches, rows_received, rows_quarantined, rejected, freshness "
            "from ops.ops_delivery_status").fetchall()}
        alerts_published = con.execute("select count(*) from ops.ops_alerts").fetchone()[0]
    expected = {(d["feed"], d["district_code"]): (d["batches"], d["rows_received"], d["rows_quarantined"],
                                                  d["rejected"], d["freshness"]) for d in deliveries.deliveries()}
    assert published == expected
    assert alerts_published == len(alerts.read())  # none in this lake: an empty, typed mart

"""The N applications' marts (health, inspection, enrollment, cockpit) in the published warehouse.

Runs on `built_home` (generated data ingested and built once per session); the dbt build itself
already ran every app test (reconciliation, suppression, backtest-beats-baseline, the CV worked
example as a dbt unit test). These tests check what the build cannot: that the CLI and the mart
give the same scores, and that each mart is populated and consistent with the core facts.
"""

from __future__ import annotations

import csv

import duckdb
import pytest

from edulake import settings
from edulake.fitness.cli import score_file
from edulake.fitness.scoring import item_columns

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def wh(built_home):
    con = duckdb.connect(str(settings.paths().warehouse), read_only=True)
    yield con
    con.close()


def test_every_fitness_record_is_scored(wh):
    facts = wh.execute("select count(*) from core.fct_fitness_test").fetchone()[0]
    scored, leveled = wh.execute(
        "select count(*), count(level) from health.health_fitness_scores"
    ).fetchone()
    assert facts > 0 and scored == facts
    assert leveled > 0


def test_cli_and_mart_score_alike(wh, tmp_path):
    """One implementation: the CLI scores the mart's own inputs to the same results."""
    measures = list(item_columns().values())
    cols = ["grade", "sex", "height_cm", "weight_kg", *measures]
    rows = wh.execute(
        "select f.student_key, " + ", ".join(f"f.{c}" for c in cols)
        + ", s.standard_score, s.bonus_score, s.total_score, s.level, s.bmi_category"
        " from core.fct_fitness_test f join health.health_fitness_scores s using (student_key)"
        " order by f.student_key limit 300"
    ).fetchall()
    src = tmp_path / "in.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if v is None else v for v in r[1 : 1 + len(cols)]])
    out = tmp_path / "out.csv"
    assert score_file(src, out) == len(rows)
    scored = list(csv.DictReader(out.open(encoding="utf-8")))
    for mart, cli in zip(rows, scored, strict=True):
        standard, bonus, total, level, bmi_category = mart[1 + len(cols):]
        assert cli["level"] == (level or ""), (mart[0], cli)
        assert cli["bmi_category"] == (bmi_category or "")
        assert (float(cli["total_score"]) if cli["total_score"] else None) == (
            pytest.approx(float(total)) if total is not None else None)


def test_health_summary_rolls_up_to_the_city(wh):
    city = wh.execute(
        "select school_year, tested, enrolled from health.health_fitness_summary"
        " where grouping_level = 'city' order by school_year"
    ).fetchall()
    facts = wh.execute(
        "select school_year, count(*) from core.fct_fitness_test group by 1 order by 1"
    ).fetchall()
    assert [(y, t) for y, t, _ in city if t] == facts
    rates = wh.execute(
        "select min(pass_rate), max(pass_rate), min(participation_rate) from health.health_fitness_summary"
        " where grouping_level = 'district'"
    ).fetchone()
    assert 0 <= rates[0] <= rates[1] <= 1 and rates[2] > 0


def test_rollups_keep_typed_keys_and_name_their_grouping_level(wh):
    """GROUPING SETS, no '全部' sentinel: grade stays an integer, rolled-up keys are NULL, and
    grouping_level says which set a row belongs to."""
    types = dict(wh.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'health' and table_name = 'health_fitness_summary'").fetchall())
    assert types["grade"] == "INTEGER"
    levels = dict(wh.execute(
        "select grouping_level, count(*) filter (where grade is not null or sex is not null or school_id is not null"
        " or district_code is not null) from health.health_fitness_summary group by 1").fetchall())
    assert set(levels) == {"school_grade_sex", "school", "district_grade_sex", "district_grade", "district_sex",
                           "district", "city_grade_sex", "city_grade", "city_sex", "city"}
    assert levels["city"] == 0  # the city row has every key rolled up
    sentinel = wh.execute("select count(*) from health.health_fitness_summary where district_code = '全部'"
                          " or school_id = '全部' or sex = '全部'").fetchone()[0]
    assert sentinel == 0
    # the city row is the sum of its districts, and carries the rate computed in the mart
    city, districts = wh.execute(
        "select (select sum(scored) from health.health_fitness_summary where grouping_level = 'city'),"
        " (select sum(scored) from health.health_fitness_summary where grouping_level = 'district')").fetchone()
    assert city == districts
    names = {r[0] for r in wh.execute(
        "select distinct district_name from health.health_fitness_summary where grouping_level = 'city'").fetchall()}
    assert names == {"北京市"}


def test_inspection_has_seven_indicators_and_a_verdict(wh):
    per_school = wh.execute(
        "select min(n), max(n) from (select count(*) n from inspection.inspection_school_indicators"
        " group by school_id, school_year, stage)"
    ).fetchone()
    assert per_school == (7, 7)
    verdicts = {v for (v,) in wh.execute(
        "select distinct verdict from inspection.inspection_district_evaluation").fetchall()}
    assert verdicts and verdicts <= {"达标", "未达标"}


def test_backtest_reports_method_and_baseline(wh):
    rows = wh.execute(
        "select grade, mape, naive_mape, points from enrollment.enrollment_forecast_backtest"
        " where grouping_level = 'city' order by grade"
    ).fetchall()
    assert [r[0] for r in rows] == [1, 7]
    for _grade, mape, naive, points in rows:
        assert points >= 2 and mape is not None and naive is not None
        assert mape < naive


def test_forecast_covers_five_years_and_feeds_the_place_gap(wh):
    years = wh.execute(
        "select count(distinct school_year), min(horizon), max(horizon)"
        " from enrollment.enrollment_demand_forecast where grade in (1, 7)"
    ).fetchone()
    assert years == (5, 1, 5)
    bad = wh.execute(
        "select count(*) from enrollment.enrollment_demand_forecast"
        " where not (forecast_lower <= forecast and forecast <= forecast_upper)"
    ).fetchone()[0]
    assert bad == 0
    assert wh.execute("select count(*) from enrollment.enrollment_place_gap where planned_places is not null"
                      ).fetchone()[0] > 0


def test_cockpit_city_students_match_enrollment(wh):
    (year,) = wh.execute("select max(school_year) from core.fct_enrollment").fetchone()
    published = wh.execute(
        "select value from cockpit.cockpit_kpis where grouping_level = 'city' and kpi = 'students_total'"
        " and school_year = ?", [year]
    ).fetchone()[0]
    facts = wh.execute(
        "select count(*) from core.fct_enrollment where is_enrolled and school_year = ?", [year]
    ).fetchone()[0]
    assert published == facts

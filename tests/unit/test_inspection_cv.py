"""差异系数: the worked example of balanced_development_2017.md §3, run through the macro the
inspection mart uses (rendered with plain Jinja, executed by DuckDB)."""

from __future__ import annotations

import duckdb
import jinja2
import pytest

from edulake.settings import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "apps" / "student_weighted_cv.sql"

# 生均图书册数 example: 在校生, 图书册数 per school; 全县 302 students, 1913 books
EXAMPLE = [("小学1", 45, 279), ("小学2", 37, 137), ("小学3", 89, 935), ("小学4", 76, 160), ("小学5", 55, 402)]


def run_cv(rows, group_by=("district_code",)):
    macro = jinja2.Environment().from_string(MACRO.read_text(encoding="utf-8")).module.student_weighted_cv
    con = duckdb.connect()
    con.execute("create table s(district_code varchar, school varchar, students integer, numerator double)")
    con.executemany("insert into s values (?, ?, ?, ?)", rows)
    cur = con.execute(str(macro("s", list(group_by))) + " order by 1")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_worked_example_books_per_student():
    (county,) = run_cv([("X", school, n, books) for school, n, books in EXAMPLE])
    assert county["schools"] == 5 and county["total_students"] == 302
    assert county["district_value"] == pytest.approx(1913 / 302)  # 6.33, the aggregate ratio
    assert county["weighted_sd"] == pytest.approx(3.26, abs=0.005)  # √10.65
    assert round(county["cv"], 4) == 0.5153  # the source prints 0.52
    assert round(county["cv"], 2) == 0.52


def test_per_hundred_indicator_and_groups_are_independent():
    # ×100 scales both x_i and x̄: the coefficient does not change
    rows = [("X", s, n, b * 100) for s, n, b in EXAMPLE] + [("Y", "a", 10, 5), ("Y", "b", 30, 15)]
    x, y = run_cv(rows)
    assert round(x["cv"], 4) == 0.5153
    assert y["cv"] == pytest.approx(0.0)  # equal ratios: no difference between schools


def test_schools_without_students_carry_no_weight():
    rows = [("X", s, n, b) for s, n, b in EXAMPLE] + [("X", "空校", 0, 0)]
    (county,) = run_cv(rows)
    assert county["schools"] == 5 and round(county["cv"], 4) == 0.5153

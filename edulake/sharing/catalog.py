"""The shared tables: which warehouse relations leave the commission, under which name, and how.

One definition serves the extract packages, the Delta Sharing tables and the API, so the three can never
disagree on what a district may see. Only marts and core facts with surrogate keys are listed: nothing from
the restricted zone, no name, 身份证号 or 学籍号 (the warehouse holds none; a test scans every shared byte).
Aggregates over students are small-cell suppressed with the cockpit's own threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from edulake.sharing import config

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")  # share, schema and table names: nothing else is looked up
DISTRICT = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class SharedTable:
    name: str
    relation: str
    label: str
    has_year: bool = True
    # small-cell suppression: a cell is suppressed when `suppress_when` holds ({k} = the threshold);
    # then `suppressed` columns are blanked and is_suppressed is true
    suppress_when: str | None = None
    suppressed: tuple[str, ...] = field(default=())

    @property
    def is_aggregate(self) -> bool:
        return self.suppress_when is not None


_FITNESS_COUNTS = ("enrolled", "tested", "scored", "passed", "excellent_good", "excellent", "with_bmi",
                   "overweight", "obese", "low_confidence", "participation_rate", "pass_rate",
                   "excellent_good_rate", "overweight_rate", "obesity_rate", "pass_rate_yoy",
                   "excellent_good_rate_yoy", "overweight_rate_yoy", "obesity_rate_yoy", "participation_rate_yoy")

TABLES: tuple[SharedTable, ...] = (
    SharedTable("dim_school", "core.dim_school", "学校", has_year=False),
    SharedTable("fct_enrollment", "core.fct_enrollment", "学籍事实"),
    SharedTable("fct_fitness_test", "core.fct_fitness_test", "体质测试事实"),
    SharedTable("fct_vision_screening", "core.fct_vision_screening", "视力筛查事实"),
    SharedTable("health_fitness_summary", "health.health_fitness_summary", "体质健康汇总",
                suppress_when="coalesce(enrolled, 0) < {k} or coalesce(tested, 0) < {k}",
                suppressed=_FITNESS_COUNTS),
    SharedTable("health_vision_summary", "health.health_vision_summary", "视力不良汇总",
                suppress_when="coalesce(screened, 0) < {k}",
                suppressed=("screened", "poor_vision", "wears_glasses", "poor_vision_rate", "poor_vision_rate_yoy")),
    SharedTable("inspection_school_evaluation", "inspection.inspection_school_evaluation", "学校督导评价"),
    SharedTable("inspection_district_evaluation", "inspection.inspection_district_evaluation", "区督导评价"),
    SharedTable("enrollment_place_gap", "enrollment.enrollment_place_gap", "学位缺口预测"),
    SharedTable("cockpit_kpis", "cockpit.cockpit_kpis", "驾驶舱指标"),  # suppressed by the mart itself
)
BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> SharedTable:
    if not NAME.fullmatch(name or ""):
        raise ValueError(f"malformed table name {name!r}: lower-case letters, digits and _ only")
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no shared table {name!r}; shared tables: {', '.join(BY_NAME)}") from None


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    label: str


def columns(con: duckdb.DuckDBPyConnection, t: SharedTable) -> list[Column]:
    """The relation's columns with their Chinese labels (dbt persists the docs as column comments)."""
    schema, rel = t.relation.split(".")
    rows = con.execute(
        "select column_name, data_type, coalesce(comment, '') from duckdb_columns() "
        "where schema_name = ? and table_name = ? order by column_index", [schema, rel]).fetchall()
    if not rows:
        raise LookupError(f"{t.relation} is not in the published warehouse: run `edulake build` first")
    cols = [Column(n, ty, _label(c)) for n, ty, c in rows]
    if t.is_aggregate:
        cols.append(Column("is_suppressed", "BOOLEAN", "小单元格抑制"))
    return cols


def _label(comment: str) -> str:
    """The Chinese label: the first line of the column doc ('学校标识码 (school id) …' -> as written)."""
    return comment.strip().splitlines()[0].strip() if comment.strip() else ""


def select_sql(con: duckdb.DuckDBPyConnection, t: SharedTable, districts: list[str] | None = None,
               year: int | None = None) -> tuple[str, list]:
    """SQL + parameters for the table's shared rows, suppressed, in a total order (ORDER BY ALL): the same
    rows always come out in the same order, which is what makes packages byte-identical."""
    k = config.min_cell_size()
    select = []
    for c in columns(con, t):
        if c.name == "is_suppressed" and t.is_aggregate:
            select.append(f"({t.suppress_when.format(k=k)}) as is_suppressed")
        elif c.name in t.suppressed:
            select.append(f'case when {t.suppress_when.format(k=k)} then null else "{c.name}" end as "{c.name}"')
        else:
            select.append(f'"{c.name}"')
    where, params = [], []
    if districts is not None:
        where.append(f"district_code in ({', '.join('?' for _ in districts)})")
        params += districts
    if year is not None and t.has_year:
        where.append("school_year = ?")
        params.append(year)
    sql = f"select {', '.join(select)} from {t.relation}"
    if where:
        sql += " where " + " and ".join(where)
    return sql + " order by all", params


def district_codes(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Each current district (the 16) -> its codes in the data: its own and the legacy codes merged into it
    (东城 110101 also owns 110103, 西城 110102 also 110104)."""
    rows = con.execute("select current_code, district_code from core.dim_district order by all").fetchall()
    out: dict[str, list[str]] = {}
    for current, code in rows:
        out.setdefault(current, []).append(code)
    return out


def district_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select district_code, district_name from core.dim_district where is_current").fetchall())

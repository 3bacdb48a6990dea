"""The cockpit as a compact spec: datasets on the marts, charts, dashboards. `bundle.py` renders it into
Superset's YAML export format under dashboards/bundle/ (committed; a test checks it matches this spec).

Every dataset carries `district_code`: row-level security filters on it for the district roles.
Rollup rows in the marts use '全部' for "all" (scope city/district/school), so charts pick one scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATABASE = "edulake"  # the Superset database name of the published warehouse


@dataclass(frozen=True)
class Dataset:
    key: str
    sql: str  # a virtual dataset over mart tables (adds Chinese district names, no raw identifiers)
    columns: dict[str, str]  # column -> Chinese label
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (SQL expression, label)
    numeric: tuple[str, ...] = ()  # numeric columns (the rest are text)
    temporal: tuple[str, ...] = ()  # date columns (a big number's trend axis)
    description: str = ""


def _district_join(table: str, alias: str = "t") -> str:
    return (f"select {alias}.*, coalesce(d.district_name, {alias}.district_code) as district_name_cn\n"
            f"from {table} {alias}\nleft join core.dim_district d on d.district_code = {alias}.district_code")


KPIS = Dataset(
    "cockpit_kpis",
    "select k.*, make_date(k.school_year, 9, 1) as year_start from cockpit.cockpit_kpis k",
    {"scope": "范围", "district_code": "区代码", "district_name": "区", "school_year": "学年", "kpi": "指标代码",
     "kpi_cn": "指标", "unit": "单位", "value": "数值", "is_suppressed": "小样本抑制", "year_start": "学年开始"},
    {"kpi_value": ("SUM(value)", "指标值")},
    numeric=("school_year", "value"),
    temporal=("year_start",),
    description="领导驾驶舱指标 (marts/cockpit/cockpit_kpis)",
)
FITNESS = Dataset(
    "health_fitness_summary",
    _district_join("health.health_fitness_summary"),
    {"scope": "范围", "district_code": "区代码", "district_name_cn": "区", "school_id": "学校标识码",
     "school_year": "学年", "grade": "年级", "sex": "性别", "scored": "评分人数", "tested": "测试人数",
     "enrolled": "在籍人数", "pass_rate": "及格率", "excellent_good_rate": "优良率", "obesity_rate": "肥胖率",
     "overweight_rate": "超重率", "participation_rate": "参测率", "pass_rate_yoy": "及格率同比"},
    {"pass_rate": ("SUM(passed) * 1.0 / NULLIF(SUM(scored), 0)", "及格率"),
     "excellent_good_rate": ("SUM(excellent_good) * 1.0 / NULLIF(SUM(scored), 0)", "优良率"),
     "obesity_rate": ("SUM(obese) * 1.0 / NULLIF(SUM(with_bmi), 0)", "肥胖率"),
     "overweight_rate": ("SUM(overweight) * 1.0 / NULLIF(SUM(with_bmi), 0)", "超重率"),
     "participation_rate": ("SUM(tested) * 1.0 / NULLIF(SUM(enrolled), 0)", "参测率"),
     "tested": ("SUM(tested)", "测试人数")},
    numeric=("school_year", "scored", "tested", "enrolled", "pass_rate", "excellent_good_rate", "obesity_rate",
             "overweight_rate", "participation_rate", "pass_rate_yoy"),
    description="学生体质健康汇总 (marts/health/health_fitness_summary)",
)
VISION = Dataset(
    "health_vision_summary",
    _district_join("health.health_vision_summary"),
    {"scope": "范围", "district_code": "区代码", "district_name_cn": "区", "school_id": "学校标识码",
     "school_year": "学年", "grade": "年级", "sex": "性别", "screened": "筛查人数", "myopia_rate": "近视率"},
    {"myopia_rate": ("SUM(poor_vision) * 1.0 / NULLIF(SUM(screened), 0)", "视力不良率(近视)"),
     "screened": ("SUM(screened)", "筛查人数")},
    numeric=("school_year", "screened", "myopia_rate"),
    description="视力筛查汇总 (marts/health/health_vision_summary)",
)
SCHOOL_EVAL = Dataset(
    "inspection_school_evaluation",
    _district_join("inspection.inspection_school_evaluation"),
    {"school_id": "学校标识码", "school_name": "学校", "district_code": "区代码", "district_name_cn": "区",
     "school_year": "学年", "stage": "学段", "students": "在校生数", "indicators": "指标数",
     "indicators_met": "达标指标数", "unmet_indicators": "未达标指标", "is_passing": "学校达标"},
    {"schools": ("COUNT(*)", "学校数"), "passing_share": ("AVG(CASE WHEN is_passing THEN 1.0 ELSE 0 END)", "达标学校占比")},
    numeric=("school_year", "students", "indicators", "indicators_met"),
    description="督导评价：学校 7 项资源配置指标 (marts/inspection/inspection_school_evaluation)",
)
SCHOOL_INDICATORS = Dataset(
    "inspection_school_indicators",
    _district_join("inspection.inspection_school_indicators"),
    {"school_id": "学校标识码", "district_code": "区代码", "district_name_cn": "区", "school_year": "学年",
     "stage": "学段", "indicator_cn": "指标", "threshold": "标准值", "indicator_value": "指标值",
     "is_met": "达标", "share_of_threshold": "达标程度"},
    {"indicator_value": ("AVG(indicator_value)", "指标值"), "threshold": ("MAX(threshold)", "标准值")},
    numeric=("school_year", "threshold", "indicator_value", "share_of_threshold"),
    description="督导评价：学校指标明细 (marts/inspection/inspection_school_indicators)",
)
DISTRICT_CV = Dataset(
    "inspection_district_indicator_cv",
    _district_join("inspection.inspection_district_indicator_cv"),
    {"district_code": "区代码", "district_name_cn": "区", "school_year": "学年", "stage": "学段",
     "indicator_cn": "指标", "schools": "学校数", "cv": "差异系数", "cv_max": "差异系数上限", "is_cv_met": "达标"},
    {"cv": ("MAX(cv)", "差异系数"), "cv_max": ("MAX(cv_max)", "差异系数上限")},
    numeric=("school_year", "schools", "cv", "cv_max"),
    description="督导评价：区县差异系数 (marts/inspection/inspection_district_indicator_cv)",
)
DISTRICT_EVAL = Dataset(
    "inspection_district_evaluation",
    "select * from inspection.inspection_district_evaluation",
    {"district_code": "区代码", "district_name": "区", "school_year": "学年", "stage": "学段",
     "schools": "学校数", "schools_passing": "达标学校数", "composite_cv": "综合差异系数", "cv_max": "差异系数上限",
     "verdict": "评估结论", "schools_holding_back": "未达标学校", "indicators_holding_back": "未达标指标"},
    {"composite_cv": ("MAX(composite_cv)", "综合差异系数")},
    numeric=("school_year", "schools", "schools_passing", "composite_cv", "cv_max"),
    description="督导评价：区县结论 (marts/inspection/inspection_district_evaluation)",
)
PLACE_GAP = Dataset(
    "enrollment_place_gap",
    # is_next_year: the first forecast year — gaps of different years must not be summed
    "select g.*, g.school_year = min(g.school_year) over () as is_next_year\nfrom (\n"
    + _district_join("enrollment.enrollment_place_gap") + "\n) g",
    {"district_code": "区代码", "district_name_cn": "区", "school_year": "学年", "stage": "学段",
     "demand": "需求预测", "demand_lower": "预测下限", "demand_upper": "预测上限", "planned_places": "核定学位",
     "place_gap": "学位缺口", "has_shortage": "存在缺口", "is_next_year": "下一学年"},
    {"demand": ("SUM(demand)", "需求预测"), "demand_lower": ("SUM(demand_lower)", "预测下限"),
     "demand_upper": ("SUM(demand_upper)", "预测上限"), "planned_places": ("SUM(planned_places)", "核定学位"),
     "place_gap": ("SUM(place_gap)", "学位缺口")},
    numeric=("school_year", "demand", "demand_lower", "demand_upper", "planned_places", "place_gap"),
    description="学位预测：需求与学位供给 (marts/enrollment/enrollment_place_gap)",
)
BACKTEST = Dataset(
    "enrollment_intake_backtest_points",
    _district_join("enrollment.enrollment_intake_backtest_points"),
    {"district_code": "区代码", "district_name_cn": "区", "school_year": "学年", "grade": "年级",
     "actual": "实际入学", "forecast": "预测", "naive_forecast": "基线(上年)", "ape": "绝对百分比误差",
     "naive_ape": "基线误差"},
    {"mape": ("AVG(ape)", "MAPE(方法)"), "naive_mape": ("AVG(naive_ape)", "MAPE(基线)"),
     "actual": ("SUM(actual)", "实际入学"), "forecast": ("SUM(forecast)", "预测")},
    numeric=("school_year", "grade", "actual", "forecast", "naive_forecast", "ape", "naive_ape"),
    description="学位预测回测 (marts/enrollment/enrollment_intake_backtest_points)",
)
ENROLLMENT = Dataset(
    "fct_enrollment",
    "select e.school_year, e.stage, e.grade, e.district_code, e.school_id, e.is_enrolled,\n"
    "       coalesce(d.current_name, d.district_name, e.district_code) as district_name_cn\n"
    "from core.fct_enrollment e left join core.dim_district d on d.district_code = e.district_code",
    {"school_year": "学年", "stage": "学段", "grade": "年级", "district_code": "区代码", "school_id": "学校标识码",
     "is_enrolled": "在籍", "district_name_cn": "区"},
    {"students": ("COUNT(*) FILTER (WHERE is_enrolled)", "在籍学生数"),
     "schools": ("COUNT(DISTINCT school_id)", "学校数"), "records": ("COUNT(*)", "学籍记录数")},
    numeric=("school_year", "grade"),
    description="学籍事实 (marts/core/fct_enrollment)，仅代理键，无身份信息",
)

# forecasts are of future school years: a filter on the years of record must not apply to them
FORECAST_DATASETS = {PLACE_GAP.key}

DATASETS = [KPIS, FITNESS, VISION, SCHOOL_EVAL, SCHOOL_INDICATORS, DISTRICT_CV, DISTRICT_EVAL, PLACE_GAP, BACKTEST,
            ENROLLMENT]


def _where(*clauses: str) -> list[dict]:
    return [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": c} for c in clauses]


DISTRICT_TOTALS = ("scope = 'district'", "grade = '全部'", "sex = '全部'")
CITY_TOTALS = ("scope = 'city'", "grade = '全部'", "sex = '全部'")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    viz: str
    dataset: Dataset
    params: dict
    width: int = 4
    height: int = 50


def big_number(key: str, title: str, kpi: str, fmt: str = "SMART_NUMBER") -> Chart:
    """A city headline with its trend over school years and the change against the previous year (同比)."""
    return Chart(key, title, "big_number", KPIS, {
        "x_axis": "year_start", "granularity_sqla": "year_start", "time_grain_sqla": "P1Y",
        "metric": "kpi_value", "adhoc_filters": _where("scope = 'city'", f"kpi = '{kpi}'"),
        "compare_lag": 1, "compare_suffix": "同比", "show_trend_line": True, "start_y_axis_at_zero": True,
        "y_axis_format": fmt, "header_font_size": 0.4, "subheader_font_size": 0.15, "time_range": "No filter",
    }, width=3, height=40)


def ranked_bar(key: str, title: str, dataset: Dataset, metric: str, filters: tuple[str, ...], fmt: str = "SMART_NUMBER",
               x: str = "district_name_cn", groupby: tuple[str, ...] = (), width: int = 6,
               also: tuple[str, ...] = ()) -> Chart:
    return Chart(key, title, "echarts_timeseries_bar", dataset, {
        "x_axis": x, "metrics": [metric, *also], "groupby": list(groupby), "adhoc_filters": _where(*filters),
        "orientation": "horizontal", "x_axis_sort": metric, "x_axis_sort_asc": True,
        "x_axis_sort_series": "sum", "row_limit": 1000, "y_axis_format": fmt, "show_legend": bool(groupby),
        "show_value": True, "rich_tooltip": True, "time_range": "No filter",
    }, width=width)


def trend(key: str, title: str, dataset: Dataset, metrics: list[str], filters: tuple[str, ...],
          fmt: str = "SMART_NUMBER", groupby: tuple[str, ...] = (), width: int = 6) -> Chart:
    return Chart(key, title, "echarts_timeseries_line", dataset, {
        "x_axis": "school_year", "metrics": metrics, "groupby": list(groupby), "adhoc_filters": _where(*filters),
        "row_limit": 10000, "y_axis_format": fmt, "show_legend": True, "rich_tooltip": True, "markerEnabled": True,
        "x_axis_sort_asc": True, "time_range": "No filter",
    }, width=width)


def table(key: str, title: str, dataset: Dataset, columns: list[str], filters: tuple[str, ...] = (),
          order: str | None = None, width: int = 12) -> Chart:
    return Chart(key, title, "table", dataset, {
        "query_mode": "raw", "all_columns": columns, "adhoc_filters": _where(*filters),
        "order_by_cols": [f'["{order}", false]'] if order else [], "row_limit": 1000, "server_page_length": 20,
        "table_timestamp_format": "smart_date", "time_range": "No filter",
    }, width=width, height=60)


PCT = ".1%"

COCKPIT_CHARTS = [
    big_number("kpi_students", "在校生总数", "students_total"),
    big_number("kpi_schools", "学校数", "schools"),
    big_number("kpi_pass_rate", "体测及格率", "fitness_pass_rate", PCT),
    big_number("kpi_excellent_good", "体测优良率", "fitness_excellent_good_rate", PCT),
    big_number("kpi_myopia", "视力不良率", "myopia_rate", PCT),
    big_number("kpi_obesity", "肥胖率", "obesity_rate", PCT),
    big_number("kpi_ratio", "生师比", "student_teacher_ratio", ".1f"),
    big_number("kpi_teachers", "专任教师数", "teachers"),
    ranked_bar("students_by_district", "各区在籍学生数", ENROLLMENT, "students", ("is_enrolled",)),
    ranked_bar("schools_by_district", "各区学校数", ENROLLMENT, "schools", ()),
    ranked_bar("fitness_by_district", "各区体测及格率", FITNESS, "pass_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("myopia_by_district", "各区视力不良率", VISION, "myopia_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("place_gap_by_district", "各区学位缺口（下一学年预测）", PLACE_GAP, "place_gap", ("is_next_year",),
               groupby=("stage",)),
    table("freshness", "数据新鲜度（各数据源最新学年）", KPIS, ["district_name", "kpi_cn", "value"],
          ("kpi like 'latest_year_%'",), order="district_name"),
]
HEALTH_CHARTS = [
    trend("fitness_trend", "全市体测及格率、优良率趋势", FITNESS, ["pass_rate", "excellent_good_rate"], CITY_TOTALS, PCT),
    trend("weight_trend", "全市超重率、肥胖率趋势", FITNESS, ["overweight_rate", "obesity_rate"], CITY_TOTALS, PCT),
    ranked_bar("excellent_good_by_district", "各区体测优良率", FITNESS, "excellent_good_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("participation_by_district", "各区体测参测率", FITNESS, "participation_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("pass_by_grade", "分年级体测及格率", FITNESS, "pass_rate",
               ("scope = 'city'", "grade <> '全部'", "sex = '全部'"), PCT, x="grade"),
    trend("myopia_trend", "视力不良率趋势（分区）", VISION, ["myopia_rate"], DISTRICT_TOTALS, PCT,
          groupby=("district_name_cn",), width=12),
]
INSPECTION_CHARTS = [
    table("district_verdict", "区县优质均衡评估结论", DISTRICT_EVAL,
          ["district_name", "school_year", "stage", "schools", "schools_passing", "composite_cv", "cv_max", "verdict",
           "indicators_holding_back"], order="school_year"),
    ranked_bar("cv_by_district", "各区各指标差异系数（对照 0.50/0.45）", DISTRICT_CV, "cv", (),
               groupby=("indicator_cn",), width=12),
    table("school_indicators", "学校指标达标情况", SCHOOL_EVAL,
          ["district_name_cn", "school_name", "school_year", "stage", "students", "indicators_met", "is_passing",
           "unmet_indicators"], order="school_year"),
]
FORECAST_CHARTS = [
    trend("demand_vs_places", "学位需求预测（区间）与核定学位", PLACE_GAP,
          ["demand", "demand_lower", "demand_upper", "planned_places"], (), groupby=("stage",), width=12),
    ranked_bar("gap_by_district", "各区学位缺口（下一学年）", PLACE_GAP, "place_gap", ("is_next_year",),
               groupby=("stage",)),
    ranked_bar("backtest_mape", "回测误差 MAPE：方法 vs 基线（上年）", BACKTEST, "mape", (), PCT, also=("naive_mape",)),
    trend("backtest_actual_vs_forecast", "回测：实际入学 vs 预测", BACKTEST, ["actual", "forecast"], (), width=12),
]
OPS_CHARTS = [
    table("freshness_feeds", "各数据源最新学年（按区）", KPIS, ["district_name", "kpi_cn", "value", "school_year"],
          ("kpi like 'latest_year_%'",), order="district_name"),
    trend("enrollment_volume", "学籍记录量（按学年）", ENROLLMENT, ["records"], (), groupby=("stage",)),
    trend("fitness_volume", "体测测试人数（按学年）", FITNESS, ["tested"], CITY_TOTALS),
    ranked_bar("vision_submissions", "各区视力筛查人数", VISION, "screened", DISTRICT_TOTALS),
]


@dataclass(frozen=True)
class Filter:
    name: str
    column: str
    dataset: Dataset


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    charts: list[Chart]
    filters: list[Filter]


YEAR = Filter("学年", "school_year", ENROLLMENT)
DISTRICT = Filter("区", "district_name_cn", ENROLLMENT)
STAGE = Filter("学段", "stage", ENROLLMENT)

DASHBOARDS = [
    Dashboard("cockpit", "领导驾驶舱", COCKPIT_CHARTS, [YEAR, DISTRICT, STAGE]),
    Dashboard("health", "学生体质健康", HEALTH_CHARTS, [Filter("学年", "school_year", FITNESS),
                                                     Filter("区", "district_name_cn", FITNESS)]),
    Dashboard("inspection", "督导评价", INSPECTION_CHARTS, [Filter("学年", "school_year", SCHOOL_EVAL),
                                                      Filter("区", "district_name_cn", SCHOOL_EVAL),
                                                      Filter("学段", "stage", SCHOOL_EVAL)]),
    Dashboard("forecast", "学位预测", FORECAST_CHARTS, [Filter("区", "district_name_cn", PLACE_GAP),
                                                    Filter("学段", "stage", PLACE_GAP)]),
    Dashboard("operations", "数据运行监测", OPS_CHARTS, [Filter("学年", "school_year", ENROLLMENT)]),
]

"""The cockpit as a compact spec: datasets on the marts, charts, dashboards. `bundle.py` renders it into
Superset's YAML export format under dashboards/bundle/ (committed; a test checks it matches this spec).

Datasets read the marts as they are: every rate and district name is a column of its mart (defined
once, in dbt), never re-derived here. A rate metric is MAX(<rate column>) over the one mart row each
chart's filters leave per group: rolled-up rows are picked by `grouping_level` (GROUPING SETS in the
marts; rolled-up key columns are NULL) and the dashboards' year filter picks one school year.
Every dataset carries `district_code`: row-level security filters on it for the district roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATABASE = "edulake"  # the Superset database name of the published warehouse


@dataclass(frozen=True)
class Dataset:
    key: str
    sql: str  # a virtual dataset over one mart table (no joins, no arithmetic: the mart has the columns)
    columns: dict[str, str]  # column -> Chinese label
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (SQL expression, label)
    numeric: tuple[str, ...] = ()  # numeric columns (the rest are text)
    temporal: tuple[str, ...] = ()  # date columns (a big number's trend axis)
    description: str = ""


def _mart(table: str) -> str:
    return f"select * from {table}"


def _one_row(column: str, label: str) -> tuple[str, str]:
    """A metric that reads a mart's own figure: the chart's filters leave one row per group."""
    return (f"MAX({column})", label)


KPIS = Dataset(
    "cockpit_kpis",
    "select k.*, make_date(k.school_year, 9, 1) as year_start from cockpit.cockpit_kpis k",
    {"grouping_level": "汇总层级", "district_code": "区代码", "district_name": "区", "school_year": "学年",
     "kpi": "指标代码", "kpi_cn": "指标", "unit": "单位", "value": "数值", "is_suppressed": "小样本抑制",
     "year_start": "学年开始"},
    {"kpi_value": ("SUM(value)", "指标值")},
    numeric=("school_year", "value"),
    temporal=("year_start",),
    description="领导驾驶舱指标 (marts/cockpit/cockpit_kpis)",
)
FITNESS = Dataset(
    "health_fitness_summary",
    _mart("health.health_fitness_summary"),
    {"grouping_level": "汇总层级", "district_code": "区代码", "district_name": "区", "school_id": "学校标识码",
     "school_year": "学年", "grade": "年级", "sex": "性别", "scored": "评分人数", "tested": "测试人数",
     "enrolled": "在籍人数", "pass_rate": "及格率", "excellent_good_rate": "优良率", "obesity_rate": "肥胖率",
     "overweight_rate": "超重率", "participation_rate": "参测率", "pass_rate_yoy": "及格率同比"},
    {"pass_rate": _one_row("pass_rate", "及格率"),
     "excellent_good_rate": _one_row("excellent_good_rate", "优良率"),
     "obesity_rate": _one_row("obesity_rate", "肥胖率"),
     "overweight_rate": _one_row("overweight_rate", "超重率"),
     "participation_rate": _one_row("participation_rate", "参测率"),
     "tested": ("SUM(tested)", "测试人数")},
    numeric=("school_year", "grade", "scored", "tested", "enrolled", "pass_rate", "excellent_good_rate",
             "obesity_rate", "overweight_rate", "participation_rate", "pass_rate_yoy"),
    description="学生体质健康汇总 (marts/health/health_fitness_summary)",
)
VISION = Dataset(
    "health_vision_summary",
    _mart("health.health_vision_summary"),
    {"grouping_level": "汇总层级", "district_code": "区代码", "district_name": "区", "school_id": "学校标识码",
     "school_year": "学年", "grade": "年级", "sex": "性别", "screened": "筛查人数",
     "poor_vision_rate": "视力不良率"},
    {"poor_vision_rate": _one_row("poor_vision_rate", "视力不良率"),
     "screened": ("SUM(screened)", "筛查人数")},
    numeric=("school_year", "grade", "screened", "poor_vision_rate"),
    description="视力筛查汇总：视力不良 (marts/health/health_vision_summary)",
)
SCHOOL_EVAL = Dataset(
    "inspection_school_evaluation",
    _mart("inspection.inspection_school_evaluation"),
    {"school_id": "学校标识码", "school_name": "学校", "district_code": "区代码", "district_name": "区",
     "school_year": "学年", "stage": "学段", "students": "在校生数", "indicators": "指标数",
     "indicators_met": "达标指标数", "unmet_indicators": "未达标指标", "is_passing": "学校达标"},
    {"schools": ("COUNT(*)", "学校数")},
    numeric=("school_year", "students", "indicators", "indicators_met"),
    description="督导评价：学校 7 项资源配置指标 (marts/inspection/inspection_school_evaluation)",
)
SCHOOL_INDICATORS = Dataset(
    "inspection_school_indicators",
    _mart("inspection.inspection_school_indicators"),
    {"school_id": "学校标识码", "district_code": "区代码", "district_name": "区", "school_year": "学年",
     "stage": "学段", "indicator_cn": "指标", "threshold": "标准值", "indicator_value": "指标值",
     "is_met": "达标", "share_of_threshold": "达标程度"},
    {"indicator_value": _one_row("indicator_value", "指标值"), "threshold": _one_row("threshold", "标准值")},
    numeric=("school_year", "threshold", "indicator_value", "share_of_threshold"),
    description="督导评价：学校指标明细 (marts/inspection/inspection_school_indicators)",
)
DISTRICT_CV = Dataset(
    "inspection_district_indicator_cv",
    _mart("inspection.inspection_district_indicator_cv"),
    {"district_code": "区代码", "district_name": "区", "school_year": "学年", "stage": "学段",
     "indicator_cn": "指标", "schools": "学校数", "cv": "差异系数", "cv_max": "差异系数上限", "is_cv_met": "达标"},
    {"cv": _one_row("cv", "差异系数"), "cv_max": _one_row("cv_max", "差异系数上限")},
    numeric=("school_year", "schools", "cv", "cv_max"),
    description="督导评价：区县差异系数 (marts/inspection/inspection_district_indicator_cv)",
)
DISTRICT_EVAL = Dataset(
    "inspection_district_evaluation",
    _mart("inspection.inspection_district_evaluation"),
    {"district_code": "区代码", "district_name": "区", "school_year": "学年", "stage": "学段",
     "schools": "学校数", "schools_passing": "达标学校数", "composite_cv": "综合差异系数", "cv_max": "差异系数上限",
     "verdict": "评估结论", "schools_holding_back": "未达标学校", "indicators_holding_back": "未达标指标"},
    {"composite_cv": _one_row("composite_cv", "综合差异系数")},
    numeric=("school_year", "schools", "schools_passing", "composite_cv", "cv_max"),
    description="督导评价：区县结论 (marts/inspection/inspection_district_evaluation)",
)
PLACE_GAP = Dataset(
    "enrollment_place_gap",
    _mart("enrollment.enrollment_place_gap"),
    {"district_code": "区代码", "district_name": "区", "school_year": "学年", "stage": "学段",
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
    _mart("enrollment.enrollment_intake_backtest_points"),
    {"district_code": "区代码", "district_name": "区", "school_year": "学年", "grade": "年级",
     "actual": "实际入学", "forecast": "预测", "naive_forecast": "基线(上年)", "ape": "绝对百分比误差",
     "naive_ape": "基线误差"},
    {"actual": ("SUM(actual)", "实际入学"), "forecast": ("SUM(forecast)", "预测")},
    numeric=("school_year", "grade", "actual", "forecast", "naive_forecast", "ape", "naive_ape"),
    description="学位预测回测明细 (marts/enrollment/enrollment_intake_backtest_points)",
)
BACKTEST_ERRORS = Dataset(
    "enrollment_forecast_backtest",
    _mart("enrollment.enrollment_forecast_backtest"),
    {"grouping_level": "汇总层级", "district_code": "区代码", "district_name": "区", "grade": "年级",
     "years": "回测学年数", "mape": "MAPE(方法)", "naive_mape": "MAPE(基线)", "wape": "WAPE(方法)",
     "naive_wape": "WAPE(基线)"},
    {"mape": _one_row("mape", "MAPE(方法)"), "naive_mape": _one_row("naive_mape", "MAPE(基线)")},
    numeric=("grade", "years", "mape", "naive_mape", "wape", "naive_wape"),
    description="学位预测回测误差 (marts/enrollment/enrollment_forecast_backtest)",
)
ENROLLMENT = Dataset(
    "cockpit_enrollment",
    _mart("cockpit.cockpit_enrollment"),
    {"school_year": "学年", "stage": "学段", "grade": "年级", "district_code": "区代码", "district_name": "区",
     "school_id": "学校标识码", "students": "在籍学生数", "records": "学籍记录数"},
    {"students": ("SUM(students)", "在籍学生数"), "schools": ("COUNT(DISTINCT school_id)", "学校数"),
     "records": ("SUM(records)", "学籍记录数")},
    numeric=("school_year", "grade", "students", "records"),
    description="学籍人数 (marts/cockpit/cockpit_enrollment)，每校每年级一行，无个人信息",
)
FRESHNESS = Dataset(
    "cockpit_source_freshness",
    _mart("cockpit.cockpit_source_freshness"),
    {"source_table": "数据表", "source_table_cn": "数据源", "last_loaded_at": "最近入湖时间", "row_count": "行数",
     "age_days": "距今天数", "warn_after_days": "预警阈值(天)", "error_after_days": "过期阈值(天)",
     "freshness_status": "新鲜度", "district_code": "区代码"},
    {"age_days": _one_row("age_days", "距今天数")},
    numeric=("row_count", "age_days", "warn_after_days", "error_after_days"),
    description="数据新鲜度 (marts/cockpit/cockpit_source_freshness；与 dbt source freshness 同一口径)",
)

LINEAGE_RUNS = Dataset(
    "ops_lineage_runs",
    _mart("ops.ops_lineage_runs"),
    {"job_name": "作业", "job_kind_cn": "作业类别", "integration": "组件", "state_cn": "状态",
     "started_at": "开始时间", "last_event_at": "最近事件时间", "seconds": "耗时(秒)", "input_count": "输入数据集数",
     "output_count": "输出数据集数", "rows_in": "读入行数", "rows_out": "写出行数", "outputs": "输出数据集",
     "error": "失败原因", "run_id": "运行 id", "district_code": "区代码"},
    {"runs": ("COUNT(*)", "运行数"), "rows_in": ("SUM(rows_in)", "读入行数"), "rows_out": ("SUM(rows_out)", "写出行数")},
    numeric=("seconds", "input_count", "output_count", "rows_in", "rows_out"),
    description="血缘：作业运行 (marts/ops/ops_lineage_runs，来自 lake/ops/lineage 的 OpenLineage 事件)",
)
LINEAGE_DATASETS = Dataset(
    "ops_lineage_datasets",
    _mart("ops.ops_lineage_datasets"),
    {"dataset_name": "数据集", "dataset_namespace": "命名空间", "layer_cn": "层", "last_writer": "最近写入作业",
     "last_written_at": "最近写入时间", "rows_written": "写入行数", "last_reader": "最近读取作业",
     "last_read_at": "最近读取时间", "rows_read": "读取行数", "district_code": "区代码"},
    {"datasets": ("COUNT(*)", "数据集数")},
    numeric=("rows_written", "rows_read"),
    description="血缘：数据集最近读写 (marts/ops/ops_lineage_datasets)",
)
DELIVERY_STATUS = Dataset(
    "ops_delivery_status",
    _mart("ops.ops_delivery_status"),
    {"feed": "数据源代码", "feed_label": "数据源", "district_code": "区代码", "district_name": "区",
     "batches": "批次", "loaded": "入库批次", "rejected": "拒收批次", "last_delivery": "最近报送",
     "rows_received": "接收行数", "rows_accepted": "入库行数", "rows_quarantined": "隔离行数",
     "failure_rate": "失败率（本批）", "previous_failure_rate": "失败率（上一批）", "freshness_cn": "时效",
     "due_date": "报送截止", "next_due": "下次截止", "days_overdue": "逾期天数", "checked_at": "检查时间"},
    {"rows_received": ("SUM(rows_received)", "接收行数"), "rows_quarantined": ("SUM(rows_quarantined)", "隔离行数"),
     "days_overdue": _one_row("days_overdue", "逾期天数")},
    numeric=("batches", "loaded", "rejected", "rows_received", "rows_accepted", "rows_quarantined", "failure_rate",
             "previous_failure_rate", "days_overdue"),
    description="报送与质量 (marts/ops/ops_delivery_status；与 edulake status 同一口径)",
)
ALERTS = Dataset(
    "ops_alerts",
    _mart("ops.ops_alerts"),
    {"alert_id": "告警 id", "kind_cn": "告警类型", "feed": "数据源", "table_name": "表", "district_code": "区代码",
     "source_file": "文件", "rule_name": "规则", "column_name": "列", "observed_value": "观测值",
     "previous_value": "上一批次", "message": "说明", "first_seen_at": "首次发现", "last_seen_at": "最近发现"},
    {"alerts": ("COUNT(*)", "告警数")},
    numeric=("observed_value", "previous_value"),
    description="运行告警：逾期未报送、质量失败率突增 (marts/ops/ops_alerts)",
)

# forecasts are of future school years: a filter on the years of record must not apply to them
FORECAST_DATASETS = {PLACE_GAP.key, BACKTEST_ERRORS.key}

DATASETS = [KPIS, FITNESS, VISION, SCHOOL_EVAL, SCHOOL_INDICATORS, DISTRICT_CV, DISTRICT_EVAL, PLACE_GAP, BACKTEST,
            BACKTEST_ERRORS, ENROLLMENT, FRESHNESS, LINEAGE_RUNS, LINEAGE_DATASETS, DELIVERY_STATUS, ALERTS]


def _where(*clauses: str) -> list[dict]:
    return [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": c} for c in clauses]


DISTRICT_TOTALS = ("grouping_level = 'district'",)  # per district, all grades and both sexes
CITY_TOTALS = ("grouping_level = 'city'",)


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
        "metric": "kpi_value", "adhoc_filters": _where("grouping_level = 'city'", f"kpi = '{kpi}'"),
        "compare_lag": 1, "compare_suffix": "同比", "show_trend_line": True, "start_y_axis_at_zero": True,
        "y_axis_format": fmt, "header_font_size": 0.4, "subheader_font_size": 0.15, "time_range": "No filter",
    }, width=3, height=40)


def ranked_bar(key: str, title: str, dataset: Dataset, metric: str, filters: tuple[str, ...], fmt: str = "SMART_NUMBER",
               x: str = "district_name", groupby: tuple[str, ...] = (), width: int = 6,
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
    big_number("kpi_poor_vision", "视力不良率", "poor_vision_rate", PCT),
    big_number("kpi_obesity", "肥胖率", "obesity_rate", PCT),
    big_number("kpi_ratio", "生师比", "student_teacher_ratio", ".1f"),
    big_number("kpi_teachers", "专任教师数", "teachers"),
    ranked_bar("students_by_district", "各区在籍学生数", ENROLLMENT, "students", ()),
    ranked_bar("schools_by_district", "各区学校数", ENROLLMENT, "schools", ()),
    ranked_bar("fitness_by_district", "各区体测及格率", FITNESS, "pass_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("poor_vision_by_district", "各区视力不良率", VISION, "poor_vision_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("place_gap_by_district", "各区学位缺口（下一学年预测）", PLACE_GAP, "place_gap", ("is_next_year",),
               groupby=("stage",)),
    table("freshness", "数据新鲜度（各数据源最近入湖）", FRESHNESS,
          ["source_table_cn", "last_loaded_at", "age_days", "freshness_status"], order="age_days"),
]
HEALTH_CHARTS = [
    trend("fitness_trend", "全市体测及格率、优良率趋势", FITNESS, ["pass_rate", "excellent_good_rate"], CITY_TOTALS, PCT),
    trend("weight_trend", "全市超重率、肥胖率趋势", FITNESS, ["overweight_rate", "obesity_rate"], CITY_TOTALS, PCT),
    ranked_bar("excellent_good_by_district", "各区体测优良率", FITNESS, "excellent_good_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("participation_by_district", "各区体测参测率", FITNESS, "participation_rate", DISTRICT_TOTALS, PCT),
    ranked_bar("pass_by_grade", "分年级体测及格率", FITNESS, "pass_rate",
               ("grouping_level = 'city_grade'",), PCT, x="grade"),
    trend("poor_vision_trend", "视力不良率趋势（分区）", VISION, ["poor_vision_rate"], DISTRICT_TOTALS, PCT,
          groupby=("district_name",), width=12),
]
INSPECTION_CHARTS = [
    table("district_verdict", "区县优质均衡评估结论", DISTRICT_EVAL,
          ["district_name", "school_year", "stage", "schools", "schools_passing", "composite_cv", "cv_max", "verdict",
           "indicators_holding_back"], order="school_year"),
    ranked_bar("cv_by_district", "各区各指标差异系数（对照 0.50/0.45）", DISTRICT_CV, "cv", (),
               groupby=("indicator_cn",), width=12),
    table("school_indicators", "学校指标达标情况", SCHOOL_EVAL,
          ["district_name", "school_name", "school_year", "stage", "students", "indicators_met", "is_passing",
           "unmet_indicators"], order="school_year"),
]
FORECAST_CHARTS = [
    trend("demand_vs_places", "学位需求预测（区间）与核定学位", PLACE_GAP,
          ["demand", "demand_lower", "demand_upper", "planned_places"], (), groupby=("stage",), width=12),
    ranked_bar("gap_by_district", "各区学位缺口（下一学年）", PLACE_GAP, "place_gap", ("is_next_year",),
               groupby=("stage",)),
    ranked_bar("backtest_mape", "回测误差 MAPE：方法 vs 基线（上年），分年级", BACKTEST_ERRORS, "mape",
               ("grouping_level = 'district'",), PCT, groupby=("grade",), also=("naive_mape",)),
    trend("backtest_actual_vs_forecast", "回测：实际入学 vs 预测", BACKTEST, ["actual", "forecast"], (), width=12),
]
OPS_CHARTS = [
    # the figures of `edulake status` (edulake.monitoring): per feed and district, and the alerts
    table("delivery_status", "报送与质量：各数据源、各区（时效按报送日历，失败率对比上一批次）", DELIVERY_STATUS,
          ["feed_label", "district_name", "last_delivery", "batches", "rows_received", "rows_quarantined", "rejected",
           "failure_rate", "previous_failure_rate", "freshness_cn", "due_date", "days_overdue"], order="days_overdue"),
    table("operations_alerts", "运行告警：逾期未报送、质量失败率突增", ALERTS,
          ["kind_cn", "feed", "district_code", "source_file", "rule_name", "observed_value", "previous_value",
           "message", "first_seen_at", "last_seen_at"], order="last_seen_at"),
    table("freshness_feeds", "各数据源最新学年（按区）", KPIS, ["district_name", "kpi_cn", "value", "school_year"],
          ("kpi like 'latest_year_%'",), order="district_name"),
    table("source_freshness", "数据新鲜度（dbt source freshness 口径）", FRESHNESS,
          ["source_table_cn", "source_table", "last_loaded_at", "row_count", "age_days", "warn_after_days",
           "error_after_days", "freshness_status"], order="age_days"),
    trend("enrollment_volume", "学籍记录量（按学年）", ENROLLMENT, ["records"], (), groupby=("stage",)),
    trend("fitness_volume", "体测测试人数（按学年）", FITNESS, ["tested"], CITY_TOTALS),
    ranked_bar("vision_submissions", "各区视力筛查人数", VISION, "screened", DISTRICT_TOTALS),
    # lineage (OpenLineage, lake/ops/lineage): jobs and datasets, last run, rows in and out
    table("lineage_jobs", "数据血缘：作业最近运行（入湖、数仓构建、看板）", LINEAGE_RUNS,
          ["job_kind_cn", "job_name", "state_cn", "last_event_at", "seconds", "rows_in", "rows_out", "outputs", "error"],
          ("job_name not like '%.build.test'",), order="last_event_at"),
    table("lineage_datasets", "数据血缘：数据集最近读写", LINEAGE_DATASETS,
          ["layer_cn", "dataset_name", "last_writer", "last_written_at", "rows_written", "last_reader", "last_read_at",
           "rows_read"], ("layer_cn <> '落地文件'",), order="last_written_at"),
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
DISTRICT = Filter("区", "district_name", ENROLLMENT)
STAGE = Filter("学段", "stage", ENROLLMENT)

DASHBOARDS = [
    Dashboard("cockpit", "领导驾驶舱", COCKPIT_CHARTS, [YEAR, DISTRICT, STAGE]),
    Dashboard("health", "学生体质健康", HEALTH_CHARTS, [Filter("学年", "school_year", FITNESS),
                                                     Filter("区", "district_name", FITNESS)]),
    Dashboard("inspection", "督导评价", INSPECTION_CHARTS, [Filter("学年", "school_year", SCHOOL_EVAL),
                                                      Filter("区", "district_name", SCHOOL_EVAL),
                                                      Filter("学段", "stage", SCHOOL_EVAL)]),
    Dashboard("forecast", "学位预测", FORECAST_CHARTS, [Filter("区", "district_name", PLACE_GAP),
                                                    Filter("学段", "stage", PLACE_GAP)]),
    Dashboard("operations", "数据运行监测", OPS_CHARTS, [Filter("学年", "school_year", ENROLLMENT)]),
]

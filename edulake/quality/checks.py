"""Every row-level check the standard implies for a table, derived from schemas/ via edulake.standard: a pure
compiler (no I/O). What a rule needs from the lake (the school register, the roster) is a lookup column the lake joins on.

A Check is one rule on one column: `expected` is its SQL (conditions.py; what both engines evaluate in one pass
to route rows), and it is one UnexpectedRowsExpectation in its table's GX suite (suites.py), whose query selects
the rows where `unexpected()` holds; `expectation` and `kwargs` name the check and its parameters (kept in
the expectation's meta). The parse checks (`type`, `row_shape`: what only a reader can know) are Checks too.

Columns of the validation relation (edulake.quality.stage): `<field>` typed value, `__text_<field>` folded
text, `_shape_error`, lineage; a reason (quarantine only) also reads `_raw` (source header -> raw text).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from edulake import settings
from edulake.quality import conditions as C
from edulake.quality import normalise
from edulake.quality.sql import concat, lit, ok
from edulake.standard import Field, Standard, Table


def text(name: str) -> str:
    """Folded-text column of a field (typed values are under the field's name)."""
    return f"__text_{name}"


@dataclass(frozen=True)
class Check:
    rule: str
    severity: str
    column: str | None  # source header the failure names (quarantine's `column`)
    value_field: str | None  # field whose raw value the reason quotes
    expectation: str  # GX expectation type
    kwargs: dict
    expected: str = field(compare=False, repr=False)  # SQL: TRUE = row satisfies the check
    message: str = ""

    def unexpected(self) -> str:
        """SQL: TRUE exactly when the row fails the check (never NULL)."""
        return f"COALESCE(NOT ({self.expected}), FALSE)"


def _bound(f: Field, value):
    if value is None:
        return None
    return str(value) if f.type == "date" else float(value) if f.type in ("decimal", "duration") else int(value)


def field_checks(table: Table, std: Standard) -> list[Check]:
    out = []
    for f in table.fields:
        t, v = text(f.name), f.name
        if f.required:
            out.append(Check("required", "error", f.column, None, "expect_column_values_to_not_be_null",
                             {"column": t}, f"{t} IS NOT NULL", "必填项为空 (required value missing)"))
        if f.type == "code":
            out.append(Check("codes", "error", f.column, f.name, "expect_column_values_to_be_in_code_list",
                             {"column": t, "code_list": f.codes, "code_key": f.code_key},
                             f"{t} IS NULL OR {v} IS NOT NULL",  # v: the text mapped by normalise.map_code
                             f"不在代码表 {f.codes} 中 (not in code list {f.codes}, by {f.code_key})"))
        if f.allowed:
            allowed = list(f.allowed)
            out.append(Check("codes", "error", f.column, f.name, "expect_column_values_to_be_in_set",
                             {"column": v, "value_set": allowed}, C.in_values(v, allowed),
                             f"不是允许的取值 (allowed: {', '.join(allowed)})"))
        if f.pattern:
            out.append(Check("pattern", "error", f.column, f.name, "expect_column_values_to_match_regex",
                             {"column": t, "regex": f.pattern},
                             ok(f"regexp_matches({t}, {lit(f.pattern)})"),
                             f"格式不符合 {f.pattern} (does not match pattern)"))
        if f.min is not None or f.max is not None:
            low, high = f.min, f.max
            out.append(Check("range", "error", f.column, f.name, "expect_column_values_to_be_between",
                             {"column": v, "min_value": _bound(f, low), "max_value": _bound(f, high)},
                             _between(f, v), f"超出范围 [{low}, {high}] (out of range)"))
        if f.max_length:
            out.append(Check("max_length", "error", f.column, f.name, "expect_column_value_lengths_to_be_between",
                             {"column": t, "max_value": f.max_length},
                             ok(f"length({t}) <= {f.max_length}"),
                             f"长度超过 {f.max_length} (longer than {f.max_length} characters)"))
    return out


def _between(f: Field, value: str) -> str:
    bounds = []
    if f.min is not None:
        bounds.append(f"{value} >= {normalise.bound_literal(f, f.min)}")
    if f.max is not None:
        bounds.append(f"{value} <= {normalise.bound_literal(f, f.max)}")
    return ok(" AND ".join(bounds)) if bounds else "TRUE"


def _grade_stage(std: Standard) -> dict[str, str]:
    return {r["code"]: r["stage"] for r in std.codes("grade").rows}


def _school_categories(std: Standard) -> list[str]:
    return sorted(std.codes("school_category").codes)


FITNESS_ITEMS = {  # item names of the national standard's weights (dbt seed) -> fitness fields
    "lung": "lung_ml", "run_50m": "run_50m_s", "sit_reach": "sit_reach_cm", "rope_1min": "rope_1min",
    "sit_up_1min": "sit_up_1min", "shuttle_50x8": "shuttle_50x8_s", "standing_long_jump": "standing_long_jump_cm",
    "run_800m": "run_800m_s", "run_1000m": "run_1000m_s", "pull_up": "pull_up",
}


def tested_items() -> dict[str, list[str]]:
    """item field -> ["<grade>:<sex code>"] the 2014 national standard tests it on (from its weights seed)."""
    sex = {"M": "1", "F": "2"}
    seed = settings.REPO_ROOT / "dbt_project" / "seeds" / "health" / "health_fitness_item_weights.csv"
    tested: dict[str, set[str]] = {f: set() for f in FITNESS_ITEMS.values()}
    with seed.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["item"] in FITNESS_ITEMS and row["grade"].isdigit():
                tested[FITNESS_ITEMS[row["item"]]].add(f"{row['grade']}:{sex[row['sex']]}")
    return {k: sorted(v, key=lambda s: (int(s.split(':')[0]), s)) for k, v in tested.items()}


def table_checks(table: Table, std: Standard) -> list[Check]:
    """The standard's table rules (schemas/feeds/*.yaml `rules:`) as checks; batch-level (fatal) rules are
    in batch.py. A rule the standard names but this module does not implement raises: nothing is skipped
    silently."""
    out = []
    for rule in table.rules:
        if rule.severity == "fatal":
            continue
        made = _RULES.get(rule.name)
        if made is None:
            raise NotImplementedError(f"{table.qualified_name}: rule {rule.name!r} has no implementation")
        out.extend(made(table, std, rule))
    return out


def _id_check_digit(table, std, rule):
    sev = rule.severity
    f = table.field("id_number")
    return [Check("id_number_check_digit", sev, f.column, f.name, "expect_column_values_to_have_gb11643_check_digit",
                  {"column": text(f.name)}, C.gb11643_check_digit(text("id_number")),
                  "身份证号校验码错误 (GB 11643 check digit wrong)")]


def _id_birth(table, std, rule):
    sev = rule.severity
    f = table.field("id_number")
    return [Check("id_number_matches_birth_date", sev, f.column, f.name, "expect_id_number_to_match_birth_date",
                  {"column_list": [text("id_number"), "birth_date"], "ignore_row_if": "never"},
                  C.id_matches_birth_date(text("id_number"), "birth_date"),
                  "身份证号中的出生日期与出生日期不一致 (birth date in ID differs)")]


def _id_sex(table, std, rule):
    sev = rule.severity
    f = table.field("id_number")
    return [Check("id_number_matches_sex", sev, f.column, f.name, "expect_id_number_to_match_sex",
                  {"column_list": [text("id_number"), "sex"], "ignore_row_if": "never"},
                  C.id_matches_sex(text("id_number"), "sex"),
                  "身份证号顺序码奇偶与性别不一致 (sex in ID differs)")]


def _student_no_id(table, std, rule):
    sev = rule.severity
    f = table.field("student_no")
    return [Check("student_no_matches_id_number", sev, f.column, f.name, "expect_student_no_to_match_id_number",
                  {"column_list": [text("student_no"), text("id_number")], "ignore_row_if": "never"},
                  C.student_no_matches_id(text("student_no"), text("id_number")),
                  "学籍号不是 G + 身份证号 (student number is not G + ID number)")]


def _grade_stage_rule(table, std, rule):
    sev = rule.severity
    f, mapping = table.field("grade"), _grade_stage(std)
    return [Check("grade_matches_stage", sev, f.column, f.name, "expect_column_pair_values_to_map",
                  {"column_list": ["grade", "stage"], "mapping": mapping, "ignore_row_if": "never"},
                  C.value_maps_to("grade", "stage", mapping), "年级不属于学段 (grade not in stage)")]


def _hukou(table, std, rule):
    sev = rule.severity
    f = table.field("hukou_district")
    return [Check("hukou_district_required_for_beijing", sev, f.column, f.name, "expect_column_to_be_present_when",
                  {"column_list": ["is_non_beijing", text(f.name)], "flag_value": False, "ignore_row_if": "never"},
                  C.present_when("is_non_beijing", False, text("hukou_district")),
                  "京籍学生未填写户籍所在区 (Beijing hukou student without hukou district)")]


def _score_marks(table, std, rule):
    sev = rule.severity
    f = table.field("score")
    return [Check("score_within_full_marks", sev, f.column, f.name, "expect_column_pair_values_a_to_be_greater_than_b",
                  {"column_A": "full_marks", "column_B": "score", "or_equal": True,
                   "ignore_row_if": "either_value_is_missing"},
                  C.at_least("full_marks", "score"), "分数高于满分 (score above full marks)")]


def _absent(table, std, rule):
    sev = rule.severity
    f = table.field("score")
    return [Check("absent_has_no_score", sev, f.column, f.name, "expect_absent_to_have_no_score",
                  {"column_list": ["is_absent", text("score")], "ignore_row_if": "never"},
                  C.absent_has_no_score("is_absent", text("score")),
                  "缺考与分数不一致 (absent with a score, or present without one)")]


def _teachers(table, std, rule):
    sev = rule.severity
    out = []
    for part in ("teachers_above_required_degree", "backbone_teachers", "pe_art_teachers"):
        f = table.field(part)
        out.append(Check("teacher_counts_consistent", sev, f.column, f.name,
                         "expect_column_pair_values_a_to_be_greater_than_b",
                         {"column_A": "full_time_teachers", "column_B": part, "or_equal": True,
                          "ignore_row_if": "either_value_is_missing"},
                         C.at_least("full_time_teachers", part),
                         "超过专任教师数 (more than the full-time teachers)"))
    return out


def _school_exists(table, std, rule):
    sev = rule.severity
    f = table.field("school_id")
    return [Check("school_exists", sev, f.column, f.name, "expect_column_values_to_exist_in_reference",
                  {"column": text(f.name), "reference": "school", "key": "school_id"},
                  C.in_register(text("school_id"), C.SCHOOL_KNOWN),
                  "学校标识码不在学校名录中 (school not in the school register)")]


def _school_structure(table, std, rule):
    sev = rule.severity
    f, cats = table.field("school_id"), _school_categories(std)
    return [Check("school_id_structure", sev, f.column, f.name, "expect_column_values_to_be_school_identifier",
                  {"column": text(f.name), "categories": cats, "province": "11"},
                  C.school_id_structure(text("school_id"), cats, "11"),
                  "学校标识码结构错误 (not category + 11 + sequence)")]


def _category_type(table, std, rule):
    sev = rule.severity
    f = table.field("school_id")
    return [Check("school_category_matches_running_type", sev, f.column, f.name,
                  "expect_school_category_to_match_running_type",
                  {"column_list": [text("school_id"), "running_type"], "ignore_row_if": "never"},
                  C.category_matches_running_type(text("school_id"), "running_type"),
                  "标识码类别码与办学类型不一致 (category code differs from running type)")]


def _items(table, std, rule):
    sev = rule.severity
    tested = tested_items()
    cols = ["grade", "sex", *tested]
    return [Check("item_tested_for_grade", sev, None, None, "expect_fitness_items_tested_for_grade",
                  {"column_list": cols, "tested": tested, "ignore_row_if": "never"},
                  C.items_tested_for_grade("grade", "sex", {k: k for k in tested}, tested),
                  "有该年级、性别不测的项目成绩 (result for an item not tested at this grade and sex)")]


def plausibility_bands(params: dict) -> dict[str, dict[str, list[float]]]:
    """item field (and "bmi") -> {"<grade>:<sex code>": [low, high]}: the 2014 standard's scoring range for
    the grade and sex (60 to 100 points; BMI 低体重 to 肥胖) widened by the rule's margins (schemas/)."""
    from edulake.fitness.tables import bmi_bands, item_thresholds

    sex = {"M": "1", "F": "2"}
    best, worst = float(params["item_spans_beyond_full_marks"]), float(params["item_spans_beyond_pass"])
    out: dict[str, dict[str, list[float]]] = {}
    for (item, grade, s), (v60, _, v100) in sorted(item_thresholds().items()):
        if item not in FITNESS_ITEMS:
            continue
        span = abs(v100 - v60)
        low, high = (v60 - worst * span, v100 + best * span) if v100 > v60 else (v100 - best * span, v60 + worst * span)
        out.setdefault(FITNESS_ITEMS[item], {})[f"{grade}:{sex[s]}"] = [round(low, 2), round(high, 2)]
    below, above = float(params["bmi_below_underweight"]), float(params["bmi_above_obese"])
    for (grade, s), cats in sorted(bmi_bands().items()):
        out.setdefault("bmi", {})[f"{grade}:{sex[s]}"] = [round(cats["低体重"][1] - below, 2),
                                                           round(cats["肥胖"][0] + above, 2)]
    return out


def _plausible(table, std, rule):
    sev = rule.severity
    bands = plausibility_bands(rule.params)
    measured = [c for c in bands if c != "bmi"] + ["height_cm", "weight_kg"]
    return [Check("measurement_plausible_for_grade_sex", sev, None, None, "expect_fitness_measurements_to_be_plausible",
                  {"column_list": ["grade", "sex", *measured], "bands": bands, "ignore_row_if": "never"},
                  C.plausible_measurements("grade", "sex", {k: k for k in measured}, bands),
                  "测试值超出该年级、性别的合理范围 (measurement implausible for the grade and sex: "
                  "far beyond the 2014 standard's scoring range)")]


def _enrolled(table, std, rule):
    sev = rule.severity
    f = table.field("student_no")
    # value_field None: the reason must not quote the 学籍号 (warn reasons travel with the row)
    return [Check("student_enrolled", sev, f.column, None, "expect_student_to_be_on_roster",
                  {"column_list": [text("student_no"), C.ENROLLED], "roster": "student_enrollment",
                   "ignore_row_if": "never"},
                  C.on_roster(text("student_no"), C.ENROLLED),
                  "学生不在该学年的学籍名册中 (student not on the school year's enrollment roster)")]


_RULES = {
    "id_number_check_digit": _id_check_digit,
    "id_number_matches_birth_date": _id_birth,
    "id_number_matches_sex": _id_sex,
    "student_no_matches_id_number": _student_no_id,
    "grade_matches_stage": _grade_stage_rule,
    "hukou_district_required_for_beijing": _hukou,
    "score_within_full_marks": _score_marks,
    "absent_has_no_score": _absent,
    "teacher_counts_consistent": _teachers,
    "school_exists": _school_exists,
    "school_id_structure": _school_structure,
    "school_category_matches_running_type": _category_type,
    "item_tested_for_grade": _items,
    "measurement_plausible_for_grade_sex": _plausible,
    "student_enrolled": _enrolled,
}


_TYPE_LABELS = {"integer": "整数", "decimal": "数值", "date": "日期", "duration": "时长", "boolean": "是/否"}
ROW_SHAPE = Check("row_shape", "error", None, None, "expect_table_columns_to_match_ordered_list", {},
                  "_shape_error IS NULL", "")


def parse_checks(table: Table) -> list[Check]:
    """What only the reader knows: a value present but not readable as its type (`type`). `row_shape`
    (ROW_SHAPE: the row has another number of fields than the header) is routed apart: a row with a shape
    error is reported for its shape only, its cells being misaligned."""
    out = []
    for f in table.fields:
        if f.type in ("string", "code"):
            continue  # any text is a string; an unknown code is a `codes` failure
        out.append(Check("type", "error", f.column, f.name, "expect_column_values_to_be_parseable",
                         {"column": text(f.name)}, f"{text(f.name)} IS NULL OR {f.name} IS NOT NULL",
                         f"不是有效的{_TYPE_LABELS[f.type]} (not a valid {f.type})"))
    return out


def checks(table: Table, std: Standard, table_rules: bool = True) -> list[Check]:
    """The suite's checks: field rules, then (unless `table_rules=False`, the benchmark's rules-off pass)
    the standard's table rules."""
    return field_checks(table, std) + (table_checks(table, std) if table_rules else [])


def reason(table: Table, check: Check) -> str:
    """SQL naming the file, row, column and (at most MAX_QUOTED characters of) the bad value: what an
    engineer needs to fix the source. The whole raw row stays in quarantine's `raw` for the record."""
    parts = ["_source_file", "' 第'", "CAST(_row_number AS VARCHAR)", "'行'"]
    if check.column:
        parts.append(lit(f" 列「{check.column}」"))
    if check.value_field:
        raw = f"_raw[{lit(table.field(check.value_field).column)}]"
        parts += [lit(" 值 '"), quoted_value(raw), lit("'")]
    suffix = f" [{check.rule}]" if check.rule not in ("type",) else ""
    parts.append(lit(f": {check.message}{suffix}"))
    return concat(*parts)


MAX_QUOTED = 200  # characters of a bad value quoted in a reason; longer values are cut, their length stated


def quoted_value(raw: str) -> str:
    return (f"(CASE WHEN length({raw}) > {MAX_QUOTED} THEN substring({raw}, 1, {MAX_QUOTED}) || "
            f"'…(共 ' || CAST(length({raw}) AS VARCHAR) || ' 字符 chars)' ELSE COALESCE({raw}, '') END)")

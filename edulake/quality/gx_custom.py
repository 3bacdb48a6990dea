"""Custom Great Expectations (GX Core 1.x) for the rules of the data standard that GX has no built-in for.

Each is a proper GX custom expectation: a map metric provider whose Spark partial (SparkDFExecutionEngine)
is the SQL condition in conditions.py (transpiled by the lake's Spark engine, so the rule is written once),
and a ColumnMapExpectation / MulticolumnMapExpectation naming it.
Importing this module registers them with GX.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.execution_engine import SparkDFExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation, MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    multicolumn_condition_partial,
)
from pyspark.sql import functions as F

from edulake.quality import conditions as C

_MULTI_DOMAIN = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")


def _cols(column_list):
    return list(column_list.columns)


def _name(column) -> str:
    """The column name behind the Column GX passes to a column partial."""
    return column._jc.toString().strip("`")


def _expr(sql: str):
    """A condition of conditions.py (DuckDB dialect) as a Spark Column."""
    from edulake.lake.engines.spark import to_spark

    return F.expr(to_spark(f"SELECT {sql}")[len("SELECT "):])


# --- code lists -------------------------------------------------------------------------------
class ColumnValuesInCodeList(ColumnMapMetricProvider):
    condition_metric_name = "column_values.in_code_list"
    condition_value_keys = ("code_list", "code_key")

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column, code_list, code_key="code", **kwargs):
        from edulake import standard
        from edulake.quality import normalise

        std = standard.load()
        probe = standard.Field(name="value", label="", column="", type="code", required=False, privacy="public",
                               treatment="keep", silver_name="value", codes=code_list, code_key=code_key)
        return _expr(f"{normalise.map_code(_name(column), probe, std)} IS NOT NULL")


class ExpectColumnValuesToBeInCodeList(ColumnMapExpectation):
    """Values (folded source text) are in a code list of the standard, looked up by its code_key."""

    code_list: str
    code_key: str = "code"
    map_metric = "column_values.in_code_list"
    success_keys = ("mostly", "code_list", "code_key")
    library_metadata: ClassVar[dict] = {"tags": ["edulake"], "contributors": ["edulake"]}


# --- GB 11643 identity numbers ---------------------------------------------------------------
class ColumnValuesGb11643CheckDigit(ColumnMapMetricProvider):
    condition_metric_name = "column_values.gb11643_check_digit"

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column, **kwargs):
        return _expr(C.gb11643_check_digit(_name(column)))


class ExpectColumnValuesToHaveGb11643CheckDigit(ColumnMapExpectation):
    """身份证号 MOD 11-2 check character is right (GB 11643-1999)."""

    map_metric = "column_values.gb11643_check_digit"
    success_keys = ("mostly",)


class IdNumberMatchesBirthDate(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.id_number_matches_birth_date"
    condition_domain_keys = _MULTI_DOMAIN

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, **kwargs):
        return _expr(C.id_matches_birth_date(*_cols(column_list)))


class ExpectIdNumberToMatchBirthDate(MulticolumnMapExpectation):
    """column_list = [id number text, birth date]: the ID's YYYYMMDD equals the birth date."""

    map_metric = "multicolumn_values.id_number_matches_birth_date"
    success_keys = ("mostly",)


class IdNumberMatchesSex(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.id_number_matches_sex"
    condition_domain_keys = _MULTI_DOMAIN

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, **kwargs):
        return _expr(C.id_matches_sex(*_cols(column_list)))


class ExpectIdNumberToMatchSex(MulticolumnMapExpectation):
    """column_list = [id number text, sex code]: odd order code = 1 (male), even = 2 (female)."""

    map_metric = "multicolumn_values.id_number_matches_sex"
    success_keys = ("mostly",)


class StudentNoMatchesIdNumber(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.student_no_matches_id_number"
    condition_domain_keys = _MULTI_DOMAIN

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, **kwargs):
        return _expr(C.student_no_matches_id(*_cols(column_list)))


class ExpectStudentNoToMatchIdNumber(MulticolumnMapExpectation):
    """column_list = [学籍号 text, 身份证号 text]: a G-form 学籍号 is G + 身份证号."""

    map_metric = "multicolumn_values.student_no_matches_id_number"
    success_keys = ("mostly",)


# --- relations between fields ------------------------------------------------------------------
class ColumnPairValuesMap(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.pair_maps"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("mapping",)

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, mapping, **kwargs):
        key, target = _cols(column_list)
        return _expr(C.value_maps_to(key, target, mapping))


class ExpectColumnPairValuesToMap(MulticolumnMapExpectation):
    """column_list = [key, target]: mapping[key] == target (e.g. a grade's 学段 from the grade code list)."""

    mapping: dict
    map_metric = "multicolumn_values.pair_maps"
    success_keys = ("mostly", "mapping")


class PresentWhen(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.present_when"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("flag_value",)

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, flag_value, **kwargs):
        flag, value = _cols(column_list)
        return _expr(C.present_when(flag, flag_value, value))


class ExpectColumnToBePresentWhen(MulticolumnMapExpectation):
    """column_list = [flag, value]: value is given whenever flag == flag_value."""

    flag_value: bool
    map_metric = "multicolumn_values.present_when"
    success_keys = ("mostly", "flag_value")


class AbsentHasNoScore(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.absent_has_no_score"
    condition_domain_keys = _MULTI_DOMAIN

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, **kwargs):
        return _expr(C.absent_has_no_score(*_cols(column_list)))


class ExpectAbsentToHaveNoScore(MulticolumnMapExpectation):
    """column_list = [缺考, 分数 text]: absent rows have no score, present rows have one."""

    map_metric = "multicolumn_values.absent_has_no_score"
    success_keys = ("mostly",)


class StudentOnRoster(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.student_on_roster"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("roster",)

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, **kwargs):
        return _expr(C.on_roster(*_cols(column_list)))


class ExpectStudentToBeOnRoster(MulticolumnMapExpectation):
    """column_list = [学籍号 text, roster flag]: the student is on silver/<roster> for the record's school
    year. The flag column is joined on by the lake (edulake.quality.stage, by pseudonym token) before validation."""

    roster: str
    map_metric = "multicolumn_values.student_on_roster"
    success_keys = ("mostly", "roster")


# --- schools -----------------------------------------------------------------------------------
class ColumnValuesInReference(ColumnMapMetricProvider):
    condition_metric_name = "column_values.in_reference"
    condition_value_keys = ("reference", "key")

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column, reference, key, **kwargs):
        return _expr(C.in_register(_name(column), C.SCHOOL_KNOWN))


class ExpectColumnValuesToExistInReference(ColumnMapExpectation):
    """Referential integrity: values are keys of the reference table silver/<reference>."""

    reference: str
    key: str
    map_metric = "column_values.in_reference"
    success_keys = ("mostly", "reference", "key")


class ColumnValuesSchoolIdentifier(ColumnMapMetricProvider):
    condition_metric_name = "column_values.school_identifier"
    condition_value_keys = ("categories", "province")

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column, categories, province, **kwargs):
        return _expr(C.school_id_structure(_name(column), categories, province))


class ExpectColumnValuesToBeSchoolIdentifier(ColumnMapExpectation):
    """学校标识码 = 2-digit category (学校(机构)代码管理办法) + province code + 6-digit sequence."""

    categories: list
    province: str
    map_metric = "column_values.school_identifier"
    success_keys = ("mostly", "categories", "province")


class SchoolCategoryMatchesRunningType(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.school_category_matches_running_type"
    condition_domain_keys = _MULTI_DOMAIN

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, **kwargs):
        return _expr(C.category_matches_running_type(*_cols(column_list)))


class ExpectSchoolCategoryToMatchRunningType(MulticolumnMapExpectation):
    """column_list = [学校标识码 text, 办学类型代码]: category code = the running type's two-digit class."""

    map_metric = "multicolumn_values.school_category_matches_running_type"
    success_keys = ("mostly",)


# --- fitness -----------------------------------------------------------------------------------
class FitnessItemsTestedForGrade(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.fitness_items_tested_for_grade"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("tested",)

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, tested, **kwargs):
        grade, sex, *items = column_list.columns
        return _expr(C.items_tested_for_grade(grade, sex, {c: c for c in items}, tested))


class ExpectFitnessItemsTestedForGrade(MulticolumnMapExpectation):
    """column_list = [grade, sex, item...]: no result for an item the grade and sex are not tested on."""

    tested: dict
    map_metric = "multicolumn_values.fitness_items_tested_for_grade"
    success_keys = ("mostly", "tested")


class FitnessMeasurementsPlausible(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.fitness_measurements_plausible"
    condition_domain_keys = _MULTI_DOMAIN
    condition_value_keys = ("bands",)

    @multicolumn_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column_list, bands, **kwargs):
        grade, sex, *measured = column_list.columns
        return _expr(C.plausible_measurements(grade, sex, {c: c for c in measured}, bands))


class ExpectFitnessMeasurementsToBePlausible(MulticolumnMapExpectation):
    """column_list = [grade, sex, item..., height_cm, weight_kg]: every item and the BMI inside its band for
    the grade and sex (bands: column or "bmi" -> {"<grade>:<sex>": [low, high]})."""

    bands: dict
    map_metric = "multicolumn_values.fitness_measurements_plausible"
    success_keys = ("mostly", "bands")

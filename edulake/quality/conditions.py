"""The standard's row rules as Spark column conditions: the ONE implementation of each rule.

Each function returns the *expected* condition (True = the row satisfies the rule; NULL counts as
satisfied). The GX custom expectations (gx_custom.py) declare exactly these conditions for the
SparkDFExecutionEngine, and checks.py evaluates the same functions in one pass to find failing rows.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

ID_PATTERN = r"^\d{17}[0-9X]$"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # GB 11643: check character for (sum of weighted digits) mod 11


def _ok(condition: Column) -> Column:
    return F.coalesce(condition, F.lit(True))


def literal_map(mapping: dict) -> Column:
    return F.create_map(*[F.lit(x) for kv in sorted(mapping.items()) for x in kv])


def gb11643_check_digit(id_text: Column) -> Column:
    """MOD 11-2 check character of an 18-character ID is right (other shapes are the pattern rule's)."""
    total = sum(F.substring(id_text, i + 1, 1).cast("int") * w for i, w in enumerate(_WEIGHTS))
    expected = F.substring(F.lit(_CHECK), (total % 11 + 1).cast("int"), 1)
    return _ok(F.when(id_text.rlike(ID_PATTERN), F.substring(id_text, 18, 1) == expected))


def id_matches_birth_date(id_text: Column, birth_date: Column) -> Column:
    return _ok(F.when(id_text.rlike(ID_PATTERN),
                      F.substring(id_text, 7, 8) == F.date_format(birth_date, "yyyyMMdd")))


def id_matches_sex(id_text: Column, sex: Column, male: str = "1", female: str = "2") -> Column:
    """The 17th character (order code) is odd for men and even for women."""
    odd = F.substring(id_text, 17, 1).cast("int") % 2 == 1
    return _ok(F.when(id_text.rlike(ID_PATTERN) & sex.isin(male, female),
                      F.when(odd, sex == male).otherwise(sex == female)))


def student_no_matches_id(student_no: Column, id_text: Column, prefix: str = "G") -> Column:
    """A G-form 学籍号 is G + 身份证号 (J and L forms carry no ID and are checked by their pattern)."""
    return _ok(F.when(student_no.startswith(prefix) & id_text.isNotNull(),
                      F.substring(student_no, 2, 18) == id_text))


def value_maps_to(key: Column, target: Column, mapping: dict[str, str]) -> Column:
    """key's entry in mapping equals target (e.g. a grade's stage equals the row's stage)."""
    return _ok(F.when(key.isNotNull() & target.isNotNull(), literal_map(mapping)[key] == target))


def present_when(flag: Column, flag_value: bool, text: Column) -> Column:
    """text is given when flag == flag_value (e.g. 户籍所在区 for 京籍 students)."""
    return _ok(F.when(flag == F.lit(flag_value), text.isNotNull()))


def absent_has_no_score(is_absent: Column, score_text: Column) -> Column:
    return _ok(F.when(is_absent.isNotNull(), F.when(is_absent, score_text.isNull()).otherwise(score_text.isNotNull())))


def school_id_structure(school_id: Column, categories: list[str], province: str) -> Column:
    """学校标识码 = 2-digit category + province code + 6-digit sequence (other shapes: pattern rule)."""
    return _ok(F.when(school_id.rlike(r"^\d{10}$"),
                      F.substring(school_id, 1, 2).isin(*categories) & (F.substring(school_id, 3, 2) == province)))


def category_matches_running_type(school_id: Column, running_type: Column) -> Column:
    """The identifier's category code is the running type's two-digit class (341 -> 34)."""
    return _ok(F.when(school_id.rlike(r"^\d{10}$") & running_type.isNotNull(),
                      F.substring(school_id, 1, 2) == F.substring(running_type, 1, 2)))


def in_values(value: Column, values: list[str]) -> Column:
    return _ok(F.when(value.isNotNull(), value.isin(*values)))


def items_tested_for_grade(grade: Column, sex: Column, items: dict[str, Column], tested: dict[str, list[str]]) -> Column:
    """No result for an item the grade and sex are not tested on. tested: item -> ["<grade>:<sex>", ...]."""
    key = F.concat_ws(":", grade, sex)
    wrong = [value.isNotNull() & ~key.isin(*tested[item]) for item, value in items.items()]
    return _ok(F.when(grade.isNotNull() & sex.isNotNull(), ~F.greatest(*wrong) if len(wrong) > 1 else ~wrong[0]))


def plausible_measurements(grade: Column, sex: Column, columns: dict[str, Column], bands: dict) -> Column:
    """Every measurement inside its band for the record's grade and sex. bands: item column (or "bmi",
    computed from height_cm and weight_kg) -> {"<grade>:<sex>": [low, high]}. A missing value, grade or
    sex, or a grade and sex the band does not cover, passes."""
    key = F.concat_ws(":", grade, sex)
    values = dict(columns)
    if "bmi" in bands:
        values["bmi"] = columns["weight_kg"] / ((columns["height_cm"] / 100) * (columns["height_cm"] / 100))
    outside = []
    for name, band in bands.items():
        # one lookup per band and row: key -> [low, high] (a literal map is scanned per lookup)
        bounds = F.create_map(*[x for k, (lo, hi) in band.items()
                                for x in (F.lit(k), F.array(F.lit(float(lo)), F.lit(float(hi))))])[key]
        value = values[name].cast("double")
        outside.append(F.coalesce((value < bounds[0]) | (value > bounds[1]), F.lit(False)))
    return ~F.greatest(*outside) if len(outside) > 1 else ~outside[0]


_REFERENCE_CACHE: dict[tuple[str, str], list[str]] = {}


def clear_reference_cache() -> None:
    """Called at the start of every validation: reference tables change between loads."""
    _REFERENCE_CACHE.clear()


def reference_keys(entity: str, key: str) -> list[str]:
    """The keys of silver/<entity> (the reference register, e.g. all 学校标识码). Small: collected once."""
    if (entity, key) not in _REFERENCE_CACHE:
        from pyspark.sql import SparkSession

        from edulake import settings
        from edulake.lake import delta

        target = settings.paths().silver / entity
        spark = SparkSession.getActiveSession()
        keys = ([r[0] for r in delta.read(spark, target).select(key).distinct().collect()]
                if spark is not None and delta.exists(target) else [])
        _REFERENCE_CACHE[(entity, key)] = sorted(k for k in keys if k is not None)
    return _REFERENCE_CACHE[(entity, key)]


def in_reference(value: Column, entity: str, key: str) -> Column:
    """Referential integrity: the value is a key of silver/<entity> (no reference loaded: nothing exists)."""
    keys = reference_keys(entity, key)
    return _ok(F.when(value.isNotNull(), value.isin(*keys) if keys else F.lit(False)))


ENROLLED = "__enrolled"  # lookup column (edulake.quality.lookups): True on the roster, False not, NULL unknown


def on_roster(student_no: Column, enrolled: Column) -> Column:
    """The student is on the enrollment roster of the record's school year. `enrolled` is NULL when that
    year's roster is not loaded at all: unknown, which no rule can call a failure (NULL = satisfied)."""
    return _ok(F.when(student_no.isNotNull(), enrolled))

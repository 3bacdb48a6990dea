"""The standard's row rules as SQL conditions (one dialect, see sql.py): the ONE implementation of each rule.

Each function returns the *expected* condition (TRUE = the row satisfies the rule; NULL counts as
satisfied). Both engines evaluate exactly these strings; the GX suites declare them
(UnexpectedRowsExpectation-style unexpected-rows queries, see gx_run.py). No I/O here: what a rule
needs from the lake (the school register, the enrollment roster) is passed in or joined on by the lake.
"""

from __future__ import annotations

from edulake.quality.sql import case_map, in_list, lit, ok

ID_PATTERN = r"^\d{17}[0-9X]$"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # GB 11643: check character for (sum of weighted digits) mod 11


def _is_id(id_text: str) -> str:
    return f"regexp_matches({id_text}, {lit(ID_PATTERN)})"


def gb11643_check_digit(id_text: str) -> str:
    """MOD 11-2 check character of an 18-character ID is right (other shapes are the pattern rule's)."""
    total = " + ".join(f"CAST(substring({id_text}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(_WEIGHTS))
    expected = f"substring({lit(_CHECK)}, CAST((({total}) % 11) + 1 AS INTEGER), 1)"
    return ok(f"CASE WHEN {_is_id(id_text)} THEN substring({id_text}, 18, 1) = {expected} END")


def id_matches_birth_date(id_text: str, birth_date: str) -> str:
    return ok(f"CASE WHEN {_is_id(id_text)} THEN substring({id_text}, 7, 8) = strftime({birth_date}, '%Y%m%d') END")


def id_matches_sex(id_text: str, sex: str, male: str = "1", female: str = "2") -> str:
    """The 17th character (order code) is odd for men and even for women."""
    odd = f"(CAST(substring({id_text}, 17, 1) AS INTEGER) % 2 = 1)"
    return ok(f"CASE WHEN {_is_id(id_text)} AND {sex} IN ({lit(male)}, {lit(female)}) "
              f"THEN (CASE WHEN {odd} THEN {sex} = {lit(male)} ELSE {sex} = {lit(female)} END) END")


def student_no_matches_id(student_no: str, id_text: str, prefix: str = "G") -> str:
    """A G-form 学籍号 is G + 身份证号 (J and L forms carry no ID and are checked by their pattern)."""
    return ok(f"CASE WHEN substring({student_no}, 1, {len(prefix)}) = {lit(prefix)} AND {id_text} IS NOT NULL "
              f"THEN substring({student_no}, {len(prefix) + 1}, 18) = {id_text} END")


def value_maps_to(key: str, target: str, mapping: dict[str, str]) -> str:
    """key's entry in mapping equals target (e.g. a grade's stage equals the row's stage)."""
    return ok(f"CASE WHEN {key} IS NOT NULL AND {target} IS NOT NULL THEN {case_map(key, mapping)} = {target} END")


def present_when(flag: str, flag_value: bool, text: str) -> str:
    """text is given when flag == flag_value (e.g. 户籍所在区 for 京籍 students)."""
    return ok(f"CASE WHEN {flag} = {lit(flag_value)} THEN {text} IS NOT NULL END")


def absent_has_no_score(is_absent: str, score_text: str) -> str:
    return ok(f"CASE WHEN {is_absent} IS NOT NULL THEN "
              f"(CASE WHEN {is_absent} THEN {score_text} IS NULL ELSE {score_text} IS NOT NULL END) END")


def school_id_structure(school_id: str, categories: list[str], province: str) -> str:
    """学校标识码 = 2-digit category + province code + 6-digit sequence (other shapes: pattern rule)."""
    return ok(f"CASE WHEN regexp_matches({school_id}, '^\\d{{10}}$') THEN "
              f"{in_list(f'substring({school_id}, 1, 2)', categories)} AND substring({school_id}, 3, 2) = {lit(province)} END")


def category_matches_running_type(school_id: str, running_type: str) -> str:
    """The identifier's category code is the running type's two-digit class (341 -> 34)."""
    return ok(f"CASE WHEN regexp_matches({school_id}, '^\\d{{10}}$') AND {running_type} IS NOT NULL "
              f"THEN substring({school_id}, 1, 2) = substring({running_type}, 1, 2) END")


def in_values(value: str, values: list[str]) -> str:
    return ok(f"CASE WHEN {value} IS NOT NULL THEN {in_list(value, values)} END")


def at_least(a: str, b: str) -> str:
    """a >= b where both are known (e.g. full marks >= score)."""
    return ok(f"{a} >= {b}")


def grade_sex_key(grade: str, sex: str) -> str:
    return f"concat_ws(':', CAST({grade} AS VARCHAR), CAST({sex} AS VARCHAR))"


def items_tested_for_grade(grade: str, sex: str, items: dict[str, str], tested: dict[str, list[str]]) -> str:
    """No result for an item the grade and sex are not tested on. tested: item -> ["<grade>:<sex>", ...]."""
    key = grade_sex_key(grade, sex)
    wrong = [f"({value} IS NOT NULL AND NOT {in_list(key, tested[item])})" for item, value in items.items()]
    return ok(f"CASE WHEN {grade} IS NOT NULL AND {sex} IS NOT NULL THEN NOT ({' OR '.join(wrong)}) END")


def plausible_measurements(grade: str, sex: str, columns: dict[str, str], bands: dict) -> str:
    """Every measurement inside its band for the record's grade and sex. bands: item column (or "bmi",
    computed from height_cm and weight_kg) -> {"<grade>:<sex>": [low, high]}. A missing value, grade or
    sex, or a grade and sex the band does not cover, passes.

    One CASE on the grade:sex key holds every measurement's bounds for that key: a CASE per measurement
    built the key string twelve times a row and cost 4.3 s for 1.7 M fitness rows at scale 1.0, the
    costliest of the table's 52 checks."""
    values = dict(columns)
    if "bmi" in bands:
        h = f"CAST({columns['height_cm']} AS DOUBLE)"
        values["bmi"] = f"(CAST({columns['weight_kg']} AS DOUBLE) / (({h} / 100) * ({h} / 100)))"
    by_key: dict[str, list[str]] = {}
    for name, band in bands.items():
        value = f"CAST({values[name]} AS DOUBLE)"
        for k, (lo, hi) in band.items():
            by_key.setdefault(k, []).append(f"COALESCE({value} < {float(lo)!r} OR {value} > {float(hi)!r}, FALSE)")
    if not by_key:
        return "TRUE"
    whens = " ".join(f"WHEN {lit(k)} THEN ({' OR '.join(outside)})" for k, outside in by_key.items())
    return f"NOT COALESCE(CASE {grade_sex_key(grade, sex)} {whens} END, FALSE)"


SCHOOL_KNOWN = "__school_known"  # lookup column (joined by the lake): TRUE when the key is in the school register


def in_register(value: str, known: str) -> str:
    """Referential integrity: the value is a key of the register (`known`, joined on; none loaded: FALSE)."""
    return ok(f"CASE WHEN {value} IS NOT NULL THEN {known} END")


ENROLLED = "__enrolled"  # lookup column (joined by the lake): TRUE on the roster, FALSE not, NULL unknown


def on_roster(student_no: str, enrolled: str) -> str:
    """The student is on the enrollment roster of the record's school year. `enrolled` is NULL when that
    year's roster is not loaded at all: unknown, which no rule can call a failure (NULL = satisfied)."""
    return ok(f"CASE WHEN {student_no} IS NOT NULL THEN {enrolled} END")

"""Clean source rows per file, as the source systems export them (every value a string).

Each builder returns {field name: array of str} for one file; `frame()` orders the columns by the
standard. Values are clean: they satisfy every field and table rule of schemas/ (defects.py adds dirt).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

import numpy as np

from edulake import settings, standard
from edulake.fitness.tables import bmi_bands, item_thresholds
from edulake.generate import world
from edulake.generate.world import STAGE_OF_GRADE, STAGES, Config, District, People, Schools

GRADE_NAMES = ["", "一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三", "高一", "高二", "高三"]
CLASS_SIZE = (40, 45, 45)


def frame(table: standard.Table, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{source column: str array} in the standard's column order (fields without a value are blank)."""
    n = len(next(iter(values.values())))
    cols = {}
    for f in table.fields:
        v = values.get(f.name)
        cols[f.column] = np.full(n, "", dtype=object) if v is None else np.asarray(v)
    return cols


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def _fmt(values: np.ndarray, decimals: int) -> np.ndarray:
    return np.char.mod(f"%.{decimals}f", values) if len(values) else np.array([], str)


# ---------------------------------------------------------------- reference
def district_rows(std: standard.Standard) -> dict[str, np.ndarray]:
    rows = std.codes("district").rows
    return {"district_code": np.array([r["code"] for r in rows]), "district_name": np.array([r["name"] for r in rows]),
            "status": np.array([r["status"] for r in rows]), "current_code": np.array([r["current_code"] for r in rows])}


def school_rows(sch: Schools, ds: list[District]) -> dict[str, np.ndarray]:
    codes = np.array([d.code for d in ds])
    stages = np.array([";".join(s for s, o in zip(STAGES, row, strict=True) if o) for row in sch.offers])
    return {"school_id": sch.school_id, "school_name": sch.name, "running_type": sch.running_type,
            "district_code": codes[sch.district], "stages": stages, "sponsor": sch.sponsor,
            "founded_year": np.where(sch.founded > 0, sch.founded.astype(str), "")}


def birth_rows(cfg: Config, ds: list[District], counts: dict[str, dict]) -> dict[str, np.ndarray]:
    d_codes, years, reg, res = [], [], [], []
    for d in ds:
        for y, (a, b) in sorted(counts[d.code].items()):
            d_codes.append(d.code)
            years.append(str(y))
            reg.append(str(a))
            res.append(str(b))
    return {"district_code": np.array(d_codes), "birth_year": np.array(years), "births_registered": np.array(reg),
            "births_resident": np.array(res)}


# ---------------------------------------------------------------- one district-year
@dataclass
class Year:
    """The pupils of one district on census day of one school year, in roster order."""
    year: int
    idx: np.ndarray  # indices into People
    grade: np.ndarray
    stage: np.ndarray  # 0/1/2
    school: np.ndarray  # school index
    class_no: np.ndarray
    n_classes: np.ndarray  # classes of the pupil's (school, grade)
    suspended: np.ndarray  # bool: 休学 on census day


def year_of(p: People, year: int) -> Year:
    idx = np.flatnonzero(p.present(year))
    grade = p.grade_in(year)[idx]
    stage = STAGE_OF_GRADE[grade]
    school = p.school[idx, stage]
    order = np.lexsort([p.class_key[idx], grade, school])
    idx, grade, stage, school = idx[order], grade[order], stage[order], school[order]
    rank = world._ranks_within([grade, school])
    key = school * 13 + grade
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    size = np.array(CLASS_SIZE)[stage] if len(stage) else np.zeros(0, np.int64)
    n_classes = np.ceil(counts[inv] / size).astype(np.int64)
    class_no = rank % np.maximum(n_classes, 1) + 1
    return Year(year, idx, grade, stage, school, class_no, n_classes, p.suspended_year[idx] == year)


def roster_rows(p: People, y: Year, sch: Schools, d: District) -> dict[str, np.ndarray]:
    i = y.idx
    nb = p.non_beijing[i]
    grade_names = np.array(GRADE_NAMES)[y.grade]
    return {
        "student_no": p.student_no[i], "id_number": p.id_number[i], "name": p.name[i],
        "sex": np.where(p.male[i], "1", "2"), "birth_date": _dates(p.birth[i]), "ethnicity": p.ethnicity[i],
        "hukou_district": np.where(nb, "", d.code), "is_non_beijing": np.where(nb, "是", "否"),
        "school_id": sch.school_id[y.school], "stage": np.array(STAGES)[y.stage], "grade": y.grade.astype(str),
        "class_name": np.strings.add(np.strings.add(grade_names, y.class_no.astype(str)), "班"),
        "school_year": np.full(len(i), str(y.year)), "status": np.where(y.suspended, "休学", "在籍在校"),
        "guardian_phone": p.phone[i],
    }


def status_change_rows(p: People, y: Year, sch: Schools, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Events of school year y: 入学 at the entry grades, 转入 of joiners, 转出 of leavers, 毕业, 休学/复学."""
    i, g, school = y.idx, y.grade, sch.school_id[y.school]
    first, last = p.first_grade[i], p.last_grade[i]
    start = np.datetime64(f"{y.year}-09-01")
    spring = np.datetime64(f"{y.year + 1}-03-01")
    n = len(i)
    events = []  # (mask, type, dates)
    entry = np.isin(g, world.ENTRY_GRADES)
    events.append((entry, "入学", np.full(n, start)))
    events.append((~entry & (first == g), "转入", start + rng.integers(0, 20, n)))
    terminal = np.isin(g, (6, 9, 12))
    events.append((~terminal & (last == g), "转出", spring + rng.integers(0, 110, n)))
    events.append((terminal, "毕业", np.full(n, np.datetime64(f"{y.year + 1}-07-01"))))
    events.append((y.suspended, "休学", np.full(n, start + 9)))
    events.append((y.suspended, "复学", np.full(n, spring - 10)))
    sel = [np.flatnonzero(m) for m, _, _ in events]
    rows = np.concatenate(sel) if sel else np.zeros(0, np.int64)
    kinds = np.concatenate([np.full(len(s), t) for s, (_, t, _) in zip(sel, events, strict=True)])
    dates = np.concatenate([d[s] for s, (_, _, d) in zip(sel, events, strict=True)])
    order = np.lexsort([rows, dates])
    rows, kinds, dates = rows[order], kinds[order], dates[order]
    return {"student_no": p.student_no[i][rows], "change_type": kinds, "change_date": _dates(dates),
            "school_id": school[rows], "other_school_id": np.full(len(rows), ""),
            "school_year": np.full(len(rows), str(y.year))}


# ---------------------------------------------------------------- health
# mean height (cm) by grade 1..12, boys / girls (Chinese school-age growth references, rounded)
HEIGHT = {True: [0, 122, 128, 133, 139, 144, 150, 157, 164, 169, 172, 173, 174],
          False: [0, 121, 127, 132, 138, 145, 151, 155, 158, 159, 160, 160.5, 161]}
MYOPIA = np.array([0, .13, .22, .31, .40, .50, .60, .66, .71, .76, .79, .81, .83])  # beijing_stats F
ITEM_FIELDS = {"lung": "lung_ml", "run_50m": "run_50m_s", "sit_reach": "sit_reach_cm", "rope_1min": "rope_1min",
               "sit_up_1min": "sit_up_1min", "shuttle_50x8": "shuttle_50x8_s", "standing_long_jump": "standing_long_jump_cm",
               "pull_up": "pull_up", "run_800m": "run_800m_s", "run_1000m": "run_1000m_s"}
DECIMALS = {"run_50m": 1, "sit_reach": 1}
DURATIONS = {"run_800m", "run_1000m", "shuttle_50x8"}


def tested(item: str, grade: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Items of the 2014 standard by grade band and sex (physical_fitness_2014.json weights_percent)."""
    primary, secondary = grade <= 6, grade >= 7
    return {
        "lung": np.ones_like(male), "run_50m": np.ones_like(male), "sit_reach": np.ones_like(male),
        "rope_1min": primary, "sit_up_1min": (primary & (grade >= 3)) | (secondary & ~male),
        "shuttle_50x8": primary & (grade >= 5), "standing_long_jump": secondary,
        "pull_up": secondary & male, "run_800m": secondary & ~male, "run_1000m": secondary & male,
    }[item]


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-1.702 * z))


def item_values(item: str, grade: np.ndarray, male: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Values spread around the norms: ~7% below the pass mark (60), ~45% at 良好 (80) or better,
    ~7% at 100, as in national monitoring. Interpolated in the quantile of `z`."""
    p = _logistic(z)
    out = np.full(len(z), np.nan)
    for g in np.unique(grade):
        for is_male in (True, False):
            m = (grade == g) & (male == is_male)
            key = (item, int(g), "M" if is_male else "F")
            if not m.any() or key not in item_thresholds():
                continue
            v60, v80, v100 = item_thresholds()[key]
            xs = [0.0005, 0.07, 0.55, 0.93, 0.9995]
            ys = [v60 - 1.2 * (v80 - v60), v60, v80, v100, v100 + 0.6 * (v100 - v80)]
            out[m] = np.interp(p[m], xs, ys)
    return out


def _duration(seconds: np.ndarray) -> np.ndarray:
    s = np.round(seconds).astype(np.int64)
    return np.strings.add(np.strings.add(np.strings.add((s // 60).astype(str), "'"),
                                         world.zfill((s % 60).astype(str), 2)), '"')


def fitness_rows(p: People, y: Year, sch: Schools, rng: np.random.Generator,
                 table: standard.Table, grade_codes: dict[str, str]) -> dict[str, np.ndarray]:
    take = ~y.suspended & (rng.random(len(y.idx)) > 0.01)  # 休学 and ~1% 免测 are not tested
    i, g, school = y.idx[take], y.grade[take], y.school[take]
    male = p.male[i]
    n = len(i)
    school_day = np.datetime64(f"{y.year}-10-08") + (world.rng_for(0, "testday", y.year).integers(0, 50, len(sch.school_id)))
    out = {
        "school_id": sch.school_id[school], "school_year": np.full(n, str(y.year)),
        "grade": np.array(_template(grade_codes))[g],
        "class_code": np.strings.add(np.array(_template(grade_codes))[g], world.zfill(y.class_no[take].astype(str), 2)),
        "class_name": np.strings.add(np.strings.add(np.array(GRADE_NAMES)[g], y.class_no[take].astype(str)), "班"),
        "student_no": p.student_no[i], "ethnicity": p.ethnicity[i], "name": p.name[i],
        "sex": np.where(male, "1", "2"), "birth_date": _dates(p.birth[i]), "test_date": _dates(school_day[school]),
    }
    height = np.array(HEIGHT[True])[g] * male + np.array(HEIGHT[False])[g] * ~male
    sd = np.where(g <= 6, 5.5, 6.5)
    height = height + sd * (0.85 * p.height_z[i] + 0.53 * rng.normal(0, 1, n))
    weight = _weights(g, male, height, p.bmi_u[i], rng)
    out["height_cm"] = _fmt(np.clip(height, 95, 205), 1)
    out["weight_kg"] = _fmt(np.clip(weight, 12, 160), 1)
    z = 0.6 * p.fitness[i][:, None] + 0.8 * rng.normal(0, 1, (n, len(ITEM_FIELDS)))
    for k, (item, name) in enumerate(ITEM_FIELDS.items()):
        f = table.field(name)
        values = np.clip(item_values(item, g, male, z[:, k]), float(f.min), float(f.max))
        mask = tested(item, g, male) & ~np.isnan(values)
        text = np.full(n, "", dtype=object)
        if item in DURATIONS:
            text[mask] = _duration(values[mask])
        else:
            text[mask] = _fmt(values[mask], DECIMALS.get(item, 0))
        out[name] = text
    return out


def _template(grade_codes: dict[str, str]) -> list[str]:
    return [""] + [grade_codes[str(g)] for g in range(1, 13)]


def _weights(g, male, height, u, rng) -> np.ndarray:
    """BMI category by the 2014 bands; overweight and obesity become commoner with age (≈19% in all)."""
    bmi = np.empty(len(g))
    p_obese = 0.06 + 0.003 * g
    p_over = 0.09 + 0.003 * g
    cat = np.where(u < 0.04, "低体重", np.where(u < 0.04 + p_obese, "肥胖", np.where(u < 0.04 + p_obese + p_over, "超重", "正常")))
    r = rng.random(len(g))
    for gg in np.unique(g):
        for is_male in (True, False):
            bands = bmi_bands()[(int(gg), "M" if is_male else "F")]
            m = (g == gg) & (male == is_male)
            lo_n, hi_n = bands["正常"]
            lo_o, hi_o = bands["超重"]
            lo_b = bands["肥胖"][0]
            hi_l = bands["低体重"][1]
            bmi[m & (cat == "正常")] = lo_n + r[m & (cat == "正常")] * (hi_n - lo_n)
            bmi[m & (cat == "超重")] = lo_o + r[m & (cat == "超重")] * (hi_o - lo_o)
            bmi[m & (cat == "肥胖")] = lo_b + 0.1 + np.minimum(rng.exponential(2.0, (m & (cat == "肥胖")).sum()), 15.0)
            bmi[m & (cat == "低体重")] = np.maximum(hi_l - rng.exponential(0.7, (m & (cat == "低体重")).sum()), 10.5)
    return bmi * (height / 100) ** 2


def vision_rows(p: People, y: Year, sch: Schools, rng: np.random.Generator) -> dict[str, np.ndarray]:
    take = rng.random(len(y.idx)) > 0.02
    i, g, school = y.idx[take], y.grade[take], y.school[take]
    n = len(i)
    day = np.datetime64(f"{y.year}-09-15") + world.rng_for(0, "screenday", y.year).integers(0, 70, len(sch.school_id))
    myopic = p.myopia_u[i] < MYOPIA[g]
    left = np.where(myopic, 4.9 - rng.exponential(0.15 + 0.03 * g), rng.choice([5.0, 5.1, 5.2, 5.3], n, p=[.6, .3, .08, .02]))
    right = np.where(myopic, left + rng.normal(0, 0.12, n), rng.choice([5.0, 5.1, 5.2], n, p=[.6, .32, .08]))
    left = np.where(myopic, np.clip(left, 3.3, 4.9), left)
    right = np.where(myopic, np.clip(right, 3.3, 4.9), right)
    glasses = np.where(myopic & (np.minimum(left, right) <= 4.7) & (rng.random(n) < 0.85), "是", "否")
    glasses = np.where(rng.random(n) < 0.05, "", glasses)
    return {"school_id": sch.school_id[school], "school_year": np.full(n, str(y.year)), "student_no": p.student_no[i],
            "grade": g.astype(str), "sex": np.where(p.male[i], "1", "2"), "screening_date": _dates(day[school]),
            "left_uncorrected_va": _fmt(left, 1), "right_uncorrected_va": _fmt(right, 1), "wears_glasses": glasses}


# ---------------------------------------------------------------- exams
DISTRICT_EXAM = {6: (("语文", 100), ("数学", 100), ("英语", 100)),
                 8: (("语文", 100), ("数学", 100), ("英语", 100), ("物理", 100), ("生物", 100), ("地理", 100),
                     ("道德与法治", 100), ("历史", 100))}
ZHONGKAO = (("语文", 100), ("数学", 100), ("英语", 100), ("物理", 80), ("化学", 60), ("生物", 60), ("道德与法治", 80),
            ("历史", 70), ("地理", 60), ("体育与健康", 50))
GAOKAO_CORE = (("语文", 150), ("数学", 150), ("英语", 150))
GAOKAO_ELECTIVE = ("物理", "化学", "生物", "思想政治", "历史", "地理")


@dataclass(frozen=True)
class Exam:
    exam_id: str
    name: str
    type: str
    year: int
    term: int
    grades: tuple[int, ...]


def district_exams(y: int, d: District) -> list[Exam]:
    return [Exam(f"QT-{y}-{t}-{d.code}", f"{y}-{y + 1}学年第{'一二'[t - 1]}学期{d.name}期末统考", "区统考", y, t, (6, 8))
            for t in (1, 2)]


def city_exams(y: int) -> list[Exam]:
    return [Exam(f"ZK-{y + 1}", f"{y + 1}年北京市高级中等学校招生考试", "中考", y, 2, (9,)),
            Exam(f"GK-{y + 1}", f"{y + 1}年普通高等学校招生全国统一考试（北京卷）", "高考", y, 2, (12,))]


def exam_rows(p: People, y: Year, sch: Schools, exam: Exam, rng: np.random.Generator) -> dict[str, np.ndarray]:
    parts = []
    for grade in exam.grades:
        sel = np.flatnonzero((y.grade == grade) & ~y.suspended)
        if exam.type == "高考":
            picks = np.argsort(rng.random((len(sel), len(GAOKAO_ELECTIVE))), axis=1)[:, :3]
            subjects = [GAOKAO_CORE + tuple((GAOKAO_ELECTIVE[k], 100) for k in sorted(row)) for row in picks]
        else:
            plan = ZHONGKAO if exam.type == "中考" else DISTRICT_EXAM[grade]
            subjects = [plan] * len(sel)
        per = np.array([len(s) for s in subjects], np.int64)
        rows = np.repeat(sel, per)
        subj = np.array([s for ss in subjects for s, _ in ss], dtype=object)
        full = np.array([m for ss in subjects for _, m in ss], np.int64)
        parts.append((rows, subj, full))
    rows = np.concatenate([r for r, _, _ in parts])
    subj = np.concatenate([s for _, s, _ in parts]) if parts else np.array([], object)
    full = np.concatenate([f for _, _, f in parts])
    n = len(rows)
    i = y.idx[rows]
    school = y.school[rows]
    mean = 0.74 + 0.1 * np.tanh(sch.quality[school] * 0.5)
    frac = np.clip(mean + 0.12 * p.ability[i] + 0.07 * rng.normal(0, 1, n), 0.03, 1.0)
    score = np.round(frac * full * 2) / 2
    absent = rng.random(n) < 0.008
    return {"exam_id": np.full(n, exam.exam_id), "exam_name": np.full(n, exam.name), "exam_type": np.full(n, exam.type),
            "school_year": np.full(n, str(exam.year)), "term": np.full(n, str(exam.term)),
            "grade": y.grade[rows].astype(str), "school_id": sch.school_id[school], "student_no": p.student_no[i],
            "subject": subj, "score": np.where(absent, "", _fmt(score, 1)), "full_marks": full.astype(str),
            "is_absent": np.where(absent, "是", "否")}


# ---------------------------------------------------------------- facility
@cache
def thresholds() -> dict[tuple[str, str], float]:
    """(facility field, 学段) -> 2017 优质均衡 threshold, per student (or per 100 students)."""
    path = settings.DBT_PROJECT_DIR / "seeds" / "inspection" / "inspection_resource_indicators_2017.csv"
    out = {}
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out[(r["numerator_column"], r["stage"])] = float(r["threshold"]) / float(r["per_students"])
    for (col, stage), v in list(out.items()):
        if stage == "初中":
            out[(col, "高中")] = v * 1.1
    return out


TEACHERS_PER_STUDENT = (1 / 14, 1 / 11, 1 / 9.5)


def facility_rows(cfg: Config, y: Year, sch: Schools, d: District, capacity: dict[tuple[int, int], int],
                  table: standard.Table) -> dict[str, np.ndarray]:
    """One row per (school, 学段) with pupils: inputs of the 7 indicators around the 2017 thresholds, so
    that some schools (and districts) pass and some fail; 学生数 and 班级数 agree with the roster."""
    key = y.school * 3 + y.stage
    uniq, counts = np.unique(key, return_counts=True)
    school, stage = uniq // 3, uniq % 3
    # classes of a (school, stage) = the classes of its grades
    grade_key, first = np.unique(y.school * 13 + y.grade, return_index=True)
    stage_of = (grade_key // 13) * 3 + STAGE_OF_GRADE[grade_key % 13]
    classes = np.array([y.n_classes[first][stage_of == k].sum() for k in uniq], np.int64)
    n = len(uniq)
    rng = world.rng_for(cfg.seed, "facility", d.code, y.year)
    q = sch.quality[school]
    stage_names = np.array(STAGES)[stage]
    students = counts.astype(float)

    def level(col: str, shift: float = 0.0) -> np.ndarray:
        per = np.array([thresholds()[(col, s)] for s in stage_names])
        # the same school keeps most of its level from year to year: the latent q carries it
        own = world.rng_for(cfg.seed, "facility-own", d.code, col).normal(0, 1, len(sch.school_id))[school]
        return per * np.exp(0.22 + shift + 0.28 * (0.55 * q + 0.65 * own + 0.5 * rng.normal(0, 1, n)))

    ratio = np.array(TEACHERS_PER_STUDENT)[stage]
    teachers = np.maximum(1, np.round(students * ratio * np.exp(0.12 * rng.normal(0, 1, n)))).astype(np.int64)

    def teacher_count(col):
        return np.minimum(teachers, np.round(students * level(col))).astype(np.int64)

    multimedia = np.round(students * level("multimedia_classrooms")).astype(np.int64)
    classrooms = np.maximum(multimedia, classes + np.round(classes * rng.uniform(0.05, 0.3, n))).astype(np.int64)
    places = np.array([capacity[(int(s), int(t))] for s, t in zip(school, stage, strict=True)], np.int64)
    crowd = world.CROWDED.get(d.code, 0.0)
    return {
        "school_id": sch.school_id[school], "school_name": sch.name[school], "district_code": np.full(n, d.code),
        "school_year": np.full(n, str(y.year)), "stage": stage_names, "students": counts.astype(str),
        "classes": classes.astype(str), "full_time_teachers": teachers.astype(str),
        "teachers_above_required_degree": teacher_count("teachers_above_required_degree").astype(str),
        "backbone_teachers": teacher_count("backbone_teachers").astype(str),
        "pe_art_teachers": teacher_count("pe_art_teachers").astype(str),
        "teaching_room_area_m2": _fmt(students * level("teaching_room_area_m2"), 1),
        "sports_area_m2": _fmt(students * level("sports_area_m2", crowd), 1),
        "equipment_value_yuan": _fmt(students * level("equipment_value_yuan"), 2),
        "multimedia_classrooms": np.minimum(multimedia, 500).astype(str),
        "classrooms": np.minimum(classrooms, 500).astype(str),
        "planned_places": np.minimum(places, 10000).astype(str),
    }


def capacities(cfg: Config, p: People, d: District) -> dict[tuple[int, int], int]:
    """核定学位数 per (school, stage): fixed over the window, set from the early years' pupils, so the
    growing primary cohorts of the 2016-17 birth peak run short of places in some districts."""
    rng = world.rng_for(cfg.seed, "places", d.code)
    totals: dict[tuple[int, int], list[int]] = {}
    for year in cfg.years:
        y = year_of(p, year)
        key = y.school * 3 + y.stage
        uniq, counts = np.unique(key, return_counts=True)
        for k, c in zip(uniq, counts, strict=True):
            totals.setdefault((int(k // 3), int(k % 3)), []).append(int(c))
    out = {}
    for k, series in sorted(totals.items()):
        early = np.mean(series[: max(1, len(series) // 2)])
        out[k] = int(round(early * rng.uniform(1.0, 1.3)))
    return out

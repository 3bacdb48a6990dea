"""The synthetic Beijing the feeds describe: districts, births, schools and every student's life.

Everything the feeds print is drawn here once, per district, so that enrollment, health, exam and
facility agree: a student keeps one ID, advances a grade a year, changes school at stage ends,
and is measured, screened and examined while enrolled. Sizes follow shared/standards/beijing_stats.md
(scale 1.0 ≈ 1.0M primary, 0.35M junior, 0.25M senior students; ~1,000/350/300 schools).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from edulake import idcard, standard

# 七普 (2020) resident population by district, 万 — relative sizes only.
POPULATION = {
    "110101": 71, "110102": 110, "110105": 345, "110106": 202, "110107": 57, "110108": 313,
    "110109": 39, "110111": 131, "110112": 184, "110113": 132, "110114": 227, "110115": 199,
    "110116": 44, "110117": 46, "110118": 53, "110119": 35,
}
# Students per resident: the old city and Haidian draw pupils (school-district housing), outer districts less.
PULL = {"110101": 1.45, "110102": 1.5, "110108": 1.25, "110105": 1.0, "110106": 0.95, "110107": 1.0}
# Share of non-Beijing-hukou (非京籍) children per grade-1 cohort, before its decline (beijing_stats B).
MIGRANT = {"110105": 0.45, "110106": 0.45, "110114": 0.55, "110115": 0.5, "110112": 0.45, "110113": 0.35,
           "110108": 0.3, "110107": 0.3, "110111": 0.3, "110101": 0.12, "110102": 0.12}
# Dense central districts struggle with sports ground per student (2017 indicator 5).
CROWDED = {"110101": -0.45, "110102": -0.5, "110105": -0.15, "110108": -0.15}
# Legacy GB/T 2260 codes still printed in IDs of children born before the change.
LEGACY = {"110101": ("110103", "2010-07-01", 0.4), "110102": ("110104", "2010-07-01", 0.45),
          "110118": ("110228", "2015-11-13", 1.0), "110119": ("110229", "2015-11-13", 1.0)}
# 户籍 births in Beijing by year (beijing_stats D; years between known points interpolated, after 2020 projected).
CITY_BIRTHS = {1999: 58000, 2000: 56000, 2001: 55000, 2002: 57000, 2003: 58000, 2004: 60000, 2005: 61000,
               2006: 63498, 2007: 77658, 2008: 80981, 2009: 89353, 2010: 90583, 2011: 101000, 2012: 118000,
               2013: 112000, 2014: 131000, 2015: 122000, 2016: 158000, 2017: 171305, 2018: 140921,
               2019: 132634, 2020: 100368, 2021: 93000, 2022: 84000, 2023: 88000, 2024: 92000, 2025: 85000}
# Non-Beijing provinces' address codes (GB/T 2260) for 非京籍 students' IDs, with weights.
OTHER_REGIONS = ("130102", "130602", "131002", "130202", "370102", "370202", "410102", "410302", "340102",
                 "230102", "210102", "140105", "150102", "220102", "320102", "420102", "430102", "510104",
                 "610102", "120101", "360102", "500103", "130902", "371302", "411302", "341302", "131102")
OTHER_WEIGHTS = np.array([9, 7, 8, 4, 6, 3, 8, 4, 5, 4, 3, 4, 2, 2, 3, 3, 2, 3, 2, 3, 2, 2, 4, 3, 4, 3, 3], float)

# running type -> (stages offered, schools at scale 1.0, 学校标识码 category (schemas/codes/stage.csv
# school_category of the highest stage offered)).
RUNNING_TYPES = {
    "211": (("小学",), 880),
    "312": (("小学", "初中"), 90),
    "345": (("小学", "初中", "高中"), 30),
    "311": (("初中",), 30),
    "341": (("初中", "高中"), 200),
    "342": (("高中",), 70),
}
STAGES = ("小学", "初中", "高中")
STAGE_OF_GRADE = np.array([-1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2])  # grade 1..12 -> stage index
ENTRY_GRADES = (1, 7, 10)
# Leaving Beijing's schools after grade g (index g), by hukou: 0 京籍, 1 非京籍. Non-Beijing pupils
# mostly leave before 中考 (few may sit it for a Beijing 普通高中); some 京籍 pupils go to vocational school.
LEAVE = np.array([
    [0, .010, .010, .010, .010, .010, .020, .008, .008, .120, .004, .004, 0],
    [0, .020, .020, .020, .020, .020, .120, .020, .020, .550, .010, .010, 0],
])
JOIN = np.array([0, 0, .02, .015, .015, .012, .010, .04, .012, .008, .015, .004, .002])  # joiners per grade-1 entrant
STAY = 0.92  # share of a district's 户籍 births that start school in that district

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("子涵梓轩浩宇欣怡雨桐一诺思彤佳琪梓萱俊熙诗语宇航博文明哲晨阳嘉怡若曦铭泽雅琪天佑睿泽可馨"
             "逸凡子墨婉清昊然紫涵沐辰安琪乐瑶泽宇思源奕辰书瑶梦瑶文轩承泽语桐静怡家豪雨萱宏伟志强建华"
             "丽娜晓燕海涛振宇鑫磊悦然新月芮宁锦程")
ETHNICITY = {"01": 0.952, "03": 0.013, "11": 0.015, "02": 0.005, "10": 0.003, "08": 0.002, "15": 0.002,
             "06": 0.002, "05": 0.002, "04": 0.001, "07": 0.001, "12": 0.001, "13": 0.001}
PHONE_PREFIX = np.array(["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                         "153", "155", "156", "158", "159", "176", "177", "180", "181", "185", "186", "187",
                         "188", "189", "199"])


def zfill(values: np.ndarray, width: int) -> np.ndarray:
    """`np.strings.zfill`, which raises on an empty array in numpy 2.x (a small district's year can have
    no row of some kind at tiny scales)."""
    values = np.asarray(values)
    return np.strings.zfill(values, width) if values.size else values.astype(str)


def rng_for(seed: int, *parts) -> np.random.Generator:
    """An independent, reproducible stream per (seed, part...): output does not depend on run order."""
    key = [seed] + [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(key)


@dataclass(frozen=True)
class Config:
    scale: float
    seed: int
    first_year: int
    last_year: int
    defect_rate: float

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def cohorts(self) -> range:
        """Grade-1 entry years of every cohort on a roster in the window."""
        return range(self.first_year - 11, self.last_year + 1)

    @property
    def birth_years(self) -> range:
        return range(self.first_year - 18, self.last_year + 1)


@dataclass(frozen=True)
class District:
    index: int
    code: str
    name: str
    weight: float  # share of the city's students
    birth_share: float  # share of the city's 户籍 births


def districts(std: standard.Standard) -> list[District]:
    rows = [r for r in std.codes("district").rows if r["status"] == "current"]
    pop = np.array([POPULATION[r["code"]] for r in rows], float)
    pull = np.array([PULL.get(r["code"], 0.9 if POPULATION[r["code"]] < 60 else 1.0) for r in rows])
    students = pop * pull
    return [District(i, r["code"], r["name"], students[i] / students.sum(), pop[i] / pop.sum())
            for i, r in enumerate(rows)]


def births(cfg: Config, d: District) -> dict[int, tuple[int, int]]:
    """{birth_year: (registered, resident)}, scaled like the students so intake ≈ births × entry ratio."""
    rng = rng_for(cfg.seed, "births", d.code)
    out = {}
    for y in cfg.birth_years:
        city = CITY_BIRTHS.get(y, CITY_BIRTHS[min(max(y, 1999), 2025)])
        registered = city * d.birth_share * cfg.scale * rng.normal(1.0, 0.03)
        resident_ratio = 1.0 + MIGRANT.get(d.code, 0.2) * (1.3 - 0.02 * (y - 2000)) + rng.normal(0, 0.02)
        out[y] = (max(0, round(registered)), max(0, round(registered * resident_ratio)))
    return out


def migrant_ratio(cfg: Config, d: District, cohort: int) -> float:
    """非京籍 grade-1 entrants per 户籍 birth six years earlier: declining over time (beijing_stats B)."""
    base = MIGRANT.get(d.code, 0.2)
    return max(0.03, base * (1.0 - 0.035 * (cohort - 2015)))


@dataclass
class Schools:
    """All schools of the city, as parallel arrays."""
    school_id: np.ndarray
    name: np.ndarray
    running_type: np.ndarray
    district: np.ndarray  # district index
    offers: np.ndarray  # bool (n, 3): offers 小学/初中/高中
    weight: np.ndarray  # relative size
    sponsor: np.ndarray
    founded: np.ndarray  # year, 0 = unknown
    quality: np.ndarray  # latent resource level (facility)

    def of(self, district: int, stage: int) -> np.ndarray:
        return np.flatnonzero((self.district == district) & self.offers[:, stage])


_NUM = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    if n < 10:
        return _NUM[n]
    if n < 20:
        return "十" + (_NUM[n % 10] if n % 10 else "")
    if n < 100:
        return _NUM[n // 10] + "十" + (_NUM[n % 10] if n % 10 else "")
    return str(n)


def schools(cfg: Config, ds: list[District], std: standard.Standard) -> Schools:
    rng = rng_for(cfg.seed, "schools")
    category = {r["code"]: r["school_category"] for r in std.codes("stage").rows}
    ids, names, rts, dist, offers, weights = [], [], [], [], [], []
    used = set()
    for d in ds:
        counters: dict[str, int] = {}
        for rt, (stages, city_count) in RUNNING_TYPES.items():
            n = round(city_count * cfg.scale * d.weight)
            if rt in ("211", "341"):  # every district has primary, junior and senior places
                n = max(n, 1)
            for _ in range(n):
                cat = category[stages[-1]]
                while True:
                    serial = int(rng.integers(1, 1_000_000))
                    sid = f"{cat}11{serial:06d}"
                    if sid not in used:
                        used.add(sid)
                        break
                kind = {"211": "小学", "312": "学校", "345": "实验学校", "311": "初级中学", "341": "中学",
                        "342": "高级中学"}[rt]
                counters[kind] = counters.get(kind, 0) + 1
                names.append(f"北京市{d.name}第{_chinese_number(counters[kind])}{kind}")
                ids.append(sid)
                rts.append(rt)
                dist.append(d.index)
                offers.append([s in stages for s in STAGES])
                weights.append(float(np.clip(rng.lognormal(0, 0.45), 0.35, 3.0)))
    n = len(ids)
    sponsor = np.where(rng.random(n) < 0.07, "民办", "公办")
    founded = np.where(rng.random(n) < 0.05, 0, rng.integers(1900, 2021, n))
    return Schools(np.array(ids), np.array(names), np.array(rts), np.array(dist), np.array(offers, bool),
                   np.array(weights), sponsor, founded, rng.normal(0, 1, n))


@dataclass
class People:
    """Every student who is ever on a roster of one district in the window, as parallel arrays."""
    cohort: np.ndarray  # grade-1 school year
    first_grade: np.ndarray
    last_grade: np.ndarray
    non_beijing: np.ndarray  # bool
    male: np.ndarray  # bool
    birth: np.ndarray  # datetime64[D]
    id_number: np.ndarray  # str
    name: np.ndarray
    ethnicity: np.ndarray
    phone: np.ndarray
    school: np.ndarray  # (n, 3) school index per stage, -1 none
    class_key: np.ndarray  # orders pupils into classes
    fitness: np.ndarray  # latent fitness (z)
    height_z: np.ndarray
    bmi_u: np.ndarray
    myopia_u: np.ndarray
    ability: np.ndarray
    suspended_year: np.ndarray  # school year of a 休学 over census day, 0 none
    extras: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cohort)

    @property
    def student_no(self) -> np.ndarray:
        return np.strings.add("G", self.id_number)

    def grade_in(self, year: int) -> np.ndarray:
        return year - self.cohort + 1

    def present(self, year: int) -> np.ndarray:
        g = self.grade_in(year)
        return (g >= self.first_grade) & (g <= self.last_grade)


def _ranks_within(keys: list[np.ndarray]) -> np.ndarray:
    """0-based rank of each element within its group of equal keys (keys: arrays, last is most significant)."""
    order = np.lexsort(keys)
    n = len(order)
    if n == 0:
        return np.zeros(0, np.int64)
    sorted_keys = [k[order] for k in keys]
    new_group = np.ones(n, bool)
    new_group[1:] = np.any([k[1:] != k[:-1] for k in sorted_keys], axis=0)
    starts = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    ranks = np.empty(n, np.int64)
    ranks[order] = np.arange(n) - starts
    return ranks


def people(cfg: Config, d: District, birth_counts: dict[int, tuple[int, int]], sch: Schools) -> People:
    rng = rng_for(cfg.seed, "people", d.code)
    cohort, first, nonbj = [], [], []
    for c in cfg.cohorts:
        registered = birth_counts.get(c - 6, (0, 0))[0]
        n_bj = rng.poisson(registered * STAY)
        n_nb = rng.poisson(registered * migrant_ratio(cfg, d, c))
        n1 = n_bj + n_nb
        cohort += [c] * n1
        first += [1] * n1
        nonbj += [False] * n_bj + [True] * n_nb
        for g in range(2, 13):
            k = rng.poisson(n1 * JOIN[g])
            share_nb = 0.7 if g <= 6 else (0.5 if g <= 9 else 0.15)
            cohort += [c] * k
            first += [g] * k
            nonbj += list(rng.random(k) < share_nb)
    cohort, first, nonbj = np.array(cohort, np.int64), np.array(first, np.int64), np.array(nonbj, bool)
    n = len(cohort)
    # last grade: the first grade at or after entry after which the pupil leaves; 12 = graduates
    grades = np.arange(1, 13)
    hazard = LEAVE[nonbj.astype(int)][:, 1:13]
    leaves = (rng.random((n, 12)) < hazard) & (grades[None, :] >= first[:, None])
    last = np.where(leaves.any(axis=1), leaves.argmax(axis=1) + 1, 12)
    last = np.maximum(last, first)
    # keep only pupils on some roster of the window
    lo = np.maximum(first, cfg.first_year - cohort + 1)
    hi = np.minimum(last, cfg.last_year - cohort + 1)
    keep = lo <= hi
    cohort, first, last, nonbj = cohort[keep], first[keep], last[keep], nonbj[keep]
    n = len(cohort)

    male = rng.random(n) < 0.52
    start = np.array([f"{c - 7}-09-01" for c in cohort], "datetime64[D]")
    birth = start + rng.integers(0, 365, n)
    region = np.full(n, d.code, dtype="U6")
    if d.code in LEGACY:
        legacy, until, share = LEGACY[d.code]
        old = (birth < np.datetime64(until)) & ~nonbj & (rng.random(n) < share)
        region[old] = legacy
    other = rng.choice(len(OTHER_REGIONS), size=n, p=OTHER_WEIGHTS / OTHER_WEIGHTS.sum())
    region_nb = np.array(OTHER_REGIONS)[other]
    region = np.where(nonbj, region_nb, region)
    id_number = _id_numbers(rng, d, region, birth, male, nonbj)

    surname = rng.choice(np.array(SURNAMES), n, p=_zipf(len(SURNAMES)))
    given1 = rng.choice(np.array(GIVEN), n)
    given2 = np.where(rng.random(n) < 0.75, rng.choice(np.array(GIVEN), n), "")
    name = np.strings.add(np.strings.add(surname, given1), given2)
    eth_codes = np.array(list(ETHNICITY))
    eth_p = np.array(list(ETHNICITY.values()))
    ethnicity = rng.choice(eth_codes, n, p=eth_p / eth_p.sum())
    digits = rng.integers(0, 100_000_000, n)
    phone = np.strings.add(rng.choice(PHONE_PREFIX, n), zfill(digits.astype(str), 8))
    phone = np.where(rng.random(n) < 0.08, "", phone)

    school = _assign_schools(rng, d, sch, n)
    suspended = np.zeros(n, np.int64)
    s = rng.random(n) < 0.003
    if s.any():
        lo2 = np.maximum(first, cfg.first_year - cohort + 1)[s]
        hi2 = np.minimum(last, cfg.last_year - cohort + 1)[s]
        suspended[s] = cohort[s] - 1 + lo2 + (rng.random(s.sum()) * (hi2 - lo2 + 1)).astype(np.int64)
    return People(cohort, first, last, nonbj, male, birth, id_number, name, ethnicity, phone, school,
                  rng.random(n), rng.normal(0, 1, n), rng.normal(0, 1, n), rng.random(n), rng.random(n),
                  rng.normal(0, 1, n), suspended)


def _zipf(n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** 0.9
    return p / p.sum()


def _id_numbers(rng, d: District, region, birth, male, nonbj) -> np.ndarray:
    """Unique GB 11643 numbers. Beijing address codes belong to one district only, so a rank within
    (region, birth date, sex) in this district is unique city-wide; other provinces' codes are shared
    by all districts, so their sequence codes take a band per district (31 per sex and day)."""
    n = len(region)
    region = region.copy()
    days = birth.astype(np.int64)
    for _ in range(20):
        codes, region_idx = np.unique(region, return_inverse=True)
        rank = _ranks_within([male.astype(np.int64), days, region_idx])
        overflow = nonbj & (rank > 30)
        if not overflow.any():
            break
        region[overflow] = np.array(OTHER_REGIONS)[rng.integers(0, len(OTHER_REGIONS), overflow.sum())]
    else:
        raise RuntimeError(f"{d.name}: too many 非京籍 pupils per birth day to number uniquely")
    if (~nonbj & (rank > 498)).any():
        raise RuntimeError(f"{d.name}: too many pupils per birth day for 3-digit sequence codes")
    parity = np.where(male, 1, 2)
    seq = np.where(nonbj, 2 * (d.index * 31 + rank) + parity, 2 * rank + parity)
    date = np.strings.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    first17 = np.strings.add(np.strings.add(region, date), zfill(seq.astype(str), 3))
    return np.strings.add(first17, idcard.check_digits(first17)) if n else np.array([], "U18")


def _assign_schools(rng, d: District, sch: Schools, n: int) -> np.ndarray:
    out = np.full((n, 3), -1, np.int64)
    for stage in range(3):
        candidates = sch.of(d.index, stage)
        p = sch.weight[candidates] / sch.weight[candidates].sum()
        out[:, stage] = candidates[rng.choice(len(candidates), n, p=p)]
    # through-schools keep most of their pupils into the next stage
    for stage, keep_share in ((1, 0.85), (2, 0.6)):
        prev = out[:, stage - 1]
        continues = sch.offers[prev, stage] & (rng.random(n) < keep_share)
        out[continues, stage] = prev[continues]
    return out

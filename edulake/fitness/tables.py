"""The 2014 national standard's scoring tables, read from the dbt seed for Python users: the generator
(values spread around the norms) and validation (plausibility bands by grade and sex). The scoring itself
is SQL over the same seed (scoring.py); these are the thresholds, not a second scoring."""

from __future__ import annotations

import csv
from functools import cache

from edulake.settings import DBT_PROJECT_DIR

STANDARD_SEED = DBT_PROJECT_DIR / "seeds" / "health" / "health_fitness_standard_2014.csv"


@cache
def item_thresholds() -> dict[tuple[str, int, str], tuple[float, float, float]]:
    """(item, grade 1-12, 'M'/'F') -> the thresholds for scores 60, 80 and 100."""
    found: dict[tuple, dict[int, float]] = {}
    with STANDARD_SEED.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["row_type"] == "single_item" and r["grade"].isdigit() and r["score"] in ("60", "80", "100"):
                found.setdefault((r["item"], int(r["grade"]), r["sex"]), {})[int(r["score"])] = float(r["threshold"])
    return {k: (v[60], v[80], v[100]) for k, v in found.items() if len(v) == 3}


@cache
def bmi_bands() -> dict[tuple[int, str], dict[str, tuple[float | None, float | None]]]:
    """(grade 1-12, 'M'/'F') -> {category: (bmi_min, bmi_max)} (低体重, 正常, 超重, 肥胖)."""
    out: dict = {}
    with STANDARD_SEED.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["row_type"] == "bmi" and r["grade"].isdigit():
                lo = float(r["bmi_min"]) if r["bmi_min"] else None
                hi = float(r["bmi_max"]) if r["bmi_max"] else None
                out.setdefault((int(r["grade"]), r["sex"]), {})[r["category"]] = (lo, hi)
    return out

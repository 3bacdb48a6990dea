"""measurement_plausible_for_grade_sex: bands from the 2014 scoring tables and the rule's margins in schemas/,
and the generator's clean values always inside them (so clean rows are never flagged)."""

from __future__ import annotations

import numpy as np
import pytest

from edulake import standard
from edulake.fitness.tables import bmi_bands, item_thresholds
from edulake.generate import feeds
from edulake.quality.checks import FITNESS_ITEMS, plausibility_bands

RULE = "measurement_plausible_for_grade_sex"


@pytest.fixture(scope="module")
def bands():
    rule = next(r for r in standard.load().table("health.fitness").rules if r.name == RULE)
    return plausibility_bands(rule.params)


def test_bands_widen_the_scoring_range_by_the_rules_margins(bands):
    # 50 m, grade 1 boys: 60 points at 12.6 s, 100 at 10.2 s (span 2.4): 1 span better, 2 spans worse
    assert bands["run_50m_s"]["1:1"] == [pytest.approx(7.8), pytest.approx(17.4)]
    # lung capacity, grade 1 girls: 600 mL (60) to 1400 mL (100), span 800
    assert bands["lung_ml"]["1:2"] == [pytest.approx(-1000.0), pytest.approx(2200.0)]
    # BMI, grade 1 boys: 低体重 up to 13.4, 肥胖 from 20.4; 7 below and 20 above
    assert bands["bmi"]["1:1"] == [pytest.approx(6.4), pytest.approx(40.4)]
    # every item the standard scores, for every grade and sex it is scored at, has a band
    for (item, grade, sex) in item_thresholds():
        if item in FITNESS_ITEMS:
            assert f"{grade}:{'1' if sex == 'M' else '2'}" in bands[FITNESS_ITEMS[item]]
    assert len(bands["bmi"]) == len(bmi_bands()) == 24


def test_generated_item_values_stay_inside_the_bands(bands):
    # the generator's most extreme values (its quantile curve's ends) for every item, grade and sex
    for (item, grade, sex), _ in item_thresholds().items():
        if item not in FITNESS_ITEMS:
            continue
        male = np.array([sex == "M"] * 2)
        extremes = feeds.item_values(item, np.array([grade, grade]), male, np.array([-40.0, 40.0]))
        low, high = bands[FITNESS_ITEMS[item]][f"{grade}:{'1' if sex == 'M' else '2'}"]
        assert low <= extremes.min() and extremes.max() <= high, (item, grade, sex, extremes, low, high)


def test_generated_bmi_stays_inside_the_bands(bands):
    rng = np.random.default_rng(3)
    n = 400_000
    grade = rng.integers(1, 13, n)
    male = rng.random(n) < 0.5
    height = np.full(n, 100.0)  # weight at 1 m is the BMI
    bmi = feeds._weights(grade, male, height, rng.random(n), rng)
    for g in range(1, 13):
        for is_male in (True, False):
            low, high = bands["bmi"][f"{g}:{'1' if is_male else '2'}"]
            mine = bmi[(grade == g) & (male == is_male)]
            assert low <= mine.min() and mine.max() <= high, (g, is_male, mine.min(), mine.max(), low, high)

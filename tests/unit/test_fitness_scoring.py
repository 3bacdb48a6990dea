"""Fitness scoring (2014 standard) on DuckDB with the seeds — the same macros the health mart runs.

Expected values are read by hand from the published tables (grade 1 boys, 高一 boys 引体向上,
初一 boys 1000米), not recomputed by the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edulake.fitness.cli import fitness
from edulake.fitness.scoring import SEED_DIR, connect, item_columns, score_relation

COLUMNS = ["grade", "sex", "height_cm", "weight_kg", *item_columns().values()]
# the standards folder beside the repository (../shared/standards); CI checks the recorded checksums instead
REPO_ROOT = Path(__file__).resolve().parents[2]
STANDARDS = REPO_ROOT.parent / "shared" / "standards"
CHECKSUMS = json.loads((SEED_DIR.parent / "standards_checksums.json").read_text(encoding="utf-8"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def score(rows: list[dict]) -> list[dict]:
    con = connect()
    values = []
    for key, row in enumerate(rows, start=1):
        cells = [str(key)] + [
            "null" if row.get(c) is None else (f"'{row[c]}'" if c in ("grade", "sex") else str(row[c]))
            for c in COLUMNS
        ]
        values.append("(" + ", ".join(cells) + ")")
    con.execute(
        "create table m as select * from (values " + ", ".join(values) + ") t(record_key, "
        + ", ".join(COLUMNS) + ")"
    )
    score_relation(con, "m")
    cur = con.execute("select * from fitness_scores order by record_key")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


BOY_G1 = dict(grade="1", sex="1", height_cm=120, weight_kg=22, lung_ml=1700, run_50m_s=10.2,
              sit_reach_cm=16.1, rope_1min=14)


def test_weighted_standard_score_and_level_boundary():
    exact_90, below_90 = score([BOY_G1, {**BOY_G1, "sit_reach_cm": 14.6}])
    # bmi 22/1.2² = 15.3 正常 (13.5–18.1) → 100; rope 14 → 50; weights 15/15/20/30/20
    assert exact_90["bmi"] == pytest.approx(15.3)
    assert exact_90["bmi_category"] == "正常"
    assert exact_90["rope_1min_score"] == 50
    assert exact_90["standard_score"] == pytest.approx(90.0)
    assert exact_90["level"] == "优秀"
    assert below_90["sit_reach_score"] == 95
    assert below_90["standard_score"] == pytest.approx(88.5)
    assert below_90["level"] == "良好"


def test_timed_runs_lower_is_better():
    at, between, slow = score([{**BOY_G1, "run_50m_s": 10.3}, {**BOY_G1, "run_50m_s": 10.25},
                               {**BOY_G1, "run_50m_s": 13.7}])
    assert at["run_50m_score"] == 95
    assert between["run_50m_score"] == 95
    assert slow["run_50m_score"] == 0  # slower than the 10-point threshold 13.6


def test_blank_pull_up_levels_are_not_awardable():
    base = dict(grade="10", sex="1", height_cm=170, weight_kg=60, pull_up=None)
    eleven, ten = score([{**base, "pull_up": 11}, {**base, "pull_up": 10}])
    assert eleven["pull_up_score"] == 76
    assert ten["pull_up_score"] == 72  # 74 is a blank cell in the table


def test_bonus_points_beyond_the_100_point_threshold():
    (row,) = score([{**BOY_G1, "rope_1min": 129}])  # 100 points at 109; +1 per 2 reps
    assert row["rope_1min_score"] == 100
    assert row["bonus_score"] == 10
    assert row["total_score"] == pytest.approx(row["standard_score"] + 10)


def test_incomplete_record_gets_item_scores_but_no_total():
    (row,) = score([{**BOY_G1, "rope_1min": None}])
    assert row["lung_score"] == 100
    assert row["is_complete"] is False
    assert row["standard_score"] is None and row["level"] is None


def test_items_outside_the_grade_band_are_not_scored():
    girl = dict(grade="9", sex="2", height_cm=160, weight_kg=50, pull_up=5, sit_up_1min=50)
    (row,) = score([girl])
    assert row["pull_up_score"] is None
    assert row["sit_up_1min_score"] is not None


def test_low_confidence_rows_are_flagged():
    boy7 = dict(grade="7", sex="1", height_cm=160, weight_kg=50, run_1000m_s=235)
    (flagged,) = score([boy7])
    assert flagged["run_1000m_score"] == 100  # 初一 1000米: single source (VB), medium
    assert flagged["is_low_confidence"] is True
    (clean,) = score([BOY_G1])
    assert clean["is_low_confidence"] is False


def test_cli_scores_a_file(tmp_path):
    src = tmp_path / "in.csv"
    header = ["grade", "sex", "height_cm", "weight_kg", "lung_ml", "run_50m_s", "sit_reach_cm", "rope_1min"]
    src.write_text(",".join(header) + "\n1,1,120,22,1700,10.2,16.1,14\nU12,2,160,50,,,,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(fitness, ["score", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0])[: len(header)] == header
    for col in ["bmi", "bmi_category", "lung_score", "rope_1min_score", "standard_score", "bonus_score",
                "total_score", "level"]:
        assert col in rows[0]
    assert (rows[0]["standard_score"], rows[0]["level"]) == ("90.0", "优秀")
    assert rows[1]["bmi_category"] == "正常" and rows[1]["standard_score"] == ""


def test_cli_names_the_bad_row_and_column(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("grade,sex,height_cm,weight_kg\n1,1,120,22\n3,男,130,30\n", encoding="utf-8")
    result = CliRunner().invoke(fitness, ["score", str(src), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "第 2 行" in result.output and "sex" in result.output and "男" in result.output


def test_weights_seed_sums_to_100_and_matches_the_scoring_tables():
    weights = list(csv.DictReader((SEED_DIR / "health_fitness_item_weights.csv").open(encoding="utf-8")))
    table = list(csv.DictReader((SEED_DIR / "health_fitness_standard_2014.csv").open(encoding="utf-8")))
    scored = {(r["item"], r["grade"], r["sex"]) for r in table if r["row_type"] == "single_item"}
    totals: dict = {}
    for w in weights:
        totals[(w["grade"], w["sex"])] = totals.get((w["grade"], w["sex"]), 0) + int(w["weight_pct"])
        if w["item"] != "bmi":
            assert (w["item"], w["grade"], w["sex"]) in scored, w
    assert set(totals.values()) == {100} and len(totals) == 28


def test_seeds_match_their_recorded_checksums():
    """Runs everywhere (CI included): a seed edited without its standard is caught."""
    for rel, entry in CHECKSUMS["seeds"].items():
        assert _sha256(SEED_DIR.parent / rel) == entry["sha256"], f"seed {rel} changed: update it with its standard"
        if "copy_of" in entry:  # an unchanged copy: the same bytes as the standard file it copies
            assert entry["sha256"] == CHECKSUMS["standards"][entry["copy_of"]], rel


@pytest.mark.skipif(not STANDARDS.exists(), reason="../shared/standards is not beside this checkout")
def test_seeds_carry_the_shared_standards_unchanged():
    for name, digest in CHECKSUMS["standards"].items():
        assert _sha256(STANDARDS / name) == digest, f"{name} changed in ../shared/standards: re-copy the seeds"
    seed = (SEED_DIR / "health_fitness_standard_2014.csv").read_bytes()
    assert seed == (STANDARDS / "physical_fitness_2014.csv").read_bytes()
    meta = json.loads((STANDARDS / "physical_fitness_2014.json").read_text(encoding="utf-8"))["meta"]
    weights = list(csv.DictReader((SEED_DIR / "health_fitness_item_weights.csv").open(encoding="utf-8")))
    g1 = {w["item"]: int(w["weight_pct"]) for w in weights if (w["grade"], w["sex"]) == ("1", "M")}
    assert g1 == {**meta["weights_percent"]["all_grades"], **meta["weights_percent"]["1-2"]}
    levels = list(csv.DictReader((SEED_DIR / "health_fitness_levels.csv").open(encoding="utf-8")))
    assert {r["level"] for r in levels} == set(meta["total_grade_bands"]) - {"sources"}

"""The synthetic Beijing generator: files as the standard names them, consistent feeds, clean rows that
satisfy the standard, and a manifest whose every defect is really in the file where it says."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
import unicodedata
from functools import cache
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from edulake import idcard, standard
from edulake.generate import cli as generate_cli
from edulake.generate import run_generate
from edulake.lake.sources import read_source, table_for

STD = standard.load()


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


@cache
def _read(out: Path, key: str) -> pd.DataFrame:
    """One file through the lake's own reader: columns as the standard names them, plus _row (1-based)."""
    feed, name = key.split("/")
    parsed = read_source(out / key, table_for(STD.feed(feed), name))
    raw = parsed.rows.column("_raw").combine_chunks()
    n, k = len(raw), len(parsed.header)
    assert len(raw.items) == n * k, f"{key}: rows of unequal width"
    keys = raw.keys.to_numpy(zero_copy_only=False)[:k].tolist()
    items = raw.items.to_numpy(zero_copy_only=False).reshape(n, k)
    df = pd.DataFrame(items, columns=keys)
    df["_row"] = parsed.rows.column("_row_number").to_numpy()
    df["_file"] = key
    return df


def table_rows(sources, table_name: str) -> pd.DataFrame:
    out, manifest = sources
    table = STD.table(table_name)
    keys = [k for k in manifest["files"] if k.startswith(table.feed + "/")
            and fnmatch.fnmatchcase(k.split("/")[1], table.file_pattern)]
    return pd.concat([_read(out, k) for k in keys], ignore_index=True)


def test_run_generate_importable_from_both_places():
    assert generate_cli.run_generate is run_generate
    assert generate_cli.generate.name == "generate"


def test_files_match_the_standard(generated_sources):
    out, manifest = generated_sources
    names = {k.split("/")[1] for k in manifest["files"]}
    for key, info in manifest["files"].items():
        path = out / key
        assert path.exists(), key
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"], key
        assert len(_read(out, key)) == info["rows"] > 0, key
    years = range(manifest["years"][0], manifest["years"][1] + 1)
    districts = [r["code"] for r in STD.codes("district").rows if r["status"] == "current"]
    for y in years:
        for d in districts:
            assert f"学籍名册_{y}_{d}.csv" in names and f"办学条件_{y}_{d}.xlsx" in names
            assert f"体测_{y}_{d}.xlsx" in names or f"体测_{y}_{d}.csv" in names
        assert {f"考试成绩_ZK-{y + 1}.csv", f"考试成绩_GK-{y + 1}.csv"} <= names
    assert any(n.startswith("体测_") and n.endswith(".csv") for n in names)
    assert any(n.startswith("体测_") and n.endswith(".xlsx") for n in names)
    roster = next(out / k for k in manifest["files"] if k.startswith("enrollment/学籍名册_"))
    data = roster.read_bytes()
    data.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # a GBK export, as the registry system writes it


def test_xlsx_readable_by_openpyxl(generated_sources):
    out, manifest = generated_sources
    key = next(k for k in manifest["files"] if k.endswith(".xlsx") and "办学条件" in k)
    ws = openpyxl.load_workbook(out / key, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == STD.table("facility.condition").columns
    assert len(rows) - 1 == manifest["files"][key]["rows"]


def test_same_seed_same_bytes(tmp_path):
    a = run_generate(scale=0.001, seed=3, out=tmp_path / "a", years=(2025, 2025), defect_rate=0.01, progress=False)
    b = run_generate(scale=0.001, seed=3, out=tmp_path / "b", years=(2025, 2025), defect_rate=0.01, progress=False)
    c = run_generate(scale=0.001, seed=4, out=tmp_path / "c", years=(2025, 2025), defect_rate=0.01, progress=False)
    assert a["defects"]
    assert a["files"] == b["files"] and a["defects"] == b["defects"]
    assert (tmp_path / "a" / "defects.json").read_bytes() == (tmp_path / "b" / "defects.json").read_bytes()
    assert a["files"] != c["files"]


# ------------------------------------------------------------------ clean rows satisfy the standard
def _violations(table: standard.Table, df: pd.DataFrame) -> list[str]:
    """An independent reading of the field rules (required, codes, pattern, range, max_length)."""
    problems = []
    for f in table.fields:
        values = df[f.column].map(fold)
        present = values != ""
        if f.required and (~present).any():
            problems.append(f"{f.column}: {int((~present).sum())} blank")
        v = values[present]
        if f.type == "code":
            known = set(STD.codes(f.codes).lookup(f.code_key))
            bad = v[~v.isin(known) | (~v.isin(f.allowed) if f.allowed else False)]
            if len(bad):
                problems.append(f"{f.column}: codes {sorted(set(bad))[:3]}")
        if f.pattern:
            bad = v[~v.str.fullmatch(f.pattern.strip("^$"))]
            if len(bad):
                problems.append(f"{f.column}: pattern {list(bad)[:3]}")
        if f.max_length:
            bad = v[v.str.len() > f.max_length]
            if len(bad):
                problems.append(f"{f.column}: too long {list(bad)[:3]}")
        if f.type in ("integer", "decimal", "duration") and (f.min is not None or f.max is not None):
            num = v.map(_number)
            bad = v[(num < float(f.min)) | (num > float(f.max)) | num.isna()]
            if len(bad):
                problems.append(f"{f.column}: range {list(bad)[:3]}")
        if f.type == "date":
            dates = v.map(_date)
            bad = v[dates.isna() | (dates < str(f.min)) | (dates > str(f.max))]
            if len(bad):
                problems.append(f"{f.column}: date {list(bad)[:3]}")
    return problems


def _number(text: str) -> float | None:
    m = re.fullmatch(r"(\d+)'(\d{2})\"", text)
    if m:
        return int(m[1]) * 60 + int(m[2])
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> str | None:
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})日?", text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


@pytest.mark.parametrize("table_name", [t.qualified_name for t in STD.tables()])
def test_clean_rows_satisfy_field_rules_and_keys(clean_sources, table_name):
    assert clean_sources.manifest["defects"] == []
    table = STD.table(table_name)
    df = table_rows(clean_sources, table_name)
    assert len(df) > 0
    assert _violations(table, df) == []
    key = [table.field(n).column for n in table.natural_key]
    assert not df.duplicated(key).any(), f"{table_name}: natural key repeated"


def test_clean_roster_table_rules(clean_sources):
    roster = table_rows(clean_sources, "enrollment.roster")
    schools = set(table_rows(clean_sources, "reference.school")["学校标识码"])
    grades = {r["code"]: r["stage"] for r in STD.codes("grade").rows}
    ids = roster["身份证号"]
    assert ids.map(idcard.is_valid).all()
    assert (ids.map(lambda s: idcard.birth_date(s).isoformat()) == roster["出生日期"]).all()
    assert (ids.map(idcard.sex) == roster["性别"]).all()
    assert (roster["学籍号"] == "G" + ids).all()
    assert (roster["年级"].map(grades) == roster["学段"]).all()
    assert roster["学校标识码"].isin(schools).all()
    beijing = roster["是否非京籍"] == "否"
    assert (roster.loc[beijing, "户籍所在区"] != "").all()
    regions = set(ids.str[:6])
    assert {"110103", "110104"} & regions, "legacy district codes in older cohorts' IDs"
    assert any(not r.startswith("11") for r in regions), "非京籍 students from other provinces"
    assert 0.05 < (~beijing).mean() < 0.6


def test_school_ids_follow_running_type(clean_sources):
    schools = table_rows(clean_sources, "reference.school")
    category = {r["code"]: r["school_category"] for r in STD.codes("stage").rows}
    expected = schools["学段"].map(lambda s: category[s.split(";")[-1]])
    assert (schools["学校标识码"].str[:2] == expected).all()
    assert (schools["学校标识码"].str[2:4] == "11").all()
    assert schools["学校标识码"].is_unique
    assert set(schools["办学类型代码"]) <= set(STD.table("reference.school").field("running_type").allowed)
    assert set(schools["所在区代码"]) == {r["code"] for r in STD.codes("district").rows if r["status"] == "current"}


def test_feeds_are_consistent(clean_sources):
    roster = table_rows(clean_sources, "enrollment.roster")
    enrolled = set(zip(roster["学籍号"], roster["学年"], strict=True))
    schools = set(table_rows(clean_sources, "reference.school")["学校标识码"])
    for name in ("health.fitness", "health.vision", "exam.score", "enrollment.status_change"):
        df = table_rows(clean_sources, name)
        assert set(zip(df["学籍号"], df["学年"], strict=True)) <= enrolled, name
        assert df["学校标识码"].isin(schools).all(), name
    facility = table_rows(clean_sources, "facility.condition")
    assert facility["学校标识码"].isin(schools).all()
    counted = roster.groupby(["学校标识码", "学年", "学段"]).size()
    reported = facility.set_index(["学校标识码", "学年", "学段"])["学生数"].astype(int)
    assert (counted.reindex(reported.index) == reported).all()
    teachers = facility["专任教师数"].astype(int)
    for col in ("高于规定学历专任教师数", "县级以上骨干教师数", "体育艺术专任教师数"):
        assert (facility[col].astype(int) <= teachers).all()


def test_cohorts_advance_and_intake_follows_births(clean_sources):
    roster = table_rows(clean_sources, "enrollment.roster")
    roster["学年"] = roster["学年"].astype(int)
    roster["年级"] = roster["年级"].astype(int)
    nxt = roster.assign(学年=roster["学年"] - 1)
    both = roster.merge(nxt, on=["学籍号", "学年"], suffixes=("", "_next"))
    assert len(both) > 0.8 * (roster["学年"] < roster["学年"].max()).sum()
    assert (both["年级_next"] == both["年级"] + 1).all()
    births = table_rows(clean_sources, "reference.births")
    assert births["出生年份"].astype(int).min() <= roster["学年"].min() - 18
    grade1 = roster[roster["年级"] == 1].groupby("学年").size()
    born = births.assign(y=births["出生年份"].astype(int) + 6).groupby("y")["户籍出生人数"].apply(lambda s: s.astype(int).sum())
    ratio = grade1 / born.reindex(grade1.index)
    assert ratio.between(0.8, 2.0).all(), ratio


def test_health_realism(clean_sources):
    fit = table_rows(clean_sources, "health.fitness")
    grade = fit["年级编号"].astype(int)
    primary, secondary = grade < 20, grade > 20
    male = fit["性别"] == "1"
    assert (fit.loc[primary, ["800米跑", "1000米跑", "引体向上", "立定跳远"]] == "").all().all()
    assert (fit.loc[secondary & ~male, ["引体向上", "1000米跑"]] == "").all().all()
    assert (fit.loc[secondary & male, ["1分钟仰卧起坐", "800米跑"]] == "").all().all()
    assert (fit.loc[secondary & male, "1000米跑"] != "").all()
    assert (fit.loc[primary & (grade <= 12), "1分钟仰卧起坐"] == "").all()  # grades 1-2: no sit-ups
    vision = table_rows(clean_sources, "health.vision")
    worst = vision[["左眼裸眼视力", "右眼裸眼视力"]].astype(float).min(axis=1)
    g = vision["年级"].astype(int)
    myopia = [(worst[(g >= a) & (g <= b)] < 5.0).mean() for a, b in ((1, 6), (7, 9), (10, 12))]
    assert 0.2 < myopia[0] < myopia[1] < myopia[2] and myopia[2] > 0.7, myopia


def test_exams(clean_sources):
    scores = table_rows(clean_sources, "exam.score")
    by_type = scores.groupby("考试类型")["年级"].agg(set)
    assert by_type["中考"] == {"9"} and by_type["高考"] == {"12"} and by_type["区统考"] == {"6", "8"}
    assert set(scores.loc[scores["考试类型"] == "区统考", "学期"]) == {"1", "2"}
    absent = scores["缺考"] == "是"
    assert (scores.loc[absent, "分数"] == "").all()
    assert (scores.loc[~absent, "分数"].astype(float) <= scores.loc[~absent, "满分"].astype(float)).all()


# ------------------------------------------------------------------ the manifest's defects are real
def test_every_defect_is_in_its_file(generated_sources):
    out, manifest = generated_sources
    defects = manifest["defects"]
    assert len(defects) > 100
    kinds = {d["kind"] for d in defects}
    assert {"bad_check_digit", "exact_duplicate", "key_conflict", "out_of_range", "unknown_code",
            "missing_required", "full_width", "date_format", "stray_spaces"} <= kinds
    schools = set(_read(out, "reference/学校名录.csv")["学校标识码"])
    for d in defects:
        table = STD.table(d["table"])
        df = _read(out, d["file"])
        row = df[df["_row"] == d["row"]].iloc[0]
        raw = row[d["column"]] if d["column"] else None
        what = f"{d['file']} row {d['row']} {d['kind']}"
        kind = d["kind"]
        cols = table.columns
        if kind == "exact_duplicate":
            earlier = df[(df["_row"] < d["row"])]
            assert (earlier[cols] == row[cols]).all(axis=1).any(), what
            assert d["expect"] == "collapse"
        elif kind == "key_conflict":
            key = [table.field(n).column for n in table.natural_key]
            same = df[(df[key] == row[key]).all(axis=1) & (df["_row"] != d["row"])]
            assert len(same) >= 1 and not (same[cols] == row[cols]).all(axis=1).any(), what
        elif kind == "missing_required":
            assert fold(raw) == "", what
        elif kind == "out_of_range":
            f = next(f for f in table.fields if f.column == d["column"])
            assert not float(f.min) <= float(raw) <= float(f.max), what
        elif kind == "unknown_code":
            f = next(f for f in table.fields if f.column == d["column"])
            assert raw not in STD.codes(f.codes).lookup(f.code_key) or (f.allowed and raw not in f.allowed), what
        elif kind == "full_width":
            assert raw != fold(raw) and any("\uff10" <= c <= "\uff5a" for c in raw), what
        elif kind == "stray_spaces":
            assert raw != raw.strip(" \u3000") and raw.strip(" \u3000"), what
        elif kind == "date_format":
            assert not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) and _date(raw), what
        elif kind == "bad_check_digit":
            assert not idcard.is_valid(raw), what
        elif kind == "unknown_school":
            assert re.fullmatch(r"\d{10}", raw) and raw not in schools, what
        elif kind == "id_birth_mismatch":
            assert idcard.birth_date(row["身份证号"]).isoformat() != raw, what
        elif kind == "id_sex_mismatch":
            assert idcard.sex(row["身份证号"]) != raw, what
        elif kind == "grade_stage_mismatch":
            stage = {r["code"]: r["stage"] for r in STD.codes("grade").rows}[row["年级"]]
            assert stage != raw, what
        elif kind == "hukou_missing":
            assert raw == "" and row["是否非京籍"] == "否", what
        elif kind == "score_above_full_marks":
            assert float(raw) > float(row["满分"]), what
        elif kind == "absent_with_score":
            assert raw == "是" and row["分数"] != "", what
        elif kind == "teacher_count_inconsistent":
            assert int(raw) > int(row["专任教师数"]), what
        else:
            pytest.fail(f"untested defect kind {kind}")
        assert d["expect"] in ("quarantine", "collapse", "normalise"), what
        assert (d["expect"] == "quarantine") == (d["rule"] is not None), what


def test_rows_without_defects_are_clean(generated_sources):
    """Outside the manifest's rows, the dirty run's roster IDs all validate and field rules hold."""
    out, manifest = generated_sources
    touched = {(d["file"], d["row"]) for d in manifest["defects"]}
    for name in ("enrollment.roster", "health.vision"):
        df = table_rows(generated_sources, name)
        mask = [(f, r) not in touched for f, r in zip(df["_file"], df["_row"], strict=True)]
        clean = df[mask]
        assert _violations(STD.table(name), clean) == []
        if name == "enrollment.roster":
            assert clean["身份证号"].map(idcard.is_valid).all()


def test_cli_options(tmp_path):
    from click.testing import CliRunner

    from edulake.cli import main

    out = tmp_path / "src"
    result = CliRunner().invoke(main, ["generate", "--scale", "0.001", "--seed", "2", "--years", "2025-2025",
                                       "--defect-rate", "0", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    manifest = (out / "defects.json").read_text(encoding="utf-8")
    assert '"years": [\n  2025,\n  2025\n ]' in manifest and '"defects": []' in manifest
    assert (out / "enrollment" / "学籍名册_2025_110108.csv").exists()
    bad = CliRunner().invoke(main, ["generate", "--years", "2025-2018", "--out", str(out), "--quiet"])
    assert bad.exit_code != 0 and "2025-2018" in bad.output

"""Realistic dirt, injected into clean rows at a configurable rate, each defect recorded in the manifest.

A defect touches one row (one cell, or a whole copied row) and says what the lake must do with it:
  normalise  — format only (full-width digits, stray spaces, another date format): the row is accepted
               with the value folded back;
  collapse   — an exact duplicate of an earlier row: dropped as a duplicate;
  quarantine — it breaks a rule the standard states (`rule` names it: a field rule such as required,
               range, codes, or a table rule of schemas/feeds/*.yaml such as id_number_check_digit).
A key conflict (same natural key, different content) quarantines both rows: both are listed.
Rows untouched here satisfy every rule, so a validator can reach 100% recall with no false positives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from edulake import standard

FULL_WIDTH = str.maketrans("0123456789GX", "０１２３４５６７８９ＧＸ")
UNKNOWN_CODES = {"sex": "3", "ethnicity": "60", "stage": "中学", "district": "110110", "enrollment_status": "借读",
                 "status_change_type": "留级", "exam_type": "月考", "subject": "信息技术", "grade": "13"}
UNKNOWN_BY_KEY = {("grade", "fitness_template_code"): "17"}
DATE_FORMATS = ("{y}/{m}/{d}", "{y}年{m}月{d}日", "{y}{mm}{dd}", "{y}.{mm}.{dd}")
COMMON = ("exact_duplicate", "key_conflict", "missing_required", "out_of_range", "unknown_code",
          "full_width", "stray_spaces", "date_format")
TABLE_KINDS = {
    "enrollment.roster": ("bad_check_digit", "id_birth_mismatch", "id_sex_mismatch", "grade_stage_mismatch",
                          "unknown_school", "hukou_missing"),
    "enrollment.status_change": ("unknown_school",),
    "health.fitness": ("unknown_school",),
    "health.vision": ("unknown_school",),
    "exam.score": ("unknown_school", "score_above_full_marks", "absent_with_score"),
    "facility.condition": ("unknown_school", "teacher_count_inconsistent"),
}
# the non-key field a conflicting second record differs in
CONFLICT_FIELD = {"enrollment.roster": "guardian_phone", "enrollment.status_change": "other_school_id",
                  "health.fitness": "height_cm", "health.vision": "left_uncorrected_va", "exam.score": "score",
                  "facility.condition": "classrooms"}


@dataclass
class Target:
    column: str | None
    expect: str
    rule: str | None


class Injector:
    """Holds the state shared by all files (which kinds came last, the known school ids)."""

    def __init__(self, std: standard.Standard, rate: float, school_ids: set[str]):
        self.std = std
        self.rate = rate
        self.school_ids = school_ids
        self.turn: dict[str, int] = {}

    def kinds(self, table: standard.Table) -> list[str]:
        fields = table.fields
        out = []
        for k in COMMON + TABLE_KINDS.get(table.qualified_name, ()):
            if k == "date_format" and not any(f.type == "date" for f in fields):
                continue
            if k == "unknown_code" and not any(self._unknown(f) for f in fields):
                continue
            out.append(k)
        return out

    def inject(self, table: standard.Table, df: dict[str, np.ndarray], file: str, rng: np.random.Generator,
               row_offset: int = 0) -> tuple[dict[str, np.ndarray], list[dict]]:
        """Defects for the rows of one file (or one part of it, starting after `row_offset` rows)."""
        n = len(next(iter(df.values())))
        count = min(int(rng.binomial(n, self.rate)) if self.rate > 0 else 0, n // 3)
        if count == 0:
            return df, []
        kinds = self.kinds(table)
        used = np.zeros(n, bool)
        copies: list[tuple[int, dict, int]] = []  # (source row, values, position key)
        found: list[tuple[int, str, Target]] = []  # (row index or -(copy number)-1, kind, target)
        values = {c: np.asarray(a, dtype=object).copy() for c, a in df.items()}
        for _ in range(count):
            t = self.turn.get(table.qualified_name, 0)
            self.turn[table.qualified_name] = t + 1
            kind = kinds[t % len(kinds)]
            for _attempt in range(8):
                row = int(rng.integers(0, n))
                if used[row]:
                    continue
                result = self._apply(kind, table, values, row, rng)
                if result is None:
                    continue
                used[row] = True
                if kind in ("exact_duplicate", "key_conflict"):
                    copy, target = result
                    copies.append((row, copy, int(rng.integers(row, n))))
                    found.append((-len(copies), kind, target))
                    if kind == "key_conflict":
                        found.append((row, kind, target))
                else:
                    found.append((row, kind, result))
                break
        keys = np.arange(n, dtype=float)
        if copies:
            # a copy lands somewhere after its source row, as a re-sent record does
            keys = np.concatenate([keys, np.array([p + 0.5 for _, _, p in copies]) + np.arange(len(copies)) * 1e-6])
            for c in values:
                values[c] = np.concatenate([values[c], np.array([copy[c] for _, copy, _ in copies], dtype=object)])
        order = np.argsort(keys, kind="stable")
        position = np.empty(len(order), np.int64)
        position[order] = np.arange(len(order))
        out = {c: a[order] for c, a in values.items()}
        defects = []
        for row, kind, target in found:
            at = n + (-row - 1) if row < 0 else row
            defects.append({"feed": table.feed, "table": table.qualified_name, "file": file,
                            "row": int(position[at]) + 1 + row_offset, "column": target.column, "kind": kind,
                            "expect": target.expect, "rule": target.rule})
        defects.sort(key=lambda d: (d["row"], d["kind"]))
        return out, defects

    # ------------------------------------------------------------------ one defect
    def _unknown(self, f: standard.Field) -> str | None:
        if f.type != "code":
            return None
        return UNKNOWN_BY_KEY.get((f.codes, f.code_key), UNKNOWN_CODES.get(f.codes))

    def _apply(self, kind: str, table: standard.Table, v: dict, row: int, rng) -> Target | tuple | None:
        cell = lambda f: v[f.column][row]  # noqa: E731
        key = set(table.natural_key)
        fields = table.fields

        def pick(candidates: list[standard.Field]) -> standard.Field | None:
            candidates = [f for f in candidates if cell(f) != ""]
            return candidates[int(rng.integers(0, len(candidates)))] if candidates else None

        def setv(f: standard.Field, value: str) -> None:
            v[f.column][row] = value

        if kind == "exact_duplicate":
            return {c: v[c][row] for c in v}, Target(None, "collapse", None)
        if kind == "key_conflict":
            f = table.field(CONFLICT_FIELD[table.qualified_name])
            other = self._conflicting(f, cell(f), rng)
            if other is None:
                return None
            copy = {c: v[c][row] for c in v}
            copy[f.column] = other
            return copy, Target(None, "quarantine", "unique_natural_key")
        if kind == "missing_required":
            f = pick([f for f in fields if f.required and f.name not in key])
            if f is None:
                return None
            setv(f, "" if rng.random() < 0.7 else "  ")
            return Target(f.column, "quarantine", "required")
        if kind == "out_of_range":
            f = pick([f for f in fields if f.type in ("integer", "decimal", "duration") and f.max is not None])
            if f is None:
                return None
            hi = float(f.max) + max(1.0, (float(f.max) - float(f.min or 0)) * 0.3)
            setv(f, f"{hi:.{f.scale or 0}f}")
            return Target(f.column, "quarantine", "range")
        if kind == "unknown_code":
            f = pick([f for f in fields if self._unknown(f)])
            if f is None:
                return None
            setv(f, self._unknown(f))
            return Target(f.column, "quarantine", "codes")
        if kind == "full_width":
            f = pick([f for f in fields if any(ch.isdigit() for ch in cell(f))])
            if f is None:
                return None
            setv(f, cell(f).translate(FULL_WIDTH))
            return Target(f.column, "normalise", None)
        if kind == "stray_spaces":
            f = pick(list(fields))
            if f is None:
                return None
            pads = (" ", "  ", "\u3000")
            setv(f, pads[int(rng.integers(0, 3))] + cell(f) + pads[int(rng.integers(0, 3))])
            return Target(f.column, "normalise", None)
        if kind == "date_format":
            f = pick([f for f in fields if f.type == "date"])
            if f is None:
                return None
            y, m, d = cell(f).split("-")
            form = DATE_FORMATS[int(rng.integers(0, len(DATE_FORMATS)))]
            setv(f, form.format(y=y, m=int(m), d=int(d), mm=m, dd=d))
            return Target(f.column, "normalise", None)
        return self._table_rule(kind, table, v, row, rng, setv, cell)

    def _table_rule(self, kind, table, v, row, rng, setv, cell) -> Target | None:
        t = table.field
        if kind == "unknown_school":
            f = t("school_id")
            setv(f, self._unknown_school(cell(f), rng))
            return Target(f.column, "quarantine", "school_exists")
        if kind == "bad_check_digit":
            f = t("id_number")
            good = cell(f)
            wrong = [c for c in "0123456789X" if c != good[-1]]
            setv(f, good[:-1] + wrong[int(rng.integers(0, len(wrong)))])
            return Target(f.column, "quarantine", "id_number_check_digit")
        if kind == "id_birth_mismatch":
            f = t("birth_date")
            day = dt.date.fromisoformat(cell(f)) - dt.timedelta(days=int(rng.integers(1, 40)))
            setv(f, day.isoformat())
            return Target(f.column, "quarantine", "id_number_matches_birth_date")
        if kind == "id_sex_mismatch":
            f = t("sex")
            setv(f, "2" if cell(f) == "1" else "1")
            return Target(f.column, "quarantine", "id_number_matches_sex")
        if kind == "grade_stage_mismatch":
            f = t("stage")
            others = [s for s in ("小学", "初中", "高中") if s != cell(f)]
            setv(f, others[int(rng.integers(0, 2))])
            return Target(f.column, "quarantine", "grade_matches_stage")
        if kind == "hukou_missing":
            if cell(t("is_non_beijing")) != "否":
                return None
            setv(t("hukou_district"), "")
            return Target(t("hukou_district").column, "quarantine", "hukou_district_required_for_beijing")
        if kind == "score_above_full_marks":
            full = int(cell(t("full_marks")))
            if full > 140 or cell(t("score")) == "":
                return None
            setv(t("score"), f"{full + 5:.1f}")
            return Target(t("score").column, "quarantine", "score_within_full_marks")
        if kind == "absent_with_score":
            if cell(t("score")) == "":
                return None
            setv(t("is_absent"), "是")
            return Target(t("is_absent").column, "quarantine", "absent_has_no_score")
        if kind == "teacher_count_inconsistent":
            teachers = int(cell(t("full_time_teachers")))
            if teachers + 3 > 1000:
                return None
            setv(t("backbone_teachers"), str(teachers + 3))
            return Target(t("backbone_teachers").column, "quarantine", "teacher_counts_consistent")
        raise ValueError(f"unknown defect kind {kind!r}")

    def _conflicting(self, f: standard.Field, value: str, rng) -> str | None:
        """Another valid value for a non-key field."""
        if f.name == "guardian_phone":
            return "139" + f"{int(rng.integers(0, 10**8)):08d}" if value[:3] != "139" else "186" + value[3:]
        if f.name == "other_school_id":
            ids = sorted(self.school_ids)
            return ids[int(rng.integers(0, len(ids)))]
        if value == "":
            return None
        x = float(value)
        step = {"height_cm": 1.0, "left_uncorrected_va": 0.1, "score": 1.0, "classrooms": 1.0}[f.name]
        new = x - step if x - step >= float(f.min or 0) else x + step
        if f.max is not None and new > float(f.max):
            return None
        return f"{new:.{f.scale or 0}f}"

    def _unknown_school(self, current: str, rng) -> str:
        while True:
            candidate = current[:4] + f"{int(rng.integers(0, 1_000_000)):06d}"
            if candidate not in self.school_ids:
                return candidate


"""`edulake fitness score IN.csv --out OUT.csv`: a school scores its own students' tests."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from edulake.fitness.scoring import connect, item_columns, score_relation

console = Console(stderr=True)

GRADES = [str(g) for g in range(1, 13)] + ["U12", "U34"]
REQUIRED = ["grade", "sex", "height_cm", "weight_kg"]


class InputError(click.ClickException):
    pass


def _load_input(con, path: Path) -> list[str]:
    try:
        con.execute(
            "create table raw_input as select row_number() over () as record_key, * "
            "from read_csv(?, header=true, all_varchar=true, encoding='utf-8')",
            [str(path)],
        )
    except Exception as exc:  # duckdb raises several error types for unreadable CSV
        raise InputError(f"{path}: 无法读取 CSV (cannot read CSV): {exc}") from exc
    columns = [r[0] for r in con.execute("describe raw_input").fetchall()][1:]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(f"{path}: 缺少列 (missing columns) {', '.join(missing)}; found {', '.join(columns)}")
    return columns


def _first_bad(con, where: str, column: str):
    return con.execute(
        f'select record_key, "{column}" from raw_input where {where} order by record_key limit 1'
    ).fetchone()


def _validate(con, path: Path, numeric: list[str]) -> None:
    grade_list = ", ".join(f"'{g}'" for g in GRADES)
    checks = [
        ("grade", f"trim(grade) is null or trim(grade) not in ({grade_list})", "年级应为 1–12、U12、U34"),
        ("sex", "trim(sex) is null or trim(sex) not in ('1', '2')", "性别应为 1（男）或 2（女）"),
    ]
    for col in numeric:
        checks.append((col, f'trim("{col}") <> \'\' and try_cast(trim("{col}") as double) is null', "应为数字"))
    for col, where, message in checks:
        bad = _first_bad(con, where, col)
        if bad:
            row, value = bad
            raise InputError(
                f"{path}: 第 {row} 行（文件第 {row + 1} 行）列 {col}: 值 {value!r} 无效 — {message}"
            )


def score_file(src: Path, out: Path) -> int:
    """Score every row of `src` into `out`; returns the number of rows written."""
    con = connect()
    columns = _load_input(con, src)
    items = item_columns()
    numeric = [c for c in ["height_cm", "weight_kg", *items.values()] if c in columns]
    _validate(con, src, numeric)
    # columns the file does not carry are simply not tested
    measure_cols = ", ".join(
        f'try_cast(nullif(trim("{c}"), \'\') as double) as {c}' if c in columns else f"cast(null as double) as {c}"
        for c in ["height_cm", "weight_kg", *items.values()]
    )
    con.execute(
        f"create table measurements as select record_key, trim(grade) as grade, trim(sex) as sex, {measure_cols} "
        "from raw_input"
    )
    score_relation(con, "measurements")
    tested = [item for item, col in items.items() if col in columns]
    score_cols = ", ".join(f"cast(s.{item}_score as integer) as {item}_score" for item in tested)
    select = (
        "select " + ", ".join(f'r."{c}"' for c in columns) + ", "
        "cast(round(s.bmi, 1) as decimal(5,1)) as bmi, s.bmi_category, "
        "cast(s.bmi_score as integer) as bmi_score, "
        + (score_cols + ", " if score_cols else "")
        + "cast(s.standard_score as decimal(5,1)) as standard_score, "
        "cast(s.bonus_score as integer) as bonus_score, "
        "cast(s.total_score as decimal(5,1)) as total_score, s.level, "
        "s.is_low_confidence "
        "from raw_input r join fitness_scores s on s.record_key = r.record_key order by r.record_key"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({select}) to '{out}' (header, delimiter ',')")
    return con.execute("select count(*) from raw_input").fetchone()[0]


@click.group()
def fitness() -> None:
    """学生体质健康：按《国家学生体质健康标准（2014年修订）》评分。"""


@fitness.command()
@click.argument("src", metavar="IN.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出 CSV")
def score(src: Path, out: Path) -> None:
    """按 2014 标准为每名学生评分：BMI、单项得分、标准分、附加分、学年总分、等级。

    Input columns: grade (1–12, U12, U34), sex (1 男, 2 女), height_cm, weight_kg, lung_ml,
    run_50m_s, sit_reach_cm, rope_1min, sit_up_1min, shuttle_50x8_s, standing_long_jump_cm,
    pull_up, run_800m_s, run_1000m_s (blank where not tested). is_low_confidence marks scores
    read from table rows the standards file grades below 'high'.
    """
    with console.status(f"评分中 scoring {src} …"):
        rows = score_file(src, out)
    console.print(f"[green]已评分 {rows} 行[/green] → {out}")

"""Score fitness test records with the SAME SQL the dbt health mart runs.

The scoring rules live once, as Jinja macros in dbt_project/macros/apps/fitness_scoring.sql,
over the seed CSVs in dbt_project/seeds/health/. dbt renders them inside the mart; this module
renders them with plain Jinja and runs them on an in-memory DuckDB over the same seeds.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2

from edulake.settings import DBT_PROJECT_DIR

MACRO_FILE = DBT_PROJECT_DIR / "macros" / "apps" / "fitness_scoring.sql"
SEED_DIR = DBT_PROJECT_DIR / "seeds" / "health"
SEEDS = {
    "fitness_standard": "health_fitness_standard_2014.csv",
    "fitness_weights": "health_fitness_item_weights.csv",
    "fitness_levels": "health_fitness_levels.csv",
}


def _macros():
    source = MACRO_FILE.read_text(encoding="utf-8")
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(source).module


def item_columns() -> dict[str, str]:
    """Standard item code -> measurement column, as the macros define it."""
    pairs = str(_macros().fitness_item_columns()).strip().split(",")
    return dict(p.split(":") for p in pairs)


def load_seeds(con: duckdb.DuckDBPyConnection) -> None:
    # all_varchar: the macros cast every column themselves, exactly as under dbt
    for table, name in SEEDS.items():
        path = SEED_DIR / name
        con.execute(
            f"create or replace table {table} as select * from read_csv(?, header=true, all_varchar=true)",
            [str(path)],
        )


def score_relation(con: duckdb.DuckDBPyConnection, measurements: str) -> str:
    """Create tables fitness_item_scores and fitness_scores for `measurements`; return the latter."""
    m = _macros()
    con.execute(
        "create or replace table fitness_item_scores as "
        + str(m.fitness_item_scores(measurements, "fitness_standard", "fitness_weights"))
    )
    con.execute(
        "create or replace table fitness_scores as "
        + str(m.fitness_record_scores(measurements, "fitness_item_scores", "fitness_weights", "fitness_levels"))
    )
    return "fitness_scores"


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    load_seeds(con)
    return con


def seed_path(key: str) -> Path:
    return SEED_DIR / SEEDS[key]

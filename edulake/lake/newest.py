"""One row per key among a load's accepted rows in `staged` (stage.newest_accepted), on the lake's engine.

The keys repeated in the load are materialised first (stage.REPEATED, dropped with silver.WORK). In most loads
there are none, and the rows are then read without the join back, which carried every selected column through
it (exam rows into Arrow: 1.5-1.8 s instead of 1.8-2.5 s for 3.1 M, 2.5 s instead of 5.5 s for 5.1 M; the
roster's 1.7 M, 0.8-1.0 s instead of 1.1-1.2 s). Silver (natural key) and identity (token) both read through it.
"""

from __future__ import annotations

from edulake.quality import stage


def accepted_sql(engine, select: str, keys: list[str]) -> str:
    """SQL: `select` (expressions over `staged`) for the newest accepted row of each value of `keys`."""
    engine.materialize(stage.REPEATED, stage.repeated_keys_sql(keys))
    (held,) = engine.rows(f"SELECT count(*) AS n FROM {stage.REPEATED}")
    return stage.newest_accepted(select, keys, stage.REPEATED if held["n"] else None)

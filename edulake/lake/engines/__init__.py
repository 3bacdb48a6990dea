"""The lake's engines: where the SQL of edulake.quality.stage runs and how the big tables are written.

  duckdb  (default) DuckDB in process + delta-rs: one machine, no JVM;
  spark   PySpark + delta-spark: the same SQL transpiled by sqlglot, for a cluster (EDULAKE_SPARK_MASTER).
Chosen by EDULAKE_ENGINE (or `edulake ingest --engine`). Each engine lives in one module; everything
else in the lake (landing, the ledger, routing, counts) is shared.
"""

from __future__ import annotations

import os

ENGINES = ("duckdb", "spark")
DEFAULT = "duckdb"


def name(requested: str | None = None) -> str:
    chosen = (requested or os.environ.get("EDULAKE_ENGINE") or DEFAULT).lower()
    if chosen not in ENGINES:
        raise ValueError(f"unknown engine {chosen!r} (EDULAKE_ENGINE / --engine): choose one of {', '.join(ENGINES)}")
    return chosen


_engines: dict = {}


def get(requested: str | None = None):
    """The process-wide engine of that name (one DuckDB connection / one Spark session per process)."""
    chosen = name(requested)
    from edulake import permissions

    permissions.restrict_process()  # every table the lake writes holds personal data: owner-only, any engine
    if chosen not in _engines:
        if chosen == "spark":
            from edulake.lake.engines.spark import SparkEngine

            _engines[chosen] = SparkEngine()
        else:
            from edulake.lake.engines.duckdb import DuckDBEngine

            _engines[chosen] = DuckDBEngine()
    return _engines[chosen]

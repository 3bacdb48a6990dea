"""dbt profiles, generated at run time under $EDULAKE_HOME (never in the repo: they hold local paths).

Targets:
  duckdb (default)  the warehouse file being built; the Delta extension from the duckdb-extension-delta
                    wheel, so nothing downloads (autoinstall off, extension directory under the home)
  spark             dbt-spark, method `session`: the project's own Spark session (Delta jars and conf of
                    edulake.lake.engines.spark.session.get_spark). `edulake build --target spark` starts it
                    before dbt, so dbt-spark's SparkSession.builder.getOrCreate() returns it (a dbt started by
                    hand would build a session without the Delta jars: use edulake build). Tables are Delta
                    under paths().spark_warehouse (macro spark__location_clause).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from edulake import duckdb_extensions
from edulake.settings import Paths

PROFILE = "edulake"
TARGETS = ("duckdb", "spark")
# dbt's DuckDB pool. Unbounded, DuckDB takes up to 80% of the machine, and the one-school-year build at scale 1.0
# peaked at 5.9 GB RSS; bounded to 3 GB it peaked at 3.7 GB in the same time (107 s against 110 s, spilling to
# the builder file's .tmp folder). Eight school years built at once spill several GB (benchmarks/README.md).
BUILD_MEMORY_LIMIT = "3GB"
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def build_memory_limit() -> str | None:
    """dbt's DuckDB memory_limit: EDULAKE_DBT_MEMORY (default BUILD_MEMORY_LIMIT); 0 leaves DuckDB's default."""
    chosen = os.environ.get("EDULAKE_DBT_MEMORY", BUILD_MEMORY_LIMIT).strip()
    if chosen in ("0", ""):
        return None
    if not _SIZE.match(chosen):
        raise ValueError(f"EDULAKE_DBT_MEMORY={chosen!r}: give a size such as 3GB or 2500MB (0: DuckDB's default)")
    return chosen


def dbt_dir(p: Paths) -> Path:
    """dbt's own state for this home: profiles, target/ (manifest, catalog), logs."""
    return p.warehouse_dir / "dbt"


def profile(p: Paths, database_file: Path | str, threads: int = 2, published_file: Path | str = ":memory:") -> dict:
    """`database_file` is the builder's own file, `published_file` the next published one, attached as
    publish.ALIAS (the reader schemas go there; an in-memory stand-in where nothing is published)."""
    from edulake.warehouse import publish

    return {
        PROFILE: {
            "target": "duckdb",
            "outputs": {
                "duckdb": {
                    "type": "duckdb",
                    "path": str(database_file),
                    "threads": threads,
                    "extensions": [str(duckdb_extensions.extension_path("delta"))],
                    "attach": [{"path": str(published_file), "alias": publish.ALIAS}],
                    # must be connection config, not `settings:` (applied too late for the extension dir)
                    "config_options": {
                        "extension_directory": str(p.warehouse_dir / "duckdb_extensions"),
                        "autoinstall_known_extensions": False,
                        "autoload_known_extensions": False,
                        **({"memory_limit": limit} if (limit := build_memory_limit()) else {}),
                    },
                },
                "spark": {
                    "type": "spark",
                    "method": "session",
                    "host": "NA",
                    "schema": "core",
                    "threads": threads,
                    # none: the session is the project's, started by edulake build with all of its conf
                    # (a setting here would be re-applied on every statement, and a static one warned about)
                    "server_side_parameters": {},
                },
            },
        }
    }


def write(p: Paths, database_file: Path | str, threads: int = 2, folder: Path | None = None,
          published_file: Path | str = ":memory:") -> Path:
    """Write profiles.yml for this home (into `folder`, default dbt_dir(p)); returns the profiles directory."""
    folder = folder or dbt_dir(p)
    folder.mkdir(parents=True, exist_ok=True)
    (p.warehouse_dir / "duckdb_extensions").mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(
        yaml.safe_dump(profile(p, database_file, threads, published_file), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder

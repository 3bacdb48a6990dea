"""Every path the platform uses, derived from one variable: EDULAKE_HOME.

A user points the whole platform elsewhere by setting EDULAKE_HOME; nothing else
hard-codes a location. Paths are computed on each call so tests can switch homes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edulake import permissions

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DASHBOARDS_DIR = REPO_ROOT / "dashboards"
SPARK_JOBS_DIR = REPO_ROOT / "spark_jobs"
DAGS_DIR = REPO_ROOT / "dags"


@dataclass(frozen=True)
class Paths:
    home: Path

    # sources arrive here, one folder per feed
    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    # The restricted zone holds everything that carries identifiers in clear:
    # the immutable landing copies, bronze, quarantine and the identity vault.
    @property
    def restricted(self) -> Path:
        return self.lake / "restricted"

    @property
    def landing(self) -> Path:
        return self.restricted / "landing"

    @property
    def bronze(self) -> Path:
        return self.restricted / "bronze"

    @property
    def quarantine(self) -> Path:
        return self.restricted / "quarantine"

    @property
    def identity(self) -> Path:
        return self.restricted / "identity"

    @property
    def silver(self) -> Path:
        return self.lake / "silver"

    @property
    def ops(self) -> Path:
        return self.lake / "ops"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse(self) -> Path:
        """The published, read-only warehouse that readers open."""
        return self.warehouse_dir / "edulake.duckdb"

    @property
    def spark_warehouse(self) -> Path:
        """`edulake build --target spark`: the dbt project's tables as Delta, one folder per schema and table."""
        return self.home / "warehouse-spark"

    @property
    def quality(self) -> Path:
        """GX validation results and Data Docs."""
        return self.home / "quality"

    @property
    def extracts(self) -> Path:
        return self.home / "extracts"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def superset_home(self) -> Path:
        return self.home / "superset"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def spark_dir(self) -> Path:
        """Spark scratch space, metastore and warehouse dir for dbt-spark."""
        return self.home / "spark"

    def create(self) -> Paths:
        """The home and its zones as owner-only (0700) folders: what is beneath them can carry identifiers
        or credentials (edulake.permissions)."""
        for folder in (self.home, self.inbox, self.lake, self.restricted, self.secrets, self.logs):
            permissions.private_dir(folder)
        return self


def home() -> Path:
    return Path(os.environ.get("EDULAKE_HOME", REPO_ROOT / "var")).resolve()


def paths() -> Paths:
    return Paths(home())


def jars_dir() -> Path:
    """Delta jars resolved by Maven (spark_jobs/pom.xml); a set-up artefact, not state."""
    return Path(os.environ.get("EDULAKE_JARS", REPO_ROOT / ".jars")).resolve()

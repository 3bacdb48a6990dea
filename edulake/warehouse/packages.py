"""dbt packages of the project: vendored under dbt_project/packages/ and listed in packages.yml as
`local:` entries, so `dbt deps` only links them into dbt_packages/ (git-ignored); nothing is downloaded."""

from __future__ import annotations

import fcntl
import os

import yaml

from edulake.settings import DBT_PROJECT_DIR


class PackageError(RuntimeError):
    pass


def declared() -> list[str]:
    """Names of the local packages packages.yml lists (the folder name is the package name)."""
    spec = yaml.safe_load((DBT_PROJECT_DIR / "packages.yml").read_text(encoding="utf-8")) or {}
    names = []
    for entry in spec.get("packages") or []:
        if "local" not in entry:
            raise PackageError(f"packages.yml: {entry} is not a local package; packages are vendored, "
                               "never downloaded at build time")
        names.append(os.path.basename(entry["local"].rstrip("/")))
    return names


def install() -> None:
    """`dbt deps` when a declared package is not linked yet (serialised: builds of several homes share
    the project folder)."""
    installed = DBT_PROJECT_DIR / "dbt_packages"
    if all((installed / name / "dbt_project.yml").exists() for name in declared()):
        return
    installed.mkdir(exist_ok=True)
    with open(installed / ".deps.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((installed / name / "dbt_project.yml").exists() for name in declared()):
            return
        from dbt.cli.main import dbtRunner

        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        res = dbtRunner().invoke(["deps", "--project-dir", str(DBT_PROJECT_DIR)])
        if not res.success:
            raise PackageError(f"dbt deps failed: {res.exception}")


if __name__ == "__main__":
    install()

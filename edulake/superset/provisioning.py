"""Provisioning: environment, metadata migration, admin, init, bundle import, roles with row-level security.

`provision()` is the whole of `edulake superset setup` (and what `edulake run` calls to end with the cockpit
reachable). Each step is idempotent; a second run re-imports the bundle in place (same uuids -> same objects).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click

from edulake import permissions, settings, standard
from edulake.superset import bundle, config, server, venv

SCRIPT = Path(__file__).with_name("in_superset.py")
CITY_ROLE = "市教委"


def roles() -> list[dict]:
    """The city role (all rows) and one role per current district, whose filter also covers the district's
    legacy codes (e.g. 崇文区 110103 -> 东城区 110101), from the data standard's district code list."""
    rows = standard.load().codes("district").rows
    out = [{"name": CITY_ROLE, "description": "全市：所有区的数据"}]
    for row in (r for r in rows if r["status"] == "current"):
        codes = sorted(r["code"] for r in rows if r["current_code"] == row["code"])
        out.append({"name": district_role(row["name"]), "codes": codes, "description": f"{row['name']}：仅本区数据"})
    return out


def district_role(district_name: str) -> str:
    return f"{district_name}教委"


def _run(cmd: list[str], what: str, port: int | None = None) -> str:
    result = subprocess.run(cmd, env=config.superset_env(port), capture_output=True, text=True, cwd=config.home())
    if result.returncode != 0:
        raise click.ClickException(f"{what} failed ({' '.join(cmd[:3])} ...):\n{result.stdout[-3000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def run_admin(*, init: bool = False, import_bundle: bool = False, with_roles: bool = False,
              users: list[dict] | None = None, bundle_folder: Path | None = None) -> dict:
    """One app start inside the Superset environment doing the asked steps (see in_superset.py).
    `bundle_folder`: import that bundle instead of the committed dashboards/bundle/."""
    args: dict = {"admin": {"username": config.ADMIN_USER, "email": "admin@edulake.local",
                            "password": config.password(config.ADMIN_USER)},
                  "init": init, "database": "edulake", "users": users or []}
    with tempfile.TemporaryDirectory(prefix="edulake-superset-") as tmp:
        if import_bundle:
            warehouse = settings.paths().warehouse
            if not warehouse.exists():
                raise click.ClickException(f"no published warehouse at {warehouse}: run `edulake build` first")
            args["bundle"] = str(bundle.zip_bundle(warehouse, Path(tmp) / "bundle.zip",
                                                   bundle_folder or config.BUNDLE_DIR))
        if with_roles:
            args["roles"] = roles()
        arg_file = Path(tmp) / "args.json"
        arg_file.write_text(json.dumps(args, ensure_ascii=False))
        out = _run([str(config.python_bin()), str(SCRIPT), str(arg_file)], "Superset provisioning")
    line = [ln for ln in out.splitlines() if ln.startswith("EDULAKE_RESULT ")][-1]
    return json.loads(line.removeprefix("EDULAKE_RESULT "))


def provision(port: int | None = None, start: bool = True,
              progress: Callable[[str], None] = lambda msg: None) -> str | None:
    """Create the environment, migrate, admin + init, import the bundle, roles and RLS; then (by default)
    start the server on 127.0.0.1. Returns the cockpit URL (or None when not started)."""
    permissions.restrict_process()  # superset.db, the admin's password, the bundle's database URI
    steps = time.monotonic()
    progress("Superset 环境 (uv venv + pip install, cached) ...")
    venv.ensure_venv()
    progress("superset db upgrade ...")
    _run([str(config.superset_bin()), "db", "upgrade"], "superset db upgrade")
    progress("管理员、权限、导入看板、区县角色与行级权限 ...")
    result = run_admin(init=True, import_bundle=True, with_roles=True)
    progress(f"导入完成 {result['counts']['dashboards']} dashboards, {result['counts']['charts']} charts, "
             f"{result['counts']['datasets']} datasets ({time.monotonic() - steps:.0f} s)")
    if not start:
        return None
    srv = server.start(port)
    return f"{srv.url}/superset/dashboard/cockpit/"

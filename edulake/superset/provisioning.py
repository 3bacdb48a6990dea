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
# Built-in roles whose permissions include writes (Gamma: create charts and dashboards, import them, export
# the database definition with the warehouse's path) or SQL: never given beside a city or district role.
WRITE_ROLES = ("Admin", "Alpha", "Gamma", "sql_lab")

# What a city or district user may do, and nothing else: open dashboards and charts, use the filters
# (their state and permalinks are stored server-side), download a chart's rows (row-level security
# applies). An allowlist, so that a Superset upgrade adding a permission to Gamma adds nothing here. Not
# included: any can_write on Chart/Dashboard/Dataset/Tag/Theme (import is can_write), any can_export,
# Database and SQL Lab, row-level security rules, cache invalidation, screenshots.
VIEWER_PERMISSIONS = (
    *(("can_read", view) for view in (
        "Chart", "Dashboard", "Dataset", "Explore", "ExploreFormDataRestApi", "ExplorePermalinkRestApi",
        "DashboardFilterStateRestApi", "DashboardPermalinkRestApi", "CurrentUserRestApi", "SecurityRestApi",
        "AdvancedDataType", "AvailableDomains", "CssTemplate", "EmbeddedDashboard", "Tag", "Theme")),
    *(("can_write", view) for view in (
        "ExploreFormDataRestApi", "ExplorePermalinkRestApi", "DashboardFilterStateRestApi",
        "DashboardPermalinkRestApi", "CurrentUserRestApi")),
    *(("can_" + action, "Superset") for action in (
        "dashboard", "slice", "explore", "explore_json", "csv", "dashboard_permalink", "fetch_datasource_metadata",
        "log", "language_pack", "share_chart", "share_dashboard")),
    ("can_query", "Api"), ("can_query_form_data", "Api"), ("can_time_range", "Api"),
    ("can_get", "Datasource"), ("can_external_metadata", "Datasource"), ("can_external_metadata_by_name", "Datasource"),
    ("can_get_drill_info", "Dataset"), ("can_drill", "Dashboard"), ("can_view_chart_as_table", "Dashboard"),
    ("can_get_embedded", "Dashboard"), ("can_recent_activity", "Log"), ("can_list", "AsyncEventsRestApi"),
    ("can_list", "DynamicPlugin"), ("can_show", "DynamicPlugin"), ("can_get", "MenuApi"),
    ("can_userinfo", "UserDBModelView"), ("resetmypassword", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"), ("can_this_form_post", "ResetMyPasswordView"),
    *(("menu_access", menu) for menu in ("Home", "Dashboards", "Charts")),
)


def roles() -> list[dict]:
    """The city role (all rows) and one role per current district, whose filter also covers the district's
    legacy codes (e.g. 崇文区 110103 -> 东城区 110101), from the data standard's district code list."""
    rows = standard.load().codes("district").rows
    viewer = [list(p) for p in VIEWER_PERMISSIONS]
    out = [{"name": CITY_ROLE, "description": "全市：所有区的数据（只读）", "permissions": viewer}]
    for row in (r for r in rows if r["status"] == "current"):
        codes = sorted(r["code"] for r in rows if r["current_code"] == row["code"])
        out.append({"name": district_role(row["name"]), "codes": codes, "permissions": viewer,
                    "description": f"{row['name']}：仅本区数据（只读）"})
    return out


def check_user_roles(user: dict) -> None:
    """A city or district user holds that role alone: beside Gamma (or any write role) it could import
    dashboards and export the database definition again."""
    ours = {r["name"] for r in roles()}
    if ours & set(user["roles"]) and set(user["roles"]) & set(WRITE_ROLES):
        raise click.ClickException(f"user {user['username']}: roles {user['roles']} give a city/district user "
                                   f"write access ({', '.join(sorted(set(user['roles']) & set(WRITE_ROLES)))}); "
                                   "give the city or district role alone")


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
    for user in users or []:
        check_user_roles(user)
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

"""Runs INSIDE the Superset environment (its python, its app context), never imported by edulake itself.

One app start does: the admin user, `superset init` (permissions, built-in roles), the bundle import
(as `superset import-dashboards` does it), the city and district roles with their row-level security
filters, and any users asked for. Input and output are JSON (argv[1] in, stdout's last line out).
Everything is idempotent: objects are found by name/uuid and updated in place.
"""

import json
import sys
import zipfile


def main(args: dict) -> dict:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask import g
        from superset import db
        from superset import security_manager as sm

        out = {}
        admin = sm.find_user(username=args["admin"]["username"])
        if admin is None:
            admin = sm.add_user(args["admin"]["username"], "Admin", "User", args["admin"]["email"],
                                sm.find_role(sm.auth_role_admin), password=args["admin"]["password"])
            out["admin"] = "created"
        else:
            sm.reset_password(admin.id, args["admin"]["password"])
            out["admin"] = "exists"
        if args.get("init"):
            from superset.extensions import appbuilder as ab
            ab.add_permissions(update_perms=True)
            sm.sync_role_definitions()
            db.session.commit()
        if args.get("bundle"):
            out["import"] = import_bundle(args["bundle"], admin)
        if args.get("roles"):
            out["roles"] = ensure_roles(args["roles"], args["database"])
        for user in args.get("users", []):
            ensure_user(user)
        out["counts"] = counts(args["database"])
        db.session.commit()
        g.pop("user", None)
        return out


def import_bundle(path: str, admin) -> dict:
    """Import the bundle so that Superset ends up exactly as committed. A dashboard import with overwrite
    creates its database, datasets and charts but never updates existing ones, so each kind is imported
    first with its own command and overwrite (same uuids: same ids, RLS and roles keep pointing at them)."""
    from flask import g
    from superset.commands.chart.importers.v1 import ImportChartsCommand
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.commands.database.importers.v1 import ImportDatabasesCommand
    from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
    from superset.commands.importers.v1.utils import get_contents_from_bundle

    g.user = admin
    with zipfile.ZipFile(path) as bundle:
        contents = get_contents_from_bundle(bundle)
    for command, model in ((ImportDatabasesCommand, "Database"), (ImportDatasetsCommand, "SqlaTable"),
                           (ImportChartsCommand, "Slice"), (ImportDashboardsCommand, "Dashboard")):
        # each command checks metadata.yaml declares its own model
        typed = {**contents, "metadata.yaml": contents["metadata.yaml"].replace("type: Dashboard", f"type: {model}")}
        command(typed, overwrite=True).run()
    return {"files": len(contents)}


def _datasets(database_name: str):
    from superset import db
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(database_name=database_name).one()
    return db.session.query(SqlaTable).filter_by(database_id=database.id).all()


def ensure_roles(roles: list[dict], database_name: str) -> dict:
    """Each role gets exactly its `permissions` (the read-only viewer set) and reads every dataset of the
    warehouse (datasource_access); anything else it held is taken away. A role with `codes` gets one
    row-level security filter on district_code over all of them. No SQL Lab, no database access, no writes."""
    from superset import db
    from superset import security_manager as sm
    from superset.connectors.sqla.models import RowLevelSecurityFilter

    datasets = _datasets(database_name)
    done = {}
    for spec in roles:
        role = sm.find_role(spec["name"]) or sm.add_role(spec["name"])
        wanted = [sm.find_permission_view_menu("datasource_access", ds.perm) for ds in datasets]
        viewer = [(p, v, sm.find_permission_view_menu(p, v)) for p, v in spec.get("permissions", [])]
        unknown = sorted(f"{p} on {v}" for p, v, pvm in viewer if pvm is None)
        if unknown:  # a Superset upgrade renamed them: fail loudly rather than hand out a broken role
            raise SystemExit(f"role {spec['name']}: Superset has no permission {', '.join(unknown)}")
        exact = [pvm for _p, _v, pvm in viewer] + [pvm for pvm in wanted if pvm is not None]
        role.permissions = list(dict.fromkeys(exact))
        if spec.get("codes"):
            name = f"rls_{spec['name']}"
            rls = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
            if rls is None:
                rls = RowLevelSecurityFilter(name=name)
                db.session.add(rls)
            rls.filter_type = "Regular"
            rls.description = spec.get("description", "")
            rls.clause = "district_code IN ({})".format(", ".join(f"'{c}'" for c in spec["codes"]))
            rls.group_key = "district"
            rls.roles = [role]
            rls.tables = list(datasets)
        done[spec["name"]] = len([p for p in wanted if p is not None])
    db.session.commit()
    return done


def ensure_user(user: dict) -> None:
    from superset import db
    from superset import security_manager as sm

    roles = [sm.find_role(r) for r in user["roles"]]
    existing = sm.find_user(username=user["username"])
    if existing is None:
        sm.add_user(user["username"], user["username"], "edulake", user["email"], roles, password=user["password"])
    else:
        existing.roles = roles
        sm.reset_password(existing.id, user["password"])
    db.session.commit()


def counts(database_name: str) -> dict:
    from superset import db
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    datasets = _datasets(database_name)
    return {"datasets": len(datasets), "charts": db.session.query(Slice).count(),
            "dashboards": db.session.query(Dashboard).count(),
            "dataset_ids": sorted(d.id for d in datasets),
            "chart_ids": sorted(s.id for s in db.session.query(Slice).all()),
            "changed_on": max([str(d.changed_on) for d in datasets] or [""])}


if __name__ == "__main__":
    result = main(json.loads(open(sys.argv[1]).read()))
    print("EDULAKE_RESULT " + json.dumps(result, default=str))

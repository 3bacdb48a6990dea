"""The cockpit on a real Superset (its own environment) over the built warehouse, checked through REST and a
real headless Chromium. Provisioning is paid once per run (module fixture); the Superset venv is cached in
<repo>/.superset-venv across runs. Screenshots go to test-artifacts/superset/.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess

import click
import duckdb
import pytest

from edulake import settings
from edulake.superset import bundle, checks, config, provisioning, server, spec

ARTIFACTS = settings.REPO_ROOT / "test-artifacts" / "superset"
DISTRICT = "110101"  # 东城区 (its legacy code 110103 belongs to it too)
OTHER_DISTRICT = "110105"  # 朝阳区
DISTRICT_USER = {"username": "dongcheng", "email": "dongcheng@edulake.local", "password": "district-test-pw",
                 "roles": [provisioning.district_role("东城区")]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def superset_url(built_home):
    first = provisioning.provision(start=False)
    assert first is None
    provisioning.run_admin(users=[DISTRICT_USER])
    port = _free_port()
    srv = server.start(port)
    yield srv.url
    server.stop()


@pytest.fixture(scope="module")
def admin(superset_url):
    return checks.Client(superset_url, config.ADMIN_USER, config.password())


def test_committed_bundle_matches_the_spec():
    files = bundle.render()
    on_disk = {str(p.relative_to(config.BUNDLE_DIR)): p.read_text() for p in config.BUNDLE_DIR.rglob("*.yaml")}
    assert on_disk == files, "dashboards/bundle/ drifted from edulake/superset/spec.py: run `edulake superset bundle`"


def test_datasets_read_the_marts_figures_without_rederiving_them():
    """Rates and district names are columns of the marts: a dataset selects one mart table (no join, no
    arithmetic) and a metric aggregates one column; no '全部' sentinel is filtered on."""
    aggregate = re.compile(r"(SUM|MAX|COUNT)\((DISTINCT )?[a-z_]+\)|COUNT\(\*\)")
    for ds in spec.DATASETS:
        assert len(_tables(ds)) == 1 and not re.search(r"\bjoin\b|/|nullif|\bcase\b", ds.sql, re.I), ds.key
        for name, (expression, _label) in ds.metrics.items():
            assert aggregate.fullmatch(expression), (ds.key, name, expression)
    filters = [f["sqlExpression"] for d in spec.DASHBOARDS for c in d.charts for f in c.params.get("adhoc_filters", [])]
    assert filters and not any("全部" in f for f in filters)


def test_every_chart_returns_rows(admin, built_home):
    charts = admin.charts()
    assert {c["slice_name"] for c in charts} == {c.title for d in spec.DASHBOARDS for c in d.charts}
    empty_tables = _empty_mart_tables(built_home)
    failures, empty = [], []
    for chart in charts:
        result = admin.chart_data(chart)
        if result.get("error"):
            failures.append((chart["slice_name"], result["error"]))
        elif not result["rowcount"]:
            empty.append(chart["slice_name"])
    assert not failures, failures
    # a chart may only be empty when the mart it reads is empty in this (small) build
    expected_empty = {c.title for d in spec.DASHBOARDS for c in d.charts if set(_tables(c.dataset)) & empty_tables}
    assert set(empty) <= expected_empty, (empty, empty_tables)
    assert len(empty) < len(charts) / 2, empty


def _tables(ds: spec.Dataset) -> list[str]:
    return re.findall(r"\b(?:from|join)\s+([a-z_]+\.[a-z_]+)", ds.sql)


def _empty_mart_tables(home) -> set[str]:
    con = duckdb.connect(str(settings.paths().warehouse), read_only=True)
    try:
        names = {t for ds in spec.DATASETS for t in _tables(ds)}
        return {t for t in names if con.execute(f"select count(*) from {t}").fetchone()[0] == 0}
    finally:
        con.close()


def with_district_code(columns: list) -> list:
    """The chart's columns and district_code, once: a chart showing it already (运行告警) would be refused
    with a duplicate label."""
    return [*columns, *([] if "district_code" in columns else ["district_code"])]


def test_district_user_sees_only_its_district(superset_url, admin):
    codes = _district_codes()
    assert DISTRICT in codes
    district = checks.Client(superset_url, DISTRICT_USER["username"], DISTRICT_USER["password"])
    checked = 0
    for chart in admin.charts():
        form_columns = checks.query_context(chart)["queries"][0]["columns"]
        ctx = checks.query_context(chart)
        # ask for district_code beside the chart's own columns, so every returned row shows whose it is
        ctx["queries"][0]["columns"] = with_district_code(form_columns)
        r = district.http.post(f"{superset_url}/api/v1/chart/data", json=ctx, timeout=300)
        assert r.status_code == 200, (chart["slice_name"], r.text[:300])
        rows = r.json()["result"][0]["data"]
        assert {row["district_code"] for row in rows} <= set(codes), chart["slice_name"]
        all_rows = admin.http.post(f"{superset_url}/api/v1/chart/data", json=ctx, timeout=300).json()["result"][0]["data"]
        checked += bool(rows)
        assert len(rows) <= len(all_rows)
        if {row["district_code"] for row in all_rows} - set(codes):
            assert len(rows) < len(all_rows), chart["slice_name"]
    assert checked > 0, "the district user saw no rows at all"
    # no SQL Lab for district roles: DuckDB could read local files through raw SQL
    assert district.http.get(f"{superset_url}/api/v1/sqllab/", timeout=60).status_code in (401, 403, 404)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium missing: `make browser` installs it")
def test_dashboards_render_in_chromium(superset_url, admin, built_home):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    slugs = [d.slug for d in spec.DASHBOARDS]
    assert {d["slug"] for d in admin.dashboards()} == set(slugs)
    result = subprocess.run([str(config.python_bin()), str(settings.REPO_ROOT / "edulake" / "superset" / "screenshot.py"),
                             superset_url, config.ADMIN_USER, config.password(), str(ARTIFACTS), *slugs],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    shots = {s["slug"]: s for s in (json.loads(line[5:]) for line in result.stdout.splitlines()
                                       if line.startswith("SHOT "))}
    assert set(shots) == set(slugs), result.stdout[-2000:]
    for slug, s in shots.items():
        assert (ARTIFACTS / f"{slug}.png").stat().st_size > 20_000, slug
        # a blank or error page is near-uniform; rendered charts give spread and many colours
        assert s["width"] >= 1000 and s["stddev"] > 3 and s["colours"] > 200, (slug, s)
    # charts drew data (canvas/table/number), except on a dashboard whose marts are all empty in this build
    empty_tables = _empty_mart_tables(built_home)
    for d in spec.DASHBOARDS:
        if not all(set(_tables(c.dataset)) <= empty_tables for c in d.charts):
            assert shots[d.slug]["drawn"] > 0, (d.slug, shots[d.slug])


def test_second_import_is_a_no_op(admin):
    before = provisioning.run_admin()["counts"]
    again = provisioning.run_admin(import_bundle=True, with_roles=True)["counts"]
    assert {k: again[k] for k in ("datasets", "charts", "dashboards", "dataset_ids", "chart_ids")} == \
        {k: before[k] for k in ("datasets", "charts", "dashboards", "dataset_ids", "chart_ids")}
    assert len(admin.dashboards()) == len(spec.DASHBOARDS)


def test_an_edited_bundle_updates_the_existing_objects(admin, tmp_path):
    """The bundle is the truth: a changed chart is updated in place (same id), and the committed bundle
    restores it."""
    edited = tmp_path / "bundle"
    shutil.copytree(config.BUNDLE_DIR, edited)
    chart_file = edited / "charts" / "kpi_students.yaml"
    title = spec.COCKPIT_CHARTS[0].title
    chart_file.write_text(chart_file.read_text(encoding="utf-8").replace(title, title + "（改）"), encoding="utf-8")
    ids = {c["slice_name"]: c["id"] for c in admin.charts()}
    provisioning.run_admin(import_bundle=True, bundle_folder=edited)
    after = {c["slice_name"]: c["id"] for c in admin.charts()}
    assert after.get(title + "（改）") == ids[title] and title not in after
    provisioning.run_admin(import_bundle=True)
    assert {c["slice_name"]: c["id"] for c in admin.charts()} == ids


# --- access abuse (issue 19): what a district user must not be able to do, and what the warehouse
# connection must refuse whoever asks ---------------------------------------------------------------

@pytest.fixture(scope="module")
def district(superset_url):
    return checks.Client(superset_url, DISTRICT_USER["username"], DISTRICT_USER["password"])


def _district_codes() -> set[str]:
    return set(next(r["codes"] for r in provisioning.roles() if r["name"] == DISTRICT_USER["roles"][0]))


def test_a_district_user_cannot_also_hold_a_write_role():
    with pytest.raises(click.ClickException, match="Gamma"):
        provisioning.check_user_roles({**DISTRICT_USER, "roles": ["Gamma", *DISTRICT_USER["roles"]]})


def test_district_role_is_read_only(superset_url, admin, district, tmp_path):
    url = superset_url
    warehouse = str(settings.paths().warehouse)
    chart = admin.charts()[0]
    dash = admin.dashboards()[0]
    dataset_id = chart["datasource_id"]
    database_id = admin.get(f"/api/v1/dataset/{dataset_id}")["result"]["database"]["id"]
    dashboards_before = len(admin.dashboards())
    bundle_zip = bundle.zip_bundle(settings.paths().warehouse, tmp_path / "bundle.zip")
    http = district.http
    with open(bundle_zip, "rb") as f:
        imported = http.post(f"{url}/api/v1/dashboard/import/", files={"formData": ("bundle.zip", f, "application/zip")},
                             data={"overwrite": "true"}, timeout=120)
    writes = {
        "import dashboards": imported,
        "create chart": http.post(f"{url}/api/v1/chart/", json={"slice_name": "x", "viz_type": "table",
                                                                "datasource_id": dataset_id, "datasource_type": "table"},
                                  timeout=60),
        "create dashboard": http.post(f"{url}/api/v1/dashboard/", json={"dashboard_title": "x"}, timeout=60),
        "edit chart": http.put(f"{url}/api/v1/chart/{chart['id']}", json={"slice_name": "x"}, timeout=60),
        "delete dashboard": http.delete(f"{url}/api/v1/dashboard/{dash['id']}", timeout=60),
        "create dataset": http.post(f"{url}/api/v1/dataset/", json={"database": database_id, "table_name": "x",
                                                                    "sql": "select 1"}, timeout=60),
    }
    reads = {  # each would show the database definition, with the warehouse's path
        "export chart": http.get(f"{url}/api/v1/chart/export/", params={"q": f"!({chart['id']})"}, timeout=60),
        "export dashboard": http.get(f"{url}/api/v1/dashboard/export/", params={"q": f"!({dash['id']})"}, timeout=60),
        "export dataset": http.get(f"{url}/api/v1/dataset/export/", params={"q": f"!({dataset_id})"}, timeout=60),
        "export database": http.get(f"{url}/api/v1/database/export/", params={"q": f"!({database_id})"}, timeout=60),
        "list databases": http.get(f"{url}/api/v1/database/", timeout=60),
        "show database": http.get(f"{url}/api/v1/database/{database_id}", timeout=60),
        "database connection": http.get(f"{url}/api/v1/database/{database_id}/connection", timeout=60),
        "sql lab": http.post(f"{url}/api/v1/sqllab/execute/", json={"database_id": database_id, "sql": "select 1",
                                                                     "runAsync": False, "client_id": "probe1"},
                             timeout=60),
        "rls rules": http.get(f"{url}/api/v1/rowlevelsecurity/", timeout=60),
    }
    allowed = {name: r.status_code for name, r in {**writes, **reads}.items() if r.status_code < 400}
    assert not allowed, allowed
    assert len(admin.dashboards()) == dashboards_before
    # what a viewer needs still works, and none of it names the warehouse file
    views = [http.get(f"{url}/api/v1/dashboard/{dash['id']}", timeout=60),
             http.get(f"{url}/api/v1/dashboard/{dash['id']}/charts", timeout=60),
             http.get(f"{url}/api/v1/dashboard/{dash['id']}/datasets", timeout=60),
             http.get(f"{url}/api/v1/chart/{chart['id']}", timeout=60),
             http.get(f"{url}/api/v1/dataset/{dataset_id}", timeout=60)]
    assert [r.status_code for r in views] == [200] * len(views), [(r.url, r.text[:200]) for r in views]
    assert not [r.url for r in [*views, *writes.values(), *reads.values()] if warehouse in r.text]


def _district_chart(admin):
    """A chart whose dataset has district_code, with its query context."""
    for chart in admin.charts():
        ctx = checks.query_context(chart)
        ctx["queries"][0]["columns"] = with_district_code(ctx["queries"][0]["columns"])
        if admin.http.post(f"{admin.url}/api/v1/chart/data", json=ctx, timeout=300).status_code == 200:
            return chart, ctx
    raise AssertionError("no chart with district_code")


def test_filters_and_sql_in_a_chart_query_do_not_widen_the_district(superset_url, admin, district):
    chart, base = _district_chart(admin)
    codes = _district_codes()
    q = base["queries"][0]
    probes = {
        "where, other district": {"extras": {**q["extras"], "where": f"district_code = '{OTHER_DISTRICT}'"}},
        "where, or-true": {"extras": {**q["extras"], "where": "1=1) OR (1=1"}},
        "where, comment": {"extras": {**q["extras"], "where": "1=1 OR 1=1 --"}},
        "where, subquery": {"extras": {**q["extras"], "where": "district_code IN (SELECT district_code FROM core.dim_district)"}},
        "where, file": {"extras": {**q["extras"], "where": "EXISTS (SELECT 1 FROM read_csv('/etc/passwd'))"}},
        "filter, other districts": {"filters": [{"col": "district_code", "op": "IN", "val": [OTHER_DISTRICT, *codes]}]},
        "metric, file": {"metrics": [{"expressionType": "SQL", "label": "m",
                                      "sqlExpression": "(SELECT count(*) FROM read_csv('/etc/passwd'))"}]},
        "column, subquery": {"columns": [*q["columns"], {"expressionType": "SQL", "label": "c",
                                                       "sqlExpression": "(SELECT max(district_code) FROM core.dim_district)"}]},
        "having, union": {"extras": {**q["extras"], "having": "1=1 UNION SELECT * FROM core.dim_district"}},
    }
    answered = 0
    for name, change in probes.items():
        ctx = json.loads(json.dumps(base))
        ctx["queries"][0].update(change)
        r = district.http.post(f"{superset_url}/api/v1/chart/data", json=ctx, timeout=300)
        assert "root:" not in r.text, name
        if r.status_code != 200:
            continue  # refused
        rows = r.json()["result"][0]["data"]
        assert {row["district_code"] for row in rows} <= codes, (name, chart["slice_name"])
        if name == "where, other district":
            assert rows == []
        answered += 1
    assert answered >= 2  # the harmless ones ran: the refusals are not a broken query


def _probe(statements: list[str]) -> dict[str, dict]:
    result = subprocess.run([str(config.python_bin()), str(settings.REPO_ROOT / "tests" / "e2e" / "superset_sql_probe.py"),
                             "edulake", json.dumps(statements)], env=config.superset_env(), cwd=config.home(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("PROBE ")][-1]
    return {r["sql"]: r for r in json.loads(line.removeprefix("PROBE "))}


def test_the_warehouse_connection_refuses_files_extensions_and_settings(superset_url, admin, built_home):
    vault = settings.paths().identity
    assert any(vault.rglob("*.parquet")), vault
    refused = [
        "SELECT * FROM read_csv('/etc/passwd')",
        f"SELECT * FROM read_parquet('{vault}/**/*.parquet')",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"ATTACH '{built_home / 'probe.duckdb'}' AS probe",
        "COPY (SELECT 1) TO '/tmp/edulake-probe.csv'",
    ]
    control = "SELECT count(*) FROM core.dim_district"
    results = _probe([control, *refused])
    assert results[control]["ok"] and int(results[control]["rows"][0][0]) > 0, results[control]
    ran = {sql: r["rows"] for sql, r in results.items() if sql != control and r["ok"]}
    assert not ran, ran
    assert "disabled by configuration" in results[refused[0]]["error"]
    assert "locked" in results["SET enable_external_access = true"]["error"]
    # and through Superset's own SQL path, as an admin (district roles have none)
    database_id = admin.get(f"/api/v1/dataset/{admin.charts()[0]['datasource_id']}")["result"]["database"]["id"]
    r = admin.http.post(f"{superset_url}/api/v1/sqllab/execute/", timeout=120,
                        json={"database_id": database_id, "sql": refused[0], "runAsync": False, "client_id": "probe2"})
    assert r.status_code >= 400 and "root:" not in r.text, r.text[:500]
    assert "disabled by configuration" in r.text, r.text[:500]

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

import duckdb
import pytest

from edulake import settings
from edulake.superset import bundle, checks, config, provisioning, server, spec

ARTIFACTS = settings.REPO_ROOT / "test-artifacts" / "superset"
DISTRICT = "110101"  # 东城区 (its legacy code 110103 belongs to it too)
DISTRICT_USER = {"username": "dongcheng", "email": "dongcheng@edulake.local", "password": "district-test-pw",
                 "roles": ["Gamma", provisioning.district_role("东城区")]}


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


def test_district_user_sees_only_its_district(superset_url, admin):
    codes = next(r["codes"] for r in provisioning.roles() if r["name"] == DISTRICT_USER["roles"][1])
    assert DISTRICT in codes
    district = checks.Client(superset_url, DISTRICT_USER["username"], DISTRICT_USER["password"])
    checked = 0
    for chart in admin.charts():
        form_columns = checks.query_context(chart)["queries"][0]["columns"]
        ctx = checks.query_context(chart)
        # ask for district_code beside the chart's own columns, so every returned row shows whose it is
        ctx["queries"][0]["columns"] = [*form_columns, "district_code"]
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

"""Render the spec (spec.py) into Superset's YAML import bundle, and zip it for one EDULAKE_HOME.

dashboards/bundle/ is the committed, reviewable output (`edulake superset bundle` rewrites it; a test checks it
matches the spec). The database URI depends on EDULAKE_HOME, so the committed file holds a placeholder that
`zip_bundle()` fills with the published warehouse's absolute path at import time.
UUIDs are derived from names (uuid5), so a re-import updates the same objects instead of adding new ones.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import yaml

from edulake.superset import config, spec

NAMESPACE = uuid.UUID("6f1d3c52-8a57-4c1e-9d0b-ed0ca1e00001")
WAREHOUSE_PLACEHOLDER = "{{EDULAKE_WAREHOUSE}}"
VERSION = "1.0.0"
ROOT = "edulake_bundle"


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


# How Superset opens the warehouse (duckdb.connect arguments). Read-only: Superset never writes to the
# published warehouse, and a rebuild can rename over it. Sealed: DuckDB SQL can read and write local files
# and URLs (read_csv('/etc/passwd'), the identity vault's Parquet, COPY … TO) and install extensions; with
# external access off only the warehouse file itself is reachable, and the lock refuses any `SET` that
# would reopen it from a query.
WAREHOUSE_CONNECT_ARGS = {
    "read_only": True,
    "config": {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "lock_configuration": True,
    },
}


def _database() -> dict:
    return {
        "database_name": spec.DATABASE,
        "sqlalchemy_uri": f"duckdb:///{WAREHOUSE_PLACEHOLDER}",
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {"engine_params": {"connect_args": WAREHOUSE_CONNECT_ARGS}, "allows_virtual_table_explore": True,
                  "metadata_params": {}, "schemas_allowed_for_file_upload": []},
        "uuid": uid("database", spec.DATABASE),
        "version": VERSION,
    }


def _column(name: str, label: str, ds: spec.Dataset) -> dict:
    kind = "DATE" if name in ds.temporal else "DOUBLE" if name in ds.numeric else "VARCHAR"
    return {"column_name": name, "verbose_name": label, "is_dttm": name in ds.temporal, "is_active": True,
            "type": kind, "advanced_data_type": None, "groupby": True, "filterable": True, "expression": None,
            "description": None, "python_date_format": None, "extra": {}}


def _dataset(ds: spec.Dataset) -> dict:
    return {
        "table_name": ds.key,
        "main_dttm_col": ds.temporal[0] if ds.temporal else None,
        "description": ds.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": "main",
        "sql": ds.sql,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": uid("dataset", ds.key),
        "metrics": [{"metric_name": name, "verbose_name": label, "metric_type": None, "expression": expr,
                     "description": None, "d3format": None, "currency": None, "extra": {}, "warning_text": None}
                    for name, (expr, label) in ds.metrics.items()],
        "columns": [_column(name, label, ds) for name, label in ds.columns.items()],
        "version": VERSION,
        "database_uuid": uid("database", spec.DATABASE),
    }


def _chart(chart: spec.Chart) -> dict:
    return {
        "slice_name": chart.title,
        "description": None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz,
        "params": {"viz_type": chart.viz, "datasource": f"__{chart.dataset.key}", **chart.params},
        "query_context": None,
        "cache_timeout": None,
        "uuid": uid("chart", chart.key),
        "version": VERSION,
        "dataset_uuid": uid("dataset", chart.dataset.key),
    }


def _position(dash: spec.Dashboard) -> dict:
    """Charts laid out in rows of at most 12 grid units, in spec order."""
    pos: dict = {"DASHBOARD_VERSION_KEY": "v2",
                 "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
                 "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
                 "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dash.title}}}
    rows: list[list[spec.Chart]] = []
    for chart in dash.charts:
        if not rows or sum(c.width for c in rows[-1]) + chart.width > 12:
            rows.append([])
        rows[-1].append(chart)
    for i, row in enumerate(rows, 1):
        row_id = f"ROW-{dash.slug}-{i}"
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart in row:
            chart_id = f"CHART-{chart.key}"
            number = _chart_number(dash, chart)
            pos[row_id]["children"].append(chart_id)
            pos[chart_id] = {"type": "CHART", "id": chart_id, "children": [],
                             "parents": ["ROOT_ID", "GRID_ID", row_id],
                             "meta": {"width": chart.width, "height": chart.height, "chartId": number,
                                      "uuid": uid("chart", chart.key), "sliceName": chart.title}}
    return pos


def _chart_number(dash: spec.Dashboard, chart: spec.Chart) -> int:
    """The chart's id within this bundle's dashboard: Superset's import maps these (via the position's uuid)
    to the imported charts' ids, in the layout and in the filters' scopes."""
    return dash.charts.index(chart) + 1


def _over_years(chart: spec.Chart) -> bool:
    """Charts a year-of-record filter must not touch: those that show the school years themselves (trends,
    big numbers with 同比), which it would collapse to one point, and forecasts of future years."""
    return (chart.viz == "big_number" or chart.params.get("x_axis") == "school_year"
            or chart.dataset.key in spec.FORECAST_DATASETS)


def _native_filter(dash: spec.Dashboard, f: spec.Filter) -> dict:
    # the year filter opens on the latest school year (first item, newest first), single choice: a
    # district breakdown summed over every year would contradict the headline numbers
    latest = f.column == "school_year"
    excluded = [_chart_number(dash, c) for c in dash.charts if _over_years(c)] if latest else []
    return {
        "id": f"NATIVE_FILTER-{dash.slug}-{f.column}",
        "name": f.name,
        "filterType": "filter_select",
        "targets": [{"datasetUuid": uid("dataset", f.dataset.key), "column": {"name": f.column}}],
        "controlValues": {"enableEmptyFilter": latest, "defaultToFirstItem": latest, "multiSelect": not latest,
                          "searchAllOptions": False, "inverseSelection": False, "sortAscending": not latest},
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
        "type": "NATIVE_FILTER",
        "description": "默认最新学年 (latest school year by default)" if latest else "",
        "chartsInScope": [],  # the dashboard derives it from `scope` (the importer remaps only `excluded`)
        "tabsInScope": [],
        **({"requiredFirst": True} if latest else {}),
    }


def _dashboard(dash: spec.Dashboard) -> dict:
    return {
        "dashboard_title": dash.title,
        "description": None,
        "css": "",
        "slug": dash.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": uid("dashboard", dash.slug),
        "position": _position(dash),
        "metadata": {"native_filter_configuration": [_native_filter(dash, f) for f in dash.filters],
                     "color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                     "label_colors": {}, "shared_label_colors": [], "timed_refresh_immune_slices": [],
                     "cross_filters_enabled": True, "default_filters": "{}", "chart_configuration": {},
                     "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                                                    "chartsInScope": []}},
        "version": VERSION,
    }


def render() -> dict[str, str]:
    """relative path -> YAML text, for the whole bundle."""
    def dump(obj: dict) -> str:
        return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=120)

    files = {"metadata.yaml": dump({"version": VERSION, "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"}),
             f"databases/{spec.DATABASE}.yaml": dump(_database())}
    charts = {c.key: c for d in spec.DASHBOARDS for c in d.charts}
    for ds in spec.DATASETS:
        files[f"datasets/{spec.DATABASE}/{ds.key}.yaml"] = dump(_dataset(ds))
    for chart in charts.values():
        files[f"charts/{chart.key}.yaml"] = dump(_chart(chart))
    for dash in spec.DASHBOARDS:
        files[f"dashboards/{dash.slug}.yaml"] = dump(_dashboard(dash))
    return files


def write(folder: Path = config.BUNDLE_DIR) -> list[Path]:
    """Rewrite the committed bundle from the spec (files no longer in the spec are removed)."""
    files = render()
    for old in folder.rglob("*.yaml") if folder.exists() else []:
        if str(old.relative_to(folder)) not in files:
            old.unlink()
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def zip_bundle(warehouse: Path, out: Path, folder: Path = config.BUNDLE_DIR) -> Path:
    """The committed bundle as an import zip, with the database URI pointing at `warehouse` (absolute)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path in sorted(folder.rglob("*.yaml")):
            text = path.read_text().replace(WAREHOUSE_PLACEHOLDER, str(Path(warehouse).resolve()))
            z.writestr(f"{ROOT}/{path.relative_to(folder)}", text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    return out

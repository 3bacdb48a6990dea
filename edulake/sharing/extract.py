"""District data packages: $EDULAKE_HOME/extracts/<district>/<build>/ with Parquet, CSV (UTF-8 + BOM) and
manifest.json.

The build id is a fingerprint of the package's own content (every file's SHA-256, the district, the year and
the standard's version), so a rebuild over unchanged data lands in the same folder with the same bytes and
changes nothing; a changed warehouse gives a new build beside the old ones. `latest` names the newest.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from edulake import settings, standard
from edulake.files import sha256_of
from edulake.sharing import arrowio, audit, catalog, config


@dataclass(frozen=True)
class Package:
    district: str
    build: str
    path: Path
    rows: int
    unchanged: bool


def open_warehouse() -> duckdb.DuckDBPyConnection:
    path = settings.paths().warehouse
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}: run `edulake build` first")
    return duckdb.connect(str(path), read_only=True)


def extract(districts: list[str] | None = None, year: int | None = None) -> list[Package]:
    """Write the packages of the given districts (default: all 16) for one school year (default: all)."""
    actor = f"cli:{getpass.getuser()}"
    con = open_warehouse()
    try:
        codes = catalog.district_codes(con)
        names = catalog.district_names(con)
        for d in districts or []:
            if not catalog.DISTRICT.fullmatch(d):
                raise ValueError(f"malformed district code {d!r}: six digits (GB/T 2260), e.g. 110108")
            if d not in names:
                raise ValueError(f"{d} is not one of the 16 current districts: {', '.join(sorted(names))}")
        if year is not None:
            years = {r[0] for r in con.execute("select distinct school_year from core.fct_enrollment").fetchall()}
            if year not in years:
                raise ValueError(f"no school year {year} in the warehouse; it holds {sorted(years)}")
        packages = []
        for d in districts or sorted(names):
            started = time.monotonic()
            package = _write_package(con, d, names[d], codes[d], year)
            packages.append(package)
            audit.append([audit.Entry(actor, "extract", "extract", "ok", scope="cli", district=d,
                                      resource=f"{d}/{package.build}", rows=package.rows,
                                      detail={"school_year": year, "unchanged": package.unchanged,
                                              "seconds": round(time.monotonic() - started, 3)})])
        return packages
    finally:
        con.close()


def _write_package(con, district: str, name: str, codes: list[str], year: int | None) -> Package:
    root = settings.paths().extracts / district
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        tables, total = [], 0
        for t in catalog.TABLES:
            sql, params = catalog.select_sql(con, t, codes, year)
            data = arrowio.query(con, sql, params)
            files = []
            for fmt, writer in (("parquet", arrowio.write_parquet), ("csv", arrowio.write_csv)):
                path = tmp / f"{t.name}.{fmt}"
                writer(data, path)
                files.append({"path": path.name, "format": fmt, "bytes": path.stat().st_size,
                              "sha256": sha256_of(path)})
            tables.append({
                "name": t.name, "label": t.label, "source": t.relation, "rows": data.num_rows,
                "small_cell_suppression": t.is_aggregate,
                "columns": [{"name": c.name, "type": c.type, "label": c.label} for c in catalog.columns(con, t)],
                "files": files,
            })
            total += data.num_rows
        std = standard.load()
        identity = {"district": district, "school_year": year, "standard_version": std.version,
                    "files": {f["path"]: f["sha256"] for t in tables for f in t["files"]}}
        build = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
        manifest = {
            "package": "edulake 区级共享数据包 (district data package)",
            "district": district, "district_name": name, "district_codes": codes,
            "school_year": year, "build": build,
            "standard": {"name": std.name, "version": std.version},
            "privacy": {"identifiers": "none: surrogate keys (student_key, student_xyear_key) only",
                        "min_cell_size": config.min_cell_size()},
            "tables": tables,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
        final = root / build
        unchanged = final.exists()
        if not unchanged:
            tmp.rename(final)  # appears whole or not at all
        _point_latest(root, build)
        return Package(district, build, final, total, unchanged)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _point_latest(root: Path, build: str) -> None:
    tmp = root / ".latest.tmp"
    tmp.write_text(build + "\n", encoding="utf-8")
    tmp.replace(root / "latest")

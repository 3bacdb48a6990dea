"""The sharing step of the build: every district's package and the shared Delta tables, from the warehouse
just published (the build DAG's `share_extracts` task; `edulake extract` without options does the same)."""

from __future__ import annotations


def publish_all() -> dict:
    from edulake.sharing import extract, shares

    packages = extract.extract()
    tables = shares.publish()
    return {"packages": {p.district: p.build for p in packages},
            "rows": sum(p.rows for p in packages), "shared_tables": tables}

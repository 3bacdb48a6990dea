"""The holistic education database: dbt over the silver lake, published atomically as one DuckDB file."""

from __future__ import annotations


def build(select=None, target="duckdb", **kwargs):
    """`dbt build` and publish (see edulake.warehouse.runner.build)."""
    from edulake.warehouse.runner import build as _build

    return _build(select=select, target=target, **kwargs)

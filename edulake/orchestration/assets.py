"""The Airflow Assets of the platform: one per silver entity (derived from schemas/) and the warehouse.

URIs use a private scheme (x-edulake://) rather than file paths, so an asset keeps its identity when
EDULAKE_HOME moves; where it lives on disk is in `extra`.
"""

from __future__ import annotations

from airflow.sdk import Asset

from edulake import settings, standard

SCHEME = "x-edulake"


def silver_asset(entity: str) -> Asset:
    return Asset(
        name=f"silver.{entity}",
        uri=f"{SCHEME}://silver/{entity}",
        group="silver",
        extra={"path": str(settings.paths().silver / entity), "format": "delta"},
    )


def feed_assets(feed: str) -> list[Asset]:
    return [silver_asset(t.entity) for t in standard.load().feed(feed).tables]


def silver_assets() -> list[Asset]:
    return [silver_asset(t.entity) for t in standard.load().tables()]


def warehouse_asset() -> Asset:
    return Asset(
        name="warehouse",
        uri=f"{SCHEME}://warehouse/edulake.duckdb",
        group="warehouse",
        extra={"path": str(settings.paths().warehouse), "format": "duckdb"},
    )

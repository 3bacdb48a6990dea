"""edulake's own OpenLineage facets. The standard has no facet for "which delivery is this": a landed batch
(id, SHA-256, when it arrived) is a custom dataset facet, named with the `edulake_` prefix as the spec asks
of custom facets. The checksum is also the standard DatasetVersionDatasetFacet (a file's version is its bytes)."""

from __future__ import annotations

import attr
from openlineage.client.facet_v2 import DatasetFacet, RunFacet

SCHEMA_BASE = "https://github.com/edulake/edulake/blob/main/docs/lineage-facets.md"


@attr.define
class EdulakeBatchDatasetFacet(DatasetFacet):
    """A landed source file: its batch, checksum, arrival (landing time, Asia/Shanghai) and what became of it."""

    batchId: str  # noqa: N815
    sha256: str
    sourceFile: str  # noqa: N815
    arrivedAt: str  # noqa: N815
    table: str  # the standard's table (feed.table)
    entity: str  # the silver entity its accepted rows went to
    status: str | None = attr.field(default=None)  # ledger status after this run
    rowsReceived: int | None = attr.field(default=None)  # noqa: N815
    rowsAccepted: int | None = attr.field(default=None)  # noqa: N815
    rowsQuarantined: int | None = attr.field(default=None)  # noqa: N815
    rowsCollapsed: int | None = attr.field(default=None)  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        return f"{SCHEMA_BASE}#EdulakeBatchDatasetFacet"


@attr.define
class EdulakeIngestRunFacet(RunFacet):
    """What a feed ingest did: engine, batches moved and rejected (rejections are data outcomes, not a FAIL)."""

    feed: str
    engine: str
    batchesLoaded: int = 0  # noqa: N815
    batchesRejected: int = 0  # noqa: N815
    filesUnchanged: int = 0  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        return f"{SCHEMA_BASE}#EdulakeIngestRunFacet"

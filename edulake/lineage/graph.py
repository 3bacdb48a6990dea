"""Upstream and downstream of a lake table or a warehouse model (column), for `edulake lineage`.

Three sources, each the authority for its part of the path:
  - the warehouse: dbt's manifest of the last build (models, seeds, snapshots and their parents; a column
    is checked against its model's declared columns — the marts have contracts); silver sources are the
    lake's silver tables;
  - the lake: ops/lineage, the OpenLineage runs of every feed ingest (landing file -> silver entity), with
    the batch facts from the ledger (ops/batches: batch id, file, SHA-256, arrival, counts);
  - the dashboards: edulake.superset.spec (which charts read which mart).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from edulake import settings
from edulake.lineage import names, store


class LineageError(ValueError):
    pass


@dataclass
class Batch:
    batch_id: str
    source_file: str
    sha256: str
    arrived_at: str
    feed: str
    table: str
    entity: str
    status: str | None
    rows_received: int | None
    rows_accepted: int | None
    rows_quarantined: int | None
    run_id: str | None  # the lake run that moved it (OpenLineage runId)
    landing: str  # the landed copy's dataset name (names.LAKE)


@dataclass
class Lineage:
    target: str  # what was asked, resolved: silver/<entity>, <schema>.<model>, ...
    column: str | None = None
    column_description: str | None = None
    models_up: list[str] = field(default_factory=list)  # warehouse relations upstream, nearest first
    silver_up: list[str] = field(default_factory=list)  # silver entities upstream
    batches: list[Batch] = field(default_factory=list)  # the source files behind them
    lake_runs: dict[str, dict] = field(default_factory=dict)  # silver entity -> its last writing run
    column_edges: dict[str, list[str]] = field(default_factory=dict)  # "rel.col" <- columns it is made from
    column_fallbacks: list[str] = field(default_factory=list)  # relations traced at model level only
    models_down: list[str] = field(default_factory=list)
    dashboards: dict[str, list[str]] = field(default_factory=dict)  # slug -> chart titles reading the path
    dashboard_titles: dict[str, str] = field(default_factory=dict)


# ---- the warehouse: dbt's manifest ---------------------------------------------------------------

def manifest_path() -> Path:
    from edulake.warehouse import profiles

    return profiles.dbt_dir(settings.paths()) / "target" / "manifest.json"


class Manifest:
    def __init__(self, path: Path | None = None):
        path = path or manifest_path()
        if not path.exists():
            raise LineageError(f"没有 dbt manifest ({path}): 先构建数仓 (run `edulake build`)")
        data = json.loads(path.read_text(encoding="utf-8"))
        self.nodes = {**data["nodes"], **data["sources"]}
        self.parents = data["parent_map"]
        self.children = data["child_map"]

    def relation(self, unique_id: str) -> str | None:
        """`<schema>.<model>` for a model/seed/snapshot, `silver/<entity>` for a silver source; None otherwise."""
        node = self.nodes.get(unique_id)
        if node is None or node["resource_type"] not in ("model", "seed", "snapshot", "source"):
            return None
        if node["resource_type"] == "source":
            return names.silver(node["name"]) if node["source_name"] == "silver" else f"{node['source_name']}.{node['name']}"
        return f"{node['schema']}.{node.get('alias') or node['name']}"

    def find(self, schema: str | None, name: str) -> str | None:
        for uid, node in self.nodes.items():
            if node["resource_type"] in ("model", "seed", "snapshot") and \
                    (node.get("alias") or node["name"]) == name and (schema is None or node["schema"] == schema):
                return uid
        return None

    def source_id(self, entity: str) -> str | None:
        uid = f"source.edulake.silver.{entity}"
        return uid if uid in self.nodes else None

    def walk(self, start: str, edges: dict[str, list[str]]) -> list[str]:
        """Every node reachable from `start` along `edges`, nearest first (breadth first)."""
        seen, order, frontier = {start}, [], [start]
        while frontier:
            nxt = []
            for uid in frontier:
                for other in edges.get(uid, []):
                    if other not in seen:
                        seen.add(other)
                        order.append(other)
                        nxt.append(other)
            frontier = nxt
        return order


# ---- the lake: ops/lineage and the ledger ----------------------------------------------------------

def lake_batches(entities: Iterable[str]) -> tuple[list[Batch], dict[str, dict]]:
    """The landed files behind these silver entities, from the lake's OpenLineage runs (the batch facet of
    each input), with the ledger's facts; and the last run that wrote each entity."""
    from edulake.lake import ledger, tables

    wanted = set(entities)
    if not wanted:
        return [], {}
    runs = store.query("SELECT run_id, job_name, event_time, event FROM lineage "
                       "WHERE integration = 'EDULAKE' AND event_type = 'COMPLETE' ORDER BY event_time")
    found: dict[str, Batch] = {}
    last_run: dict[str, dict] = {}
    for r in runs:
        event = json.loads(r["event"])
        for output in event.get("outputs") or []:
            entity = output["name"].removeprefix("silver/")
            if output["name"].startswith("silver/") and entity in wanted:
                rows = ((output.get("outputFacets") or {}).get("outputStatistics") or {}).get("rowCount")
                last_run[entity] = {"run_id": r["run_id"], "job_name": r["job_name"], "event_time": r["event_time"],
                                    "rows": rows}
        for d in event.get("inputs") or []:
            facet = (d.get("facets") or {}).get("edulake_batch")
            if facet and facet["entity"] in wanted:
                found[facet["batchId"]] = Batch(
                    facet["batchId"], facet["sourceFile"], facet["sha256"], facet["arrivedAt"],
                    d["name"].split("/")[1], facet["table"], facet["entity"], facet.get("status"),
                    facet.get("rowsReceived"), facet.get("rowsAccepted"), facet.get("rowsQuarantined"), r["run_id"],
                    d["name"])
    if found:  # the ledger has the last word on status and counts (a batch reprocessed later)
        for row in ledger.rows(tables.in_list("batch_id", list(found))):
            b = found[row["batch_id"]]
            b.status, b.rows_received = row["status"], row["rows_received"]
            b.rows_accepted, b.rows_quarantined = row["rows_accepted"], row["rows_quarantined"]
            b.arrived_at = row["started_at"].isoformat() if row["started_at"] else b.arrived_at
    return sorted(found.values(), key=lambda b: (b.entity, b.arrived_at, b.source_file)), last_run


# ---- the dashboards --------------------------------------------------------------------------------

def dashboards_reading(relations: Iterable[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """slug -> titles of the charts whose dataset reads one of these relations; slug -> dashboard title."""
    import re

    from edulake.superset import spec

    wanted = set(relations)
    out: dict[str, list[str]] = {}
    for board in spec.DASHBOARDS:
        for chart in board.charts:
            marts = set(re.findall(r"\bfrom\s+([a-z_]+\.[a-z_]+)", chart.dataset.sql, flags=re.IGNORECASE))
            if marts & wanted:
                out.setdefault(board.slug, []).append(chart.title)
    return out, {b.slug: b.title for b in spec.DASHBOARDS}


# ---- asking ------------------------------------------------------------------------------------------

def _resolve_entity(name: str) -> str:
    entities = names.silver_entities()
    if name in entities:
        return name
    near = [e for e in entities if name in e]
    if len(near) == 1:
        return near[0]
    raise LineageError(f"没有 silver 表 {name!r} (no silver table {name!r})"
                       + (f"; 是否指: {', '.join(near)}" if near else f"; silver 表有: {', '.join(entities)}"))


def _feed(name: str) -> str:
    from edulake import standard

    feeds = list(standard.load().feeds)
    if name not in feeds:
        raise LineageError(f"没有数据源 {name!r} (no feed {name!r}); 数据源有: {', '.join(feeds)}")
    return name


def ask(target: str) -> Lineage:
    """The lineage of `target`: silver.<entity>, bronze.<feed>, quarantine.<feed>, or a warehouse model
    `[marts.]<schema>.<model>[.<column>]` / `<model>[.<column>]`."""
    parts = [p for p in target.replace("/", ".").split(".") if p]
    if not parts:
        raise LineageError("请给出表或字段 (give a table or a mart column)")
    if parts[0] in ("marts", "restricted"):
        parts = parts[1:]
    if parts[0] == "silver" and len(parts) >= 2:
        return _lake_table(names.silver(_resolve_entity(parts[1])), [_resolve_entity(parts[1])])
    if parts[0] in ("bronze", "quarantine") and len(parts) >= 2:
        from edulake import standard

        feed = _feed(parts[1])
        entities = sorted({t.entity for t in standard.load().feed(feed).tables})
        name = names.bronze(feed) if parts[0] == "bronze" else names.quarantine(feed)
        return _lake_table(name, entities, downstream=parts[0] == "bronze")
    return _model(parts)


def _lake_table(name: str, entities: list[str], downstream: bool = True) -> Lineage:
    result = Lineage(target=name)
    result.batches, result.lake_runs = lake_batches(entities)
    if downstream:
        try:
            manifest = Manifest()
        except LineageError:
            return result  # no warehouse built yet: nothing downstream of the lake
        down: list[str] = []
        for entity in entities:
            uid = manifest.source_id(entity)
            if uid:
                down += [u for u in manifest.walk(uid, manifest.children) if u not in down]
        result.models_down = [r for r in (manifest.relation(u) for u in down) if r]
        result.dashboards, result.dashboard_titles = dashboards_reading(result.models_down)
    return result


def _model(parts: list[str]) -> Lineage:
    manifest = Manifest()
    uid = column = None
    if len(parts) >= 2:
        uid = manifest.find(parts[0], parts[1])
        column = parts[2] if uid and len(parts) > 2 else None
    if uid is None:
        uid = manifest.find(None, parts[0])
        column = parts[1] if uid and len(parts) > 1 else None
    if uid is None:
        raise LineageError(f"数仓中没有模型 {'.'.join(parts)!r} (no such warehouse model); 例: "
                           "cockpit.cockpit_kpis.value, health.health_fitness_summary.pass_rate, silver.fitness_test")
    node = manifest.nodes[uid]
    result = Lineage(target=manifest.relation(uid), column=column)
    if column is not None:
        declared = node.get("columns") or {}
        if column not in declared:
            raise LineageError(f"模型 {result.target} 没有字段 {column!r} (no such column); 字段有: "
                               f"{', '.join(declared) or '(未声明)'}")
        result.column_description = declared[column].get("description")
    up = manifest.walk(uid, manifest.parents)
    relations = [r for r in (manifest.relation(u) for u in up) if r]
    result.models_up = [r for r in relations if not r.startswith(("silver/", "lake_ops."))]
    result.silver_up = [r.removeprefix("silver/") for r in relations if r.startswith("silver/")]
    if column is not None:  # where the column's values come from (sqlglot, columns.py): shown, never used to
        # narrow the files: a rate also depends on the rows its joins, filters and counts keep, which value
        # lineage does not follow (pass_rate's values trace to seeds, its rows to the fitness test files)
        from edulake.lineage import columns

        traced = columns.trace(manifest, manifest_path().parent / "compiled", uid, column)
        result.column_edges, result.column_fallbacks = traced.edges, traced.fallbacks
    result.batches, result.lake_runs = lake_batches(result.silver_up)
    down = manifest.walk(uid, manifest.children)
    result.models_down = [r for r in (manifest.relation(u) for u in down) if r]
    result.dashboards, result.dashboard_titles = dashboards_reading([result.target, *result.models_down])
    return result

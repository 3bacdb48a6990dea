"""Column-level lineage of a warehouse column, with sqlglot over dbt's compiled SQL, model by model.

For `<model>.<column>`, sqlglot's lineage finds the columns of the relations the compiled query reads that
the column is computed from; each of those is followed into its own model the same way, down to silver
(sources) and seeds. The schema sqlglot needs for `select *` comes from the manifest's declared columns.
Where a model's SQL cannot be traced (a construct sqlglot does not follow, undeclared columns, the budget
spent), that branch falls back to model level: every silver table upstream of that model counts.
This is VALUE lineage: columns used only in joins, filters, GROUP BY or count(*) are not followed, so it
explains a figure's formula, not which rows (and files) it counts: the files come from model-level lineage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

MAX_STEPS = 120  # model-columns traced per question
MAX_SECONDS = 20.0


@dataclass
class ColumnLineage:
    edges: dict[str, list[str]] = field(default_factory=dict)  # "rel.col" -> ["rel.col", ...] it is made from
    silver: set[str] = field(default_factory=set)  # silver entities reached
    fallbacks: list[str] = field(default_factory=list)  # relations traced at model level only


def _schema(manifest) -> dict:
    out: dict = {}
    for node in manifest.nodes.values():
        if node["resource_type"] not in ("model", "seed", "snapshot", "source"):
            continue
        name = node.get("alias") or node.get("identifier") or node["name"]
        if node["resource_type"] == "source":
            name = node["name"]
        columns = {c: (v.get("data_type") or "varchar") for c, v in (node.get("columns") or {}).items()}
        if columns:
            out.setdefault(node["database"], {}).setdefault(node["schema"], {})[name] = columns
    return out


def trace(manifest, compiled_dir: Path, uid: str, column: str) -> ColumnLineage:
    from sqlglot import exp
    from sqlglot.lineage import lineage

    result = ColumnLineage()
    schema = _schema(manifest)
    seen: set[tuple[str, str]] = set()
    started = time.monotonic()
    steps = 0

    def fallback(node_id: str) -> None:
        relation = manifest.relation(node_id)
        if relation and relation not in result.fallbacks:
            result.fallbacks.append(relation)
        for up in manifest.walk(node_id, manifest.parents):
            r = manifest.relation(up)
            if r and r.startswith("silver/"):
                result.silver.add(r.removeprefix("silver/"))

    def node_of(table: exp.Table) -> str | None:
        if table.db == "silver":
            return manifest.source_id(table.name)
        return manifest.find(table.db, table.name)

    def visit(node_id: str, col: str) -> None:
        nonlocal steps
        if (node_id, col) in seen:
            return
        seen.add((node_id, col))
        node = manifest.nodes[node_id]
        relation = manifest.relation(node_id)
        if node["resource_type"] == "source":
            if relation.startswith("silver/"):
                result.silver.add(relation.removeprefix("silver/"))
            return
        if node["resource_type"] == "seed":
            return
        steps += 1
        sql_path = compiled_dir / node["package_name"] / node["original_file_path"]
        if steps > MAX_STEPS or time.monotonic() - started > MAX_SECONDS or not sql_path.exists():
            fallback(node_id)
            return
        try:
            root = lineage(col, sql_path.read_text(encoding="utf-8"), schema=schema, dialect="duckdb")
            leaves = [n for n in root.walk() if not n.downstream]
        except Exception:  # noqa: BLE001 - sqlglot cannot follow this model: model level for its branch
            fallback(node_id)
            return
        sources = []
        for leaf in leaves:
            if not isinstance(leaf.source, exp.Table):
                continue  # a literal or a function of nothing
            upstream = node_of(leaf.source)
            if upstream is None:
                fallback(node_id)
                continue
            up_col = leaf.name.split(".")[-1]
            sources.append(f"{manifest.relation(upstream)}.{up_col}")
            visit(upstream, up_col)
        result.edges[f"{relation}.{col}"] = sorted(set(sources))

    visit(uid, column)
    return result

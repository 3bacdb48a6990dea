"""`edulake quality`: generate and check the GX suites, and run GX over bronze batches for Data Docs."""

from __future__ import annotations

import sys

import click
from rich.console import Console

console = Console()


@click.group("quality")
def quality():
    """数据标准校验 (Great Expectations): suites generated from schemas/."""


@quality.command("generate")
def generate():
    """Write expectations/<feed>.json from schemas/."""
    from edulake.quality import suites

    for p in suites.generate():
        console.print(f"写入 {p}")


@quality.command("check")
def check():
    """Fail when the committed expectations/ disagree with schemas/."""
    from edulake.quality import suites

    problems = suites.differences()
    for p in problems:
        console.print(f"[red]{p}[/red]")
    if problems:
        sys.exit(1)
    console.print("expectations/ 与 schemas/ 一致 (suites match the standard)")


@quality.command("docs")
@click.argument("table")
def docs(table):
    """Run TABLE's suite (e.g. enrollment.roster) with GX over its loaded bronze batches on the embedded
    engine; store the result and rebuild Data Docs (GX also runs on every load: this re-runs it)."""
    from edulake import standard
    from edulake.lake import bronze, engines, gx_run, ledger, privacy, silver
    from edulake.quality import stage

    std = standard.load()
    t = std.table(table)
    engine = engines.get("duckdb")
    ids = [r["batch_id"] for r in ledger.rows(f"\"table\" = '{t.qualified_name}' AND status <> 'rejected'")]
    if not ids:
        console.print(f"[red]{table}: 没有已载入的批次 (no loaded batches)[/red]")
        sys.exit(1)
    key = privacy.pseudonym_key()
    program = stage.compile_table(t, std)
    bronze.register(engine, t.feed, t.qualified_name, ids)
    silver.register_lookups(engine, t)
    try:
        silver.stage_relations(engine, std, program, ids, key)
        with console.status(f"GX 校验 {table} …"):
            result = gx_run.validate_load(engine, t, program, ids, always=True)
            gx_run.build_docs(t.feed)
    finally:
        engine.drop(*silver.WORK)
    console.print(f"success={result.success}; Data Docs: {gx_run.docs_index()}")


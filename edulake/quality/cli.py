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
@click.option("--limit", default=20000, show_default=True, help="bronze rows validated (GX is slow per row set)")
def docs(table, limit):
    """Run TABLE's suite (e.g. enrollment.roster) with GX on its bronze rows; store the result, build Data Docs."""
    from pyspark.sql import functions as F

    from edulake import standard
    from edulake.lake import bronze, delta, silver
    from edulake.lake.spark import get_spark
    from edulake.quality import gx_run

    std = standard.load()
    t = std.table(table)
    spark = get_spark("edulake-quality-docs")
    raw = delta.read(spark, bronze.path(t.feed)).where(F.col("_table") == t.qualified_name).limit(limit)
    with console.status(f"GX 校验 {table} …"):
        result = gx_run.validate(t, silver.typed_frame(t, std, raw), run_name=f"docs-{table}")
    console.print(f"success={result.success}; Data Docs: {gx_run.docs_index()}")

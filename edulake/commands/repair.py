"""`edulake repair`: find damaged lake tables and a damaged warehouse, and repair them (edulake.lake.repair)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape


@click.command()
@click.option("--check", is_flag=True, help="只检查不修复 / only report (exit 1 when something is damaged)")
def repair(check: bool) -> None:
    """检查并修复数据湖与数仓 / check every Delta table of the lake and the published warehouse; repair them.

    A truncated last Delta log entry is rolled back (the commit never happened) and its batches reprocessed; a
    table with a damaged log or a missing data file is moved aside and rebuilt from the zone before it; a
    damaged warehouse is moved aside and rebuilt with dbt. Nothing is deleted: see $EDULAKE_HOME/repair/.
    """
    from edulake.lake import repair as lake_repair

    console = Console(stderr=True)
    problems = lake_repair.diagnose()
    for pr in problems:
        console.print(f"[red]损坏 damaged[/red] {escape(str(pr))}")
    if not problems:
        console.print("[green]完好 no damage found[/green] (every lake table and the warehouse read whole)")
        return
    if check:
        raise click.ClickException(f"{len(problems)} 处损坏 (damaged); run `edulake repair` to repair")
    report = lake_repair.repair(on_event=lambda m: console.log(escape(m)))
    for action in report.actions:
        console.print(f"[yellow]修复[/yellow] {escape(action)}")
    left = lake_repair.diagnose()
    if left:
        for pr in left:
            console.print(f"[red]仍损坏 still damaged[/red] {escape(str(pr))}")
        raise click.ClickException(f"{len(left)} 处损坏未能修复 (could not be repaired)")
    console.print("[green]已修复 repaired[/green]")

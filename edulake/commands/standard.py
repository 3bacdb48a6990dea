"""`edulake standard`: inspect and check the data standard in schemas/."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table as RichTable

from edulake import standard as std_mod


@click.group()
def standard() -> None:
    """数据标准 (schemas/)."""


@standard.command()
def check() -> None:
    """Check that schemas/ is self-consistent (exit 1 and list problems if not)."""
    try:
        std = std_mod.load()
    except std_mod.StandardError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"数据标准 v{std.version}: {len(std.feeds)} feeds, {len(std.tables())} tables, "
               f"{len(std.code_lists)} code lists — consistent")


@standard.command("show")
@click.argument("table", required=False)
def show(table: str | None) -> None:
    """List tables, or the fields of FEED.TABLE (e.g. enrollment.roster)."""
    std = std_mod.load()
    console = Console()
    if table is None:
        t = RichTable("table", "标签", "silver entity", "format", "natural key")
        for tb in std.tables():
            t.add_row(tb.qualified_name, tb.label, tb.entity, "/".join(tb.formats), ", ".join(tb.natural_key))
        console.print(t)
        return
    tb = std.table(table)
    t = RichTable("field", "列名", "type", "required", "codes/range/pattern", "privacy", "treatment", "silver")
    for f in tb.fields:
        constraint = f.codes or f.pattern or (f"{f.min}–{f.max}" if f.min is not None else "")
        t.add_row(f.name, f.column, f.type, "✓" if f.required else "", str(constraint), f.privacy,
                  f.treatment, f.silver_name if f.in_silver else "—")
    console.print(t)

"""`edulake run`: the main job, end to end, on the embedded defaults."""

from __future__ import annotations

import click

from edulake import settings


@click.command()
@click.option("--scale", default=0.01, show_default=True, type=float, help="数据规模 (1.0 = 北京全市)")
@click.option("--seed", default=1, show_default=True, type=int)
def run(scale: float, seed: int) -> None:
    """端到端运行: generate sources into the inbox, then (as they land) ingest, validate, build."""
    from edulake.generate.cli import run_generate

    paths = settings.paths()
    click.echo(f"EDULAKE_HOME = {paths.home}")
    run_generate(scale=scale, seed=seed, out=paths.inbox)
    click.echo(f"源数据: {paths.inbox}")

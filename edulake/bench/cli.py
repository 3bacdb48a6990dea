"""`edulake bench --scale S [--engine duckdb|spark|both]`: stage-by-stage figures for a backfill, the routine
refresh and a 1% change, against the floor."""

from __future__ import annotations

import os
from pathlib import Path

import click

ENGINE_CHOICES = ("duckdb", "spark", "both")


@click.command()
@click.option("--scale", default=0.01, show_default=True, type=float, help="数据规模 (1.0 = 北京全市)")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--years", default="2018-2025", show_default=True, help="学年范围 FIRST-LAST")
@click.option("--engine", type=click.Choice(ENGINE_CHOICES), default=None,
              help="湖引擎 lake engine; both: each engine on the same deliveries, side by side "
                   "(default: EDULAKE_ENGINE, else duckdb)")
@click.option("--work", type=click.Path(path_type=Path), default=None,
              help="工作目录 (default $EDULAKE_HOME/bench); generated sources and the workload cut there are reused")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="报告目录 (default WORK/reports)")
def bench(scale: float, seed: int, years: str, engine: str | None, work: Path | None, out: Path | None) -> None:
    """基准测试: generate → landing → bronze → silver → dbt build per engine, against the floor
    (the same files to typed Parquet by the fastest readers on this machine)."""
    from rich.console import Console
    from rich.markup import escape

    from edulake import settings
    from edulake.bench import report, runner
    from edulake.lake import engines as lake_engines

    chosen = engine or os.environ.get("EDULAKE_ENGINE") or lake_engines.DEFAULT
    if chosen not in ENGINE_CHOICES:
        raise click.BadParameter(f"{chosen!r}: choose one of {', '.join(ENGINE_CHOICES)}", param_hint="EDULAKE_ENGINE")
    engines = lake_engines.ENGINES if chosen == "both" else (chosen,)
    console = Console(stderr=True)
    first, last = (int(y) for y in years.split("-"))
    work = (work or settings.paths().home / "bench").resolve()
    result = runner.run(scale, seed, work, (first, last), engines, say=lambda m: console.log(escape(m)))
    js, md = report.write(result, out or work / "reports")
    click.echo(report.markdown(result))
    click.echo(f"报告: {js}\n      {md}")
    if not result["ok"]:
        raise click.ClickException("some stages failed: see the logs in " + str(work))

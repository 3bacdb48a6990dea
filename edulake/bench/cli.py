"""`edulake bench --scale S`: stage-by-stage figures for the routine refresh, a backfill and a 1% change."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--scale", default=0.01, show_default=True, type=float, help="数据规模 (1.0 = 北京全市)")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--years", default="2018-2025", show_default=True, help="学年范围 FIRST-LAST")
@click.option("--work", type=click.Path(path_type=Path), default=None,
              help="工作目录 (default $EDULAKE_HOME/bench); generated sources there are reused")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="报告目录 (default WORK/reports)")
def bench(scale: float, seed: int, years: str, work: Path | None, out: Path | None) -> None:
    """基准测试: generate → landing → bronze → silver → dbt build, against DuckDB raw → Parquet."""
    from rich.console import Console
    from rich.markup import escape

    from edulake import settings
    from edulake.bench import report, runner

    console = Console(stderr=True)
    first, last = (int(y) for y in years.split("-"))
    work = (work or settings.paths().home / "bench").resolve()
    result = runner.run(scale, seed, work, (first, last), say=lambda m: console.log(escape(m)))
    js, md = report.write(result, out or work / "reports")
    click.echo(report.markdown(result))
    click.echo(f"报告: {js}\n      {md}")
    if not result["ok"]:
        raise click.ClickException("some stages failed: see the logs in " + str(work))

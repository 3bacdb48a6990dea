"""`edulake generate`: write the synthetic Beijing sources into the inbox (or --out)."""

from __future__ import annotations

from pathlib import Path

import click

from edulake import settings
from edulake.generate.generator import DEFAULT_YEARS, run_generate

__all__ = ["generate", "run_generate"]


def _years(ctx, param, value: str) -> tuple[int, int]:
    try:
        first, _, last = value.partition("-")
        return int(first), int(last or first)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected FIRST-LAST, e.g. 2018-2025") from None


@click.command()
@click.option("--scale", default=0.01, show_default=True, type=float, help="数据规模 (1.0 = 北京全市)")
@click.option("--seed", default=1, show_default=True, type=int, help="随机种子 (same seed -> identical files)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="输出目录 (default: $EDULAKE_HOME/inbox)")
@click.option("--years", default=f"{DEFAULT_YEARS[0]}-{DEFAULT_YEARS[1]}", show_default=True, callback=_years,
              help="学年范围 FIRST-LAST (学年起始年份)")
@click.option("--defect-rate", default=0.002, show_default=True, type=float, help="缺陷注入比例 (0 = 干净数据)")
@click.option("--quiet", is_flag=True, help="不显示进度条")
def generate(scale: float, seed: int, out: Path | None, years: tuple[int, int], defect_rate: float, quiet: bool) -> None:
    """生成北京市模拟源数据: enrollment, health, exam, facility, reference + defects.json."""
    out = out or settings.paths().inbox
    try:
        manifest = run_generate(scale=scale, seed=seed, out=out, years=years, defect_rate=defect_rate,
                                progress=not quiet)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    rows = sum(f["rows"] for f in manifest["files"].values())
    click.echo(f"写出 {len(manifest['files'])} 个文件, {rows:,} 行, 注入缺陷 {len(manifest['defects'])} 处 -> {out}")

"""`edulake ingest`: take a feed's inbox files through landing, bronze and silver (what Airflow calls)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

STEPS = ("ingest", "landing", "bronze", "silver")


@click.command()
@click.argument("feed", required=False)
@click.argument("files", nargs=-1)
@click.option("--all", "all_feeds", is_flag=True, help="所有数据源（基础数据优先）")
@click.option("--step", type=click.Choice(STEPS), default="ingest", show_default=True,
              help="只运行一步 (bronze/silver take batch ids instead of files)")
@click.option("--engine", type=click.Choice(("duckdb", "spark")), default=None,
              help="湖引擎 lake engine (default: EDULAKE_ENGINE, else duckdb)")
def ingest(feed: str | None, files: tuple[str, ...], all_feeds: bool, step: str, engine: str | None) -> None:
    """接入数据: inbox/<FEED>/ (or the named FILES) -> landing -> bronze -> silver.

    Exits non-zero, naming file, row and column, when a file or batch is rejected.
    """
    from edulake.lake import engines, failures, pipeline
    from edulake.lake.jobs import run_step
    from edulake.lake.locks import FeedBusy

    if all_feeds == bool(feed):
        raise click.UsageError("give a FEED or --all")
    if all_feeds and files:
        raise click.UsageError("--all takes no FILES")
    console = Console(stderr=True)
    feeds = pipeline.feed_order() if all_feeds else [feed]
    errors, moved, warnings = [], [], []
    chosen = engines.name(engine)
    with console.status(f"启动引擎 {chosen} ...") as status:
        lake_engine = engines.get(chosen)

        def on_event(message: str) -> None:
            console.log(escape(message))
            status.update(escape(message))

        for name in feeds:
            status.update(f"{name} ...")
            try:
                result = run_step(step, name, list(files) or None, lake_engine, on_event)
            except FeedBusy as e:
                raise click.ClickException(str(e)) from None
            except Exception as e:  # a full disk, a damaged table: say which and what to do
                message = failures.explain(e)
                if message is None:
                    raise
                raise click.ClickException(message) from None
            errors += result.errors
            moved += result.entries
            warnings += result.warnings
    if moved:
        _summary(console, moved)
    for w in warnings:
        console.print(f"[yellow]警告[/yellow] {escape(w)}")
    if errors:
        for e in errors:
            console.print(f"[red]拒收[/red] {escape(str(e))}")
        raise click.ClickException(f"{len(errors)} 个文件/批次被拒收 (rejected)")


def _summary(console: Console, entries) -> None:
    t = RichTable("批次", "文件", "状态", "接收", "入库", "隔离", "去重合并", title="批次台账 ops/batches")
    for e in entries:
        t.add_row(e.batch_id, e.source_file, e.status, str(e.rows_received), str(e.rows_accepted),
                  str(e.rows_quarantined), str(e.rows_collapsed))
    console.print(t)

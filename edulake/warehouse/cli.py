"""`edulake build`: dbt build of the holistic database and marts, published atomically."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

STATUS_STYLE = {"success": "green", "pass": "green", "warn": "yellow", "fail": "red", "error": "red",
                "skipped": "magenta"}


@click.command("build")
@click.option("--select", "-s", default=None, help="dbt 选择器 selection, e.g. 'marts.core+' or fct_fitness_test")
@click.option("--exclude", default=None, help="dbt 排除选择 exclusion, e.g. 'resource_type:test'")
@click.option("--target", "-t", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="dbt 目标：duckdb（默认，发布 warehouse/edulake.duckdb）或 spark（Delta 表写入 warehouse-spark/）")
@click.option("--full-refresh", is_flag=True,
              help="全量重建（含增量模型） / rebuild everything; otherwise a build after a small delivery is incremental")
@click.option("--docs", is_flag=True, help="同时生成 dbt 文档（目录与血缘） / also run dbt docs generate")
@click.option("--codegen", is_flag=True, help="只由 schemas/ 重新生成 sources、staging、seeds 并退出")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果摘要")
def build(select, exclude, target, full_refresh, docs, codegen, as_json):
    """构建全息教育数据库（dbt build）并原子发布数仓 / build the warehouse and publish it atomically."""
    console = Console(stderr=as_json)
    if codegen:
        from edulake.warehouse import codegen as gen

        changed = gen.write()
        console.print(f"由 schemas/ 生成：{len(changed)} 个文件更新" + "".join(f"\n  {c}" for c in changed))
        return
    from edulake.warehouse.runner import BuildError
    from edulake.warehouse.runner import build as run_build

    progress = Progress(TextColumn("[bold]dbt build[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True)
    task = progress.add_task("解析项目 parsing", total=None)

    def on_event(event: dict) -> None:
        if event["kind"] == "start":
            progress.update(task, total=event["total"], description=event["node"])
        elif event["kind"] == "done":
            progress.update(task, total=event["total"] or None, completed=event["index"],
                            description=f"{event['node']} {event['status']}")
            if event["status"] not in ("success", "pass", None, ""):
                progress.console.print(f"  [{STATUS_STYLE.get(event['status'], 'white')}]{event['status']}[/] "
                                       f"{event['node']}")

    try:
        with progress:
            result = run_build(select=select, exclude=exclude, target=target, full_refresh=full_refresh, docs=docs,
                               on_event=on_event, quiet=True)
    except BuildError as e:
        raise click.ClickException(str(e)) from None
    except Exception as e:  # a full disk, a damaged table: say which and what to do
        from edulake.lake import failures

        message = failures.explain(e)
        if message is None:
            raise
        raise click.ClickException(message) from None
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        table = Table(title="dbt build 结果")
        for col in ("nodes", "ok", "warn", "fail", "error", "skipped", "seconds"):
            table.add_column(col, justify="right")
        table.add_row(*(str(summary[c]) for c in ("nodes", "ok", "warn", "fail", "error", "skipped", "seconds")))
        console.print(table)
        if result.target == "duckdb":
            label = "增量构建 incremental" if result.mode == "incremental" else "全量构建 full"
            console.print(f"{label}: {result.mode_reason}")
        for n in result.problems:
            console.print(f"[red]{n.status}[/] {n.unique_id}: {n.message[:300]}")
        if result.published:
            console.print(f"[green]已发布[/] published {result.published}")
        elif result.kept_failed:
            console.print(f"[red]构建失败，未发布[/]; the failed build is kept at {result.kept_failed} "
                          f"(test failures in schema audit)")
        if result.error:
            console.print(f"[red]{result.error}[/]")
    if not result.success:
        _explain_failure(console, result)
        raise SystemExit(1)


def _explain_failure(console: Console, result) -> None:
    """A build that failed for a full disk or a damaged silver table says so, naming the path or table."""
    from edulake.lake import failures, repair

    text = " ".join([result.error] + [n.message for n in result.problems])
    if failures.is_disk_full(text):
        console.print(f"[red]{failures.disk_full_message(text)}[/red] The published warehouse was not touched.")
        return
    problems = repair.diagnose(lake=True, warehouse=False)
    for pr in problems:
        console.print(f"[red]数据湖表损坏 damaged lake table[/red] {pr}")
    if problems:
        console.print("Run `edulake repair` (`edulake repair --check` only looks); the published warehouse was "
                      "not touched.")

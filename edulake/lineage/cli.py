"""`edulake lineage <table or mart column>`: the path upstream to the source files and batches, and
downstream to the marts and dashboards (edulake.lineage.graph). Labels in Chinese, names as stored."""

from __future__ import annotations

import click

from edulake.lineage import graph, names, store


def _short(text: str | None, width: int = 12) -> str:
    return (text or "")[:width]


@click.command("lineage")
@click.argument("target")
@click.option("--limit", default=20, show_default=True, help="最多列出的批次数 (batches shown; 0 = all)")
def lineage(target: str, limit: int) -> None:
    """数据血缘：TARGET 为 silver.<表>、bronze.<数据源>、quarantine.<数据源>，或数仓模型 / 字段
    （如 cockpit.cockpit_kpis.value、health.health_fitness_summary.pass_rate）。"""
    store.load_quietly()  # events Airflow or an interrupted run left behind
    try:
        result = graph.ask(target)
    except graph.LineageError as e:
        raise click.ClickException(str(e)) from e
    echo = click.echo
    echo(f"数据血缘 (lineage): {result.target}" + (f" 字段 {result.column}" if result.column else ""))
    if result.column_description:
        echo(f"  字段说明: {result.column_description.splitlines()[0]}")
    if result.column_edges:
        echo("  字段取值来源 (value lineage, sqlglot；不含连接、过滤与计数所用字段):")
        for target_column, sources in reversed(list(result.column_edges.items())):  # the column first
            echo(f"    {target_column} ← {', '.join(sources) or '（常量）'}")
        if result.column_fallbacks:
            echo(f"    （以下模型未能逐字段追踪，按模型计: {', '.join(result.column_fallbacks)}）")
    echo("")
    echo("上游 (upstream)")
    if result.models_up:
        echo(f"  {names.LAYER_CN['warehouse']} ({len(result.models_up)}，近者在前):")
        for relation in result.models_up:
            echo(f"    ← {relation}")
    entities = result.silver_up or sorted({b.entity for b in result.batches} | set(result.lake_runs))
    if entities:
        echo(f"  {names.LAYER_CN['silver']}:")
        for entity in entities:
            run = result.lake_runs.get(entity)
            last = (f"最近写入 {run['event_time']:%Y-%m-%d %H:%M:%S} UTC by {run['job_name']} "
                    f"(run {_short(run['run_id'], 13)}…, {run['rows']} 行)") if run else "尚无入湖血缘记录"
            echo(f"    ← silver/{entity}  {last}")
    shown = result.batches if limit <= 0 else result.batches[:limit]
    echo(f"  源文件与批次 (source files and batches, 来自批次台账): {len(result.batches)} 个")
    for b in shown:
        echo(f"    ← 批次 {b.batch_id}  文件 {b.source_file}  sha256 {_short(b.sha256, 16)}…  "
             f"到达 {b.arrived_at}  状态 {b.status}  接收 {b.rows_received} 入库 {b.rows_accepted} "
             f"隔离 {b.rows_quarantined}  → silver/{b.entity}")
    if len(shown) < len(result.batches):
        echo(f"    … 另有 {len(result.batches) - len(shown)} 个批次 (--limit 0 列出全部)")
    echo("")
    echo("下游 (downstream)")
    if result.models_down:
        echo(f"  {names.LAYER_CN['warehouse']} ({len(result.models_down)}):")
        for relation in result.models_down:
            echo(f"    → {relation}")
    for slug, charts in result.dashboards.items():
        echo(f"  {names.LAYER_CN['dashboard']} {result.dashboard_titles.get(slug, slug)} ({slug}): {'、'.join(charts)}")
    if not result.models_down and not result.dashboards:
        echo("  （无）")

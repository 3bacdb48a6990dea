"""`edulake status` and `edulake airflow …`: the operator's view of the pipeline and the embedded Airflow.

Nothing here imports Airflow or starts a JVM: status reads the Delta tables with deltalake, the airflow
commands talk to the api-server over REST (or start it as child processes).
"""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edulake import settings

# ---- edulake status -----------------------------------------------------------------------------

def ledger_summary() -> list[dict]:
    from edulake.orchestration import deltaread

    return deltaread.query(settings.paths().ops / "batches", """
        SELECT feed, status, count(*) AS batches, sum(rows_received) AS received, sum(rows_accepted) AS accepted,
               sum(rows_quarantined) AS quarantined, sum(rows_collapsed) AS collapsed, max(finished_at) AS last
        FROM batches GROUP BY feed, status ORDER BY feed, status""", name="batches")


def rejected_batches(limit: int = 20) -> list[dict]:
    from edulake.orchestration import deltaread

    return deltaread.query(settings.paths().ops / "batches", f"""
        SELECT feed, batch_id, source_file, reason FROM batches WHERE status = 'rejected'
        ORDER BY finished_at DESC LIMIT {int(limit)}""", name="batches")


def quarantine_counts() -> list[dict]:
    """Rows and failures per feed, table and rule; counts only (the raw rows stay in restricted/)."""
    from edulake import standard
    from edulake.orchestration import deltaread

    out = []
    for feed in standard.load().feeds:
        out += deltaread.query(settings.paths().quarantine / feed, """
            SELECT feed, "table", rule, count(DISTINCT concat(batch_id, ':', CAST(_row_number AS VARCHAR))) AS rows,
                   count(*) AS failures
            FROM q GROUP BY feed, "table", rule ORDER BY feed, "table", rule""", name="q")
    return out


def _fmt(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _rate(value) -> str:
    return "" if value is None else f"{value:.2%}"


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else ""


@click.command()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 (for machines)")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="按此日期判断报送时效 (freshness as of this date; default today, UTC)")
@click.option("--feed", "feeds", multiple=True, help="只看这些数据源 (repeatable)")
def status(as_json: bool, as_of, feeds: tuple[str, ...]) -> None:
    """运行状态: 每个数据源和区的报送、行数、隔离、拒收、失败率 (对比上一批次)、时效 (报送日历)、告警;
    每个 DAG 的最近一次运行 (ops/runs)、批次台账 (ops/batches)、隔离区计数、最近一次血缘运行 (ops/lineage)。"""
    import datetime as dt

    from edulake.monitoring import alerts as alert_rules
    from edulake.monitoring import calendar, deliveries
    from edulake.monitoring import lineage as lineage_runs
    from edulake.orchestration import runlog, server

    as_of = as_of.date() if as_of else dt.datetime.now(dt.UTC).date()
    runs = runlog.last_runs()
    ledger = ledger_summary()
    rejected = rejected_batches()
    quarantine = quarantine_counts()
    airflow = server.running()
    ledger_rows = deliveries.ledger_rows()
    per_district = [d for d in deliveries.deliveries(as_of, ledger_rows) if not feeds or d["feed"] in feeds]
    # evaluated now, not written: status only reads (the ingest DAG's check_alerts task records them)
    current = [a.row() for a in alert_rules.overdue(ledger_rows, as_of, list(feeds) or None)
               + alert_rules.quality_jumps(ledger_rows, list(feeds) or None)]
    last_lineage = lineage_runs.last_run()
    if as_json:
        click.echo(json.dumps({"home": str(settings.paths().home), "as_of": as_of,
                               "airflow": airflow.url if airflow else None,
                               "airflow_profile": airflow.profile if airflow else None,
                               "deliveries": per_district, "alerts": current, "lineage": last_lineage,
                               "runs": runs, "batches": ledger, "rejected": rejected, "quarantine": quarantine},
                              ensure_ascii=False, indent=2, default=str))
        return
    console = Console()
    console.print(f"EDULAKE_HOME = {settings.paths().home}   时效日期 as of {as_of}")
    console.print(f"Airflow: {escape(airflow.url + ' (' + airflow.profile + ')') if airflow else '未运行 (not running; edulake airflow serve)'}")

    t = Table("数据源", "区", "最近报送", "批次", "接收", "隔离", "拒收批次", "失败率 本批", "上一批", "时效", "截止",
              title="报送与质量 (per feed and district; ops/batches)")
    for d in per_district:
        fresh = d["freshness"]
        style = {"overdue": "red", "on_time": "green"}.get(fresh, "white")
        label = f"[{style}]{calendar.LABELS.get(fresh, '')}[/]" + (f" {d['days_overdue']} 天" if fresh == "overdue" else "")
        t.add_row(f"{d['feed_label']} {d['feed']}", f"{d['district_name']} {d['district_code'] or ''}".strip(),
                  _fmt(d["last_delivery"]), str(d["batches"]), str(d["rows_received"]), str(d["rows_quarantined"]),
                  str(d["rejected"]), _rate(d["failure_rate"]), _rate(d["previous_failure_rate"]), label,
                  _day(d["due_date"]))
    console.print(t if per_district else "ops/batches: 空 (nothing ingested yet)")
    for a in current:
        console.print(f"[red]告警 {alert_rules.KIND_LABELS[a['kind']]}[/] {escape(a['message'])}")
    if not current:
        console.print("[green]无告警 (no alerts)[/]")

    t = Table("DAG", "状态", "完成时间", "原因", title="最近一次运行 (ops/runs)")
    for r in runs:
        style = {"success": "green", "failed": "red"}.get(r["state"], "yellow")
        t.add_row(r["dag_id"], f"[{style}]{r['state']}[/]", _fmt(r["finished_at"]), escape((r["reason"] or "")[:200]))
    console.print(t if runs else "ops/runs: 还没有运行记录 (no runs yet)")

    t = Table("数据源", "状态", "批次", "接收", "入库", "隔离", "去重合并", "最近", title="批次台账 (ops/batches)")
    for r in ledger:
        t.add_row(*(_fmt(r[k]) for k in ("feed", "status", "batches", "received", "accepted", "quarantined",
                                          "collapsed", "last")))
    console.print(t if ledger else "ops/batches: 空 (nothing ingested yet)")
    for r in rejected:
        console.print(f"[red]拒收[/] {r['feed']} {r['batch_id']} {escape(r['source_file'] or '')}: "
                      f"{escape((r['reason'] or '')[:300])}")

    t = Table("数据源", "表", "规则", "行数", "失败数", title="隔离区 (restricted/quarantine)")
    for r in quarantine:
        t.add_row(*(_fmt(r[k]) for k in ("feed", "table", "rule", "rows", "failures")))
    console.print(t if quarantine else "隔离区: 空 (no quarantined rows)")
    if last_lineage:
        console.print("最近一次血缘运行 (ops/lineage): " + escape(", ".join(f"{k}={_fmt(v)}" for k, v in last_lineage.items())))
    else:
        console.print("最近一次血缘运行 (ops/lineage): 无 (none)")
    warehouse = settings.paths().warehouse
    console.print(f"数仓 warehouse: {warehouse if warehouse.exists() else '尚未构建 (not built yet)'}")


# ---- edulake airflow ----------------------------------------------------------------------------

@click.group("airflow")
def airflow_group() -> None:
    """嵌入式 Airflow (127.0.0.1, LocalExecutor; SQLite, or PostgreSQL with --profile production), under $EDULAKE_HOME."""


def _port_option(f):
    return click.option("--port", type=int, default=None,
                        help="api-server 端口 (default $EDULAKE_AIRFLOW_PORT or 8080)")(f)


def print_access(console: Console, url: str) -> None:
    from edulake.orchestration import config

    console.print(f"Airflow UI: [bold]{url}[/]  (用户 user: {config.ADMIN_USER}, "
                  f"密码 password: in {config.passwords_file()})")


def _profile_option(f):
    return click.option("--profile", type=click.Choice(("embedded", "production")), default=None,
                        help="embedded: SQLite, 一次一个入湖任务; production: PostgreSQL (本 home 的集群), "
                             "LocalExecutor 并行 (default $EDULAKE_AIRFLOW_PROFILE or embedded)")(f)


@airflow_group.command("serve")
@_port_option
@_profile_option
def serve(port: int | None, profile: str | None) -> None:
    """启动 (或复用) api-server、scheduler、dag-processor, in the background; logs under $EDULAKE_HOME/logs/airflow."""
    from edulake.orchestration import names, server

    console = Console()
    with console.status("启动 Airflow (migrate, api-server, scheduler, dag-processor) ..."):
        s = server.start(port, profile=profile)
        s.client().wait_for_dags(names.all_dag_ids())
    console.print(("复用运行中的 Airflow (already running)" if s.reused else "Airflow 已启动")
                  + f" ({s.profile}), pids {s.pids}")
    print_access(console, s.url)
    console.print("停止: edulake airflow stop")


@airflow_group.command("stop")
def stop() -> None:
    """停止本 EDULAKE_HOME 启动的 Airflow 进程 (only the processes it started)."""
    from edulake.orchestration import server

    stopped = server.stop()
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "Airflow 未运行 (not running)")


@airflow_group.command("env")
@_port_option
@_profile_option
def env(port: int | None, profile: str | None) -> None:
    """打印环境变量, to use the `airflow` CLI on this home: eval "$(uv run edulake airflow env)"."""
    from edulake.orchestration import config

    # the metadata URL of the production profile carries the database password: not printed either
    hidden = ("SECRET", "FERNET", "SQL_ALCHEMY_CONN")
    for key, value in config.airflow_env(port, profile_=profile).items():
        if key.startswith(("AIRFLOW", "EDULAKE_HOME", "EDULAKE_AIRFLOW")) and not any(h in key for h in hidden):
            click.echo(f"export {key}={json.dumps(value)}")
    if config.profile(profile) == "production":  # Airflow runs this command to get the URL
        import sys

        command = f"{sys.executable} -m edulake.orchestration.postgres url"
        click.echo(f"export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD={json.dumps(command)}")
    click.echo("# secrets (JWT, Fernet, the PostgreSQL password) stay in $EDULAKE_HOME/secrets/; "
               "`edulake airflow serve` passes them")


def _client():
    from edulake.orchestration import server

    s = server.running()
    if s is None:
        raise click.ClickException("Airflow 未运行 (not running): start it with `edulake airflow serve`")
    return s.client()


@airflow_group.command("trigger")
@click.argument("target")
@click.option("--wait/--no-wait", default=True, show_default=True)
def trigger(target: str, wait: bool) -> None:
    """触发一个 DAG: a feed name (reference, enrollment, health, exam, facility), `build`, `monitor`, or a DAG id."""
    dag_id = _dag_id(target)
    client = _client()
    run = client.trigger(dag_id, note="edulake airflow trigger")
    click.echo(f"{dag_id}: {run['dag_run_id']} queued")
    if wait:
        _wait_and_report(client, dag_id, run["dag_run_id"])


@airflow_group.command("unpause")
@click.argument("target")
def unpause(target: str) -> None:
    """启用一个 DAG 的调度 (unpause): e.g. `monitor` — the daily 运行监测 of overdue feeds."""
    dag_id = _dag_id(target)
    _client().unpause(dag_id)
    click.echo(f"{dag_id}: unpaused")


def _dag_id(target: str) -> str:
    from edulake import standard
    from edulake.orchestration import names

    if target == "build":
        return names.BUILD_DAG_ID
    if target == "monitor":
        return names.MONITOR_DAG_ID
    if target in standard.load().feeds:
        return names.ingest_dag_id(target)
    if target in names.all_dag_ids():
        return target
    raise click.BadParameter(f"unknown DAG or feed {target!r}; one of {', '.join(names.all_dag_ids())}")


def _wait_and_report(client, dag_id: str, run_id: str) -> None:
    from edulake.orchestration import runlog

    run = client.wait(dag_id, run_id)
    click.echo(f"{dag_id}: {run['state']}")
    if run["state"] != "success":
        for r in runlog.read(f"run_id = {runlog.quote(run_id)} AND state = 'failed' AND task_id IS NOT NULL"):
            click.echo(f"  {r['task_id']} {r['batch_id'] or ''}: {r['reason']}")
        raise SystemExit(1)


@airflow_group.command("reprocess")
@click.argument("feed")
@click.argument("batch_ids", nargs=-1, required=True)
@click.option("--wait/--no-wait", default=True, show_default=True)
def reprocess(feed: str, batch_ids: tuple[str, ...], wait: bool) -> None:
    """重处理批次: validate and load bronze batches again (after a fix of the standard or reference data).

    A file rejected at landing or with wrong content is fixed at the source instead: put the corrected
    file in inbox/<feed>/ (or `edulake ingest <feed> <file>`); its new checksum makes it a new batch."""
    from edulake.orchestration import names

    client = _client()
    dag_id = names.ingest_dag_id(feed)
    run = client.trigger(dag_id, conf={"reprocess": list(batch_ids)}, note=f"reprocess {' '.join(batch_ids)}")
    click.echo(f"{dag_id}: {run['dag_run_id']} queued (reprocess {', '.join(batch_ids)})")
    if wait:
        _wait_and_report(client, dag_id, run["dag_run_id"])


@airflow_group.command("test")
@click.argument("target")
def test(target: str) -> None:
    """在本进程内运行一个 DAG (dag.test(): no scheduler, no api-server) — for debugging."""
    from edulake.orchestration import inprocess

    inprocess.use_home()
    inprocess.prepare_metadata()
    state, run_id = inprocess.test_dag(_dag_id(target))
    click.echo(f"{_dag_id(target)} {run_id}: {state}")
    if state != "success":
        raise SystemExit(1)


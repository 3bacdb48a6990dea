"""`edulake run`: the main job end to end THROUGH Airflow, on the embedded defaults.

    generate sample sources into inbox/  ->  start (or reuse) the embedded Airflow on 127.0.0.1
    -> ingest_reference (the others are checked against it) -> the other ingest DAGs
    -> build_warehouse (scheduled on the silver Assets; triggered here when no Asset changed, where it
       finds nothing new and skips) -> where to look.

A second run is idempotent: the same seed writes the same files, their checksums are in the batch
ledger, no batch is ingested twice, and the build skips because silver did not change.
Airflow is left running, so the UI stays reachable; `edulake airflow stop` ends it (or pass --stop).
"""

from __future__ import annotations

import os
import time

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edulake import settings

STYLE = {"success": "green", "failed": "red", "running": "yellow", "queued": "cyan", "skipped": "magenta",
         "up_for_retry": "yellow", "upstream_failed": "red"}


@click.command()
@click.option("--scale", default=0.01, show_default=True, type=float, help="数据规模 (1.0 = 北京全市)")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--generate/--no-generate", default=True, show_default=True,
              help="先生成模拟源数据; --no-generate runs the pipeline over what is in the inbox")
@click.option("--port", type=int, default=None, help="Airflow api-server 端口 (default $EDULAKE_AIRFLOW_PORT or 8080)")
@click.option("--stop", "stop_after", is_flag=True, help="结束后停止 Airflow (default: leave the UI running)")
@click.option("--timeout", default=3 * 3600, show_default=True, type=int, help="每个 DAG 运行的等待上限 (秒)")
@click.option("--cockpit/--no-cockpit", default=True, show_default=True,
              help="构建后部署并启动领导驾驶舱 (Superset, its own environment) on 127.0.0.1")
@click.option("--engine", type=click.Choice(("duckdb", "spark")), default=None,
              help="湖引擎 lake engine for the ingest tasks (default: EDULAKE_ENGINE, else duckdb; "
                   "read when Airflow starts)")
def run(scale: float, seed: int, generate: bool, port: int | None, stop_after: bool, timeout: int,
        cockpit: bool, engine: str | None) -> None:
    """端到端运行: 生成 → Airflow 入湖 (每个数据源一个 DAG) → dbt 构建 → 打印访问地址。"""
    from edulake.orchestration import names, server

    if engine:
        os.environ["EDULAKE_ENGINE"] = engine
    console = Console()
    paths = settings.paths()
    started = time.monotonic()
    console.print(f"EDULAKE_HOME = {paths.home}")
    from edulake.commands.setup import ensure_pseudonym_key

    ensure_pseudonym_key()  # the ingest tasks pseudonymise with it; `make run` has made it already
    if generate:
        _generate(console, scale, seed, paths.inbox)

    with console.status("启动 Airflow (migrate, api-server, scheduler, dag-processor) ..."):
        airflow = server.start(port)
        client = airflow.client()
        client.wait_for_dags(names.all_dag_ids())
        # the daily monitor_deliveries stays as the operator left it: unpaused on a fresh home it would judge
        # every feed overdue before this run has ingested anything
        for dag_id in names.pipeline_dag_ids():
            client.unpause(dag_id)
    console.print(f"Airflow {'(复用 reused)' if airflow.reused else ''} {airflow.url}")

    from edulake.lake.pipeline import feed_order

    feeds = feed_order()
    runs: dict[str, dict] = {}
    # reference first: the other feeds validate school ids against it
    runs |= _run_dags(console, client, [names.ingest_dag_id(feeds[0])], timeout)
    if runs[names.ingest_dag_id(feeds[0])]["state"] == "success":
        runs |= _run_dags(console, client, [names.ingest_dag_id(f) for f in feeds[1:]], timeout)
    else:
        console.print("[red]参考数据入湖失败, 其余数据源未运行 (reference ingest failed; other feeds not run)[/]")
    runs[names.BUILD_DAG_ID] = _build(console, client, runs, timeout)

    cockpit_url = _cockpit(console) if cockpit and runs[names.BUILD_DAG_ID]["state"] == "success" else None
    _report(console, runs, airflow.url, time.monotonic() - started, cockpit_url)
    if stop_after:
        server.stop()
        console.print("Airflow 已停止 (stopped)")
    else:
        console.print("Airflow 保持运行 (left running): `edulake airflow stop` 停止, `edulake airflow serve` 再启动")
    if any(r["state"] != "success" for r in runs.values()) or (cockpit and not cockpit_url):
        raise SystemExit(1)


def _cockpit(console: Console) -> str | None:
    """Provision Superset on the published warehouse (idempotent: a re-import updates the same objects)
    and leave it serving; returns the cockpit URL, or None (with the reason printed) when it failed."""
    from edulake import superset

    try:
        with console.status("部署领导驾驶舱 (Superset) ...") as status:
            return superset.provision(start=True, progress=lambda m: (console.log(escape(m)), status.update(escape(m))))
    except Exception as e:  # the pipeline's results stand; the report says what is missing and why
        console.print(f"[red]驾驶舱部署失败 (cockpit provisioning failed)[/]: {escape(str(e))}")
        return None


def _generate(console: Console, scale: float, seed: int, inbox) -> None:
    try:
        from edulake.generate import run_generate
    except ImportError as e:
        raise click.ClickException(f"the generator is not available ({e}); use --no-generate with files in "
                                   f"{inbox}") from None
    if _already_generated(inbox, scale, seed):
        console.print(f"源数据已生成 (same scale {scale} and seed {seed}, files unchanged): {inbox}")
        return
    console.print(f"生成模拟源数据 scale={scale} seed={seed} -> {inbox}")
    run_generate(scale=scale, seed=seed, out=inbox, progress=True)


def _already_generated(inbox, scale: float, seed: int) -> bool:
    """The generator is deterministic: when its manifest says same scale and seed and every file it lists is
    there with its checksum, generating again would write the same bytes (a rerun need not pay for it)."""
    import hashlib
    import json

    manifest_path = inbox / "defects.json"
    if not manifest_path.exists():
        return False
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("scale") != scale or manifest.get("seed") != seed:
        return False
    for name, meta in manifest.get("files", {}).items():
        path = inbox / name
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != meta.get("sha256"):
            return False
    return True


def _run_dags(console: Console, client, dag_ids: list[str], timeout: float) -> dict[str, dict]:
    """Trigger the DAGs together and wait for all; the heavy pool runs their Spark tasks one at a time."""
    triggered = {d: client.trigger(d, note="edulake run")["dag_run_id"] for d in dag_ids}
    return {d: _wait(console, client, d, run_id, timeout) for d, run_id in triggered.items()}


def _wait(console: Console, client, dag_id: str, run_id: str, timeout: float) -> dict:
    seen: dict[str, str] = {}

    def progress(run: dict, tis: list[dict]) -> None:
        for ti in tis:
            state = ti.get("state") or "none"
            if seen.get(ti["task_id"]) != state:
                seen[ti["task_id"]] = state
                if state not in ("none", "scheduled", "queued"):
                    console.log(f"{dag_id}.{ti['task_id']}: [{STYLE.get(state, 'white')}]{state}[/]")

    with console.status(f"{dag_id} ..."):
        run = client.wait(dag_id, run_id, timeout=timeout, on_progress=progress)
    return {"run_id": run_id, "state": run["state"], "tasks": dict(seen)}


def _build(console: Console, client, runs: dict[str, dict], timeout: float) -> dict:
    """Wait for the asset-triggered builds of this run; when no ingest changed silver, trigger one (it skips
    when the warehouse is already built from the current silver, and builds when a previous build failed)."""
    from edulake.orchestration import names

    def events() -> list[dict]:
        return [e for d, r in runs.items() if r.get("run_id") for e in client.asset_events(d, r["run_id"])]

    dag_id = names.BUILD_DAG_ID
    if not events():
        run_id = client.trigger(dag_id, note="edulake run: no silver change")["dag_run_id"]
        return _wait(console, client, dag_id, run_id, timeout)
    deadline = time.monotonic() + timeout
    with console.status(f"{dag_id}: 等待由资产触发的构建 (waiting for the scheduler to queue the build) ..."):
        while True:
            emitted = events()
            if all(e["created_dagruns"] for e in emitted):
                break
            if time.monotonic() > deadline:
                raise click.ClickException(f"no {dag_id} run was created for this run's silver Assets")
            time.sleep(3)
    # one run per burst of events; they queue one at a time (max_active_runs=1), the last sees every change
    run_ids = sorted({c["run_id"] for e in emitted for c in e["created_dagruns"] if c["dag_id"] == dag_id})
    results = [_wait(console, client, dag_id, run_id, timeout) for run_id in run_ids]
    for r in results:
        console.log(f"{dag_id} {r['run_id']}: [{STYLE.get(r['state'], 'white')}]{r['state']}[/]"
                    f" (dbt_build={r['tasks'].get(names.BUILD_TASK, '-')})")
    # report the run that matters: a failed one, else the one that built (a later queued run that found
    # the warehouse already current skips its dbt_build), else the last
    failed = [r for r in results if r["state"] != "success"]
    built = [r for r in results if r["tasks"].get(names.BUILD_TASK) == "success"]
    return (failed or built or results)[-1]


def _report(console: Console, runs: dict[str, dict], url: str, seconds: float, cockpit_url: str | None) -> None:
    from edulake.orchestration import config, names, runlog

    table = Table("DAG", "运行", "状态", "任务", title="本次运行 (this run)")
    for dag_id, r in runs.items():
        tasks = ", ".join(f"{t}={s}" for t, s in r["tasks"].items())
        table.add_row(dag_id, r["run_id"], f"[{STYLE.get(r['state'], 'white')}]{r['state']}[/]", tasks)
    console.print(table)
    for dag_id, r in runs.items():
        if r["state"] == "success":
            continue
        for f in runlog.read(f"run_id = {runlog.quote(r['run_id'])} AND state = 'failed' AND task_id IS NOT NULL"):
            console.print(f"[red]失败[/] {dag_id}.{f['task_id']} {f['batch_id'] or ''}: {escape(f['reason'] or '')}")
    build_tasks = runs[names.BUILD_DAG_ID]["tasks"]
    if build_tasks.get(names.BUILD_TASK) == "skipped":
        why = "仓库已是最新 (warehouse already built from the current silver)"
        console.print(f"构建跳过 build skipped: {why} — see the check_silver log for the reason")

    p = settings.paths()
    console.print(f"\n[bold]完成[/] in {seconds:.0f} s. 去哪里看 (where to look):")
    console.print(f"  Airflow UI     {url}   (用户 {config.ADMIN_USER}, 密码见 {config.passwords_file()})")
    console.print(f"  数仓 warehouse  {p.warehouse if p.warehouse.exists() else '(not built)'}"
                  "   uv run edulake sql  (DuckDB CLI, read-only)")
    console.print("  共享与数据服务  uv run edulake serve  (Delta Sharing :8090, API :8091; extracts in "
                  f"{p.extracts})")
    docs = _data_docs(p)
    how = "(每次入湖都运行 runs on every load; EDULAKE_GX=0 turns it off; uv run edulake quality docs <feed.table>)"
    console.print(f"  Data Docs      {docs or how}")
    console.print(f"  领导驾驶舱      {cockpit_url or _superset_url()}")
    console.print("  状态 status     uv run edulake status")


def _data_docs(p) -> str | None:
    """The GX Data Docs index under the quality folder, wherever the quality part writes it."""
    if not p.quality.exists():
        return None
    found = sorted(p.quality.rglob("index.html"), key=lambda f: len(f.parts))
    return f"file://{found[0]}" if found else None


def _superset_url() -> str:
    """The cockpit's URL once the Superset part (issue 8) provides one."""
    try:
        from edulake.superset import config as superset_config
    except ImportError:
        return "(驾驶舱尚未提供 not available yet)"
    url = getattr(superset_config, "base_url", None)
    return (f"{url()}  (first time: edulake superset setup --start; then edulake superset serve --background)"
            if callable(url) else "edulake superset --help")

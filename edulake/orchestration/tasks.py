"""What the DAG tasks do. The DAG files in dags/ only wire these together; heavy imports (Spark, dbt)
happen inside the functions, at run time, never when a DAG file is parsed."""

from __future__ import annotations

import datetime as dt
import logging

from edulake import settings, standard
from edulake.orchestration import deltaread, inbox, names, runlog
from edulake.orchestration.errors import (
    BatchRejectedFailure,
    BuildFailure,
    ConfigurationFailure,
    OperationsAlertFailure,
    ReferenceNotReady,
)

log = logging.getLogger(__name__)


# ---- ingest ---------------------------------------------------------------------------------------

def reference_entities() -> list[str]:
    return [t.entity for t in standard.load().feed("reference").tables]


def require_reference(feed: str) -> None:
    """The other feeds are checked against the school directory: without it every row would be quarantined."""
    if feed == "reference":
        return
    from edulake.lake import silver

    missing = [e for e in reference_entities() if not deltaread.exists(silver.path(e))]
    if missing:
        raise ReferenceNotReady(
            f"参考数据尚未入湖 (reference data not in silver yet: {', '.join(missing)}); "
            f"run {names.ingest_dag_id('reference')} first")


def detect_new_files(feed: str, reprocess: list[str] | None = None) -> dict:
    """Inbox files not yet in the ledger, unfinished batches, and batches an operator asked to re-process."""
    require_reference(feed)
    work = inbox.work_for(feed)
    work["reprocess"] = sorted(set(reprocess or []))
    log.info("%s: %d 个新文件, %d 个未完成批次, %d 个重处理批次", feed, len(work["new"]),
             len(work["unfinished"]), len(work["reprocess"]))
    for item in work["new"]:
        log.info("  新文件 %s -> %s", item["file"], item["batch_id"])
    return work


def reopen_batches(feed: str, batch_ids: list[str]) -> None:
    """Put batches back to `bronze` in the ledger so silver validates and loads them again (after a fix of
    the standard or the reference data). Only batches that reached bronze can be re-processed: a file
    rejected at landing never got there, and has to be corrected and sent again."""
    from edulake.lake import ledger
    from edulake.lake.landing import landed_batch, now

    entries = []
    known = inbox.ledger_statuses(feed)
    for batch_id in batch_ids:
        batch = landed_batch(feed, batch_id)
        if batch is None or known.get(batch_id) in (None, "landed"):
            raise BatchRejectedFailure(feed, [{
                "batch_id": batch_id, "file": batch.source_file if batch else None,
                "reason": "无法重处理：批次未进入 bronze (batch never reached bronze; send a corrected file)"}])
        entries.append(ledger.Entry(batch.batch_id, feed, batch.table, batch.source_file, batch.sha256, "bronze",
                                    dt.datetime.fromisoformat(batch.landed_at), now(), rows_received=batch.rows))
        log.info("重处理 %s (%s): 状态 %s -> bronze", batch_id, batch.source_file, known.get(batch_id))
    ledger.record(entries)


def ingest(feed: str, work: dict) -> dict:
    """Landing -> bronze -> validation and silver for the detected files, on the lake engine
    (EDULAKE_ENGINE: DuckDB by default, Spark for scale-out), in one process.

    One task rather than one per step: every task is its own process, and a Spark start costs 10-15 s on
    2 cores. The lake's steps resume from the ledger, so a retry of this task picks up where it stopped.
    """
    from edulake.lake import engines, gx_run, pipeline, privacy
    from edulake.lineage.lake import airflow_parent, ingest_run

    try:
        privacy.pseudonym_key()  # before the engine starts: without the key no batch can reach silver
    except privacy.KeyMissing as e:
        raise ConfigurationFailure(str(e)) from e
    engine = engines.get()
    log.info("引擎 (engine): %s", engine.name)
    if work.get("reprocess"):
        reopen_batches(feed, work["reprocess"])
    say = lambda message: log.info("%s", message)  # noqa: E731
    files = [item["file"] for item in work["new"]]
    if files:
        gx_run.prefetch(engine)  # silver will validate with GX: its import overlaps landing
    # the lake's OpenLineage run, as `edulake ingest` emits it, under the Airflow task's run
    with ingest_run(engine, feed, parent=airflow_parent()) as lineage:
        result = lineage.result = pipeline.run_landing(engine, feed, files, on_event=say)
        lineage.bronzed = pipeline.run_bronze(engine, feed, on_event=say)
        pipeline.run_silver(engine, feed, on_event=say, result=result)
    summary = summarise(feed, result)
    log.info("%s: 入库 %d 个批次, 拒收 %d 个", feed, len(summary["loaded"]), len(summary["rejected"]))
    for warning in summary["warnings"]:
        log.warning("警告 (warning): %s", warning)
    return summary


def summarise(feed: str, result) -> dict:
    """What the run did, JSON-able (an XCom): loaded batches with their counts, rejected ones with reasons."""
    from edulake.lake import landing
    from edulake.lake.errors import BatchRejected, IngestError

    loaded = [{"batch_id": e.batch_id, "table": e.table, "file": e.source_file,
               "rows_received": e.rows_received, "rows_accepted": e.rows_accepted,
               "rows_quarantined": e.rows_quarantined, "rows_collapsed": e.rows_collapsed}
              for e in result.entries if e.status == "loaded"]
    rejected = [{"batch_id": e.batch_id, "file": e.source_file, "reason": e.reason}
                for e in result.entries if e.status == "rejected"]
    for error in result.errors:
        if isinstance(error, BatchRejected):
            continue  # already among the rejected ledger entries above
        batch_id = None
        try:
            path = landing.resolve_inbox_file(feed, error.file)
            batch_id = landing.batch_id_for(feed, landing.sha256_of(path))
        except IngestError:
            pass
        rejected.append({"batch_id": batch_id, "file": error.file, "reason": str(error)})
    return {"feed": feed, "loaded": loaded, "rejected": rejected, "unchanged": list(result.unchanged),
            "warnings": list(result.warnings)}


def check_rejections(summary: dict) -> None:
    if summary["rejected"]:
        raise BatchRejectedFailure(summary["feed"], summary["rejected"])


def check_alerts(feed: str | None, as_of: str | None = None) -> dict:
    """The operations alerts (edulake.monitoring.alerts) of one feed, or of every feed (None: the daily
    monitor_deliveries DAG), as of a date (ISO; today by default) into ops/alerts; fails naming each new one.

    Why fail rather than only log: a warning in a task log is read by nobody, while a failed run is red in the
    UI, makes `edulake airflow trigger`/`edulake run` exit 1 and is written to ops/runs with its reason. The
    ingest DAG's task follows ingest with trigger rule all_done (it runs also when nothing new arrived), beside
    publish_silver, so the build still gets the feed's good batches; the daily DAG catches the feed whose
    files never came at all. Alerts already raised are logged, not failed again."""
    import datetime as dt

    from edulake.monitoring import alerts

    current, new = alerts.check([feed] if feed else None, dt.date.fromisoformat(as_of) if as_of else None)
    for alert in current:
        log.warning("告警 (alert) %s", alert.message)
    if new:
        raise OperationsAlertFailure(feed or "全部数据源 (every feed)", [a.message for a in new])
    return {"feed": feed, "alerts": len(current), "new": 0}


def silver_event_extra(summary: dict, entity: str) -> dict:
    """What an asset event says about the batches that changed one silver entity."""
    std = standard.load()
    batches = [b for b in summary["loaded"] if std.table(b["table"]).entity == entity]
    return {"feed": summary["feed"], "batches": [b["batch_id"] for b in batches],
            "rows_accepted": sum(b["rows_accepted"] for b in batches)}


# ---- build ----------------------------------------------------------------------------------------

def active_ingest_runs(count_runs) -> int:
    """Ingest DAG runs queued or running; `count_runs(dag_id, states)` is the Task SDK's get_dr_count."""
    return sum(count_runs(dag_id=names.ingest_dag_id(f), states=["queued", "running"])
               for f in standard.load().feeds)


def silver_versions() -> dict[str, int | None]:
    from edulake.lake import silver

    return {t.entity: deltaread.version(silver.path(t.entity)) for t in standard.load().tables()}


def build_needed() -> tuple[bool, str, dict]:
    """(needed, why, silver versions): every silver entity must exist, and have changed since the last build."""
    versions = silver_versions()
    missing = sorted(e for e, v in versions.items() if v is None)
    if missing:
        return False, f"silver 尚缺实体 (not loaded yet): {', '.join(missing)}", versions
    last = runlog.last_success_detail(names.BUILD_DAG_ID, names.BUILD_TASK) or {}
    if last.get("silver_versions") == versions and settings.paths().warehouse.exists():
        return False, "仓库已由当前 silver 构建 (warehouse already built from these silver versions)", versions
    return True, "silver changed since the last build", versions


def build_warehouse(versions: dict) -> dict:
    """dbt build of the holistic database and marts on DuckDB, published atomically by edulake.warehouse.

    A build that ran and failed (a model error, a failed data test) fails without retry: the same silver
    gives the same failure, the fix is in the data or the models. Anything raised (I/O, a lock) retries."""
    from edulake import warehouse

    result = warehouse.build()
    summary = result.summary()
    if not result.success:
        problems = [f"{n.status} {n.unique_id}: {n.message[:300]}" for n in result.problems[:20]]
        kept = f"; failed build kept at {result.kept_failed}" if result.kept_failed else ""
        raise BuildFailure("dbt build 失败，仓库未发布 (warehouse not published)" + kept + ":\n  "
                           + "\n  ".join(problems or [result.error or "see the dbt log"]))
    return {"silver_versions": versions, "warehouse": str(result.published), "build": summary}

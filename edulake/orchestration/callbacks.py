"""Airflow callbacks that fill the run log ops/runs. A callback never raises: losing a log row must not
hide the failure it was reporting (the Airflow log keeps the traceback either way)."""

from __future__ import annotations

import datetime as dt
import logging

from edulake.orchestration import names, runlog
from edulake.orchestration.runlog import RunRecord

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reason(exception: BaseException | None) -> str:
    if exception is None:
        return "unknown (no exception in the callback context)"
    return str(exception) or type(exception).__name__


def _batches_in_flight(ti) -> list[dict]:
    """The batches the failed run was working on, from the detect task's XCom (new files, unfinished)."""
    try:
        work = ti.xcom_pull(task_ids=names.DETECT_TASK) or {}
    except Exception:  # the detect task itself failed, or no XCom
        return []
    batches = [{"batch_id": item["batch_id"], "file": item["file"]} for item in work.get("new", [])]
    batches += [{"batch_id": b, "file": None} for b in work.get("unfinished", []) + work.get("reprocess", [])]
    return batches


def task_records(context, state: str) -> list[RunRecord]:
    ti = context["ti"]
    exception = context.get("exception")
    reason = _reason(exception)
    batches = getattr(exception, "batches", None)
    if batches is None:
        batches = _batches_in_flight(ti)
    base = dict(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number, state=state,
                feed=names.feed_of(ti.dag_id), started_at=getattr(ti, "start_date", None), finished_at=_now())
    detail = {"exception": type(exception).__name__ if exception else None}
    if not batches:
        return [RunRecord(**base, reason=reason, detail=detail)]
    # one row per batch: the batch's own reason when it was rejected, the task's error otherwise
    return [RunRecord(**base, batch_id=b.get("batch_id"), source_file=b.get("file"),
                      reason=b.get("reason") or reason, detail=detail) for b in batches]


def on_task_failure(context) -> None:
    try:
        runlog.record(task_records(context, "failed"))
    except Exception:
        log.exception("could not write the failure to ops/runs")


def on_task_retry(context) -> None:
    try:
        runlog.record(task_records(context, "up_for_retry"))
    except Exception:
        log.exception("could not write the retry to ops/runs")


def _dag_record(context, state: str) -> RunRecord:
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(dag, "dag_id", None)
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id")
    reason = context.get("reason") if state == "failed" else None  # Airflow passes "success" on success
    if state == "failed":
        # the DAG row names what failed: the reasons the failed tasks already recorded for this run
        failed = [r for r in runlog.read(
            f"run_id = {runlog.quote(run_id)} AND dag_id = {runlog.quote(dag_id)} AND state = 'failed'")
                  if r["task_id"]]
        if failed:
            reason = "; ".join(dict.fromkeys(f"{r['task_id']}: {r['reason']}" for r in failed))
    return RunRecord(dag_id=dag_id, run_id=run_id, state=state, feed=names.feed_of(dag_id or ""),
                     reason=reason, started_at=getattr(dag_run, "start_date", None),
                     finished_at=getattr(dag_run, "end_date", None) or _now(),
                     detail={"run_type": str(getattr(dag_run, "run_type", "") or "") or None,
                             "conf": getattr(dag_run, "conf", None) or None})


def on_dag_success(context) -> None:
    try:
        runlog.record([_dag_record(context, "success")])
    except Exception:
        log.exception("could not write the DAG run to ops/runs")


def on_dag_failure(context) -> None:
    try:
        runlog.record([_dag_record(context, "failed")])
    except Exception:
        log.exception("could not write the DAG run to ops/runs")


def record_success(context, detail: dict | None = None) -> None:
    """Called by a task itself when its success carries facts later runs read (the build's silver versions)."""
    ti = context["ti"]
    runlog.record([RunRecord(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=ti.try_number,
                             state="success", feed=names.feed_of(ti.dag_id),
                             started_at=getattr(ti, "start_date", None), finished_at=_now(), detail=detail)])

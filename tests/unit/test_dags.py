"""DAG integrity: every DAG file in dags/ parses with no import error and no cycle, every DAG and task has
tags, owner and retries, the Assets follow schemas/, and parsing imports nothing heavy (no JVM, no dbt)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from edulake import settings, standard
from edulake.orchestration import config, names


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    home = tmp_path_factory.mktemp("dags_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDULAKE_HOME", str(home))
        for key, value in config.airflow_env(port_=18790).items():
            mp.setenv(key, value)
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(settings.DAGS_DIR))
        assert not bag.import_errors, bag.import_errors
        yield bag.dags


def test_one_ingest_dag_per_feed_and_the_build_dag(dags):
    assert sorted(dags) == sorted(names.all_dag_ids())
    assert {names.ingest_dag_id(f) for f in standard.load().feeds} < set(dags)


def _has_cycle(dag) -> bool:
    state: dict[str, int] = {}

    def visit(task_id: str) -> bool:
        if state.get(task_id) == 1:
            return True
        if state.get(task_id) == 2:
            return False
        state[task_id] = 1
        if any(visit(d) for d in dag.get_task(task_id).downstream_task_ids):
            return True
        state[task_id] = 2
        return False

    return any(visit(t) for t in dag.task_ids)


def test_no_cycles(dags):
    for dag in dags.values():
        assert not _has_cycle(dag), dag.dag_id


def test_tags_owner_retries_and_callbacks(dags):
    for dag in dags.values():
        assert "edulake" in dag.tags and len(dag.tags) >= 2, dag.dag_id
        assert dag.on_failure_callback, dag.dag_id
        for task in dag.tasks:
            assert task.owner == names.OWNER, (dag.dag_id, task.task_id)
            assert task.on_failure_callback, (dag.dag_id, task.task_id)
            if task.task_id in (names.CHECK_REJECTIONS_TASK, names.CHECK_ALERTS_TASK):
                assert task.retries == 0  # a rejected batch is final: the file has to be fixed; an alert too
            else:
                assert task.retries >= 1 and task.retry_exponential_backoff, (dag.dag_id, task.task_id)


def test_ingest_dags_detect_ingest_and_publish_their_silver_assets(dags):
    std = standard.load()
    for feed in std.feeds:
        dag = dags[names.ingest_dag_id(feed)]
        assert feed in dag.tags
        assert dag.get_task(names.DETECT_TASK).downstream_task_ids == {names.INGEST_TASK}
        assert dag.get_task(names.INGEST_TASK).downstream_task_ids == {names.PUBLISH_SILVER_TASK,
                                                                      names.CHECK_REJECTIONS_TASK,
                                                                      names.CHECK_ALERTS_TASK}
        # every check is a leaf: Airflow fails a run by its leaves (an all_done task after check_rejections
        # would turn a rejected batch's run green)
        assert {t.task_id for t in dag.leaves} == {names.PUBLISH_SILVER_TASK, names.CHECK_REJECTIONS_TASK,
                                                   names.CHECK_ALERTS_TASK}
        alerts = dag.get_task(names.CHECK_ALERTS_TASK)
        assert alerts.upstream_task_ids == {names.INGEST_TASK}
        assert alerts.trigger_rule == "all_done"  # also when nothing new arrived: that is when a feed is overdue
        assert dag.get_task(names.DETECT_TASK).ignore_downstream_trigger_rules is False
        outlets = {a.name for a in dag.get_task(names.PUBLISH_SILVER_TASK).outlets}
        assert outlets == {f"silver.{t.entity}" for t in std.feed(feed).tables}


def test_build_dag_is_scheduled_on_every_silver_asset(dags):
    dag = dags[names.BUILD_DAG_ID]
    scheduled = {a.name for a in dag.schedule.objects}  # AssetAny: any silver entity changing triggers a build
    assert scheduled == {f"silver.{t.entity}" for t in standard.load().tables()}
    assert dag.max_active_runs == 1
    assert {a.name for a in dag.get_task(names.BUILD_TASK).outlets} == {"warehouse"}
    assert dag.get_task(names.BUILD_TASK).downstream_task_ids == {names.SHARE_TASK}  # extracts after publish


def test_monitor_dag_judges_every_feed_daily(dags):
    """Overdue means the files did not come, so no ingest run notices it: a daily DAG does."""
    dag = dags[names.MONITOR_DAG_ID]
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 8 * * *", "Asia/Shanghai")  # 08:00 北京
    assert not dag.catchup and dag.max_active_runs == 1
    assert [t.task_id for t in dag.tasks] == [names.CHECK_ALERTS_TASK]
    assert "as_of" in dag.params
    assert names.MONITOR_DAG_ID not in names.pipeline_dag_ids()  # `edulake run` leaves it paused


def test_parsing_the_dag_files_imports_nothing_heavy(tmp_path):
    """The DAG processor parses these files every 30 s: no Spark, dbt, GX or DuckDB at parse time."""
    script = textwrap.dedent(f"""
        import importlib.util, os, sys
        os.environ["EDULAKE_HOME"] = {str(tmp_path)!r}
        from edulake.orchestration import config
        config.apply(port_=18790)
        for name in ("edulake_ingest", "edulake_build", "edulake_monitoring"):
            spec = importlib.util.spec_from_file_location(name, {str(settings.DAGS_DIR)!r} + f"/{{name}}.py")
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        heavy = sorted(m for m in ("pyspark", "dbt", "great_expectations", "duckdb", "deltalake", "pandas")
                       if m in sys.modules)
        print("HEAVY=" + ",".join(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    heavy = [line for line in out.stdout.splitlines() if line.startswith("HEAVY=")]
    assert heavy == ["HEAVY="], out.stdout[-3000:]

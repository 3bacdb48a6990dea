"""Running DAGs inside this process with `dag.test()` (tests, debugging): no scheduler, no api-server.

Call config.apply() before anything imports airflow. Tasks run here, in this process, so they share
its Spark session (edulake.lake.engines.spark.session.get_spark is process-wide).
"""

from __future__ import annotations

import logging

from edulake import settings
from edulake.orchestration import names

log = logging.getLogger(__name__)


def use_home(port: int | None = None) -> dict[str, str]:
    """Point this process's Airflow at the current EDULAKE_HOME (sets the AIRFLOW__* environment)."""
    from edulake.orchestration import config

    env = config.apply(port)
    reconfigure()
    return env


def reconfigure() -> None:
    """Before airflow is imported the environment is enough; afterwards (e.g. a module imported it for
    another home, or before config.apply ran) airflow's import-time globals are re-read from the
    environment — the metadata DB and the DAGs folder, which the DAG bundle that dag.test() serializes
    into resolves against — and the ORM is rebuilt on the SQLite file the environment now names."""
    import sys

    if "airflow.settings" in sys.modules:
        from airflow import settings as airflow_settings

        airflow_settings.configure_vars()
        airflow_settings.reconfigure_orm()


def prepare_metadata() -> None:
    """Create or migrate the metadata database and the heavy-work pool (idempotent)."""
    import os
    from pathlib import Path

    from airflow.models.pool import Pool
    from airflow.utils import db

    from edulake.orchestration import config

    # airflow creates AIRFLOW_HOME only when first imported: a process that imported it for another
    # home (an earlier test module, a re-pointed shell) must create this one's folder itself
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    db.initdb()
    Pool.create_or_update_pool(names.HEAVY_POOL, slots=config.heavy_slots(), description=names.HEAVY_POOL_DESCRIPTION,
                               include_deferred=False)


def load_dags() -> dict:
    """Every DAG in the DAGs folder, by id; a DAG file that fails to import raises with its traceback."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError("DAG import errors:\n" + "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    return bag.dags


def test_dag(dag_id: str, conf: dict | None = None) -> tuple[str, str]:
    """Run one DagRun of `dag_id` to the end in this process; returns (state, run_id). Never raises for a
    failed run: dag.test() reports it in the state."""
    dag = load_dags()[dag_id]
    run = dag.test(run_conf=conf or None)
    return str(getattr(run.state, "value", run.state)), run.run_id


if __name__ == "__main__":  # `python -m edulake.orchestration.inprocess prepare`, run by server.start
    import sys

    if sys.argv[1:] != ["prepare"]:
        raise SystemExit("usage: python -m edulake.orchestration.inprocess prepare")
    prepare_metadata()

"""The one Spark session factory every job and test uses.

Local mode by default; EDULAKE_SPARK_MASTER (or spark-submit's --master) selects a cluster.
Delta comes from jars resolved ahead of time by `edulake setup`, passed as spark.jars, so
nothing is downloaded when a session starts.
"""

from __future__ import annotations

import os

from edulake import permissions, settings

_session = None


def delta_jars() -> list[str]:
    folder = settings.jars_dir()
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not any("delta-spark" in j for j in jars):
        raise RuntimeError(f"Delta jars not found in {folder}: run `edulake setup` first")
    return jars


def session_conf() -> dict[str, str]:
    """The project's Spark configuration (Delta jars and catalog, time zone, scratch space, owner-only
    files): every session the project starts has it, the lake's and dbt-spark's alike."""
    scratch = settings.paths().spark_dir
    return {
        "spark.jars": ",".join(delta_jars()),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "Asia/Shanghai",
        "spark.sql.shuffle.partitions": os.environ.get("EDULAKE_SHUFFLE_PARTITIONS", "8"),
        "spark.driver.memory": os.environ.get("EDULAKE_DRIVER_MEMORY", "4g"),
        "spark.local.dir": str(scratch / "tmp"),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={scratch / 'derby'}",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # Delta replays its log with this many shuffle partitions on every snapshot; the default (50)
        # costs seconds per commit on 2 cores for tables that have a handful of files.
        "spark.databricks.delta.snapshotPartitions": os.environ.get("EDULAKE_DELTA_SNAPSHOT_PARTITIONS", "2"),
        "spark.sql.ansi.enabled": "false",
        **permissions.spark_conf(),  # Hadoop's local file system chmods by its own umask, not the process's
    }


def get_spark(app_name: str = "edulake"):
    """Return the process-wide SparkSession, creating it on first use."""
    global _session
    if _session is not None and _session._jsc is not None and not _session._jsc.sc().isStopped():
        return _session
    from pyspark.sql import SparkSession

    permissions.restrict_process()  # before the JVM starts: it keeps the umask it was started with
    settings.paths().spark_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName(app_name)
    if "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", "") and not os.environ.get("SPARK_ENV_LOADED"):
        builder = builder.master(os.environ.get("EDULAKE_SPARK_MASTER", "local[*]"))
    for key, value in session_conf().items():
        builder = builder.config(key, value)
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel("WARN")
    return _session

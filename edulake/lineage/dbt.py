"""The dbt build's lineage, and the mart -> dashboard edge.

Why openlineage-dbt as a library rather than the `dbt-ol` wrapper: `edulake build` runs dbt in process
(dbtRunner: progress callbacks, then the DuckDB handle is released before the atomic publish), and `dbt-ol`
runs dbt as a subprocess of its own. The wrapper's work after dbt ends is openlineage-dbt's
DbtLocalArtifactProcessor over target/manifest.json and run_results.json: we call that same processor, then
emit its events through our file transport. Two changes before they are written:
  - names: dbt names a relation `<database>.<schema>.<table>` in `duckdb://<build file>`, and the build file is
    a fresh temporary one per build; we name warehouse relations `<schema>.<model>` in names.WAREHOUSE, and
    the silver views as the lake's silver tables (names.LAKE, `silver/<entity>`), so dbt's inputs ARE the
    lake's outputs and one graph runs from the landing file to the mart;
  - row counts: dbt-duckdb reports no rows affected, so each table's rows (the built database) and each silver
    table's rows (its Delta log) are added as outputStatistics / inputStatistics.
The marts feed Superset: one run per dashboard (job superset.dashboard.<slug>), inputs the marts its datasets
read (edulake.superset.spec), output the dashboard.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from edulake import settings
from edulake.lineage import emitter, names

log = logging.getLogger(__name__)
PARENT_JOB = "dbt-run-edulake"


def parent_run():
    """A parent run for the whole build (dbt-ol's dbt-run-<project> job): START before dbt, end after."""
    return {"run_id": emitter.new_run_id(), "started": emitter.now()}


def _parent_event(parent: dict, state: str, error: str | None = None):
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import error_message_run, job_type_job

    run_facets = {}
    if error:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(message=emitter.scrub(error),
                                                                            programmingLanguage="sql")
    return RunEvent(eventType=getattr(RunState, state), eventTime=emitter.now(),
                    run=Run(runId=parent["run_id"], facets=run_facets),
                    job=Job(namespace=names.JOB_NAMESPACE, name=PARENT_JOB, facets={
                        "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="DBT",
                                                                jobType="JOB")}),
                    producer=emitter.PRODUCER)


def start(parent: dict) -> None:
    emitter.emit("dbt", _parent_event(parent, "START"))


def rename(namespace: str, name: str) -> tuple[str, str]:
    """dbt's (duckdb://<file>, <db>.<schema>.<table>) -> ours: the silver views are the lake's silver tables."""
    parts = name.split(".")
    schema, table = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", parts[-1])
    if schema == "silver":
        return names.LAKE, names.silver(table)
    if namespace.startswith("spark://"):
        # dbt-spark reads silver as delta.`<lake>/silver/<entity>`, named delta.<entity> by openlineage-dbt
        if schema == "delta" and table in names.silver_entities():
            return names.LAKE, names.silver(table)
        return names.SPARK_WAREHOUSE, f"{schema}.{table}"
    if namespace.startswith("duckdb://") or namespace == "":
        return names.WAREHOUSE, f"{schema}.{table}"
    return namespace, name


def _row_counts(database: Path | list[Path] | None) -> dict[str, int]:
    """`<schema>.<table>` -> rows of every base table in the built database (views are not counted): DuckDB
    files (the builder's own and the published one), or the Spark target's directory of Delta tables
    (<schema>/<table>/)."""
    if isinstance(database, list):
        return {name: n for one in database for name, n in _row_counts(one).items()}
    if database is None or not Path(database).exists():
        return {}
    import duckdb

    if Path(database).is_dir():
        from edulake import duckdb_extensions
        from edulake.lake import tables

        with duckdb.connect() as con:
            duckdb_extensions.load(con, "delta")
            return {f"{t.parent.name}.{t.name}": con.execute(f"select count(*) from delta_scan('{t}')").fetchone()[0]
                    for t in sorted(Path(database).glob("*/*")) if tables.exists(t)}

    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute("select schema_name, table_name, estimated_size from duckdb_tables() "
                            "where not internal").fetchall()
        counts = {}
        for schema, table, _ in found:
            counts[f"{schema}.{table}"] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        return counts


def _silver_rows(entity: str) -> int | None:
    """Rows of a silver table from its Delta log's file statistics (no data read)."""
    from edulake.lake import silver, tables

    path = silver.path(entity)
    return tables.rows(path) if tables.exists(path) else None


def _restate(event, counts: dict[str, int]) -> None:
    """Rename the event's datasets in place and attach the row counts we know (the processor's inputs are
    plain Datasets: they become InputDatasets to carry inputStatistics)."""
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import input_statistics_input_dataset, output_statistics_output_dataset

    silver_counts: dict[str, int | None] = {}

    def rows_of(namespace: str, name: str) -> int | None:
        if namespace != names.LAKE:
            return counts.get(name)
        entity = name.removeprefix("silver/")
        if entity not in silver_counts:
            silver_counts[entity] = _silver_rows(entity)
        return silver_counts[entity]

    inputs = []
    for d in event.inputs or []:
        namespace, name = rename(d.namespace, d.name)
        rows = rows_of(namespace, name)
        stats = {} if rows is None else {
            "inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet(rowCount=rows)}
        inputs.append(InputDataset(namespace=namespace, name=name, facets=d.facets,
                                   inputFacets=dict(getattr(d, "inputFacets", None) or {}, **stats)))
    event.inputs = inputs
    for d in event.outputs or []:
        d.namespace, d.name = rename(d.namespace, d.name)
        rows = rows_of(d.namespace, d.name)
        if rows is not None:
            d.outputFacets = dict(d.outputFacets or {}, outputStatistics=(
                output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)))


def emit_build(parent: dict, target_path: Path, target: str, database: Path | list[Path] | None, success: bool,
               error: str = "") -> int:
    """After `dbt build`: every model, seed, snapshot and test run as dbt-ol would emit it (renamed, with row
    counts), then the parent run's end, then the dashboards' runs. Returns the events written."""
    from openlineage.common.provider.dbt.facets import ParentRunMetadata
    from openlineage.common.provider.dbt.local import DbtLocalArtifactProcessor

    class Processor(DbtLocalArtifactProcessor):
        # openlineage-dbt names a Spark profile's datasets by its thrift/odbc/http host and refuses dbt-spark's
        # `session` method (the one `edulake build --target spark` uses): one session, no host to name
        def extract_namespace(self, profile: dict) -> str:
            if profile.get("type") == "spark" and profile.get("method") == "session":
                return "spark://session"
            return super().extract_namespace(profile)

    processor = Processor(producer=emitter.PRODUCER, job_namespace=names.JOB_NAMESPACE,
                          project_dir=str(settings.DBT_PROJECT_DIR), target=target,
                          target_path=str(target_path), skip_errors=True, logger=log)
    processor.dbt_run_metadata = ParentRunMetadata(run_id=parent["run_id"], job_name=PARENT_JOB,
                                                   job_namespace=names.JOB_NAMESPACE)
    events = processor.parse()
    counts = _row_counts(database)
    written = 0
    for event in [*events.starts, *events.completes, *events.fails]:
        _restate(event, counts)
        written += emitter.emit("dbt", event)
    written += emitter.emit("dbt", _parent_event(parent, "COMPLETE" if success else "FAIL", error or None))
    if success and target == "duckdb":  # the dashboards read the published DuckDB warehouse only
        written += emit_dashboards(counts)
    return written


def dashboard_marts() -> dict[str, list[str]]:
    """dashboard slug -> the marts (`<schema>.<model>`) its charts' datasets read (edulake.superset.spec)."""
    from edulake.superset import spec

    out: dict[str, list[str]] = {}
    for board in spec.DASHBOARDS:
        marts = []
        for chart in board.charts:
            for mart in re.findall(r"\bfrom\s+([a-z_]+\.[a-z_]+)", chart.dataset.sql, flags=re.IGNORECASE):
                if mart not in marts:
                    marts.append(mart)
        out[board.slug] = marts
    return out


def emit_dashboards(counts: dict[str, int] | None = None) -> int:
    """One run per dashboard: its marts in, the dashboard out (what Superset will show after this build)."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        documentation_dataset,
        input_statistics_input_dataset,
        job_type_job,
    )

    from edulake.superset import spec

    titles = {b.slug: b.title for b in spec.DASHBOARDS}
    written = 0
    for slug, marts in dashboard_marts().items():
        run = Run(runId=emitter.new_run_id())
        job = Job(namespace=names.JOB_NAMESPACE, name=f"superset.dashboard.{slug}", facets={
            "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="SUPERSET",
                                                    jobType="DASHBOARD")})
        inputs = [InputDataset(namespace=names.WAREHOUSE, name=m, inputFacets={} if m not in (counts or {}) else {
            "inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet(rowCount=counts[m])})
            for m in marts]
        outputs = [OutputDataset(namespace=names.SUPERSET, name=names.dashboard(slug), facets={
            "documentation": documentation_dataset.DocumentationDatasetFacet(description=titles[slug])})]
        for state in ("START", "COMPLETE"):
            written += emitter.emit("dbt", RunEvent(eventType=getattr(RunState, state), eventTime=emitter.now(),
                                                    run=run, job=job, inputs=inputs, outputs=outputs,
                                                    producer=emitter.PRODUCER))
    return written

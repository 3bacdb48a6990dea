"""The lake's lineage: one OpenLineage run per feed ingest (landing -> bronze -> silver), on either engine.

START when the ingest begins; COMPLETE when it ends (rejected batches are outcomes of a completed run, in
its facets and the ledger), FAIL when it raises. The COMPLETE event names what the run read and wrote:
  inputs   the landed copies of the files it moved, each with its batch id, SHA-256 (also the dataset
           version), arrival time and ledger counts (edulake_batch), rows received (inputStatistics);
  outputs  restricted/bronze/<feed>, silver/<entity>, restricted/quarantine/<feed> with the rows this run
           wrote (outputStatistics) and the Delta version after it (datasetVersion).
The code is shared by both engines: it reads the run's result and the ledger, never an engine's tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from edulake.lineage import emitter, names


@dataclass
class IngestRun:
    feed: str
    engine: str
    step: str = "ingest"  # a single step run on its own (edulake ingest --step, spark_jobs) is a run too
    run_id: str = field(default_factory=emitter.new_run_id)
    parent: dict | None = None  # the Airflow task running this ingest: {run_id, job_name, job_namespace}
    result: object | None = None  # the pipeline's FeedResult, set by the caller before the run ends
    bronzed: list[str] = field(default_factory=list)  # batch ids run_bronze appended

    def event(self, state: str, inputs=(), outputs=(), error: BaseException | None = None):
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import error_message_run, job_type_job, processing_engine_run

        from edulake.lineage import facets

        run_facets = {"processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=_engine_version(self.engine), name=self.engine, openlineageAdapterVersion=_client_version())}
        result = self.result
        if result is not None:
            run_facets["edulake_ingest"] = facets.EdulakeIngestRunFacet(
                feed=self.feed, engine=self.engine,
                batchesLoaded=sum(1 for e in result.entries if e.status == "loaded"),
                batchesRejected=len(result.errors), filesUnchanged=len(result.unchanged))
        if self.parent:
            from openlineage.client.facet_v2 import parent_run

            run_facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.parent["run_id"]),
                job=parent_run.Job(namespace=self.parent["job_namespace"], name=self.parent["job_name"]))
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=emitter.scrub(f"{type(error).__name__}: {error}"), programmingLanguage="python")
        job = Job(namespace=names.JOB_NAMESPACE, name=names.ingest_job(self.feed, self.step), facets={
            "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="EDULAKE", jobType="JOB")})
        return RunEvent(eventType=getattr(RunState, state), eventTime=emitter.now(),
                        run=Run(runId=self.run_id, facets=run_facets), job=job,
                        inputs=list(inputs), outputs=list(outputs), producer=emitter.PRODUCER)

    def datasets(self):
        """(inputs, outputs) of the finished run, from its result and the ledger."""
        from edulake.lake import landing, ledger

        result = self.result
        final = {e.batch_id: e for e in (result.entries if result is not None else [])}
        batch_ids = list(dict.fromkeys([*(result.landed if result is not None else []), *self.bronzed, *final]))
        statuses = {r["batch_id"]: r for r in ledger.rows(_in("batch_id", batch_ids))} if batch_ids else {}
        batches = [b for b in (landing.landed_batch(self.feed, i) for i in batch_ids) if b is not None]
        inputs = [_input(b, final.get(b.batch_id), statuses.get(b.batch_id)) for b in batches]
        return inputs, _outputs(self.feed, batches, self.bronzed, list(final.values()))


def _in(column: str, values: list[str]) -> str:
    from edulake.lake.tables import in_list

    return in_list(column, values)


def _entity(table: str) -> str:
    from edulake import standard

    return standard.load().table(table).entity


def _input(batch, entry, ledger_row: dict | None):
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import dataset_version_dataset, input_statistics_input_dataset

    from edulake.lineage import facets

    counts = entry.row() if entry is not None else (ledger_row or {})
    batch_facet = facets.EdulakeBatchDatasetFacet(
        batchId=batch.batch_id, sha256=batch.sha256, sourceFile=batch.source_file, arrivedAt=batch.landed_at,
        table=batch.table, entity=_entity(batch.table), status=counts.get("status"),
        rowsReceived=batch.rows, rowsAccepted=counts.get("rows_accepted"),
        rowsQuarantined=counts.get("rows_quarantined"), rowsCollapsed=counts.get("rows_collapsed"))
    return InputDataset(
        namespace=names.LAKE, name=names.landing_file(batch.feed, batch.batch_id, batch.source_file),
        facets={"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=batch.sha256),
                "edulake_batch": batch_facet},
        inputFacets={"inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
            rowCount=batch.rows, size=batch.size, fileCount=1)})


def _output(name: str, rows: int, path):
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        output_statistics_output_dataset,
        storage_dataset,
    )

    from edulake.lake import tables

    dataset_facets = {"storage": storage_dataset.StorageDatasetFacet(storageLayer="delta", fileFormat="parquet")}
    version = tables.version(path)
    if version is not None:
        dataset_facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(version))
    return OutputDataset(namespace=names.LAKE, name=name, facets=dataset_facets, outputFacets={
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)})


def _outputs(feed: str, batches, bronzed: list[str], entries) -> list:
    from edulake.lake import bronze, quarantine, silver

    out = []
    if bronzed:
        out.append(_output(names.bronze(feed), sum(b.rows for b in batches if b.batch_id in bronzed),
                           bronze.path(feed)))
    accepted: dict[str, int] = {}
    for e in entries:
        if e.status == "loaded":
            accepted[_entity(e.table)] = accepted.get(_entity(e.table), 0) + e.rows_accepted
    for entity, rows in accepted.items():
        out.append(_output(names.silver(entity), rows, silver.path(entity)))
    quarantined = sum(e.rows_quarantined for e in entries)
    if quarantined or any(e.status == "rejected" for e in entries):
        out.append(_output(names.quarantine(feed), quarantined, quarantine.path(feed)))
    return out


def _engine_version(engine: str) -> str:
    with contextlib.suppress(Exception):
        if engine == "spark":
            import pyspark

            return pyspark.__version__
        import duckdb

        return duckdb.__version__
    return "unknown"


def _client_version() -> str:
    from importlib.metadata import version

    return version("openlineage-python")


@contextlib.contextmanager
def ingest_run(engine, feed: str, parent: dict | None = None, step: str = "ingest") -> Iterator[IngestRun]:
    """Wrap one feed ingest: START now, COMPLETE with inputs and outputs when the block ends, FAIL if it raises.
    Set `run.result` (and `run.bronzed`) inside the block. `parent`: the Airflow task's run (see
    airflow_parent). The events are loaded into ops/lineage at the end."""
    from edulake.lineage import store

    run = IngestRun(feed, getattr(engine, "name", str(engine)), step=step, parent=parent)
    emitter.emit("lake", run.event("START"))
    try:
        yield run
    except BaseException as e:
        try:  # what the run did before it failed (e.g. bronze written, silver not) is lineage too
            inputs, outputs = run.datasets()
        except Exception:  # noqa: BLE001 - the ledger itself may be what failed
            inputs, outputs = [], []
        emitter.emit("lake", run.event("FAIL", inputs, outputs, error=e))
        store.load_quietly()
        raise
    inputs, outputs = run.datasets()
    emitter.emit("lake", run.event("COMPLETE", inputs, outputs))
    store.load_quietly()


def airflow_parent() -> dict | None:
    """The OpenLineage run of the Airflow task this code runs in (the provider's own ids, as its
    lineage_run_id / lineage_job_name macros give them), so the lake run hangs under the task; None outside
    Airflow."""
    try:
        from airflow.providers.openlineage.plugins.macros import (
            lineage_job_name,
            lineage_job_namespace,
            lineage_run_id,
        )
        from airflow.sdk import get_current_context

        ti = get_current_context()["ti"]
        return {"run_id": str(lineage_run_id(ti)), "job_name": lineage_job_name(ti),
                "job_namespace": lineage_job_namespace()}
    except Exception:  # noqa: BLE001 - not in a task, or the provider is absent: no parent
        return None

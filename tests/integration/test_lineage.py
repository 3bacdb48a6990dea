"""OpenLineage from file to dashboard, on the session's lake and warehouse (the shared `built_home`: the
lake's and dbt's events were emitted by the same ingest and build every other test uses; no new ingest).

- a cockpit KPI's lineage reaches the landed source files, whose bytes match the checksums it names;
- every event is valid OpenLineage by the client's own model (event classes and facet classes);
- ops/lineage reconciles with the batch ledger, and the published ops marts with ops/lineage;
- the events hold no identifier from the identity vault, and are owner-only on disk.
"""

from __future__ import annotations

import json
import re
import stat
import uuid

import pytest
from click.testing import CliRunner

from edulake import settings, standard
from edulake.files import sha256_of
from edulake.lake import ledger
from edulake.lineage import emitter, graph, names, store

pytestmark = pytest.mark.spark  # the integration tier (shares the session's lake and warehouse)


def _events() -> list[dict]:
    folder = emitter.events_dir() / "loaded"
    return [json.loads(line) for f in sorted(folder.iterdir()) for line in f.read_text("utf-8").splitlines() if line]


def _lake_runs() -> list[dict]:
    return [e for e in _events() if e["job"]["name"].startswith("lake.ingest.")]


def test_lineage_of_a_cockpit_kpi_reaches_its_source_files(built_home):
    result = graph.ask("cockpit.cockpit_kpis.value")
    assert result.target == "cockpit.cockpit_kpis" and result.column == "value"
    assert {"core.fct_fitness_test", "core.fct_enrollment", "health.health_fitness_summary"} <= set(result.models_up)
    assert {"fitness_test", "student_enrollment", "school"} <= set(result.silver_up)
    assert "cockpit" in result.dashboards  # the KPI's own dashboard, downstream
    # value lineage (sqlglot over the compiled models): the KPI's value is computed from numerators/denominators
    assert any(src.startswith("intermediate.int_cockpit__kpi_values.")
               for src in result.column_edges.get("cockpit.cockpit_kpis.value", [])), result.column_edges

    # every silver table upstream is backed by the files that fed it: all its loaded batches, no other
    loaded = ledger.rows("status = 'loaded'")
    entity_of = {t.qualified_name: t.entity for t in standard.load().tables()}
    expected = {r["batch_id"] for r in loaded if entity_of[r["table"]] in result.silver_up}
    assert {b.batch_id for b in result.batches} == expected
    landing = settings.paths().landing
    for b in result.batches:  # the landed copy is the file named, byte for byte
        assert sha256_of(landing / b.feed / b.batch_id / b.source_file) == b.sha256, b.source_file
        assert b.arrived_at and b.run_id

    out = CliRunner().invoke(_cli(), ["lineage", "cockpit.cockpit_kpis.value", "--limit", "0"])
    assert out.exit_code == 0, out.output
    fitness = next(b for b in result.batches if b.entity == "fitness_test")
    assert fitness.source_file in out.output and fitness.batch_id in out.output and "领导驾驶舱" in out.output
    bad = CliRunner().invoke(_cli(), ["lineage", "cockpit.cockpit_kpis.no_such_column"])
    assert bad.exit_code != 0 and "no_such_column" in bad.output


def test_a_silver_table_leads_down_to_marts_and_dashboards(built_home):
    result = graph.ask("silver.fitness_test")
    assert "core.fct_fitness_test" in result.models_down and "health.health_fitness_summary" in result.models_down
    assert {"cockpit", "health"} <= set(result.dashboards)
    assert result.lake_runs["fitness_test"]["job_name"] == names.ingest_job("health")


def test_events_are_valid_openlineage(built_home):
    """Each event rebuilt through the client's classes (openlineage.client.event_v2 and its facets): field
    names and required fields as the client defines them, each standard facet's schemaURL the client's own."""
    from openlineage.client import event_v2
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        input_statistics_input_dataset,
        job_type_job,
        output_statistics_output_dataset,
        processing_engine_run,
        storage_dataset,
    )

    known = {"outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
             "inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet,
             "version": dataset_version_dataset.DatasetVersionDatasetFacet,
             "storage": storage_dataset.StorageDatasetFacet, "jobType": job_type_job.JobTypeJobFacet,
             "processing_engine": processing_engine_run.ProcessingEngineRunFacet}

    def check_facets(facets: dict | None) -> None:
        for key, facet in (facets or {}).items():
            assert facet["_producer"] and facet["_schemaURL"].startswith("https://"), key
            if key in known:
                cls = known[key]
                cls(**{k: v for k, v in facet.items() if not k.startswith("_")})  # the client accepts it
                assert facet["_schemaURL"] == cls._get_schema(), key

    events = _events()
    integrations = {e["job"].get("facets", {}).get("jobType", {}).get("integration") for e in events}
    assert {"EDULAKE", "DBT", "SUPERSET"} <= integrations
    for e in events:
        run = event_v2.Run(runId=e["run"]["runId"])
        uuid.UUID(run.runId)
        job = event_v2.Job(namespace=e["job"]["namespace"], name=e["job"]["name"])
        inputs = [event_v2.InputDataset(namespace=d["namespace"], name=d["name"]) for d in e.get("inputs", [])]
        outputs = [event_v2.OutputDataset(namespace=d["namespace"], name=d["name"]) for d in e.get("outputs", [])]
        event_v2.RunEvent(eventType=event_v2.RunState(e["eventType"]), eventTime=e["eventTime"], run=run, job=job,
                          inputs=inputs, outputs=outputs, producer=e["producer"])  # validates time, producer
        assert e["schemaURL"].startswith("https://openlineage.io/spec/")
        check_facets(e["run"].get("facets"))
        check_facets(e["job"].get("facets"))
        for d in e.get("inputs", []) + e.get("outputs", []):
            check_facets(d.get("facets"))
            check_facets(d.get("inputFacets"))
            check_facets(d.get("outputFacets"))

    # one START and one COMPLETE or FAIL per feed ingest
    states: dict[str, list[str]] = {}
    for e in _lake_runs():
        states.setdefault(e["run"]["runId"], []).append(e["eventType"])
    assert states and all(sorted(s) in (["COMPLETE", "START"], ["FAIL", "START"]) for s in states.values()), states


def test_ops_lineage_reconciles_with_the_ledger(built_home):
    """Every loaded batch is an input of a lake run with the ledger's checksum and counts; each run's
    silver, bronze and quarantine row counts are the sums over its batches; ops/lineage holds every event."""
    store.load()
    by_batch: dict[str, dict] = {}
    for e in _lake_runs():
        if e["eventType"] != "COMPLETE":
            continue
        batches = [d["facets"]["edulake_batch"] for d in e["inputs"]]
        for b in batches:
            by_batch[b["batchId"]] = b
        outputs = {d["name"]: d["outputFacets"]["outputStatistics"]["rowCount"] for d in e["outputs"]}
        feed = e["job"]["name"].removeprefix("lake.ingest.")
        for name, rows in outputs.items():
            if name.startswith("silver/"):
                assert rows == sum(b["rowsAccepted"] for b in batches
                                   if b["entity"] == name.removeprefix("silver/") and b["status"] == "loaded"), name
            elif name == names.quarantine(feed):
                assert rows == sum(b["rowsQuarantined"] or 0 for b in batches), name
            elif name == names.bronze(feed):
                assert rows <= sum(b["rowsReceived"] for b in batches), name
    loaded = ledger.rows("status = 'loaded'")
    assert loaded
    for r in loaded:
        b = by_batch.get(r["batch_id"])
        assert b is not None, f"batch {r['batch_id']} ({r['source_file']}) has no lineage"
        assert (b["sha256"], b["sourceFile"], b["rowsReceived"], b["rowsAccepted"], b["rowsQuarantined"]) == (
            r["sha256"], r["source_file"], r["rows_received"], r["rows_accepted"], r["rows_quarantined"])

    rows = store.query("SELECT event_type, run_id, rows_in, rows_out FROM lineage WHERE job_name LIKE 'lake.ingest.%'")
    completes = {r["run_id"]: r for r in rows if r["event_type"] == "COMPLETE"}
    for e in _lake_runs():
        if e["eventType"] == "COMPLETE":
            row = completes[e["run"]["runId"]]
            assert row["rows_in"] == sum(d["inputFacets"]["inputStatistics"]["rowCount"] for d in e["inputs"]) \
                or (row["rows_in"] is None and not e["inputs"])


def test_published_ops_marts_show_the_lake_runs(built_home):
    import duckdb

    with duckdb.connect(str(settings.paths().warehouse), read_only=True) as con:
        runs = con.execute("select job_name, state, rows_in, rows_out from ops.ops_lineage_runs "
                           "where integration = 'EDULAKE' and rows_in is not null").fetchall()
        layers = {r[0] for r in con.execute("select layer_cn from ops.ops_lineage_datasets").fetchall()}
    assert {r[0] for r in runs} >= {names.ingest_job(f) for f in ("reference", "enrollment", "health")}
    assert all(r[1] == "COMPLETE" and r[3] > 0 for r in runs)
    assert {"落地文件", "bronze 原始层", "silver 明细层"} <= layers


def test_events_hold_no_identifier_and_are_owner_only(built_home):
    from edulake.lake import tables

    identifiers = {f.name for t in standard.load().tables() for f in t.fields if f.privacy == "identifier"}
    vault = {str(v) for r in tables.query(settings.paths().identity, "SELECT * FROM t")
             for k, v in r.items() if k in identifiers and v}
    assert vault
    long_ones = {v for v in vault if len(v) >= 8}  # 身份证号, 学籍号, phones: any run of their characters
    names_ = vault - long_ones  # names: as a whole value only (short strings occur inside ordinary words)
    lengths = {len(v) for v in long_ones}
    folder = emitter.events_dir()
    for f in (folder / "loaded").iterdir():
        text = f.read_text("utf-8")
        windows = {run[i:i + n] for run in set(re.findall(r"[0-9A-Za-z]{8,}", text))
                   for n in lengths for i in range(len(run) - n + 1)}
        assert not long_ones & windows, f
        assert not names_ & set(_strings(json.loads(text.splitlines()[0]))), f
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_failed_ingest_is_a_fail_run_and_the_rerun_completes(edulake_home, monkeypatch):
    """An ingest that raises ends its run with FAIL, naming the error and what it had written (bronze); the
    rerun is a new run that COMPLETEs the batch into silver. Three district rows: a few seconds."""
    import sys
    from pathlib import Path

    from edulake.lake import pipeline, privacy

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _lake_support as support

    settings.paths().create()
    header, records = support.rows("reference.district", 3)
    support.write_csv(settings.paths().inbox / "reference" / "行政区划_测试.csv", header, records)
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)  # silver cannot pseudonymise: the ingest raises
    with pytest.raises(privacy.KeyMissing):
        pipeline.ingest("reference")
    monkeypatch.setenv(privacy.KEY_ENV, "test-key-not-secret-" + "0" * 44)
    pipeline.ingest("reference")

    runs = store.latest_runs("job_name = 'lake.ingest.reference'")
    assert [r["event_type"] for r in runs] == ["COMPLETE", "FAIL"]
    complete, failed = runs
    assert "KeyMissing" in failed["error"]
    assert {d["name"]: d["rows"] for d in failed["outputs"]} == {names.bronze("reference"): 3}
    assert [d["name"] for d in complete["inputs"]] == [d["name"] for d in failed["inputs"]]
    assert complete["inputs"][0]["name"].endswith("/行政区划_测试.csv")
    assert {d["name"]: d["rows"] for d in complete["outputs"]} == {names.silver("district"): 3}
    assert graph.ask("silver.district").batches[0].source_file == "行政区划_测试.csv"


def _strings(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def _cli():
    from edulake.cli import main

    return main

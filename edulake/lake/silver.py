"""Silver: bronze batches typed, validated, pseudonymised, deduplicated and MERGEd into silver/<entity>.

For the batches of one table, on the chosen engine (edulake.lake.engines), with the SQL compiled from the
standard by edulake.quality (the same on both engines):
  1. type and normalise every field; identifiers are still in clear, in the engine's memory only;
  2. evaluate every check in one pass (`__c<i>` flags) and mark exact duplicates within a batch (the
     first row stays);
  3. batch-level (fatal) rules: a failure rejects every row of the batch;
  4. rows sharing a natural key with different content inside a batch are all rejected
     (rule unique_natural_key): the source must say which one is right;
  5. write quarantine (replace per batch), identity (MERGE on token), then silver: ONE MERGE per
     entity on the natural key, the newest batch winning (batches are given oldest first).
`error` failures reject the row, `warn` failures are kept in silver's `_warnings` ("rule:column").
Every row ends in exactly one of accepted / quarantined / collapsed; the counts go to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from edulake import settings, standard
from edulake.lake import (
    bronze,
    faults,
    gx_run,
    identity,
    ledger,
    newest,
    ops_quality,
    privacy,
    quarantine,
    stopwatch,
    tables,
)
from edulake.quality import batch as batch_rules
from edulake.quality import stage
from edulake.standard import Standard, Table

LINEAGE = ("_batch_id", "_source_file", "_row_number")
WORK = ("typed", "checked", "conflicts", "staged", stage.QUARANTINED_ROWS, "quarantined", stage.REPEATED)


def path(entity: str):
    return settings.paths().silver / entity


@dataclass(frozen=True)
class BatchCounts:
    batch_id: str
    received: int
    accepted: int
    quarantined: int
    collapsed: int
    rejected_reason: str | None = None


def partition_by(table: Table) -> list[str]:
    """Silver is partitioned by school year where it has one: a 1% change rewrites only its year's files."""
    return ["school_year"] if any(f.silver_name == "school_year" for f in table.silver_fields) else []


def schema(table: Table) -> pa.Schema:
    """The silver schema of a table, from the standard."""
    return pa.schema(
        [(f.silver_name, privacy.arrow_type(privacy.silver_sql_type(f))) for f in table.silver_fields]
        + [("_warnings", pa.list_(pa.string())), ("_batch_id", pa.string()), ("_source_file", pa.string()),
           ("_row_number", pa.int32()), ("_loaded_at", pa.timestamp("us", tz="UTC"))])


def newest_rows_sql(engine, table: Table) -> str:
    """Silver columns (privacy applied) plus lineage from `staged`; one row per natural key, the newest batch's
    (grouped on the typed key: its pseudonym is a function of it; newest.accepted_sql)."""
    columns = ", ".join(privacy.silver_value_sql(f) for f in table.silver_fields)
    return newest.accepted_sql(engine, f"{columns}, _warnings, _batch_id, _source_file, _row_number, "
                                       f"current_timestamp AS _loaded_at", stage.natural_key_columns(table))


def register_lookups(engine, table: Table) -> None:
    """The relations the table's rules join on: the school register and the enrollment roster."""
    for name, entity, columns in (("school_register", "school", ["school_id"]),
                                  ("roster", stage.ROSTER, ["student_token", "school_year"])):
        full = schema(next(t for t in standard.load().tables() if t.entity == entity))
        engine.register_delta(name, path(entity), columns=columns, empty=pa.schema([full.field(c) for c in columns]))



def validate(engine, std: Standard, table: Table, batch_ids: list[str], with_quality: bool = True):
    """Read the batches from bronze and stage them on the engine (relation `staged`; the caller drops WORK):
    every check, batch rules, statuses. Returns (program, counts, fatal). With quality, records the
    ops/quality summary. `with_quality=False` leaves out the standard's table rules and batch rules: what
    the benchmark compares it with to find the rules' own cost."""
    key = privacy.pseudonym_key()
    program = stage.compile_table(table, std, table_rules=with_quality)
    bronze.register(engine, table.feed, table.qualified_name, batch_ids)
    register_lookups(engine, table)
    fatal = stage_relations(engine, std, program, batch_ids, key,
                            (lambda: batch_failures(engine, std, table, batch_ids)) if with_quality else None)
    if with_quality:
        gx_run.validate_load(engine, table, program, batch_ids)  # GX: the same checks, stored + Data Docs
    counts = _counts(engine, batch_ids, fatal)
    if with_quality:
        ops_quality.record_summary(table, program, engine.rows(stage.failure_counts_sql(program)), batch_ids, fatal)
    return program, counts, fatal


def stage_relations(engine, std: Standard, program, batch_ids: list[str], key: bytes, batch_rules=None) -> dict:
    """The relations of stage.py on the engine, from `bronze_batches` and the lookups: typed (view), checked and
    conflicts (materialised), then staged (view) once `batch_rules()` (if given) has judged the batches over
    `checked`. Returns the fatal failures per batch. The caller drops WORK."""
    engine.view("typed", stage.typed_sql(program, std, batch_ids, lambda v: privacy.hmac_sql(v, key)))
    engine.materialize("checked", stage.checked_sql(program))
    engine.materialize("conflicts", stage.conflicts_sql(program))
    fatal = batch_rules() if batch_rules is not None else {}
    engine.view("staged", stage.staged_sql(program, list(fatal)))
    return fatal


def batch_failures(engine, std: Standard, table: Table, batch_ids: list[str]) -> dict[str, list]:
    stats = batch_rules.collect(table, engine.rows(batch_rules.stats_sql(table, source="checked")))
    loaded = ledger.rows(f"\"table\" = '{table.qualified_name}' AND status = 'loaded' AND NOT "
                         f"{tables.in_list('batch_id', batch_ids)}")
    in_silver: dict[int, set[str]] = {}
    if batch_rules.needs_districts(table):
        years = sorted({y for s in stats.values() for y in s.delivered})
        if years:
            for r in tables.query(path(table.entity), "SELECT DISTINCT school_year, district_code FROM t WHERE "
                                  + tables.in_list("school_year", years)):
                in_silver.setdefault(int(r["school_year"]), set()).add(r["district_code"])
    return batch_rules.failures(table, std, stats, batch_rules.previous_counts(loaded), in_silver)


def load(engine, std: Standard, table: Table, batch_ids: list[str]) -> list[BatchCounts]:
    """Run bronze -> quarantine, identity, silver for batches of one table (oldest first).

    Writes in this order, each one commit and each idempotent for these batches: quarantine
    (replace), identity (MERGE on token), silver (one MERGE on the natural key). A crash between
    them leaves the batches at status `bronze`, and the rerun converges to the same tables."""
    try:
        with stopwatch.timed(table.feed, "validate"):
            program, counts, fatal = validate(engine, std, table, batch_ids)
        with stopwatch.timed(table.feed, "write"):
            _write(engine, table, program, counts, fatal)
        return counts
    finally:
        engine.drop(*WORK)


def _write(engine, table: Table, program, counts: list[BatchCounts], fatal: dict) -> None:
    """Quarantine, identity, then the silver MERGE (see load for the order's reason)."""
    batch_ids = [c.batch_id for c in counts]
    # a clean first load creates no quarantine table; otherwise replace these batches' rows
    if any(c.quarantined for c in counts) or tables.exists(quarantine.path(table.feed)):
        materialize_quarantined(engine)
        quarantine.write(engine, stage.quarantine_sql(program, fatal, table.feed, table.qualified_name,
                                                      source="quarantined"), table.feed, batch_ids)
        engine.drop("quarantined")
    faults.crash_point("after_quarantine")
    if identity.holds_identifiers(table) and any(c.accepted for c in counts):
        identity.write(engine, identity.rows_sql(engine, table))
    faults.crash_point("before_silver_merge")
    engine.merge(path(table.entity), newest_rows_sql(engine, table), schema(table), table.natural_key_silver,
                 update_condition="t._batch_id <> s._batch_id", partition_by=partition_by(table))
    faults.crash_point("after_silver_merge")


def materialize_quarantined(engine) -> None:
    """`quarantined`: the load's quarantined rows with their raw maps (stage.quarantined_sql), in two steps."""
    engine.materialize(stage.QUARANTINED_ROWS, stage.quarantined_rows_sql())
    engine.materialize("quarantined", stage.quarantined_sql())
    engine.drop(stage.QUARANTINED_ROWS)  # a batch rejected whole makes it as large as the load


def _counts(engine, batch_ids: list[str], fatal: dict) -> list[BatchCounts]:
    by_id = {r["_batch_id"]: r for r in engine.rows(stage.counts_sql())}
    out = []
    for b in batch_ids:
        r = by_id.get(b)
        reason = fatal[b][0][1] if b in fatal else None
        if r is None:
            out.append(BatchCounts(b, 0, 0, 0, 0, reason))
        else:
            out.append(BatchCounts(b, int(r["received"]), int(r["accepted"] or 0), int(r["quarantined"] or 0),
                                   int(r["collapsed"] or 0), reason))
    return out

"""What the build planner reads from silver's Delta logs: the rows written since the last build (appended, merged
in, replaced by key) against the rows silver holds, on real delta-rs tables written the way ingestion writes them
(edulake.lake.tables: append, MERGE on the natural key)."""

from __future__ import annotations

import pyarrow as pa

from edulake import settings
from edulake.lake import tables
from edulake.warehouse import incremental

SCHEMA = pa.schema([("student_token", pa.string()), ("school_year", pa.int32()), ("height_cm", pa.float64())])


def rows(*values) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(SCHEMA.names, v, strict=True)) for v in values], schema=SCHEMA)


def test_rows_written_since_the_marks_count_appends_inserts_and_replacements(tmp_path):
    p = settings.Paths(tmp_path)
    fitness = p.silver / "fitness_test"
    tables.append(fitness, rows(("a", 2025, 150.0), ("b", 2025, 151.0), ("c", 2025, 152.0)), SCHEMA)
    marks = incremental.silver_marks(p)
    assert incremental.rows_written_since(p, marks) == (0, 3)

    tables.append(fitness, rows(("d", 2025, 153.0)), SCHEMA)  # a new key: appended
    # one key corrected, one new: a MERGE (one row replaced, one inserted)
    tables.merge(fitness, rows(("a", 2025, 149.0), ("e", 2025, 154.0)), SCHEMA, ["student_token", "school_year"])
    assert incremental.rows_written_since(p, marks) == (3, 5)

    vision = p.silver / "vision_screening"  # a table the last build did not know: all its rows are new
    tables.append(vision, rows(("a", 2025, 0.0), ("b", 2025, 0.0)), SCHEMA)
    assert incremental.rows_written_since(p, marks) == (5, 7)
    assert incremental.silver_changes_that_remove_rows(p, marks) is None  # appends and MERGEs keep rows


def test_a_merge_that_deletes_rows_makes_the_build_full_under_delta_rs_metric_names(tmp_path):
    """delta-rs names the metric num_target_rows_deleted (Delta Spark: numTargetRowsDeleted)."""
    from deltalake import DeltaTable

    p = settings.Paths(tmp_path)
    exam = p.silver / "exam_score"
    tables.append(exam, rows(("a", 2025, 1.0), ("b", 2025, 2.0)), SCHEMA)
    marks = incremental.silver_marks(p)
    (DeltaTable(str(exam)).merge(rows(("a", 2025, 1.0)), predicate="t.student_token = s.student_token",
                                 source_alias="s", target_alias="t").when_matched_delete().execute())
    why = incremental.silver_changes_that_remove_rows(p, marks)
    assert why == "silver/exam_score: Delta commit 2 (MERGE deleted 1 rows) may remove rows", why


def test_delta_spark_commit_metrics_are_read_too(tmp_path):
    """Delta Spark names the metrics otherwise and writes them as strings; OPTIMIZE rewrites, it writes no row."""
    import json

    def commit(n: int, operation: str, metrics: dict, **parameters) -> None:
        log = tmp_path / "_delta_log"
        log.mkdir(exist_ok=True)
        info = {"operation": operation, "operationParameters": parameters, "operationMetrics": metrics}
        (log / f"{n:020d}.json").write_text(json.dumps({"commitInfo": info}) + "\n", encoding="utf-8")

    commit(1, "WRITE", {"numFiles": "2", "numOutputRows": "1200"}, mode="Append")
    commit(2, "MERGE", {"numTargetRowsInserted": "30", "numTargetRowsUpdated": "12", "numTargetRowsCopied": "900",
                        "numTargetRowsDeleted": "0", "numOutputRows": "942"})
    commit(3, "OPTIMIZE", {"numRemovedFiles": "4", "numAddedFiles": "1"})
    commit(4, "MERGE", {"numTargetRowsDeleted": "3"})
    log = tmp_path / "_delta_log"
    assert [incremental._rows_written(log / f"{n:020d}.json") for n in (1, 2, 3)] == [1200, 42, 0]
    assert [incremental._removes_rows(log / f"{n:020d}.json") for n in (1, 2, 3)] == [None, None, None]
    assert incremental._removes_rows(log / f"{4:020d}.json") == "MERGE deleted 3 rows"

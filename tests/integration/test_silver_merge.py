"""The lake's MERGE on a natural key (silver's write) on both engines: the same rows whatever arrives. On the
embedded engine, a delivery none of whose keys the table holds (another district's file for the same school year)
is appended, without the MERGE's scan and join of the year's files; a correction of a held key is a MERGE."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from edulake import settings
from edulake.lake import engines, tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402

SCHEMA = pa.schema([("school_year", pa.int32()), ("district_code", pa.string()), ("student_token", pa.string()),
                    ("score", pa.int32()), ("_batch_id", pa.string())])
KEYS = ["student_token", "school_year"]


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request, edulake_home):
    return engines.get(request.param)


def deliver(engine, path: Path, batch: str, rows: list[tuple]) -> None:
    data = pa.Table.from_pylist([dict(zip(SCHEMA.names, (*r, batch), strict=True)) for r in rows], SCHEMA)
    engine.register_arrow("merge_source", data)
    try:
        engine.merge(path, "SELECT * FROM merge_source", SCHEMA, KEYS, update_condition="t._batch_id <> s._batch_id",
                     partition_by=["school_year"])
    finally:
        engine.drop("merge_source")


def last_commit(path: Path) -> tuple[list[str], int]:
    """The last commit's operation and how many files it removed (rewrote)."""
    log = sorted((path / "_delta_log").glob("*.json"))[-1]
    actions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [a["commitInfo"]["operation"] for a in actions if "commitInfo" in a], sum("remove" in a for a in actions)


def held(path: Path) -> dict[tuple, tuple]:
    return {(r.student_token, r.school_year): (r.district_code, r.score, r._batch_id) for r in support.read(path)}


def test_a_new_districts_file_is_appended_and_a_correction_merged(engine):
    path = settings.paths().silver / "merge_probe"
    embedded = engine.name == "duckdb"
    deliver(engine, path, "a", [(2025, "110101", f"s{i}", i) for i in range(20)])
    deliver(engine, path, "a", [(2024, "110101", f"s{i}", i) for i in range(5)])  # another year, same keys

    # the same year, another district: new keys only (and one NULL key, which a MERGE matches to nothing)
    deliver(engine, path, "b", [*[(2025, "110102", f"t{i}", i) for i in range(20)], (2025, "110102", None, 99)])
    if embedded:
        assert last_commit(path) == (["WRITE"], 0), "new keys must not rewrite the year's files"
    rows = held(path)
    assert len(support.read(path)) == 46 and rows[("t3", 2025)] == ("110102", 3, "b")
    assert rows[(None, 2025)] == ("110102", 99, "b")

    # a correction of one held key (and a new key beside it): a MERGE, which updates the row in place
    deliver(engine, path, "c", [(2025, "110101", "s7", 70), (2025, "110101", "s20", 20)])
    if embedded:
        operations, removed = last_commit(path)
        assert operations == ["MERGE"] and removed >= 1
    rows = held(path)
    assert len(support.read(path)) == 47
    assert rows[("s7", 2025)] == ("110101", 70, "c") and rows[("s3", 2024)] == ("110101", 3, "a")
    assert rows[("s20", 2025)] == ("110101", 20, "c") and rows[("s8", 2025)] == ("110101", 8, "a")

    # a rerun of a loaded batch changes nothing
    before = held(path)
    deliver(engine, path, "b", [(2025, "110102", f"t{i}", i) for i in range(20)])
    assert held(path) == before


def test_holds_keys_reads_only_the_partitions_named(edulake_home):
    path = settings.paths().silver / "keys_probe"
    rows = [{"school_year": 2024, "district_code": "110101", "student_token": "s1", "score": 1, "_batch_id": "a"}]
    tables.append(path, pa.Table.from_pylist(rows, SCHEMA), SCHEMA, ["school_year"])
    engine = engines.get("duckdb")
    probe = pa.Table.from_pylist(rows, SCHEMA)
    assert engine.holds_keys(path, probe, KEYS, {"school_year": [2024]})
    assert not engine.holds_keys(path, probe, KEYS, {"school_year": [2025]})
    assert not engine.holds_keys(path, probe.set_column(2, "student_token", pa.array(["s2"])), KEYS, {})
    assert engine.holds_keys(path, probe, ["student_token"], {})
    assert not engine.holds_keys(path, probe.set_column(2, "student_token", pa.array([None], pa.string())),
                                 ["student_token"], {})

"""restricted/identity on both engines: new tokens are appended, a known token is rewritten only when an identifier
changes (a MERGE), and a delivery with neither writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from edulake.lake import engines, identity

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lake_support as support  # noqa: E402


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request, edulake_home):
    return engines.get(request.param)


def deliver(engine, batch: str, rows: list[dict]) -> None:
    """One identity write of `rows` (token + identifiers) as batch `batch`."""
    columns = identity.columns()
    data = {"token": [r["token"] for r in rows]}
    data.update({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})
    data["_batch_id"] = [batch] * len(rows)
    data["_updated_at"] = pa.array([dt.datetime(2026, 12, 1, tzinfo=dt.UTC)] * len(rows), pa.timestamp("us", tz="UTC"))
    engine.register_arrow("identity_source", pa.table(data))
    try:
        identity.write(engine, "SELECT * FROM identity_source")
    finally:
        engine.drop("identity_source")


def last_commit(path: Path) -> list[dict]:
    log = sorted((path / "_delta_log").glob("*.json"))[-1]
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_an_unchanged_identity_is_not_rewritten_and_a_changed_one_is(engine):
    first = [{"token": f"t{i}", "student_no": f"G{i:018d}", "name": f"学生{i}"} for i in range(50)]
    deliver(engine, "b1", first)

    # the next year's roster names the same students again, plus one new one
    deliver(engine, "b2", [*first, {"token": "t50", "student_no": "G" + "5" * 18, "name": "新生"}])
    commit = last_commit(identity.path())
    # no held identifier changed: the new token is appended (no MERGE, no file rewritten), on both engines
    assert not [a for a in commit if "remove" in a], "an unchanged identity must not rewrite the table"
    assert [a["commitInfo"]["operation"] for a in commit if "commitInfo" in a] == ["WRITE"]
    rows = {r.token: r for r in support.read(identity.path())}
    assert len(rows) == 51 and rows["t0"]._batch_id == "b1" and rows["t50"]._batch_id == "b2"

    # the same roster again: nothing new, nothing changed, no commit at all
    version = len(list((identity.path() / "_delta_log").glob("*.json")))
    deliver(engine, "b2-again", first)
    assert len(list((identity.path() / "_delta_log").glob("*.json"))) == version

    # a corrected name is written; an identifier the feed lacks (NULL) never blanks the one held
    deliver(engine, "b3", [{"token": "t7", "student_no": None, "name": "更正"}])
    rows = {r.token: r for r in support.read(identity.path())}
    assert rows["t7"].name == "更正" and rows["t7"].student_no == f"G{7:018d}" and rows["t7"]._batch_id == "b3"
    assert rows["t8"]._batch_id == "b1" and len(rows) == 51
    assert [a["commitInfo"]["operation"] for a in last_commit(identity.path()) if "commitInfo" in a] == ["MERGE"]


@pytest.mark.parametrize("leftover", ["empty", "temporary file"])
def test_a_first_write_killed_before_its_commit_does_not_block_the_next(engine, leftover):
    """A kill during a table's first write leaves `_delta_log` without a commit (found by the Spark kill suite:
    the rerun's delta-spark took the folder for a table and failed with DELTA_TABLE_NOT_FOUND)."""
    log = identity.path() / "_delta_log"
    log.mkdir(parents=True)
    if leftover == "temporary file":
        (log / ".00000000000000000000.json.6f0e.tmp").write_text("{")
    deliver(engine, "b1", [{"token": "t1", "student_no": "G" + "1" * 18, "name": "甲"}])
    assert [r.token for r in support.read(identity.path())] == ["t1"]

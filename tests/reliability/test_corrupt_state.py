"""Corrupt state: damaged Delta logs, a missing data file, a damaged published warehouse. Each is detected by
the command that trips on it and by `edulake repair --check`, named by its table, and `edulake repair` brings
the home back to what it was (the lake row for row, load times aside; the warehouse table for table)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import _support as support
import pytest
from test_kill_anywhere import warehouse_contents

from edulake import settings


def truncate_last_entry(table: Path) -> str:
    entry = sorted((table / "_delta_log").glob("*.json"))[-1]
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    return entry.name


def remove_a_data_file(table: Path) -> str:
    victim = sorted(table.rglob("*.parquet"))[0]
    victim.unlink()
    return str(victim.relative_to(table))


def scramble(path: Path, seed: int = 1) -> None:
    """Overwrite 64 bytes of every 4 KiB block after the header with noise (bit rot, a bad copy)."""
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for i in range(8192, len(data), 4096):
        data[i:i + 64] = bytes(rng.randrange(256) for _ in range(min(64, len(data) - i)))
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_damage_is_named_and_repaired(full_home, tmp_path):
    started = time.monotonic()
    home = support.copy_home(full_home, tmp_path / "home")
    p = settings.Paths(home)
    want_lake = support.snapshot(full_home)
    want_warehouse = warehouse_contents(settings.Paths(full_home).warehouse)
    damage = {
        "ops/batches": ("truncated last Delta log entry (the ledger)", truncate_last_entry(p.ops / "batches")),
        "silver/school": ("truncated last Delta log entry", truncate_last_entry(p.silver / "school")),
        "silver/exam_score": ("missing data file", remove_a_data_file(p.silver / "exam_score")),
        "restricted/bronze/facility": ("missing data file", remove_a_data_file(p.bronze / "facility")),
    }
    scramble(p.warehouse)
    damage["warehouse/edulake.duckdb"] = ("corrupted published warehouse (noise in every block)", "edulake.duckdb")

    ingest = support.cli(home, "ingest", "exam")
    assert ingest.returncode == 1 and "Traceback" not in ingest.stderr
    assert "ops/batches" in ingest.stderr and "edulake repair" in ingest.stderr
    build = support.cli(home, "build")
    assert build.returncode == 1 and "Traceback" not in build.stderr + build.stdout
    for table in ("silver/school", "silver/exam_score"):
        assert table in build.stdout, build.stdout[-3000:]
    check = support.cli(home, "repair", "--check")
    assert check.returncode == 1 and "Traceback" not in check.stderr
    for table in damage:
        assert f"damaged {table}:" in check.stderr, (table, check.stderr[-3000:])

    repair = support.cli(home, "repair")
    assert repair.returncode == 0, repair.stderr[-4000:]
    assert "已修复 repaired" in repair.stderr
    assert support.cli(home, "repair", "--check").returncode == 0
    got = support.snapshot(home)
    lost, extra = support.rows_lost(want_lake, got)
    assert got == want_lake and (lost, extra) == (0, 0)
    assert warehouse_contents(p.warehouse) == want_warehouse
    assert list((home / "repair").iterdir())  # what was moved aside is kept
    messages = {line.split(" ", 2)[2] if line.count(" ") >= 2 else line
                for line in check.stderr.splitlines() if line.startswith("损坏 damaged")}
    cases = []
    for table, (kind, what) in damage.items():
        msg = next((m for m in messages if m.startswith(table + ":")), "")
        cases.append({"case": f"{kind}: {table} ({what})", "outcome": "named by `edulake repair --check` (and by the "
                      "ingest or build that tripped on it, no traceback); repaired by `edulake repair`; lake and "
                      "warehouse = before", "message": msg, "rows_lost": lost})
    support.record("corrupt", cases=cases, test_seconds=round(time.monotonic() - started, 1))


@pytest.mark.slow
@pytest.mark.spark
def test_damage_to_a_spark_written_lake_is_named_and_repaired(uninterrupted_spark, tmp_path):
    """The same damage on tables the Spark engine wrote (delta-spark's log: its .crc files, its own commit
    layout), found by `edulake repair --check` (engine-independent) and repaired by `edulake repair` on Spark."""
    started, cpu = time.monotonic(), support.cpu_seconds()
    ref = uninterrupted_spark["health"]
    home = support.copy_home(ref["after"], tmp_path / "home")
    p = settings.Paths(home)
    spark = support.ENGINE_ENV["spark"]
    damage = {
        "silver/fitness_test": ("truncated last Delta log entry", truncate_last_entry(p.silver / "fitness_test")),
        "restricted/bronze/health": ("missing data file", remove_a_data_file(p.bronze / "health")),
    }
    check = support.cli(home, "repair", "--check", **spark)
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr[-3000:]
    for table in damage:
        assert f"damaged {table}:" in check.stderr, (table, check.stderr[-3000:])
    repair = support.cli(home, "repair", **spark)
    assert repair.returncode == 0 and "Traceback" not in repair.stderr, repair.stderr[-4000:]
    assert "已修复 repaired" in repair.stderr
    again = support.cli(home, "repair", "--check", **spark)
    assert again.returncode == 0, again.stderr[-3000:]
    assert support.readable_tables(home)
    got = support.snapshot(home)
    lost, extra = support.rows_lost(ref["snapshot"], got)
    assert got == ref["snapshot"] and (lost, extra) == (0, 0)
    assert got == ref["duckdb_snapshot"]  # and = the DuckDB engine's run of the same inbox
    messages = {line.split(" ", 2)[2] if line.count(" ") >= 2 else line
                for line in check.stderr.splitlines() if line.startswith("损坏 damaged")}
    cases = [{"case": f"{kind}: {table} ({what})", "outcome": "named by `edulake repair --check`; repaired by "
              "`edulake repair` on Spark; lake = the uninterrupted Spark run's (and the DuckDB engine's)",
              "message": next((m for m in messages if m.startswith(table + ":")), ""), "rows_lost": lost}
             for table, (kind, what) in damage.items()]
    support.record("corrupt_spark", engine="spark", cases=cases, test_seconds=round(time.monotonic() - started, 1),
                   cpu_seconds=round(support.cpu_seconds() - cpu, 1))


def test_a_truncated_commit_goes_aside_with_its_checksum_file(tmp_path, monkeypatch):
    """delta-spark writes `<version>.crc` beside every commit, and Hadoop a hidden `.<version>.json.crc`. Left
    behind when `edulake repair` moves a truncated last commit aside, the first names a version the log no longer
    has and delta-rs refuses the table ("CRC file version 1 is newer than log segment version 0"); the second
    makes Spark's next commit of version 1 fail its own checksum. Fast, no JVM: the files stand in for
    delta-spark's (delta-rs refuses on the .crc's version alone); the Spark test above is the real thing."""
    import deltalake
    import pyarrow as pa

    from edulake.lake import repair

    monkeypatch.setenv("EDULAKE_HOME", str(tmp_path))
    table = settings.paths().lake / "ops" / "scratch"
    deltalake.write_deltalake(str(table), pa.table({"a": [1]}))
    deltalake.write_deltalake(str(table), pa.table({"a": [2]}), mode="append")
    (table / "_delta_log" / "00000000000000000001.crc").write_text('{"tableSizeBytes": 1}')
    (table / "_delta_log" / ".00000000000000000001.json.crc").write_bytes(b"crc\0")  # Hadoop's, of the whole entry
    truncate_last_entry(table)
    assert [pr.table for pr in repair.diagnose(warehouse=False)] == ["ops/scratch"]
    repair.repair(on_event=lambda _: None)
    assert repair.diagnose(warehouse=False) == []
    assert deltalake.DeltaTable(str(table)).version() == 0
    assert list((tmp_path / "repair").rglob("00000000000000000001.crc"))  # kept aside, not deleted
    assert not list((table / "_delta_log").glob(".00000000000000000001.*"))  # else Spark's next commit 1 fails

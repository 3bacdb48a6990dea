"""After a real ingest and build (the shared `built_home`), nothing under EDULAKE_HOME is open to another
local account (issue 19, item 1): the identity vault, landing, bronze, quarantine, the inbox, secrets,
the warehouse, logs — folders 0700, files 0600 (edulake.permissions).

The session's lake is written in this process by the fixtures, through the same library functions the
`edulake` command and the DAGs call (run_generate, the lake's ingest, warehouse.build): each of them must
make its own files owner-only, whatever the umask pytest was started with.
"""

from __future__ import annotations

from edulake import permissions, settings


def test_everything_under_the_home_is_owner_only_after_ingest_and_build(built_home):
    p = settings.Paths(built_home)
    # the zones this run wrote, so the walk below is not vacuous
    for zone in (p.inbox, p.landing, p.bronze, p.identity, p.quarantine, p.silver, p.ops, p.warehouse):
        assert zone.exists(), zone
    found = permissions.exposed(built_home)
    assert not found, "open to other accounts:\n" + permissions.describe(found, built_home)


def test_the_spark_engine_writes_owner_only_files_too(spark, tmp_path, monkeypatch):
    """Hadoop's local file system chmods by its own umask setting, not the process's: the lake's Spark session
    is built with permissions.spark_conf()."""
    import pyarrow as pa

    from edulake.lake import engines, tables

    monkeypatch.setenv("EDULAKE_HOME", str(tmp_path))
    engine = engines.get("spark")
    target = tmp_path / "lake" / "silver" / "probe"
    schema = pa.schema([("school_year", pa.int32()), ("v", pa.string())])
    engine.register_arrow("probe_rows", pa.table({"school_year": [2025, 2025], "v": ["a", "b"]}, schema))
    engine.merge(target, "SELECT * FROM probe_rows", schema, ["v"], partition_by=["school_year"])
    assert tables.query(target, "SELECT count(*) AS n FROM t")[0]["n"] == 2
    found = permissions.exposed(target)
    assert not found, "open to other accounts:\n" + permissions.describe(found, tmp_path)

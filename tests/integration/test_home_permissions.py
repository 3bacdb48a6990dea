"""After a real ingest and build (the shared `built_home`), nothing under EDULAKE_HOME is open to another
local account (issue 19, item 1): the identity vault, landing, bronze, quarantine, the inbox, secrets,
the warehouse, logs — folders 0700, files 0600 (edulake.permissions).

The session's lake is written in this process by the fixtures, through the same library functions the
`edulake` command and the DAGs call (run_generate, the lake's ingest, warehouse.build): each of them must
make its own files owner-only, whatever the umask pytest was started with.
"""

from __future__ import annotations

import pytest

from edulake import permissions, settings

pytestmark = pytest.mark.spark

# Written by Spark: Hadoop's local file system chmods its files by its own umask setting, not the
# process's, so these hold only once the lake's Spark session is built with permissions.spark_conf().
SPARK_WRITTEN = ("lake", "spark")


def _exposed(home, zones=None, skip=()):
    found = permissions.exposed(home) if zones is None else [x for z in zones for x in permissions.exposed(home / z)]
    return [(p, m) for p, m in found if p.relative_to(home).parts[:1] not in {(s,) for s in skip}]


def test_everything_but_the_spark_written_lake_is_owner_only_after_ingest_and_build(built_home):
    p = settings.Paths(built_home)
    # the zones this run wrote, so the walk below is not vacuous
    for zone in (p.inbox, p.landing, p.identity, p.quarantine, p.warehouse):
        assert zone.exists(), zone
    found = _exposed(built_home, skip=SPARK_WRITTEN)
    assert not found, "open to other accounts:\n" + permissions.describe(found, built_home)


@pytest.mark.xfail(strict=True, reason="the lake's Spark session (edulake/lake/spark.py get_spark) must apply "
                   "permissions.spark_conf() and call permissions.restrict_process() before the JVM starts")
def test_the_lake_written_by_spark_is_owner_only(built_home):
    found = _exposed(built_home, zones=SPARK_WRITTEN)
    assert not found, "open to other accounts:\n" + permissions.describe(found, built_home)

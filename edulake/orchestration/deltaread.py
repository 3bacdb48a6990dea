"""Reading Delta tables without a JVM, for callbacks, sensors and `status`: the lake's delta-rs reader
(edulake.lake.tables), which imports nothing heavy at DAG parse time."""

from edulake.lake.tables import exists, query, version

__all__ = ["exists", "query", "version"]

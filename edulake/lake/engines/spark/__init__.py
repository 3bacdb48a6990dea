"""The scale-out engine: the same lake SQL (DuckDB dialect, edulake.quality.sql) transpiled to Spark SQL
by sqlglot and run by PySpark; the big tables written by delta-spark. For a city that outgrows one machine
(EDULAKE_SPARK_MASTER selects a cluster, see session.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import sqlglot
from sqlglot import exp

from edulake.lake import tables
from edulake.lake.engines.spark import delta


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """DuckDB SQL -> Spark SQL. sqlglot carries every construct the lake uses but one: DuckDB's
    map_contains is Spark's map_contains_key."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def fix(node):
        if isinstance(node, exp.Anonymous) and node.name.lower() == "map_contains":
            return exp.Anonymous(this="map_contains_key", expressions=node.expressions)
        return node

    return tree.transform(fix).sql(dialect="spark")


def spark_schema(schema: pa.Schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


class SparkEngine:
    name = "spark"

    def __init__(self) -> None:
        self._cached: dict[str, object] = {}

    @property
    def spark(self):
        from edulake.lake.engines.spark.session import get_spark

        return get_spark("edulake-lake")

    def _sql(self, sql: str):
        return self.spark.sql(to_spark(sql))

    # --- relations --------------------------------------------------------------------------------
    def register_delta(self, name: str, path: Path, where: str | None = None, columns: list[str] | None = None,
                       empty: pa.Schema | None = None) -> None:
        if not tables.exists(path):
            df = self.spark.createDataFrame([], spark_schema(empty))
        else:
            df = delta.read(self.spark, path)
            if where:
                df = df.where(to_spark(where))
            if columns:
                df = df.select(*columns)
        df.createOrReplaceTempView(name)

    def register_arrow(self, name: str, data: pa.Table) -> None:
        """In-memory rows as the relation `name` (tests, small lookups)."""
        maps = [f.name for f in data.schema if pa.types.is_map(f.type)]
        rows = [{**r, **{m: dict(r[m]) if r[m] is not None else None for m in maps}} for r in data.to_pylist()]
        self.spark.createDataFrame(rows, spark_schema(data.schema)).createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self._sql(sql).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> None:
        from pyspark import StorageLevel

        self.drop(name)
        df = self._sql(sql).persist(StorageLevel.MEMORY_AND_DISK)
        df.createOrReplaceTempView(name)
        self._cached[name] = df

    def drop(self, *names: str) -> None:
        for n in names:
            df = self._cached.pop(n, None)
            if df is not None:
                df.unpersist()
            self.spark.catalog.dropTempView(n)

    def rows(self, sql: str) -> list[dict]:
        return [r.asDict() for r in self._sql(sql).collect()]

    def _frame(self, sql: str, schema: pa.Schema):
        from pyspark.sql import functions as F

        df = self._sql(sql)
        return df.select(*[F.col(f.name).cast(f.dataType) for f in spark_schema(schema).fields])

    # --- writes -----------------------------------------------------------------------------------
    def ensure(self, path: Path, schema: pa.Schema, partition_by: list[str] | None = None) -> None:
        delta.ensure_table(self.spark, path, spark_schema(schema), partition_by)

    def bronze_append(self, path: Path, files: list[Path], batch_ids: list[str], schema: pa.Schema) -> None:
        from pyspark.sql import functions as F

        landed = self.spark.read.option("mergeSchema", "true").parquet(*[str(f) for f in files])
        # a rows file carries its landing time; one landed by an earlier release does not: now, then
        ingested = (F.coalesce(F.col("_ingested_at"), F.current_timestamp()) if "_ingested_at" in landed.columns
                    else F.current_timestamp())
        df = landed.select(*[n for n in schema.names if n != "_ingested_at"], ingested.alias("_ingested_at"))
        self.ensure(path, schema)
        delta.replace_batches(df, path, "_batch_id", batch_ids)

    def replace_batches(self, path: Path, sql: str, schema: pa.Schema, column: str, batch_ids: list[str]) -> None:
        self.ensure(path, schema)
        delta.replace_batches(self._frame(sql, schema), path, column, batch_ids)

    def append(self, path: Path, sql: str, schema: pa.Schema) -> None:
        self.ensure(path, schema)
        frame = self._frame(sql, schema)
        delta.with_retry(lambda: frame.write.format("delta").mode("append").save(str(path)))

    def merge(self, path: Path, sql: str, schema: pa.Schema, keys: list[str], update_condition: str | None = None,
              update_set: dict[str, str] | None = None, partition_by: list[str] | None = None) -> None:
        self.ensure(path, schema, partition_by)
        source = self._frame(sql, schema)
        delta.upsert(source, path, keys, update_condition=update_condition, update_set=update_set,
                     partition_by=partition_by)

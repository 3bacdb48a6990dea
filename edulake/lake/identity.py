"""restricted/identity (Delta): token -> identifiers in clear. Never read by dbt or extracts.

One row per token: token, then one column per identifier the standard hashes, drops or masks
(student_no, id_number, name, guardian_phone ...), _batch_id (last batch that wrote it), _updated_at.
A feed that lacks a column (fitness has no id_number) never blanks what another feed wrote.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake import settings, standard
from edulake.lake import delta, privacy
from edulake.standard import Table


def path():
    return settings.paths().identity


def schema() -> T.StructType:
    columns = privacy.identity_fields(standard.load())
    return T.StructType([T.StructField("token", T.StringType(), False)]
                        + [T.StructField(c, T.StringType()) for c in columns]
                        + [T.StructField("_batch_id", T.StringType()), T.StructField("_updated_at", T.TimestampType())])


def rows(accepted: DataFrame, table: Table, key: bytes) -> DataFrame | None:
    """One identity row per token among a table's accepted rows (the newest batch's values win)."""
    token_field = privacy.token_field(table)
    if token_field is None:
        return None
    present = {f.name for f in table.fields}
    columns = [c.name for c in schema().fields if c.name not in ("token", "_batch_id", "_updated_at")]
    df = accepted.select(
        privacy.hmac_token(F.col(token_field.name).cast("string"), key).alias("token"),
        *[(F.col(c).cast("string") if c in present else F.lit(None).cast("string")).alias(c) for c in columns],
        "_batch_id", "_seq", "_row_number")
    newest = Window.partitionBy("token").orderBy(F.desc("_seq"), F.desc("_row_number"))
    return (df.withColumn("_rank", F.row_number().over(newest)).where("_rank = 1")
            .select("token", *columns, "_batch_id", F.current_timestamp().alias("_updated_at")))


def write(df: DataFrame) -> None:
    keep = [c.name for c in schema().fields if c.name not in ("token", "_batch_id", "_updated_at")]
    update = {c: f"coalesce(s.`{c}`, t.`{c}`)" for c in keep}
    update.update({"_batch_id": "s._batch_id", "_updated_at": "s._updated_at"})
    delta.ensure_table(df.sparkSession, path(), schema())
    delta.upsert(df.select(*[F.col(f.name).cast(f.dataType) for f in schema().fields]), path(), ["token"],
                 update_set=update)


def read(spark: SparkSession) -> DataFrame:
    return delta.read(spark, path()) if delta.exists(path()) else spark.createDataFrame([], schema())

"""Lookup columns that checks read, joined onto the validation frame before the checks run.

Most rules read the row alone, or a small reference list inlined into the condition (the school
register: thousands of keys). The enrollment roster is millions of students at city scale, so
`student_enrolled` reads a column joined here instead: conditions.ENROLLED = True when the record's
student (by pseudonym token: the clear 学籍号 never leaves this frame) is on silver/student_enrollment
for the record's school year, False when that year's roster is loaded without them, NULL when no
roster of that year is loaded yet (unknown: a health batch delivered before the year's enrollment).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from edulake.lake import delta, privacy, silver
from edulake.quality import conditions as C
from edulake.standard import Table

ROSTER = "student_enrollment"  # silver entity of the enrollment roster
RULE = "student_enrolled"


def needs_roster(table: Table) -> bool:
    return any(r.name == RULE for r in table.rules)


def with_lookups(table: Table, frame: DataFrame) -> DataFrame:
    """`frame` plus the lookup columns the table's rules read (unchanged when it needs none)."""
    if not needs_roster(table):
        return frame
    target = silver.path(ROSTER)
    if not delta.exists(target):
        return frame.withColumn(C.ENROLLED, F.lit(None).cast("boolean"))
    roster = delta.read(frame.sparkSession, target)
    on_roster = (roster.select(F.col("student_token").alias("__roster_token"),
                               F.col("school_year").alias("__roster_year"), F.lit(True).alias("__on_roster"))
                 .distinct())
    loaded_years = roster.select(F.col("school_year").alias("__loaded_year"), F.lit(True).alias("__year_loaded")).distinct()
    token = privacy.hmac_token(F.col("student_no").cast("string"), privacy.pseudonym_key())
    df = (frame.withColumn("__token", token)
          .join(F.broadcast(loaded_years), F.col("school_year") == F.col("__loaded_year"), "left")
          .join(on_roster, (F.col("__token") == F.col("__roster_token"))
                & (F.col("school_year") == F.col("__roster_year")), "left"))
    enrolled = F.when(F.col("__on_roster"), F.lit(True)).when(F.col("__year_loaded"), F.lit(False))
    return (df.withColumn(C.ENROLLED, enrolled)
            .drop("__token", "__loaded_year", "__year_loaded", "__roster_token", "__roster_year", "__on_roster"))

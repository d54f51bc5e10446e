"""user_video_engagement -> one row per video over all time (SEMANTICS.md 9e), and what a run changes in it.

A video's row is a function of its rows in user_video_engagement alone, so
it is exactly right whenever it was computed from that table's current rows.
A run therefore recomputes the rows from the table it reads and writes only
the videos whose row came out different (``changed_rows``): the videos the
run's days touched, and also those that a run stopped after
user_video_engagement's MERGE left behind. A rerun of a day changes nothing.
"""

import functools

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from video_assets.tables import FLOAT_TOLERANCE, project, table_spec
from video_assets.transforms.metrics import round_display
from video_assets.transforms.sessions import ratio

TABLE = "video_lifetime_summary"
KEY = ("video_id",)
GONE = "_gone"


def video_lifetime_summary(engagement: DataFrame) -> DataFrame:
    """One row per video of user_video_engagement: viewers, watch, completion, returning viewers, span, score."""
    viewers = F.col("viewers")
    per_video = engagement.groupBy("video_id").agg(
        # The title of the pair seen last (the latest day's title); of ties, the greatest, so the pick is repeatable.
        F.max_by("video_title", F.struct("last_metric_date", "video_title")).alias("video_title"),
        F.count(F.lit(1)).alias("viewers"),
        F.sum("total_watch_seconds").alias("total_watch_seconds"),
        F.count(F.when(F.col("completed_at_least_once"), 1)).alias("completed_viewers"),
        F.count(F.when(F.col("active_days") >= 2, 1)).alias("returning_viewers"),
        F.min("first_watch_ts").alias("first_watch_ts"),
        F.max("last_watch_ts").alias("last_watch_ts"),
        F.min("first_metric_date").alias("first_metric_date"),
        F.max("last_metric_date").alias("last_metric_date"),
        round_display(F.avg("engagement_score"), 2).alias("avg_engagement_score"),
    )
    finished = per_video.withColumn("completion_rate", round_display(ratio(F.col("completed_viewers"), viewers), 4))
    return project(finished, TABLE)


def _differs(new: Column, old: Column, data_type: T.DataType) -> Column:
    """True when a value changed; doubles only beyond float noise (a sum added up in another order)."""
    if isinstance(data_type, T.DoubleType):
        moved = F.abs(new - old) > FLOAT_TOLERANCE * F.greatest(F.lit(1.0), F.abs(old))
        return F.coalesce(moved, ~(new.isNull() & old.isNull()))
    return ~new.eqNullSafe(old)


def changed_rows(fresh: DataFrame, stored: DataFrame) -> DataFrame:
    """The rows to MERGE into the stored table so that it equals ``fresh``, and ``_gone``.

    ``fresh`` and ``stored`` have the table's columns. The result holds the
    fresh rows that are new or differ from the stored row of their video (a
    double only beyond float noise), with ``_gone`` false, and for every
    stored video that ``fresh`` lacks, its key with ``_gone`` true (deleted).
    Unchanged videos are left out: the MERGE does not touch them.
    """
    columns = table_spec(TABLE).columns
    values = [c for c in columns if c.name not in KEY]
    old = stored.select(*KEY, *[F.col(c.name).alias(f"_old_{c.name}") for c in values], F.lit(True).alias("_stored"))
    joined = fresh.withColumn("_fresh", F.lit(True)).join(old, list(KEY), "full_outer")
    is_fresh, is_stored = F.col("_fresh").isNotNull(), F.col("_stored").isNotNull()
    changed = functools.reduce(
        Column.__or__, [_differs(F.col(c.name), F.col(f"_old_{c.name}"), c.type) for c in values]
    )
    wanted = (is_fresh & (~is_stored | changed)) | (~is_fresh & is_stored)
    return joined.where(wanted).select(*[c.name for c in columns], (~is_fresh).alias(GONE))

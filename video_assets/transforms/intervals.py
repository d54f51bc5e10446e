"""Stage 3: watched segments -> watch intervals (SEMANTICS.md 7, last paragraph).

A watch interval is a maximal run of one session's watched segments whose
positions join up: each segment starts where the previous one ended, within
the position tolerance. Its watched_seconds is the sum of its segments, and
the segments themselves are kept (``segments``) so that unique seconds can be
the union of what was really watched: a within-tolerance gap between two
joined segments was never credited, so it must not count as unique either.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from video_assets.settings import EngagementSettings
from video_assets.tables import project
from video_assets.transforms.sessions import SESSION_KEY

DERIVATIONS = ("continuous", "jump_adjusted", "switch_credit")


def watched_segments(annotated: DataFrame) -> DataFrame:
    """One row per segment with watched_seconds > 0, in session order (segment_order)."""
    segments = annotated.select(
        "session_id",
        *SESSION_KEY,
        "session_date",
        "event_index",
        F.array_compact(F.array("segment", "switch_segment")).alias("_segments"),
    ).where(F.size("_segments") > 0)
    exploded = segments.select(
        "session_id", *SESSION_KEY, "session_date", "event_index", F.posexplode("_segments").alias("_sub", "segment")
    )
    return exploded.where(F.col("segment.watched_seconds") > 0).select(
        "session_id",
        *SESSION_KEY,
        "session_date",
        (F.col("event_index") * 2 + F.col("_sub")).alias("segment_order"),
        "segment.*",
    )


def _derivation(kinds: Column) -> Column:
    """How an interval's seconds were credited: a switch credit, else a jump rule, else plain play."""
    return (
        F.when(F.array_contains(kinds, "switch_credit"), "switch_credit")
        .when(F.array_contains(kinds, "forward_jump") | F.array_contains(kinds, "backward_jump"), "jump_adjusted")
        .otherwise("continuous")
    )


def watch_intervals(segments: DataFrame, settings: EngagementSettings) -> DataFrame:
    """One row per watch interval: positions (content s), watched_seconds, wall span, derivation, segments."""
    tolerance = settings.position_tolerance_seconds
    in_session = Window.partitionBy(*SESSION_KEY).orderBy("segment_order")
    previous_end = F.lag("end_position_seconds").over(in_session)
    starts_run = previous_end.isNull() | (F.abs(F.col("start_position_seconds") - previous_end) > tolerance)
    numbered = segments.withColumn("_starts_run", starts_run.cast("int")).withColumn(
        "interval_index", F.sum("_starts_run").over(in_session.rowsBetween(Window.unboundedPreceding, 0))
    )
    runs = numbered.groupBy("session_id", *SESSION_KEY, "session_date", "interval_index").agg(
        F.min("start_position_seconds").alias("start_position_seconds"),
        F.max("end_position_seconds").alias("end_position_seconds"),
        F.sum("watched_seconds").alias("watched_seconds"),
        F.min("wall_start_ts").alias("wall_start_ts"),
        F.max("wall_end_ts").alias("wall_end_ts"),
        F.count(F.lit(1)).alias("segment_count"),
        F.collect_set("kind").alias("_kinds"),
        F.array_sort(
            F.collect_list(F.struct(F.col("start_position_seconds").alias("start"), F.col("end_position_seconds").alias("end")))
        ).alias("segments"),
    )
    return project(runs.withColumn("derivation", _derivation(F.col("_kinds"))), "watch_intervals")

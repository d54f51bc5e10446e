"""All-time rollup: one row per (user, video) from the daily tables (SEMANTICS.md 9b).

Derived only from user_video_metrics and watch_intervals, never from raw
events: sums over days, unique seconds as the union of every day's watched
segments, and the score and tier recomputed from the lifetime figures.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from video_assets.settings import EngagementSettings
from video_assets.tables import project
from video_assets.transforms.metrics import engagement_columns, interval_segments, union_length

_SUMMED = (
    "total_watch_seconds", "session_count", "completion_count", "pause_count", "seek_count", "heartbeat_count",
    "event_count", "skipped_forward_seconds", "skipped_backward_seconds", "video_switch_count",
    "browser_close_count", "session_wall_seconds",
)


def user_video_engagement(metrics: DataFrame, intervals: DataFrame, settings: EngagementSettings) -> DataFrame:
    """One row per (user_id, video_id) over all days; duration, title and source from the latest day."""
    per_pair = metrics.groupBy("user_id", "video_id").agg(
        *[F.sum(column).alias(column) for column in _SUMMED],
        F.max("max_position_seconds").alias("max_position_seconds"),
        F.min("first_event_ts").alias("first_watch_ts"),
        F.max("last_event_ts").alias("last_watch_ts"),
        F.countDistinct("metric_date").alias("active_days"),
        F.min("metric_date").alias("first_metric_date"),
        F.max("metric_date").alias("last_metric_date"),
        F.max(F.col("completed").cast("int")).alias("_ever_completed"),
        F.max_by("video_duration_seconds", "metric_date").alias("video_duration_seconds"),
        F.max_by("duration_source", "metric_date").alias("duration_source"),
        F.max_by("video_title", "metric_date").alias("video_title"),
    )
    # A player-reported duration can differ a little from day to day: positions are
    # clipped to the duration in force for the lifetime row, as each day clips to its own.
    duration = per_pair.select("user_id", "video_id", F.col("video_duration_seconds").alias("_duration"))
    segments = (
        interval_segments(intervals, date_column="session_date")
        .join(duration, ["user_id", "video_id"])
        .select("user_id", "video_id", "start", F.least("end", "_duration").alias("end"))
    )
    unique = union_length(segments, ["user_id", "video_id"])
    joined = (
        per_pair.withColumn("max_position_seconds", F.least("max_position_seconds", "video_duration_seconds"))
        .join(unique, ["user_id", "video_id"], "left")
        .withColumn("unique_watch_seconds", F.coalesce("unique_watch_seconds", F.lit(0.0)))
    )
    scored = engagement_columns(joined, settings)
    finished = scored.withColumns(
        {"completed_at_least_once": F.col("_ever_completed") == 1, "is_replay": F.col("session_count") > 1}
    )
    return project(finished, "user_video_engagement")


def touched_pairs(metrics_of_days: DataFrame, lifetime_rows: DataFrame | None, first_day, last_day) -> DataFrame:
    """(user_id, video_id) whose lifetime row a run over first_day..last_day can change.

    The pairs with a metrics row on those days now, plus the pairs whose
    stored lifetime row spans one of those days (a rerun may have removed
    their only row of that day, so their row must be recomputed or deleted).
    """
    now = metrics_of_days.select("user_id", "video_id")
    if lifetime_rows is not None:
        before = lifetime_rows.where(
            (F.col("first_metric_date") <= F.lit(last_day)) & (F.col("last_metric_date") >= F.lit(first_day))
        ).select("user_id", "video_id")
        now = now.unionByName(before)
    return now.distinct()


def recomputed_rows(
    metrics: DataFrame, intervals: DataFrame, pairs: DataFrame, settings: EngagementSettings
) -> DataFrame:
    """The lifetime rows of ``pairs`` from their own daily rows, plus ``_gone`` for pairs left with none.

    ``metrics`` and ``intervals`` are the whole daily tables; only the pairs'
    rows are used (a semi join), so the result has one row per pair: its new
    lifetime row, or nulls and ``_gone = true`` when it has no daily row left.
    """
    keys = ["user_id", "video_id"]
    rows = user_video_engagement(
        metrics.join(pairs, keys, "left_semi"), intervals.join(pairs, keys, "left_semi"), settings
    )
    return pairs.join(rows.withColumn("_gone", F.lit(False)), keys, "left").fillna(True, ["_gone"])

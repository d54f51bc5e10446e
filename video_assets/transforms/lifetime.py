"""All-time rollup: one row per (user, video) from the daily tables (SEMANTICS.md 9b).

Derived only from user_video_metrics and watch_intervals, never from raw
events: sums over days, unique seconds as the union of every day's watched
segments, and the score and tier recomputed from the lifetime figures.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from video_assets.settings import EngagementSettings
from video_assets.tables import FLOAT_TOLERANCE, project
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


def disagreeing_pairs(metrics: DataFrame, intervals: DataFrame) -> DataFrame:
    """(user_id, video_id, metrics_seconds, interval_seconds) of the pairs whose two daily tables disagree.

    Per pair, total_watch_seconds summed over its user_video_metrics rows must
    equal watched_seconds summed over its watch_intervals rows (the per-day
    invariant of the metrics, added up). They differ while another run has
    rewritten a day of watch_intervals and not yet of user_video_metrics: a
    lifetime row computed then would mix two versions of that day.
    """
    keys = ["user_id", "video_id"]
    from_metrics = metrics.groupBy(keys).agg(F.sum("total_watch_seconds").alias("metrics_seconds"))
    from_intervals = intervals.groupBy(keys).agg(F.sum("watched_seconds").alias("interval_seconds"))
    metrics_seconds = F.coalesce("metrics_seconds", F.lit(0.0))
    difference = F.abs(metrics_seconds - F.coalesce("interval_seconds", F.lit(0.0)))
    # Sums over many days carry float noise: the tolerance grows with the seconds summed.
    agree = difference <= FLOAT_TOLERANCE * F.greatest(F.lit(1.0), F.abs(metrics_seconds))
    return from_metrics.join(from_intervals, keys, "full").where(~F.coalesce(agree, F.lit(False)))


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

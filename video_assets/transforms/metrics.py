"""Stage 4: sessions + watch intervals -> one row per (metric_date, user, video) (SEMANTICS.md 8).

metric_date is the session_date of the day's sessions. Seconds are content
seconds; percentages are of the video's duration, rounded to 2 decimals for
display (decisions such as ``completed`` use the unrounded value).
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from video_assets.settings import EngagementSettings
from video_assets.tables import project
from video_assets.transforms.sessions import ratio

PAIR_KEY = ("metric_date", "user_id", "video_id")


def union_length(segments: DataFrame, group_columns: list[str]) -> DataFrame:
    """Length of the union of [start, end] position ranges per group: group columns + unique_watch_seconds.

    Sorted by start, each range adds only what lies beyond the furthest end
    seen so far; that furthest end covers everything back to the current start,
    because the range that reached it started no later.
    """
    ordered = Window.partitionBy(*group_columns).orderBy("start", "end").rowsBetween(Window.unboundedPreceding, -1)
    covered_until = F.max("end").over(ordered)
    fresh = F.greatest(F.col("end") - F.greatest(F.col("start"), F.coalesce(covered_until, F.col("start"))), F.lit(0.0))
    return segments.withColumn("_fresh", fresh).groupBy(*group_columns).agg(F.sum("_fresh").alias("unique_watch_seconds"))


def interval_segments(intervals: DataFrame, date_column: str = "metric_date") -> DataFrame:
    """Every watched segment of the intervals as (date, user_id, video_id, start, end)."""
    return intervals.select(
        F.col("session_date").alias(date_column), "user_id", "video_id", F.explode("segments").alias("segment")
    ).select(date_column, "user_id", "video_id", "segment.start", "segment.end")


def round_score(score: Column) -> Column:
    """One decimal, half up. The inner rounding removes float noise (69.9499999… from 69.95)."""
    return F.round(F.round(score, 6), 1)


def round_display(value: Column, digits: int) -> Column:
    """``digits`` decimals, half up, whatever order the floats behind ``value`` were added in.

    A mean or share of values with few decimals often lands exactly on a
    rounding boundary (44.215); summed in another order (another
    partitioning, a range run against day-by-day runs) it comes out as
    44.21499999… or 44.2150000…01. Rounding to 9 decimals first removes that
    noise, so the displayed figure never depends on how Spark split the work.
    """
    return F.round(F.round(value, 9), digits)


def engagement_columns(frame: DataFrame, settings: EngagementSettings) -> DataFrame:
    """Adds rewatch, percentages, completion, score and tier from total, unique, max position, sessions, duration."""
    duration = F.col("video_duration_seconds")
    rewatched = F.col("total_watch_seconds") - F.col("unique_watch_seconds")
    completion = F.least(F.lit(100.0), 100 * ratio(F.col("max_position_seconds"), duration))
    unique_share = ratio(F.col("unique_watch_seconds"), duration)
    score = 100 * (
        settings.weight_unique * F.least(unique_share, F.lit(1.0))
        + settings.weight_completion * completion / 100
        + settings.weight_sessions * F.least(F.col("session_count"), F.lit(3)) / 3
        + settings.weight_rewatch * F.least(ratio(rewatched, duration), F.lit(1.0))
    )
    with_score = frame.withColumns(
        {
            "rewatched_seconds": rewatched,
            "watch_percentage": round_display(100 * ratio(F.col("total_watch_seconds"), duration), 2),
            "unique_watch_percentage": round_display(100 * unique_share, 2),
            "completion_percentage": round_display(completion, 2),
            "completed": completion >= settings.completion_threshold_percent,
            "_unique_percentage_raw": 100 * unique_share,
            "engagement_score": round_score(score),
        }
    )
    return with_score.withColumn("engagement_tier", engagement_tier(F.col("engagement_score"), settings))


def engagement_tier(score: Column, settings: EngagementSettings) -> Column:
    return (
        F.when(score >= settings.tier_high_min_score, "High")
        .when(score >= settings.tier_medium_min_score, "Medium")
        .when(score >= settings.tier_low_min_score, "Low")
        .otherwise("Minimal")
    )


def quality_flags(session_flags: Column, total: Column, completed: Column, unique_percentage: Column) -> Column:
    """Sorted distinct session flags, plus very_short_watch and completed_without_sufficient_watch."""
    extra = F.array_compact(
        F.array(
            F.when(total < 10, F.lit("very_short_watch")),
            F.when(completed & (unique_percentage < 50), F.lit("completed_without_sufficient_watch")),
        )
    )
    return F.array_sort(F.array_distinct(F.concat(session_flags, extra)))


def user_video_metrics(sessions: DataFrame, intervals: DataFrame, settings: EngagementSettings) -> DataFrame:
    """One row per (metric_date, user, video) over that day's sessions, every column of section 8."""
    per_pair = sessions.groupBy(F.col("session_date").alias("metric_date"), "user_id", "video_id").agg(
        F.sum("watched_seconds").alias("total_watch_seconds"),
        F.max("max_position_seconds").alias("max_position_seconds"),
        F.count(F.lit(1)).alias("session_count"),
        F.sum("pause_count").alias("pause_count"),
        F.sum("jump_count").alias("seek_count"),
        F.sum("heartbeat_count").alias("heartbeat_count"),
        F.sum("event_count").alias("event_count"),
        F.sum("skipped_forward_seconds").alias("skipped_forward_seconds"),
        F.sum("skipped_backward_seconds").alias("skipped_backward_seconds"),
        F.count(F.when(F.col("ended_by") == "video_switch", 1)).alias("video_switch_count"),
        F.count(F.when(F.col("ended_by") == "browser_close", 1)).alias("browser_close_count"),
        F.min("first_event_ts").alias("first_event_ts"),
        F.max("last_event_ts").alias("last_event_ts"),
        F.sum("wall_seconds").alias("session_wall_seconds"),
        F.count(F.when(F.col("reached_completion"), 1)).alias("completion_count"),
        F.array_distinct(F.flatten(F.collect_list("quality_flags"))).alias("_session_flags"),
        F.first("video_duration_seconds").alias("video_duration_seconds"),
        F.first("duration_source").alias("duration_source"),
        F.first("video_title", ignorenulls=True).alias("video_title"),
    )
    unique = union_length(interval_segments(intervals), list(PAIR_KEY))
    joined = per_pair.join(unique, list(PAIR_KEY), "left").withColumn(
        "unique_watch_seconds", F.coalesce("unique_watch_seconds", F.lit(0.0))
    )
    scored = engagement_columns(joined, settings)
    finished = scored.withColumns(
        {
            "replay_count": F.col("session_count") - 1,
            "avg_watch_seconds_per_session": F.col("total_watch_seconds") / F.col("session_count"),
            "avg_pauses_per_session": F.col("pause_count") / F.col("session_count"),
            "quality_flags": quality_flags(
                F.col("_session_flags"), F.col("total_watch_seconds"), F.col("completed"), F.col("_unique_percentage_raw")
            ),
        }
    )
    return project(finished, "user_video_metrics")

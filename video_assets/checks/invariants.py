"""Cross-asset invariants: what one table must hold according to what it was computed from.

Pure functions, no Dagster. Each is a ``Reference`` builder:
``evaluate_table(..., reference=...)`` joins it to the written table and
counts disagreeing keys in one aggregation. The inputs are what the step
already holds (its loaded upstream tables, or its own intermediate frame),
never a re-read of the landing zone or a re-run of a transform. The raw
stage's reconciliation is in ``checks/raw_stage.py``.
"""

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from video_assets.checks.evaluation import Reference
from video_assets.checks.schemas import FLOAT_TOLERANCE
from video_assets.frames import literal_frame
from video_assets.settings import TIERS

# ---------------------------------------------------------------- references at a table's grain


def events_in_sessions(summaries: DataFrame) -> Reference:
    """For video_sessions: every event the step assigned to a session is counted in exactly that session.

    ``summaries`` is the step's own per-session frame (``summarize_sessions``,
    computed once into the step's scratch rows). Expected per session_id:
    as many events in ``event_count`` as the replay numbered in the session
    (its highest event_index), and one session_date shared by all its events
    (the latest of them). A failing row is a session whose count or date
    differs, or that exists on one side only. What this proves: the
    grouping into sessions agrees with the replay's numbering of each
    session's events, the session's events agree on its day, and no session
    was lost or doubled between aggregating and writing. It does not
    re-derive the sessionization rule independently (the transform tests do).
    """
    expected = summaries.select(
        "session_id",
        F.col("latest_session_date").alias("assigned_session_date"),
        F.col("numbered_events").alias("events_assigned"),
    )
    disagree = (F.coalesce(F.col("events_assigned"), F.lit(0)) != F.coalesce(F.col("event_count"), F.lit(0))) | ~F.col(
        "assigned_session_date"
    ).eqNullSafe(F.col("session_date"))
    return Reference(
        expected=expected,
        keys=["session_id"],
        disagree=disagree,
        totals={"events_assigned": F.col("events_assigned"), "events_in_sessions": F.col("event_count")},
        expected_day="assigned_session_date",
        sample_columns=("assigned_session_date", "events_assigned", "event_count"),
    )


def watch_seconds_match(intervals: DataFrame) -> Reference:
    """For user_video_metrics: per (day, user, video), sum of interval watched_seconds = total_watch_seconds.

    Tolerance FLOAT_TOLERANCE per row; a pair on one side only fails unless its seconds are 0.
    """
    expected = intervals.groupBy(F.col("session_date").alias("metric_date"), "user_id", "video_id").agg(
        F.sum("watched_seconds").alias("interval_seconds")
    )
    difference = F.abs(
        F.coalesce(F.col("interval_seconds"), F.lit(0.0)) - F.coalesce(F.col("total_watch_seconds"), F.lit(0.0))
    )
    disagree = ~(difference <= FLOAT_TOLERANCE)  # NaN disagrees too
    return Reference(
        expected=expected,
        keys=["metric_date", "user_id", "video_id"],
        disagree=disagree,
        totals={"interval_seconds": F.col("interval_seconds"), "total_watch_seconds": F.col("total_watch_seconds")},
        sample_columns=("interval_seconds", "total_watch_seconds"),
    )


def tier_pairs_match(metrics: DataFrame, days: list[str]) -> Reference:
    """For engagement_tier_summary: every day of the run has all four tiers, pair_count = metrics rows of the tier.

    A (day, tier) row missing from the summary fails, and so does a row for
    a day or tier that should not be there.
    """
    spark = metrics.sparkSession
    grid = literal_frame(
        spark, [(date.fromisoformat(day), tier) for day in days for tier in TIERS], "metric_date date, engagement_tier string"
    )
    counted = metrics.groupBy("metric_date", "engagement_tier").agg(F.count(F.lit(1)).alias("metric_pairs"))
    expected = grid.join(counted, ["metric_date", "engagement_tier"], "left").fillna(0, ["metric_pairs"])
    disagree = (
        F.col("_in_table").isNull()
        | F.col("_in_expected").isNull()
        | (F.col("metric_pairs") != F.col("pair_count"))
    )
    return Reference(
        expected=expected,
        keys=["metric_date", "engagement_tier"],
        disagree=disagree,
        totals={"metric_pairs": F.col("metric_pairs"), "pair_count": F.col("pair_count")},
        sample_columns=("metric_pairs", "pair_count"),
    )


def viewers_match(metrics: DataFrame) -> Reference:
    """For video_engagement_summary: per (day, video), viewers = distinct users with a metrics row."""
    expected = metrics.groupBy("metric_date", "video_id").agg(F.countDistinct("user_id").alias("metric_viewers"))
    disagree = F.coalesce(F.col("metric_viewers"), F.lit(0)) != F.coalesce(F.col("viewers"), F.lit(0))
    return Reference(
        expected=expected,
        keys=["metric_date", "video_id"],
        disagree=disagree,
        totals={"metric_viewers": F.col("metric_viewers"), "viewers": F.col("viewers")},
        sample_columns=("metric_viewers", "viewers"),
    )


def platform_sessions_match(video_summary: DataFrame) -> Reference:
    """For video_platform_summary: per (day, video), sessions summed over platforms = video_engagement_summary.sessions.

    ``video_summary`` is video_engagement_summary over the step's days. The
    table has a row per platform: every row of a (day, video) whose platforms
    do not add up fails, and so does a (day, video) present on one side only.
    The totals count each side once per day (the summary's sessions on the
    first platform row of its video).
    """
    expected = video_summary.select("metric_date", "video_id", F.col("sessions").alias("summary_sessions"))
    per_video = Window.partitionBy("metric_date", "video_id")
    platform_sessions = F.sum("sessions").over(per_video)
    disagree = F.coalesce(platform_sessions, F.lit(0)) != F.coalesce(F.col("summary_sessions"), F.lit(0))
    first_row_of_video = F.row_number().over(per_video.orderBy(F.col("platform").asc_nulls_first())) == 1
    return Reference(
        expected=expected,
        keys=["metric_date", "video_id"],
        disagree=disagree,
        totals={
            "platform_sessions": F.col("sessions"),
            "summary_sessions": F.when(first_row_of_video, F.col("summary_sessions")),
        },
        sample_columns=("platform", "sessions", "summary_sessions"),
    )

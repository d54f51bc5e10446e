"""Cross-asset invariants: what one table must hold according to the tables (or files) it comes from.

Pure functions, no Dagster. The invariants at a table's own grain are
``Reference`` builders: ``evaluate_table(..., reference=...)`` joins them to
the table and counts disagreeing keys in the same single aggregation as the
table's contract rules. The raw stage's reconciliation is per day and
compares the landing files with the row counts of both raw tables.
"""

from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from video_assets.checks.evaluation import Comparison, Reference
from video_assets.checks.schemas import FLOAT_TOLERANCE
from video_assets.io.landing import LandingZone, list_day_files
from video_assets.settings import TIERS, EngagementSettings
from video_assets.transforms import events as event_transforms
from video_assets.transforms.sessions import assign_sessions

# ---------------------------------------------------------------- raw stage


def landing_status_counts(spark: SparkSession, landing: LandingZone, days: list[str]) -> dict[str, dict[str, int]]:
    """Per day: lines read, and lines per status, from a fresh read and classification of the landing files.

    The same functions the raw stage uses (``read_landing_lines`` +
    ``classify_lines`` + ``status_counts``), run again on what is in the
    landing zone now: a handful of rows come back.
    """
    day_files = [list_day_files(spark, landing, day) for day in days]
    lines = event_transforms.read_landing_lines(spark, day_files)
    rows = event_transforms.status_counts(event_transforms.classify_lines(lines)).collect()
    counts: dict[str, dict[str, int]] = {day: {} for day in days}
    for row in rows:
        day = row["partition_date"].isoformat()
        counts.setdefault(day, {})[row["status"]] = int(row["count"])
    return counts


def reconcile_lines(
    landing_counts: dict[str, dict[str, int]], valid_rows: dict[str, int], quarantined_rows: dict[str, int], days: list[str]
) -> Comparison:
    """lines read = valid + quarantined + duplicates, per day (SEMANTICS.md 2).

    ``landing_counts`` is the landing re-classified now (``landing_status_counts``);
    ``valid_rows`` / ``quarantined_rows`` are the row counts of raw_video_events
    and raw_video_events_quarantine per day. A failing row is a record the
    tables hold differently from the landing:
    |valid rows - valid lines| + |quarantined rows - quarantined lines|.
    ``unaccounted`` = lines read - (valid rows + quarantined rows + duplicates):
    positive when lines were lost on the way to the tables, negative when rows were added.
    """
    valid_status, duplicate_status = event_transforms.VALID, event_transforms.DUPLICATE
    result = Comparison()
    for day in sorted(set(days) | set(landing_counts) | set(valid_rows) | set(quarantined_rows)):
        statuses = landing_counts.get(day, {})
        lines_read = sum(statuses.values())
        landing_valid = statuses.get(valid_status, 0)
        duplicates = statuses.get(duplicate_status, 0)
        landing_quarantined = lines_read - landing_valid - duplicates
        valid, quarantined = valid_rows.get(day, 0), quarantined_rows.get(day, 0)
        failing = abs(valid - landing_valid) + abs(quarantined - landing_quarantined)
        result.by_day[day] = {
            "lines_read": lines_read,
            "valid": valid,
            "quarantined": quarantined,
            "duplicates": duplicates,
            "unaccounted": lines_read - valid - quarantined - duplicates,
            "landing_valid": landing_valid,
            "landing_quarantined": landing_quarantined,
            "failing_rows": failing,
        }
        result.failing_rows += failing
    return result


def quarantine_shares(valid_rows: dict[str, int], quarantined_rows: dict[str, int], days: list[str]) -> dict[str, dict]:
    """Per day of the run: valid events, quarantined records and quarantined / (valid + quarantined)."""
    shares = {}
    for day in days:
        valid, quarantined = valid_rows.get(day, 0), quarantined_rows.get(day, 0)
        records = valid + quarantined
        shares[day] = {"valid": valid, "quarantined": quarantined, "share": round(quarantined / records, 6) if records else 0.0}
    return shares


# ---------------------------------------------------------------- references at a table's grain


def events_in_sessions(
    raw_window: DataFrame, settings: EngagementSettings, first_day: date, last_day: date
) -> Reference:
    """For video_sessions: every clean event of the run's sessions is counted in exactly one session.

    Re-assigns the raw events of first_day-1..last_day to sessions with the
    stage's own rule (``assign_sessions``, SEMANTICS.md 6) and expects, per
    session_id, that many events in ``event_count`` and the same
    session_date. A failing row is a session whose count or date differs, or
    that exists on one side only. What this proves: the stored sessions of
    these days hold exactly the raw events that close on these days, each
    once (nothing lost or double-counted between sessionizing, aggregating and
    writing). It does not re-derive the sessionization rule independently.
    """
    expected = (
        assign_sessions(raw_window, settings, first_day, last_day)
        .groupBy("session_id")
        .agg(F.first("session_date").alias("assigned_session_date"), F.count(F.lit(1)).alias("events_assigned"))
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
    grid = spark.createDataFrame(
        [(date.fromisoformat(day), tier) for day in days for tier in TIERS], "metric_date date, engagement_tier string"
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

"""Cross-asset invariants: each compares one table with what its inputs say it must hold.

Pure functions (DataFrames in, a small ``Comparison`` out), no Dagster.
Every comparison is a full outer join of two small per-key aggregates, so a
row missing on either side is a failure too; ``failing_rows`` counts the
keys that disagree, ``by_day`` gives the day's totals from both sides and
``sample`` up to five disagreeing keys with both values.
"""

from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from video_assets.checks.evaluation import SAMPLE_SIZE, jsonable_row
from video_assets.checks.schemas import FLOAT_TOLERANCE
from video_assets.io.landing import LandingZone, list_day_files
from video_assets.settings import TIERS, EngagementSettings
from video_assets.transforms import events as event_transforms
from video_assets.transforms.sessions import assign_sessions


@dataclass
class Comparison:
    failing_rows: int = 0
    by_day: dict[str, dict] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


def _compare(
    expected: DataFrame,
    actual: DataFrame,
    keys: list[str],
    disagree: Column,
    day_totals: dict[str, Column],
    sample_size: int = SAMPLE_SIZE,
) -> Comparison:
    """Full outer join on keys (the first is the day), then ``_summarize``."""
    return _summarize(expected.join(actual, keys, "full_outer"), keys[0], disagree, day_totals, sample_size)


def _summarize(
    joined: DataFrame, day_column: str, disagree: Column, day_totals: dict[str, Column], sample_size: int = SAMPLE_SIZE
) -> Comparison:
    """Count disagreeing rows and the day totals in one pass; sample disagreeing rows only on failure."""
    joined = joined.withColumn("_disagree", F.coalesce(disagree, F.lit(True)))
    per_day = (
        joined.groupBy(F.col(day_column).cast("string").alias("_day"))
        .agg(F.count(F.when(F.col("_disagree"), 1)).alias("failing_rows"), *[v.alias(k) for k, v in day_totals.items()])
        .collect()
    )
    result = Comparison()
    for row in sorted(per_day, key=lambda r: r["_day"] or ""):
        values = {k: _number(row[k]) for k in ("failing_rows", *day_totals)}
        result.by_day[row["_day"]] = values
        result.failing_rows += values["failing_rows"]
    if result.failing_rows:
        sample = joined.where("_disagree").drop("_disagree").limit(sample_size).collect()
        result.sample = [jsonable_row(row) for row in sample]
    return result


def _number(value):
    if value is None:
        return 0
    return round(float(value), 6) if isinstance(value, float) else int(value)


# ---------------------------------------------------------------- raw stage


def landing_status_counts(spark: SparkSession, landing: LandingZone, days: list[str]) -> DataFrame:
    """Lines per (partition_date, status) from a fresh read and classification of the days' landing files."""
    day_files = [list_day_files(spark, landing, day) for day in days]
    lines = event_transforms.read_landing_lines(spark, day_files)
    return event_transforms.status_counts(event_transforms.classify_lines(lines))


def reconcile_lines(status_counts: DataFrame, events: DataFrame, quarantine: DataFrame, days: list[str]) -> Comparison:
    """lines read = valid + quarantined + duplicates, per day (SEMANTICS.md 2).

    ``status_counts`` is the landing re-classified now (``landing_status_counts``);
    ``events`` and ``quarantine`` are the tables' rows for the days. A failing
    row is a record the tables hold differently from the landing:
    |valid in table - valid in landing| + |quarantined in table - quarantined in landing|.
    ``unaccounted`` = lines read - (table valid + table quarantined + duplicates):
    positive when lines were lost, negative when rows were added.
    """
    spark = status_counts.sparkSession
    valid, duplicate = event_transforms.VALID, event_transforms.DUPLICATE
    landing = status_counts.groupBy(F.col("partition_date").alias("day")).agg(
        F.sum("count").alias("lines_read"),
        F.sum(F.when(F.col("status") == valid, F.col("count")).otherwise(0)).alias("landing_valid"),
        F.sum(F.when(F.col("status") == duplicate, F.col("count")).otherwise(0)).alias("duplicates"),
        F.sum(F.when(~F.col("status").isin(valid, duplicate), F.col("count")).otherwise(0)).alias("landing_quarantined"),
    )
    tables = (
        events.select(F.col("event_date").alias("day"), F.lit(1).alias("v"), F.lit(0).alias("q"))
        .unionByName(quarantine.select(F.col("partition_date").alias("day"), F.lit(0).alias("v"), F.lit(1).alias("q")))
        .groupBy("day")
        .agg(F.sum("v").alias("valid"), F.sum("q").alias("quarantined"))
    )
    run_days = spark.createDataFrame([(date.fromisoformat(d),) for d in days], "day date")
    counts = run_days.join(landing, "day", "left").join(tables, "day", "full_outer").fillna(0)
    differences = F.abs(F.col("valid") - F.col("landing_valid")) + F.abs(F.col("quarantined") - F.col("landing_quarantined"))
    rows = counts.withColumn("failing_rows", differences).withColumn(
        "unaccounted", F.col("lines_read") - F.col("valid") - F.col("quarantined") - F.col("duplicates")
    ).orderBy("day").collect()
    result = Comparison()
    for row in rows:
        values = {
            k: int(row[k])
            for k in ("lines_read", "valid", "quarantined", "duplicates", "unaccounted", "landing_valid",
                      "landing_quarantined", "failing_rows")
        }
        result.by_day[row["day"].isoformat()] = values
        result.failing_rows += values["failing_rows"]
    return result


def quarantine_shares(events: DataFrame, quarantine: DataFrame, days: list[str]) -> dict[str, dict]:
    """Per day: valid events, quarantined records and the quarantined share of both (0 on an empty day)."""
    counts = (
        events.select(F.col("event_date").cast("string").alias("day"), F.lit(1).alias("v"), F.lit(0).alias("q"))
        .unionByName(
            quarantine.select(F.col("partition_date").cast("string").alias("day"), F.lit(0).alias("v"), F.lit(1).alias("q"))
        )
        .groupBy("day")
        .agg(F.sum("v").alias("valid"), F.sum("q").alias("quarantined"))
        .collect()
    )
    found = {row["day"]: (int(row["valid"]), int(row["quarantined"])) for row in counts}
    shares = {}
    for day in sorted(set(days) | set(found)):
        valid, quarantined = found.get(day, (0, 0))
        records = valid + quarantined
        shares[day] = {
            "valid": valid,
            "quarantined": quarantined,
            "share": round(quarantined / records, 6) if records else 0.0,
        }
    return shares


# ---------------------------------------------------------------- session stage


def sessions_account_for_events(
    raw_window: DataFrame, sessions: DataFrame, settings: EngagementSettings, first_day: date, last_day: date
) -> Comparison:
    """Every clean event of the run's sessions is counted in exactly one stored session.

    Re-assigns the raw events of first_day-1..last_day to sessions with the
    stage's own rule (``assign_sessions``, SEMANTICS.md 6) and compares, per
    session_id, the number of events assigned with the stored event_count.
    A failing row is a session whose counts differ, or that exists on one
    side only. What this proves: the stored sessions of these days hold
    exactly the raw events that close on these days, each once. It does not
    re-derive the sessionization rule independently.
    """
    assigned = (
        assign_sessions(raw_window, settings, first_day, last_day)
        .groupBy("session_id")
        .agg(F.first("session_date").alias("assigned_date"), F.count(F.lit(1)).alias("events_assigned"))
    )
    stored = sessions.select("session_id", F.col("session_date").alias("stored_date"), "event_count")
    joined = assigned.join(stored, "session_id", "full_outer").withColumn(
        "session_date", F.coalesce("stored_date", "assigned_date")
    )
    disagree = (
        F.coalesce(F.col("events_assigned"), F.lit(0)) != F.coalesce(F.col("event_count"), F.lit(0))
    ) | ~F.col("assigned_date").eqNullSafe(F.col("stored_date"))
    return _summarize(
        joined.select("session_date", "session_id", "assigned_date", "stored_date", "events_assigned", "event_count"),
        "session_date",
        disagree,
        {
            "events_assigned": F.sum("events_assigned"),
            "events_in_sessions": F.sum("event_count"),
            "sessions": F.count("event_count"),
        },
    )


# ---------------------------------------------------------------- metrics and summaries


def watch_seconds_match(intervals: DataFrame, metrics: DataFrame) -> Comparison:
    """Per (day, user, video): sum of watch_intervals.watched_seconds = user_video_metrics.total_watch_seconds.

    Tolerance FLOAT_TOLERANCE per row; a pair on one side only fails unless its seconds are 0.
    """
    keys = ["metric_date", "user_id", "video_id"]
    from_intervals = intervals.groupBy(F.col("session_date").alias("metric_date"), "user_id", "video_id").agg(
        F.sum("watched_seconds").alias("interval_seconds")
    )
    from_metrics = metrics.select(*keys, F.col("total_watch_seconds").alias("metric_seconds"))
    disagree = (
        F.abs(F.coalesce(F.col("interval_seconds"), F.lit(0.0)) - F.coalesce(F.col("metric_seconds"), F.lit(0.0)))
        > FLOAT_TOLERANCE
    )
    return _compare(
        from_intervals,
        from_metrics,
        keys,
        disagree,
        {"interval_seconds": F.sum("interval_seconds"), "metric_seconds": F.sum("metric_seconds"), "pairs": F.count("metric_seconds")},
    )


def tier_pairs_match(metrics: DataFrame, tier_summary: DataFrame, days: list[str]) -> Comparison:
    """Per (day, tier), for every day of the run and all four tiers: pair_count = metrics rows of that tier.

    A missing (day, tier) row of the summary fails, as does a row for a tier
    or day that should not be there.
    """
    spark = metrics.sparkSession
    grid = spark.createDataFrame(
        [(date.fromisoformat(d), tier) for d in days for tier in TIERS], "metric_date date, engagement_tier string"
    ).withColumn("_expected", F.lit(True))
    counted = metrics.groupBy("metric_date", "engagement_tier").agg(F.count(F.lit(1)).alias("metric_pairs"))
    expected = grid.join(counted, ["metric_date", "engagement_tier"], "full_outer")
    actual = tier_summary.select("metric_date", "engagement_tier", "pair_count", F.lit(True).alias("_stored"))
    disagree = (
        F.col("_expected").isNull()
        | F.col("_stored").isNull()
        | (F.coalesce(F.col("metric_pairs"), F.lit(0)) != F.coalesce(F.col("pair_count"), F.lit(0)))
    )
    return _compare(
        expected,
        actual,
        ["metric_date", "engagement_tier"],
        disagree,
        {"metric_pairs": F.sum("metric_pairs"), "pair_count": F.sum("pair_count"), "tier_rows": F.count("_stored")},
    )


def viewers_match(metrics: DataFrame, video_summary: DataFrame) -> Comparison:
    """Per (day, video): viewers = distinct users with a user_video_metrics row for that video and day."""
    keys = ["metric_date", "video_id"]
    counted = metrics.groupBy(*keys).agg(F.countDistinct("user_id").alias("metric_viewers"))
    stored = video_summary.select(*keys, "viewers")
    disagree = F.coalesce(F.col("metric_viewers"), F.lit(0)) != F.coalesce(F.col("viewers"), F.lit(0))
    return _compare(
        counted, stored, keys, disagree, {"metric_viewers": F.sum("metric_viewers"), "viewers": F.sum("viewers")}
    )


__all__ = [
    "Comparison",
    "landing_status_counts",
    "quarantine_shares",
    "reconcile_lines",
    "sessions_account_for_events",
    "tier_pairs_match",
    "viewers_match",
    "watch_seconds_match",
]

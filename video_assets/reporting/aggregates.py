"""The engagement tables reduced to the few numbers a chart or a report shows.

Each function runs one small aggregate query and collects its result (a few
rows to a few hundred: days x tiers, score bins, the top videos), never a
partition's rows; or, for the counters' pairs (``*_counters`` / ``*_observed``),
reads counts observed while the table was written, with no query at all.
Callers pass the tables already filtered to the days they want; every number
is over all the rows they pass.
"""

import math
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from video_assets.settings import TIERS
from video_assets.transforms.audience import MILESTONE_COLUMNS

SECONDS_PER_HOUR = 3600.0
DEFAULT_BIN_WIDTH = 5.0  # engagement score points per histogram bar


def _share(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator; null when the denominator is 0 (a share of nothing is undefined, not 0)."""
    return F.when(denominator > 0, numerator / denominator)


def _summed_arrays(arrays: Column) -> Column:
    """Point-by-point sum of a list of arrays (``collect_list``); a point missing from a shorter array counts 0."""
    return F.aggregate(
        arrays,
        F.transform(F.try_element_at(arrays, F.lit(1)), lambda _: F.lit(0.0)),
        lambda total, array: F.zip_with(
            total, array, lambda left, right: F.coalesce(left, F.lit(0.0)) + F.coalesce(right, F.lit(0.0))
        ),
    )


def top_videos(video_summary: DataFrame, limit: int = 5) -> list[dict]:
    """The `limit` videos with the most viewer-days in video_engagement_summary, most first (ties by video_id).

    Per video, over the frame's days:
      title                  the catalog title (the video_id when the video has none)
      viewers                sum of the daily viewers: viewer-days (a user watching on two days counts twice)
      watch_hours            total watched time, replays included, in hours
      completion_rate        share of viewer-days that completed (0-1): the daily (4-decimal) rates weighted by viewers
      retention_curve        share of viewers (0-1) watching at each curve point: the daily curves weighted by
                             daily viewers, point by point (the curve's length is the table's retention_buckets)
      engaged_rate           share of viewer-days that were engaged, weighted likewise
      reached_shares         share of viewer-days that reached 25, 50, 75 and 95 % of the video (four shares)
      furthest_point_shares  share of viewer-days whose furthest point lies in each twentieth of the video
    Rates and shares are rounded to 4 decimals, hours to 2. The audience
    measures are weighted by the viewers of the days that have them (None
    when no day has: a table written before they existed).
    """
    viewers = F.col("viewers")
    columns = set(video_summary.columns)

    def column(name: str, data_type: str) -> Column:
        return F.col(name) if name in columns else F.lit(None).cast(data_type)

    title = column("video_title", "string").cast("string")
    milestones = F.array(*[column(name, "double") for name in MILESTONE_COLUMNS])
    audience = {  # daily share or shares -> weighted by the day's viewers, with the viewers they cover
        "engaged_rate": F.when(column("engaged_rate", "double").isNotNull(), F.array(column("engaged_rate", "double"))),
        "reached_shares": F.when(column(MILESTONE_COLUMNS[0], "double").isNotNull(), milestones),
        "furthest_point_shares": column("furthest_point_shares", "array<double>"),
    }
    # Each day as viewer counts: completed viewers, and viewers at each curve point.
    weighted_days = video_summary.select(
        "video_id",
        title.alias("title"),
        "viewers",
        "total_watch_seconds",
        (F.col("completion_rate") * viewers).alias("completed_viewers"),
        F.transform("retention_curve", lambda share: share * viewers).alias("viewer_curve"),
        *[F.transform(shares, lambda share: share * viewers).alias(f"_viewers_{name}") for name, shares in audience.items()],
        *[F.when(shares.isNotNull(), viewers).alias(f"_known_{name}") for name, shares in audience.items()],
    )
    per_video = weighted_days.groupBy("video_id").agg(
        F.max("title").alias("catalog_title"),  # one title per video; max keeps it deterministic
        F.sum("viewers").alias("total_viewers"),
        F.sum("total_watch_seconds").alias("watch_seconds"),
        F.sum("completed_viewers").alias("completed_viewers"),
        _summed_arrays(F.collect_list("viewer_curve")).alias("viewer_curve"),
        *[_summed_arrays(F.collect_list(f"_viewers_{name}")).alias(f"_viewers_{name}") for name in audience],
        *[F.sum(f"_known_{name}").alias(f"_known_{name}") for name in audience],
    )
    total_viewers = F.col("total_viewers")

    def shares_of(name: str) -> Column:
        known = F.col(f"_known_{name}")
        return F.transform(f"_viewers_{name}", lambda point: F.round(F.coalesce(_share(point, known), F.lit(0.0)), 4))

    rows = (
        per_video.select(
            "video_id",
            F.coalesce("catalog_title", "video_id").alias("title"),
            total_viewers.alias("viewers"),
            F.round(F.col("watch_seconds") / SECONDS_PER_HOUR, 2).alias("watch_hours"),
            F.round(_share(F.col("completed_viewers"), total_viewers), 4).alias("completion_rate"),
            F.transform(
                "viewer_curve", lambda point: F.round(F.coalesce(_share(point, total_viewers), F.lit(0.0)), 4)
            ).alias("retention_curve"),
            F.try_element_at(shares_of("engaged_rate"), F.lit(1)).alias("engaged_rate"),
            shares_of("reached_shares").alias("reached_shares"),
            shares_of("furthest_point_shares").alias("furthest_point_shares"),
        )
        .orderBy(F.desc("viewers"), "video_id")
        .limit(limit)
        .collect()
    )
    return [row.asDict(recursive=True) for row in rows]


def platforms_of(platform_summary: DataFrame, video_ids: list[str]) -> list[dict]:
    """Per (video, platform) of video_platform_summary for the given videos, over the frame's days.

    Keys: video_id, platform, sessions, viewers (the daily distinct viewers
    added up: viewer-days), watch_hours (2 decimals), completed_sessions,
    completion_rate (completed sessions / sessions, 4 decimals). By video (in
    the order given), then sessions (most first), then platform.
    """
    if not video_ids:
        return []
    rank = F.array_position(F.array(*[F.lit(video) for video in video_ids]), F.col("video_id"))
    rows = (
        platform_summary.where(F.col("video_id").isin(*video_ids))
        .groupBy("video_id", "platform")
        .agg(
            F.sum("sessions").alias("sessions"),
            F.sum("viewers").alias("viewers"),
            F.sum("total_watch_seconds").alias("watch_seconds"),
            F.sum("completed_sessions").alias("completed_sessions"),
        )
        .select(
            "video_id",
            "platform",
            "sessions",
            "viewers",
            F.round(F.col("watch_seconds") / SECONDS_PER_HOUR, 2).alias("watch_hours"),
            "completed_sessions",
            F.round(_share(F.col("completed_sessions"), F.col("sessions")), 4).alias("completion_rate"),
        )
        .orderBy(rank, F.desc("sessions"), "platform")
        .collect()
    )
    return [row.asDict() for row in rows]


def platform_mix(platform_summary: DataFrame) -> list[dict]:
    """Per platform over the frame's rows: sessions, watch_hours (2 decimals), completion_rate; most sessions first."""
    rows = (
        platform_summary.groupBy("platform")
        .agg(
            F.sum("sessions").alias("sessions"),
            F.sum("total_watch_seconds").alias("watch_seconds"),
            F.sum("completed_sessions").alias("completed_sessions"),
        )
        .select(
            "platform",
            "sessions",
            F.round(F.col("watch_seconds") / SECONDS_PER_HOUR, 2).alias("watch_hours"),
            F.round(_share(F.col("completed_sessions"), F.col("sessions")), 4).alias("completion_rate"),
        )
        .orderBy(F.desc("sessions"), "platform")
        .collect()
    )
    return [row.asDict() for row in rows]


def tier_mix(tier_summary: DataFrame) -> list[tuple[date, str, int]]:
    """(metric_date, engagement_tier, pair_count) from engagement_tier_summary, by day then tier (High first).

    pair_count is the day's (user, video) pairs in the tier; the table holds all
    four tiers of every day of a run, zeros included, so this is days x 4 rows.
    """
    tier_order = F.array_position(F.array(*[F.lit(tier) for tier in TIERS]), F.col("engagement_tier"))
    ordered = tier_summary.select("metric_date", "engagement_tier", "pair_count").orderBy("metric_date", tier_order)
    rows = ordered.collect()
    return [(row["metric_date"], row["engagement_tier"], int(row["pair_count"])) for row in rows]


def tier_mix_counters(days: list[str]) -> dict[str, Column]:
    """pair_count per (day, tier) of ``days``, to observe while engagement_tier_summary is written (no read back)."""

    def pairs_on(day: str, tier: str) -> Column:
        here = (F.col("metric_date") == F.lit(day).cast("date")) & (F.col("engagement_tier") == tier)
        return F.sum(F.when(here, F.col("pair_count")).otherwise(F.lit(0)))

    return {f"tier_mix:{day}:{tier}": pairs_on(day, tier) for day in days for tier in TIERS}


def tier_mix_observed(observed: dict, days: list[str]) -> list[tuple[date, str, int]]:
    """``tier_mix``'s rows from the counts of ``tier_mix_counters``: by day, then tier (High first)."""
    return [
        (date.fromisoformat(day), tier, int(observed.get(f"tier_mix:{day}:{tier}") or 0))
        for day in days
        for tier in TIERS
    ]


def score_bin(bin_width: float = DEFAULT_BIN_WIDTH) -> Column:
    """The histogram bin (0-based) of a row's engagement_score; a score of exactly 100 is in the last bin."""
    if bin_width <= 0:
        raise ValueError(f"bin_width must be positive, got {bin_width}")
    bin_count = math.ceil(100 / bin_width)
    return F.least(F.floor(F.col("engagement_score") / F.lit(float(bin_width))), F.lit(bin_count - 1)).cast("int")


def score_bin_counters(bin_width: float = DEFAULT_BIN_WIDTH) -> dict[str, Column]:
    """One count per bin, to observe while user_video_metrics is written (no extra pass)."""
    return {f"score_bin:{index}": F.count_if(score_bin(bin_width) == index) for index in range(math.ceil(100 / bin_width))}


def score_bins_observed(observed: dict, bin_width: float = DEFAULT_BIN_WIDTH) -> list[tuple[float, int]]:
    """(lowest score of the bin, pairs) from the counts of ``score_bin_counters``."""
    return [
        (float(index * bin_width), int(observed.get(f"score_bin:{index}") or 0))
        for index in range(math.ceil(100 / bin_width))
    ]


def score_histogram(metrics: DataFrame, bin_width: float = DEFAULT_BIN_WIDTH) -> list[tuple[float, int]]:
    """(lowest score of the bin, pairs) for every bin from 0 to 100 of user_video_metrics' engagement_score.

    A bin holds the (user, video, day) rows whose score is in [start, start +
    bin_width); the last bin also holds a score of exactly 100 (so 5-point
    bins are 20 bins, the last [95, 100]). Empty bins are listed with 0.
    """
    index = score_bin(bin_width)
    counted = (
        metrics.where(F.col("engagement_score").isNotNull())
        .groupBy(index.alias("bin"))
        .agg(F.count(F.lit(1)).alias("pairs"))
        .collect()
    )
    pairs_by_bin = {row["bin"]: int(row["pairs"]) for row in counted}
    return [(float(i * bin_width), pairs_by_bin.get(i, 0)) for i in range(math.ceil(100 / bin_width))]


def headline_by_day(metrics: DataFrame, raw_events: DataFrame, quarantine: DataFrame) -> list[dict]:
    """One dict per day present in any of the three tables, by day.

      day               the date: metric_date for the metrics, event_date / partition_date for the raw tables
      viewers           distinct users with a user_video_metrics row that day
      pairs             (user, video) pairs that day
      watch_hours       watched time that day, replays included, in hours (2 decimals)
      completion_rate   share of the day's (user, video) pairs that completed (0-1, 4 decimals; None without pairs)
      valid_events      clean, de-duplicated events of the day in raw_video_events
      quarantined       records of the day in raw_video_events_quarantine
      quarantine_share  quarantined / (valid_events + quarantined) (0-1, 4 decimals; None without records)

    A day's engagement is by the day the sessions close on (SEMANTICS.md 6), its
    quarantine by the day of the landing folder, so the two halves of a row are
    not the same events.
    """
    engagement = metrics.groupBy(F.col("metric_date").alias("day")).agg(
        F.countDistinct("user_id").alias("viewers"),
        F.count(F.lit(1)).alias("pairs"),
        F.sum("total_watch_seconds").alias("watch_seconds"),
        F.sum(F.col("completed").cast("int")).alias("completed_pairs"),
    )
    valid = raw_events.groupBy(F.col("event_date").alias("day")).agg(F.count(F.lit(1)).alias("valid_events"))
    rejected = quarantine.groupBy(F.col("partition_date").alias("day")).agg(F.count(F.lit(1)).alias("quarantined"))
    joined = engagement.join(valid, "day", "full_outer").join(rejected, "day", "full_outer")
    zero = F.lit(0)
    valid_events = F.coalesce("valid_events", zero)
    quarantined = F.coalesce("quarantined", zero)
    rows = (
        joined.select(
            "day",
            F.coalesce("viewers", zero).alias("viewers"),
            F.coalesce("pairs", zero).alias("pairs"),
            F.round(F.coalesce("watch_seconds", F.lit(0.0)) / SECONDS_PER_HOUR, 2).alias("watch_hours"),
            F.round(_share(F.col("completed_pairs"), F.col("pairs")), 4).alias("completion_rate"),
            valid_events.alias("valid_events"),
            quarantined.alias("quarantined"),
            F.round(_share(quarantined, valid_events + quarantined), 4).alias("quarantine_share"),
        )
        .orderBy("day")
        .collect()
    )
    return [row.asDict() for row in rows]

"""Stage 5: user_video_metrics -> tier summary and video summary with retention and audience (SEMANTICS.md 9, 9c)."""

from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from video_assets.frames import literal_frame
from video_assets.settings import TIERS, EngagementSettings
from video_assets.tables import project
from video_assets.transforms import audience
from video_assets.transforms.metrics import round_display
from video_assets.transforms.sessions import ratio


def _days_and_tiers(spark: SparkSession, first_day: date, last_day: date) -> DataFrame:
    days = spark.range(1).select(
        F.explode(F.sequence(F.lit(first_day), F.lit(last_day), F.expr("INTERVAL 1 DAY"))).alias("metric_date")
    )
    tiers = literal_frame(spark, [(tier, order) for order, tier in enumerate(TIERS)], "engagement_tier string, tier_order int")
    return days.crossJoin(tiers)


def engagement_tier_summary(metrics: DataFrame, first_day: date, last_day: date) -> DataFrame:
    """One row per (metric_date, engagement_tier) for every day of the run and all four tiers, zeros included.

    share_of_pairs is the tier's share of the day's (user, video) pairs;
    completion_rate the share of the tier's pairs that completed; averages are
    per pair (seconds, percent, score).
    """
    per_tier = metrics.groupBy("metric_date", "engagement_tier").agg(
        F.count(F.lit(1)).alias("pair_count"),
        F.countDistinct("user_id").alias("user_count"),
        F.countDistinct("video_id").alias("video_count"),
        F.avg("engagement_score").alias("avg_engagement_score"),
        F.avg("total_watch_seconds").alias("avg_watch_seconds"),
        F.avg("completion_percentage").alias("avg_completion_percentage"),
        F.avg(F.col("completed").cast("double")).alias("completion_rate"),
        F.sum("total_watch_seconds").alias("total_watch_seconds"),
    )
    per_day = metrics.groupBy("metric_date").agg(F.count(F.lit(1)).alias("_day_pairs"))
    grid = _days_and_tiers(metrics.sparkSession, first_day, last_day)
    filled = grid.join(per_tier, ["metric_date", "engagement_tier"], "left").join(per_day, "metric_date", "left")
    zero, zero_double = F.lit(0), F.lit(0.0)
    finished = filled.withColumns(
        {
            "pair_count": F.coalesce("pair_count", zero),
            "user_count": F.coalesce("user_count", zero),
            "video_count": F.coalesce("video_count", zero),
            "share_of_pairs": round_display(ratio(F.coalesce("pair_count", zero), F.coalesce("_day_pairs", zero)), 4),
            "avg_engagement_score": round_display(F.coalesce("avg_engagement_score", zero_double), 2),
            "avg_watch_seconds": F.coalesce("avg_watch_seconds", zero_double),
            "avg_completion_percentage": round_display(F.coalesce("avg_completion_percentage", zero_double), 2),
            "completion_rate": round_display(F.coalesce("completion_rate", zero_double), 4),
            "total_watch_seconds": F.coalesce("total_watch_seconds", zero_double),
        }
    )
    return project(finished.orderBy("metric_date", "tier_order"), "engagement_tier_summary")


def coverage_counts(metrics: DataFrame, intervals: DataFrame, buckets: int) -> DataFrame:
    """Per (metric_date, video_id) with intervals: ``_covered``, a map from point number to viewers covering it.

    Point k < ``buckets`` is the moment duration * (k + 0.5) / buckets of the
    retention curve, covered by an interval's span, ends included; only the
    few k an interval can cover are generated (one either side of the
    estimate), then tested exactly. The milestones
    (``audience.milestone_points``, the intervals taken as [start, end), as
    SEMANTICS.md 9c says) are further points, numbered from ``buckets`` on.

    The spans are shuffled once, by (metric_date, video_id); the distinct
    viewers per point and the map are then made within each partition.
    """
    durations = metrics.select("metric_date", "user_id", "video_id", "video_duration_seconds")
    spans = intervals.select(
        F.col("session_date").alias("metric_date"), "user_id", "video_id", "start_position_seconds", "end_position_seconds"
    ).join(durations, ["metric_date", "user_id", "video_id"])
    duration = F.col("video_duration_seconds")
    start, end = F.col("start_position_seconds"), F.col("end_position_seconds")
    first_k = F.greatest(F.lit(0), F.floor(start / duration * buckets - 0.5).cast("int"))
    last_k = F.least(F.lit(buckets - 1), F.ceil(end / duration * buckets - 0.5).cast("int"))
    candidates = F.when(first_k <= last_k, F.sequence(first_k, last_k)).otherwise(F.array().cast("array<int>"))

    def moment(k: Column) -> Column:
        return duration * (k + 0.5) / buckets

    curve_points = F.filter(candidates, lambda k: (start <= moment(k)) & (moment(k) <= end))
    points = F.concat(curve_points, audience.milestone_points(start, end, duration, first_point=buckets))
    covered = (
        spans.where(duration > 0)
        .repartition("metric_date", "video_id")
        .select("metric_date", "video_id", "user_id", F.explode(points).alias("point"))
        .distinct()
    )
    per_point = covered.groupBy("metric_date", "video_id", "point").agg(F.count(F.lit(1)).alias("viewers_covered"))
    return per_point.groupBy("metric_date", "video_id").agg(
        F.map_from_entries(F.collect_list(F.struct("point", "viewers_covered"))).alias("_covered")
    )


def video_engagement_summary(metrics: DataFrame, intervals: DataFrame, settings: EngagementSettings) -> DataFrame:
    """One row per (metric_date, video_id): audience, watch time, completion, tier counts, retention, 9c's audience.

    viewers = users with a metrics row (the table's key makes each row one
    user); avg_watch_seconds is per viewer; completion_rate is the share of
    viewers who completed. Point k of retention_curve and each
    reached_<p>_share is the share of viewers covering it
    (``coverage_counts``). One aggregation of the metrics and one pass over
    the intervals give every column.
    """
    buckets = settings.retention_buckets
    viewers = metrics.withColumns(audience.viewer_columns(settings))
    per_video = viewers.groupBy("metric_date", "video_id").agg(
        F.first("video_title", ignorenulls=True).alias("video_title"),
        F.first("video_duration_seconds").alias("video_duration_seconds"),
        F.count(F.lit(1)).alias("viewers"),
        F.sum("session_count").alias("sessions"),
        F.sum("total_watch_seconds").alias("total_watch_seconds"),
        F.avg("total_watch_seconds").alias("avg_watch_seconds"),
        round_display(F.avg("completion_percentage"), 2).alias("avg_completion_percentage"),
        round_display(F.avg(F.col("completed").cast("double")), 4).alias("completion_rate"),
        *[F.count(F.when(F.col("engagement_tier") == tier, 1)).alias(f"{tier.lower()}_tier_count") for tier in TIERS],
        *audience.viewer_aggregates(),
    )
    covered = per_video.join(coverage_counts(metrics, intervals, buckets), ["metric_date", "video_id"], "left")

    def share_of(point: Column | int) -> Column:
        count = F.try_element_at("_covered", point if isinstance(point, Column) else F.lit(point))
        return round_display(ratio(F.coalesce(count, F.lit(0)), F.col("viewers")), audience.SHARE_DIGITS)

    with_shares = covered.withColumns(
        {
            "retention_curve": F.transform(F.sequence(F.lit(0), F.lit(buckets - 1)), share_of),
            **{name: share_of(buckets + index) for index, name in enumerate(audience.MILESTONE_COLUMNS)},
        }
    )
    return project(audience.audience_columns(with_shares), "video_engagement_summary")

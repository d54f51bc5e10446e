"""raw_video_events -> video_sessions -> watch_intervals -> user_video_metrics."""

import dagster as dg
from pyspark import StorageLevel
from pyspark.sql import functions as F

from video_assets.assets.common import SPARK_KINDS, StepLauncherParam, day_range, timed_step
from video_assets.io.spark import SparkResource
from video_assets.partitions import daily_partitions, previous_and_same_day
from video_assets.settings import EngagementSettings
from video_assets.transforms import intervals, metrics, sessions

ENGAGEMENT_GROUP = "engagement"


@dg.multi_asset(
    outs={
        "video_sessions": dg.AssetOut(
            is_required=False,  # the pair can be materialized one at a time
            group_name=ENGAGEMENT_GROUP,
            kinds=SPARK_KINDS,
            description=(
                "One row per viewing session of a user on a video, owned by the UTC day it closes on "
                "(last event + session timeout). Span, event counts, watched seconds, jumps, ended_by, flags."
            ),
        ),
        "watch_intervals": dg.AssetOut(
            is_required=False,  # the pair can be materialized one at a time
            group_name=ENGAGEMENT_GROUP,
            kinds=SPARK_KINDS,
            description=(
                "One row per watch interval: a maximal run of a session's watched segments whose positions "
                "join up. Positions in content seconds, watched_seconds, wall span, derivation, segments."
            ),
        ),
    },
    ins={
        "raw_video_events": dg.AssetIn(partition_mapping=previous_and_same_day),
        "video_catalog": dg.AssetIn(),
    },
    internal_asset_deps={
        "video_sessions": {dg.AssetKey("raw_video_events"), dg.AssetKey("video_catalog")},
        "watch_intervals": {dg.AssetKey("video_sessions")},
    },
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
)
def video_sessions(
    context: dg.AssetExecutionContext,
    raw_video_events,
    video_catalog,
    spark: SparkResource,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Sessionize D-1..D events and keep the sessions that close on the run's days (SEMANTICS.md 6-7)."""
    first_day, last_day = day_range(context)
    with timed_step(context, "video_sessions: sessionize and replay playback") as timing:
        annotated = sessions.annotate_events(raw_video_events, video_catalog, engagement, first_day, last_day)
        annotated = annotated.persist(StorageLevel.MEMORY_AND_DISK)
        session_table = sessions.video_sessions(annotated, engagement).persist(StorageLevel.MEMORY_AND_DISK)
        overview = session_table.groupBy("ended_by").agg(
            F.count(F.lit(1)).alias("sessions"), F.sum("watched_seconds").alias("watched_seconds")
        ).collect()
    by_ended = {row["ended_by"]: int(row["sessions"]) for row in overview}
    watched_hours = round(sum(row["watched_seconds"] or 0.0 for row in overview) / 3600, 2)
    context.log.info(
        f"{sum(by_ended.values())} sessions closing {first_day}..{last_day}, {watched_hours} watch hours, "
        f"by ended_by {by_ended} ({timing['seconds']} s)"
    )
    selected = context.selected_output_names
    if "video_sessions" in selected:
        yield dg.Output(
            session_table,
            output_name="video_sessions",
            metadata={
                "sessions": sum(by_ended.values()),
                "sessions_by_ended_by": dg.MetadataValue.json(by_ended),
                "total_watch_hours": watched_hours,
                "compute_seconds": timing["seconds"],
            },
        )
    if "watch_intervals" in selected:
        interval_table = intervals.watch_intervals(intervals.watched_segments(annotated), engagement)
        yield dg.Output(interval_table, output_name="watch_intervals", metadata={"total_watch_hours": watched_hours})
    session_table.unpersist()
    annotated.unpersist()


@dg.asset(
    group_name=ENGAGEMENT_GROUP,
    kinds=SPARK_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "One row per (metric_date, user, video) over that day's sessions: watch time, unique seconds, "
        "completion, sessions and replays, jumps, engagement score (0-100) and tier."
    ),
)
def user_video_metrics(
    context: dg.AssetExecutionContext,
    video_sessions,
    watch_intervals,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Section 8 metrics per user-video-day."""
    table = metrics.user_video_metrics(video_sessions, watch_intervals, engagement).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    with timed_step(context, "user_video_metrics: aggregate"):
        tiers = {row["engagement_tier"]: int(row["count"]) for row in table.groupBy("engagement_tier").count().collect()}
    context.log.info(f"user_video_metrics: {sum(tiers.values())} user-video-days, by tier {tiers}")
    yield dg.Output(
        table,
        metadata={"pairs": sum(tiers.values()), "pairs_by_tier": dg.MetadataValue.json(tiers)},
    )
    table.unpersist()

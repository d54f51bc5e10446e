"""user_video_metrics -> engagement_tier_summary, video_engagement_summary, user_video_engagement."""

import dagster as dg

from video_assets.assets.common import SPARK_KINDS, StepLauncherParam, day_range
from video_assets.io.spark import SparkResource
from video_assets.partitions import daily_partitions
from video_assets.settings import EngagementSettings
from video_assets.transforms import lifetime, summaries

SUMMARY_GROUP = "summaries"


@dg.asset(
    group_name=SUMMARY_GROUP,
    kinds=SPARK_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "One row per (metric_date, engagement_tier), all four tiers every day (zeros included): pairs, "
        "users, videos, share of pairs, average score / watch seconds / completion, completion rate."
    ),
)
def engagement_tier_summary(
    context: dg.AssetExecutionContext, user_video_metrics, step_launcher: StepLauncherParam
):
    first_day, last_day = day_range(context)
    return summaries.engagement_tier_summary(user_video_metrics, first_day, last_day)


@dg.asset(
    group_name=SUMMARY_GROUP,
    kinds=SPARK_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "One row per (metric_date, video): viewers, sessions, watch seconds, completion, viewers per tier, "
        "and the audience retention curve (share of viewers covering each of N evenly spaced moments)."
    ),
)
def video_engagement_summary(
    user_video_metrics, watch_intervals, engagement: EngagementSettings, step_launcher: StepLauncherParam
):
    return summaries.video_engagement_summary(user_video_metrics, watch_intervals, engagement)


@dg.asset(
    group_name=SUMMARY_GROUP,
    kinds=SPARK_KINDS,
    ins={"user_video_metrics": dg.AssetIn(), "watch_intervals": dg.AssetIn()},
    automation_condition=dg.AutomationCondition.eager(),
    # Unpartitioned, but part of ranged runs (`--select 'raw_video_events*' --partition-range …`).
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "All-time, one row per (user, video), rebuilt from the daily tables: totals, unique seconds over "
        "all days, first/last watch, active days, replay, completed at least once, lifetime score and tier."
    ),
)
def user_video_engagement(
    user_video_metrics, watch_intervals, engagement: EngagementSettings, step_launcher: StepLauncherParam
):
    return lifetime.user_video_engagement(user_video_metrics, watch_intervals, engagement)

"""The one Definitions object: assets, checks, resources of the current environment, automation."""

import dagster as dg

from video_assets import automation
from video_assets.assets import engagement, raw, summaries
from video_assets.automation.freshness import with_freshness_policies
from video_assets.automation.schedules import daily_engagement_schedule
from video_assets.checks import all_checks
from video_assets.environment import build_resources
from video_assets.jobs import video_engagement_job

defs = dg.Definitions(
    assets=with_freshness_policies(dg.load_assets_from_modules([raw, engagement, summaries])),
    asset_checks=all_checks,
    resources=build_resources(),
    jobs=[video_engagement_job],
    schedules=[daily_engagement_schedule],
    sensors=automation.sensors,
    executor=dg.in_process_executor,
)

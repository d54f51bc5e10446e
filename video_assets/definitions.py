"""The one Definitions object: assets (each with its checks), resources of the current environment, automation."""

import dagster as dg

from video_assets import automation
from video_assets.assets import engagement, raw, summaries
from video_assets.automation.freshness import (
    freshness_checks_sensor,
    partition_freshness_checks,
    with_freshness_policies,
)
from video_assets.automation.schedules import daily_engagement_schedule
from video_assets.config import build_resources
from video_assets.jobs import video_engagement_job

assets = with_freshness_policies(dg.load_assets_from_modules([raw, engagement, summaries]))
freshness_checks = partition_freshness_checks(assets)

defs = dg.Definitions(
    assets=assets,
    asset_checks=freshness_checks,
    resources=build_resources(),
    jobs=[video_engagement_job],
    schedules=[daily_engagement_schedule],
    sensors=[*automation.sensors, freshness_checks_sensor(freshness_checks)],
    executor=dg.in_process_executor,
)

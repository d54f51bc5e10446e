"""The one Definitions object: assets, checks, resources of the current environment, automation."""

import dagster as dg

from video_assets.assets import engagement, raw, summaries
from video_assets.environment import build_resources

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([raw, engagement, summaries]),
    resources=build_resources(),
    executor=dg.in_process_executor,
)

"""The daily schedule: yesterday's partition of the whole graph, every night.

``daily_engagement_schedule`` runs ``video_engagement_job`` (every asset and,
with them, their asset checks) for the latest complete daily partition, i.e.
yesterday (UTC), at ``VIDEO_ASSETS_DAILY_SCHEDULE_TIME`` (HH:MM UTC, default
01:00), well before the 06:00 freshness deadline (automation/freshness.py).
Each tick's run key is the partition key, so a day is launched once.

It is created STOPPED: a fresh checkout never starts runs on its own. Turn it
on in the UI (Automation → daily_engagement_schedule → toggle) or with
``dagster schedule start daily_engagement_schedule`` while the daemon runs
(``dagster dev`` starts one).
"""

import dagster as dg

from video_assets import config
from video_assets.jobs import video_engagement_job

SCHEDULE_TIME_ENV = config.DAILY_SCHEDULE_TIME_VARIABLE
DEFAULT_SCHEDULE_TIME = config.DEFAULT_DAILY_SCHEDULE_TIME


def schedule_time() -> tuple[int, int]:
    """(hour, minute) UTC of the daily run, from VIDEO_ASSETS_DAILY_SCHEDULE_TIME."""
    return config.from_environment().daily_schedule_time


def build_daily_schedule() -> dg.ScheduleDefinition:
    hour, minute = schedule_time()
    return dg.build_schedule_from_partitioned_job(
        video_engagement_job,
        name="daily_engagement_schedule",
        description=(
            f"Materializes yesterday's partition (UTC) of the whole graph, with its checks, daily at "
            f"{hour:02d}:{minute:02d} UTC. Stopped by default; start it in Automation."
        ),
        hour_of_day=hour,
        minute_of_hour=minute,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


daily_engagement_schedule = build_daily_schedule()

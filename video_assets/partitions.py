"""Daily UTC partitions and the one-day lookback that session ownership needs."""

import warnings

import dagster as dg

from video_assets import config

DEFAULT_PARTITION_START = config.DEFAULT_PARTITION_START


def partition_start_date() -> str:
    """First partition day (YYYY-MM-DD), from VIDEO_ASSETS_PARTITION_START."""
    return config.from_environment().partition_start


daily_partitions = dg.DailyPartitionsDefinition(start_date=partition_start_date(), timezone="UTC")

# Partition D of the session stage reads raw events of D-1 and D (SEMANTICS.md 6).
# The day before the first partition does not exist; that is fine, not an error.
with warnings.catch_warnings():
    # allow_nonexistent_upstream_partitions is a beta parameter in Dagster 1.13; we rely on it knowingly.
    warnings.simplefilter("ignore", dg.BetaWarning)
    previous_and_same_day = dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=True
    )

"""The main job: every asset of the graph with its checks, for a day or a range of days in one run."""

import dagster as dg

from video_assets.partitions import daily_partitions
from video_assets.tables import TABLES

# The partition freshness checks (automation/freshness.py) look at Dagster's event log, not at data: their
# own sensor runs them after the deadline, so the job that writes the data leaves them out.
PARTITION_FRESHNESS_CHECK = "freshness_check"
_freshness_checks = dg.AssetSelection.checks(
    *[dg.AssetCheckKey(dg.AssetKey(name), PARTITION_FRESHNESS_CHECK) for name, spec in TABLES.items() if spec.partition_column]
)

video_engagement_job = dg.define_asset_job(
    "video_engagement_job",
    selection=dg.AssetSelection.all() - _freshness_checks,
    partitions_def=daily_partitions,
    description=(
        "Landing -> raw events -> sessions -> intervals -> metrics -> summaries and the all-time table, each "
        "step evaluating its own checks. Launch it for one day, or for a range (single-run backfill)."
    ),
)

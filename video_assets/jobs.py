"""The main job: every asset of the graph, for a day or a range of days in one run."""

import dagster as dg

from video_assets.partitions import daily_partitions

video_engagement_job = dg.define_asset_job(
    "video_engagement_job",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description=(
        "Landing -> raw events -> sessions -> intervals -> metrics -> summaries and the all-time table. "
        "Launch it for one day, or for a range (single-run backfill) from the Launchpad."
    ),
)

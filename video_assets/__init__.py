"""video_assets: raw video-player events to per-user, per-video engagement metrics (Dagster + Spark + Delta)."""

import warnings

# Dagster APIs we use knowingly, silenced by their exact message (nothing broader):
# - backfill_policy on @asset (beta in 1.13): ranged runs are one run, which the session lookback needs;
# - build_time_partition_freshness_checks and its sensor (superseded by FreshnessPolicy, which looks at
#   the latest materialization of any partition): we keep both; the check tells that yesterday is missing.
for _message in (
    r"Parameter `backfill_policy` of function `asset` is currently in beta",
    r"Function `build_time_partition_freshness_checks` is superseded",
    r"Function `build_sensor_for_freshness_checks` is superseded",
):
    warnings.filterwarnings("ignore", message=_message)

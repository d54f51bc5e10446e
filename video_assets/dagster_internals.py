"""The one door to Dagster's private modules: every ``dagster._…`` name the runtime code uses, and why.

Private names can move in any Dagster release. Keeping them here (and the
step launcher's own in ``databricks/dagster_internals.py``) means an upgrade
breaks in one place, and ``video_assets_tests/test_dagster_internals.py``
fails loudly, naming the import, before anything else runs.
"""

# Tags Dagster puts on a run of a partition range (a single-run backfill). The public API reads
# them (context.partition_time_window) but does not export their names, which a run needs to *launch*
# a range: the CLI demo and the benchmark start ranged runs with them.
from dagster._core.storage.tags import (  # noqa: F401
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

# Cron arithmetic for the freshness policy's window: the same functions Dagster uses to evaluate
# FreshnessPolicy.cron, so the window we compute is the window Dagster checks.
from dagster._utils.schedules import get_next_cron_tick, get_smallest_cron_interval  # noqa: F401

# The late-data sensor asks for exactly the changed days and what depends on them; the public
# RunRequest.for_asset_graph_subset takes an AssetGraphSubset, which only the private module exports.
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset  # noqa: F401
from dagster._core.definitions.events import AssetKeyPartitionKey  # noqa: F401

# The quiet console reads the Dagster event a log record carries (step finished, materialization,
# check result) to print one line per step; the attribute's name is private.
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR  # noqa: F401


def dagster_event_of(record):
    """The DagsterEvent a log record carries, or None for a plain log message."""
    return (getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}).get("dagster_event")

"""Running assets through Dagster in tests, against a landing and warehouse of the test's own."""

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from video_assets.environment import build_resources


def use_folders(monkeypatch, landing_dir, warehouse_dir):
    monkeypatch.setenv("VIDEO_ASSETS_LANDING_DIR", str(landing_dir))
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(warehouse_dir))


def materialize(asset_names, first_day=None, last_day=None, instance=None, checks=()):
    """Materializes the named assets of the project's Definitions for one day or a range, in one run."""
    from video_assets.definitions import defs

    tags = {}
    if first_day:
        tags = {ASSET_PARTITION_RANGE_START_TAG: first_day, ASSET_PARTITION_RANGE_END_TAG: last_day or first_day}
    return dg.materialize(
        [*defs.assets, *checks],
        selection=dg.AssetSelection.assets(*asset_names),
        resources=build_resources(),
        tags=tags,
        instance=instance,
        raise_on_error=False,
    )


def read_table(spark, warehouse_dir, name):
    return spark.read.format("delta").load(str(warehouse_dir / name))

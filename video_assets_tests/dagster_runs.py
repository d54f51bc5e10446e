"""Running assets through Dagster in tests, against a landing and warehouse of the test's own."""

import json
import math
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from video_assets.config import build_resources


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


def run_job(job_name, first_day, last_day):
    """One run of a job of the project's Definitions over a range of days, as a single-run backfill launches it."""
    from video_assets.definitions import defs

    tags = {ASSET_PARTITION_RANGE_START_TAG: first_day, ASSET_PARTITION_RANGE_END_TAG: last_day}
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(tags=tags, resources=build_resources(), raise_on_error=False)


def read_table(spark, warehouse_dir, name):
    return spark.read.format("delta").load(str(warehouse_dir / name))


def table_rows(spark, warehouse_dir: Path, name: str) -> list[str]:
    """A table's rows as sorted canonical JSON texts: equal lists mean equal tables (floats to 6 decimals)."""
    frame = spark.read.format("delta").load(str(warehouse_dir / name))
    return sorted(
        # Floats to 6 decimals: a rerun may add floats in another order.
        json.dumps(_rounded(row.asDict(recursive=True), 6), sort_keys=True, default=str) for row in frame.collect()
    )


def snapshot_tables(spark, warehouse_dir: Path) -> dict[str, list[str]]:
    """Every Delta table under the warehouse folder, by name, as ``table_rows``."""
    return {
        path.name: table_rows(spark, warehouse_dir, path.name)
        for path in sorted(warehouse_dir.iterdir())
        if (path / "_delta_log").is_dir()
    }


def _close(expected, actual) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, int | float) and math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and expected.keys() == actual.keys() and all(
            _close(expected[key], actual[key]) for key in expected
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(_close, expected, actual))
    return expected == actual


def tables_differ(spark, expected_dir: Path, actual_dir: Path, name: str) -> str | None:
    """None when two copies of a table hold the same rows, floats equal up to summation order; else what differs.

    For runs that may add floats in another order (other partitioning): an exact sum can land on
    either side of a rounding boundary, so floats are compared with a relative tolerance of 1e-9.
    """
    return rows_differ(name, comparable_rows(spark, expected_dir, name), comparable_rows(spark, actual_dir, name))


def comparable_rows(spark, folder: Path, name: str) -> list[dict]:
    """A table's rows as plain values, in the order ``rows_differ`` compares them."""
    found = [json.loads(json.dumps(row.asDict(recursive=True), default=str)) for row in
             spark.read.format("delta").load(str(folder / name)).collect()]
    return sorted(found, key=lambda row: json.dumps(_rounded(row, 3), sort_keys=True))


def rows_differ(name: str, expected: list[dict], actual: list[dict]) -> str | None:
    """``tables_differ`` on rows already read with ``comparable_rows``."""
    if len(expected) != len(actual):
        return f"{name}: {len(expected)} rows expected, {len(actual)} found"
    for want, got in zip(expected, actual, strict=True):
        if not _close(want, got):
            return f"{name}: expected {want}\nfound {got}"
    return None


def _rounded(value, digits: int):
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: _rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item, digits) for item in value]
    return value

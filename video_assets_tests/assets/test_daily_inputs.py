"""The all-time step reads the two daily tables only where they agree, and waits for a run that is half-way."""

import dagster as dg
import pytest

from video_assets.assets.daily_inputs import agreeing_daily_inputs
from video_assets.io.delta import DeltaWarehouse
from video_assets.io.spark import SparkResource
from video_assets_tests.builders import day, event, rows_of, run_engagement
from video_assets_tests.good_tables import materialized

TORN_DAY = "2025-01-16"


@pytest.fixture(scope="module")
def daily_tables(spark):
    """user_video_metrics and watch_intervals of ann (v180 on two days) and bob (v300 on one)."""
    rows = [
        event("ann", "v180", "2025-01-15 10:00:00", "play", 0), event("ann", "v180", "2025-01-15 10:01:00", "pause", 60),
        event("bob", "v300", "2025-01-15 11:00:00", "play", 0), event("bob", "v300", "2025-01-15 11:05:00", "end", 300),
        event("ann", "v180", f"{TORN_DAY} 10:00:00", "play", 0), event("ann", "v180", f"{TORN_DAY} 10:03:00", "end", 180),
    ]
    tables = run_engagement(spark, rows, {"v180": 180, "v300": 300}, day("2025-01-15"), day(TORN_DAY))
    return {name: materialized(tables[name]) for name in ("user_video_metrics", "watch_intervals")}


@pytest.fixture
def warehouse(daily_tables, spark_resource: SparkResource, tmp_path):
    """The two daily tables in Delta, version 0, in a warehouse of the test's own."""
    for name, frame in daily_tables.items():
        frame.write.format("delta").save(str(tmp_path / name))
    return DeltaWarehouse(location=str(tmp_path), spark=spark_resource)


def all_pairs(_metrics):
    return None


def test_agreeing_tables_are_read_at_their_current_versions(warehouse):
    with agreeing_daily_inputs(dg.build_asset_context(), warehouse, all_pairs, waits=()) as inputs:
        assert inputs.versions == {"user_video_metrics": 0, "watch_intervals": 0}
        assert inputs.pairs is None
        assert sum(r["total_watch_seconds"] for r in rows_of(inputs.metrics)) == 540.0


def test_a_day_rewritten_in_one_table_only_fails_after_the_waits_naming_the_pair(warehouse, spark, tmp_path):
    day_two = warehouse.read_range("watch_intervals", [TORN_DAY], version=0)
    half_written = day_two.where("user_id <> 'ann'")
    half_written.write.format("delta").mode("overwrite").option("replaceWhere", f"session_date = '{TORN_DAY}'").save(
        warehouse.table("watch_intervals").name
    )
    with pytest.raises(dg.Failure) as failure, agreeing_daily_inputs(
        dg.build_asset_context(), warehouse, all_pairs, waits=(0, 0)
    ):
        pass
    message = failure.value.description
    assert "(ann, v180): 240.0 s in user_video_metrics, 60.0 s in watch_intervals" in message
    assert "user_video_metrics version 0, watch_intervals version 1" in message
    assert "bob" not in message

    context = dg.build_asset_context()
    with agreeing_daily_inputs(
        context, warehouse, lambda metrics: metrics.where("user_id = 'bob'").select("user_id", "video_id"), waits=()
    ) as only_bob:
        assert [r["user_id"] for r in rows_of(only_bob.pairs)] == ["bob"]
        assert [(r["user_id"], r["total_watch_seconds"]) for r in rows_of(only_bob.metrics)] == [("bob", 300.0)]
        assert (tmp_path / "_scratch").is_dir()  # the pairs' rows, read from the step's scratch rows
    assert not (tmp_path / "_scratch").exists()  # and removed when the step is done with them

"""The whole graph through Dagster: every table, reruns, and the lifetime table's stability (issue 7)."""

from collections import Counter

import pytest
from pyspark.sql import functions as F

from video_assets.tables import TABLES
from video_assets_tests.assets.small_landing import ALL, ALL_TIME, DAILY, DAYS, record, snapshot, write_day
from video_assets_tests.builders import rows_of
from video_assets_tests.dagster_runs import materialize, read_table, run_job


@pytest.mark.slow
def test_whole_graph_range_then_reruns(spark, landing, warehouse_dir):
    assert materialize(ALL, DAYS[0], DAYS[-1]).success
    for name in TABLES:
        assert (warehouse_dir / name / "_delta_log").is_dir(), name

    metrics = {(r["metric_date"].isoformat(), r["user_id"]): r for r in snapshot(spark, warehouse_dir, "user_video_metrics")}
    assert metrics[("2024-01-15", "ann")]["total_watch_seconds"] == 60.0
    assert metrics[("2024-01-15", "bob")]["completed"] is True
    assert metrics[("2024-01-16", "ann")]["completion_percentage"] == 100.0
    # cy's session starts 23:50 on the 15th and closes after midnight: it belongs to the 16th.
    assert ("2024-01-15", "cy") not in metrics and metrics[("2024-01-16", "cy")]["session_count"] == 1

    [ann] = [r for r in snapshot(spark, warehouse_dir, "user_video_engagement") if r["user_id"] == "ann"]
    assert (ann["total_watch_seconds"], ann["unique_watch_seconds"], ann["active_days"]) == (240.0, 180.0, 2)
    assert ann["is_replay"] is True and ann["completed_at_least_once"] is True

    before = {name: snapshot(spark, warehouse_dir, name) for name in TABLES}
    # A relaunch of the range, as a backfill of the main job launches it (one run over the range:
    # test_definitions.py): every asset once per day, unpartitioned ones once, every table row for row
    # as it was (what the one-day rerun of DAYS[0] asserted before: its days are a subset).
    relaunch = run_job("video_engagement_job", DAYS[0], DAYS[-1])
    assert relaunch.success
    materialized = Counter(
        (event.asset_key.to_user_string(), event.partition) for event in relaunch.get_asset_materialization_events()
    )
    assert materialized == Counter(
        [(name, day) for name in DAILY for day in DAYS] + [("video_catalog", None)] + [(name, None) for name in ALL_TIME]
    )
    assert {name: snapshot(spark, warehouse_dir, name) for name in TABLES} == before
    # Nothing changed, so the all-time MERGE rewrote no row (it matched every pair of the range).
    assert metadata_value(relaunch, "user_video_engagement", "rows_written") == 0

    write_day(landing, DAYS[1], [record(DAYS[1], "15:00:00", "bob", "v180", "play", 0),
                                 record(DAYS[1], "15:00:30", "bob", "v180", "pause", 30)], name="late.jsonl")
    late = materialize([*DAILY, *ALL_TIME], DAYS[1])
    assert late.success
    lifetime_before = {(r["user_id"], r["video_id"]): r for r in before["user_video_engagement"]}
    lifetime_after = {(r["user_id"], r["video_id"]): r for r in snapshot(spark, warehouse_dir, "user_video_engagement")}
    changed = {key for key in lifetime_before.keys() | lifetime_after.keys() if lifetime_before.get(key) != lifetime_after.get(key)}
    assert changed == {("bob", "v180")}
    # The video's all-time row follows, and only that video's row is written: bob's 30 s join ann's 240 s.
    videos_before = {r["video_id"]: r for r in before["video_lifetime_summary"]}
    videos_after = {r["video_id"]: r for r in snapshot(spark, warehouse_dir, "video_lifetime_summary")}
    assert {video for video in videos_after if videos_after[video] != videos_before.get(video)} == {"v180"}
    assert (videos_before["v180"]["viewers"], videos_before["v180"]["total_watch_seconds"]) == (1, 240.0)
    assert (videos_after["v180"]["viewers"], videos_after["v180"]["total_watch_seconds"]) == (2, 270.0)
    assert (videos_after["v300"]["viewers"], videos_after["v300"]["returning_viewers"]) == (2, 0)  # bob, cy
    merge = metadata_value(late, "video_lifetime_summary", "merge_metrics")
    assert (merge["numTargetRowsUpdated"], merge.get("numTargetRowsInserted", 0)) == (1, 0)
    # Of the pairs of DAYS[1] recomputed, only bob's v180 differs: the one row the MERGE wrote.
    assert metadata_value(late, "user_video_engagement", "rows_written") == 1
    day_one = F.col("metric_date") == DAYS[0]
    assert rows_of(read_table(spark, warehouse_dir, "user_video_metrics").where(day_one), ["user_id"]) == [
        r for r in before["user_video_metrics"] if r["metric_date"].isoformat() == DAYS[0]
    ]
    # The steps' scratch rows (raw lines, annotated events, the merged pairs' rows) are gone with their steps.
    assert sorted(path.name for path in warehouse_dir.iterdir()) == sorted(TABLES)


def metadata_value(result, asset: str, key: str):
    """``key``'s value in the one materialization of ``asset`` in the run ``result``."""
    [value] = [
        e.materialization.metadata[key].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return value

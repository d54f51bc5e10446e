"""The whole graph through Dagster: every table, reruns, and the lifetime table's stability (issue 7)."""

import json

import pytest
from pyspark.sql import functions as F

from video_assets.tables import TABLES
from video_assets_tests.builders import rows_of
from video_assets_tests.dagster_runs import materialize, read_table, use_folders

DAYS = ("2024-01-15", "2024-01-16")
DAILY = [
    "raw_video_events", "raw_video_events_quarantine", "video_sessions", "watch_intervals", "user_video_metrics",
    "engagement_tier_summary", "video_engagement_summary",
]
ALL = ["video_catalog", *DAILY, "user_video_engagement"]


def record(day, clock, user, video, name, position):
    return json.dumps(
        {"timestamp": f"{day}T{clock}Z", "userId": user, "videoId": video, "eventName": name, "currentTime": position}
    )


def write_day(landing_dir, day, lines, name="part-0.jsonl"):
    folder = landing_dir / "events" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def landing(landing_dir, warehouse_dir, monkeypatch):
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    (landing_dir / "videos" / "videos.csv").write_text("video_id,title,duration_seconds\nv180,Short,180\nv300,Long,300\n")
    write_day(landing_dir, DAYS[0], [
        record(DAYS[0], "10:00:00", "ann", "v180", "play", 0),
        record(DAYS[0], "10:01:00", "ann", "v180", "pause", 60),
        record(DAYS[0], "12:00:00", "bob", "v300", "play", 0),
        record(DAYS[0], "12:05:00", "bob", "v300", "end", 300),
        record(DAYS[0], "23:50:00", "cy", "v300", "play", 0),
    ])
    write_day(landing_dir, DAYS[1], [
        record(DAYS[1], "00:05:00", "cy", "v300", "pause", 600),
        record(DAYS[1], "10:00:00", "ann", "v180", "play", 0),
        record(DAYS[1], "10:03:00", "ann", "v180", "end", 180),
    ])
    return landing_dir


def snapshot(spark, warehouse_dir, name):
    spec = TABLES[name]
    order = [*(c for c in spec.key_columns), *([spec.partition_column] if spec.partition_column else [])]
    return rows_of(read_table(spark, warehouse_dir, name), order or None)


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
    assert materialize([*DAILY, "user_video_engagement"], DAYS[0]).success
    after = {name: snapshot(spark, warehouse_dir, name) for name in TABLES}
    assert after == before

    write_day(landing, DAYS[1], [record(DAYS[1], "15:00:00", "bob", "v180", "play", 0),
                                 record(DAYS[1], "15:00:30", "bob", "v180", "pause", 30)], name="late.jsonl")
    assert materialize([*DAILY, "user_video_engagement"], DAYS[1]).success
    lifetime_before = {(r["user_id"], r["video_id"]): r for r in before["user_video_engagement"]}
    lifetime_after = {(r["user_id"], r["video_id"]): r for r in snapshot(spark, warehouse_dir, "user_video_engagement")}
    changed = {key for key in lifetime_before.keys() | lifetime_after.keys() if lifetime_before.get(key) != lifetime_after.get(key)}
    assert changed == {("bob", "v180")}
    day_one = F.col("metric_date") == DAYS[0]
    assert rows_of(read_table(spark, warehouse_dir, "user_video_metrics").where(day_one), ["user_id"]) == [
        r for r in before["user_video_metrics"] if r["metric_date"].isoformat() == DAYS[0]
    ]

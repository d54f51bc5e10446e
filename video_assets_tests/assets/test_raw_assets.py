"""The raw stage through Dagster: real Spark, real Delta, a landing zone of the test's own."""

import json
import logging

import dagster as dg

import pytest
from pyspark.sql import functions as F

from video_assets_tests.builders import rows_of
from video_assets_tests.dagster_runs import materialize, read_table, use_folders

DAYS = ("2024-01-15", "2024-01-16", "2024-01-17")


def write_day(landing_dir, day, lines, name="part-0.jsonl"):
    folder = landing_dir / "events" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def viewer_line(day, clock, user, name, position, event_id=None):
    record = {"timestamp": f"{day}T{clock}Z", "userId": user, "videoId": "v1", "eventName": name, "currentTime": position}
    if event_id:
        record["eventId"] = event_id
    return json.dumps(record)


@pytest.fixture
def landing(landing_dir, warehouse_dir, monkeypatch):
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    (landing_dir / "videos" / "videos.csv").write_text("video_id,title,duration_seconds\nv1,First,300\n")
    for index, day in enumerate(DAYS):
        write_day(
            landing_dir,
            day,
            [
                viewer_line(day, "10:00:00", "ann", "play", 0, f"{day}-1"),
                viewer_line(day, "10:00:30", "ann", "pause", 30, f"{day}-2"),
                viewer_line(day, "10:00:30", "ann", "pause", 30, f"{day}-2"),  # duplicate
                "{broken",
                viewer_line(day, "11:00:00", "bob", "play", index),
            ],
        )
    return landing_dir


def table_rows(spark, warehouse_dir, name, order):
    return rows_of(read_table(spark, warehouse_dir, name), order)


def test_single_day_materialization_writes_clean_events_and_quarantine(spark, landing, warehouse_dir):
    result = materialize(["video_catalog", "raw_video_events", "raw_video_events_quarantine"], "2024-01-15")
    assert result.success
    clean = table_rows(spark, warehouse_dir, "raw_video_events", ["event_ts"])
    assert [(r["user_id"], r["event_name"], r["event_date"].isoformat()) for r in clean] == [
        ("ann", "video_play", "2024-01-15"),
        ("ann", "video_pause", "2024-01-15"),
        ("bob", "video_play", "2024-01-15"),
    ]
    [bad] = table_rows(spark, warehouse_dir, "raw_video_events_quarantine", ["raw_line"])
    assert (bad["reason"], bad["raw_line"]) == ("malformed_record", "{broken")
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    raw = metadata["raw_video_events"]
    assert (raw["lines_read"].value, raw["valid_events"].value, raw["duplicates_dropped"].value) == (5, 3, 1)
    assert raw["quarantined"].value == 1 and raw["rows_written"].value == 3
    assert metadata["raw_video_events_quarantine"]["quarantined_by_reason"].value["malformed_record"] == 1


def test_range_rerun_is_identical_and_rewriting_a_day_touches_only_that_day(spark, landing, warehouse_dir):
    assert materialize(["video_catalog", "raw_video_events"], DAYS[0], DAYS[-1]).success
    first = table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"])
    assert len(first) == 9

    assert materialize(["raw_video_events"], DAYS[0], DAYS[-1]).success
    assert table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"]) == first

    write_day(landing, DAYS[1], [viewer_line(DAYS[1], "12:00:00", "cat", "play", 0, "late-1")], name="late.jsonl")
    assert materialize(["raw_video_events"], DAYS[1]).success
    after = table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"])
    by_day = lambda rows, d: [r for r in rows if r["event_date"].isoformat() == d]  # noqa: E731
    assert by_day(after, DAYS[0]) == by_day(first, DAYS[0])
    assert by_day(after, DAYS[2]) == by_day(first, DAYS[2])
    assert len(by_day(after, DAYS[1])) == len(by_day(first, DAYS[1])) + 1


def test_day_without_landing_folder_is_an_empty_partition_with_a_warning(spark, landing, warehouse_dir):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(["raw_video_events"], "2024-02-01", instance=instance)
    assert result.success
    table = read_table(spark, warehouse_dir, "raw_video_events")
    assert table.where(F.col("event_date") == "2024-02-01").count() == 0
    warnings = [
        entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING
    ]
    assert any("No landing files for 2024-02-01" in message for message in warnings)

"""Late rows in an events table (issue 25 item 4): the sensor reads the table's Delta log after the version each
day was read at, and reruns the days that newer commits touched."""

import json
from datetime import datetime, timezone

import dagster as dg

from video_assets.automation import late_data
from video_assets.sources import delta_log, event_table
from video_assets.sources.landing_zone import LandingZone
from video_assets.frames import literal_frame

SCHEMA = "timestamp timestamp, userId string, videoId string, eventName string, currentTime double"


def _rows(*moments):
    return [(datetime.fromisoformat(m).replace(tzinfo=timezone.utc), "ann", "v1", "video_play", 0.0) for m in moments]


def _append(spark, path, *moments):
    literal_frame(spark, _rows(*moments), SCHEMA).write.format("delta").mode("append").save(str(path))


def _materialized(instance, day, version):
    instance.report_runless_asset_event(
        dg.AssetMaterialization("raw_video_events", partition=day, metadata={"source_table_version": version})
    )


def _tick(instance, table, cursor=None):
    from video_assets.definitions import defs

    context = dg.build_sensor_context(
        instance=instance, definitions=defs, cursor=cursor,
        resources={"landing": LandingZone(location="/nowhere", events_table=str(table))},
    )
    return late_data.late_data_sensor.evaluate_tick(context)


def test_commits_after_a_day_was_read_rerun_the_days_they_touched_and_nothing_else(spark, tmp_path):
    table = tmp_path / "bronze"
    _append(spark, table, "2024-01-15T10:00:00", "2024-01-16T10:00:00")  # version 0: what the two days read
    with dg.instance_for_test() as instance:
        _materialized(instance, "2024-01-15", 0)
        _materialized(instance, "2024-01-16", 0)
        quiet = _tick(instance, table)
        assert not quiet.run_requests and "No changes in the 2 materialized day(s)" in quiet.skip_message

        _append(spark, table, "2024-01-16T23:59:59.999999")  # version 1: a late row for the 16th
        _append(spark, table, "2024-01-20T08:00:00")  # version 2: a day not materialized yet (the pipeline's job)
        spark.sql(f"OPTIMIZE delta.`{table}`")  # version 3: moves rows, changes none
        late = _tick(instance, table, quiet.cursor)
        [request] = late.run_requests
        assert late_data.partitions_by_asset(request.asset_graph_subset) == {
            "raw_video_events": ["2024-01-16"], "raw_video_events_quarantine": ["2024-01-16"]}

        # Once the rerun has read version 3, nothing is pending, with or without the cursor.
        _materialized(instance, "2024-01-16", 3)
        assert not _tick(instance, table, late.cursor).run_requests
        assert not _tick(instance, table).run_requests


def test_the_days_of_a_commit_come_from_the_time_statistics_in_utc_and_unknown_without_them(tmp_path):
    log = tmp_path / "t" / "_delta_log"
    log.mkdir(parents=True)
    stats = '{"numRecords": 2, "minValues": {"ts": "2024-01-15T23:00:00.000-02:00"}, "maxValues": {"ts": "2024-01-17T01:00:00.000Z"}}'
    commits = [
        [{"add": {"path": "a", "dataChange": True, "stats": stats}}],
        [{"add": {"path": "b", "dataChange": True}}],  # no statistics
        [{"remove": {"path": "a", "dataChange": False}}, {"add": {"path": "c", "dataChange": False, "stats": stats}}],
    ]
    for version, actions in enumerate(commits):
        (log / f"{version:020d}.json").write_text("\n".join(json.dumps(action) for action in actions) + "\n")
    found = delta_log.commits_after(tmp_path / "t", -1, "TS")
    assert found == [
        delta_log.Commit(0, frozenset({"2024-01-16", "2024-01-17"})),  # 23:00 at -02:00 is the 16th in UTC
        delta_log.Commit(1, None),
    ]
    assert delta_log.latest_version(tmp_path / "t") == 2
    assert event_table.find_changed_days(found, {"2024-01-16": 0, "2024-01-17": None}, ["2024-01-16", "2024-01-17", "2024-01-18"]) == [
        "2024-01-16", "2024-01-17", "2024-01-18"]


def test_a_catalog_table_name_is_skipped_with_what_to_do_instead():
    with dg.instance_for_test() as instance:
        result = _tick(instance, "main.bronze.video_events")
    assert not result.run_requests
    assert "not a Delta table in a local folder" in result.skip_message and "backfill" in result.skip_message

"""Raw events and the catalog from existing tables (issue 25): the same numbers as from the landing files."""

import json
from datetime import datetime, timezone

import pytest
from pyspark.sql import types as T

from video_assets.frames import literal_frame
from video_assets.tables import TABLES
from video_assets_tests.assets.small_landing import ALL, DAYS, write_day
from video_assets_tests.dagster_runs import materialize, use_folders

# Rows a bronze table of a tracking pipeline holds (the notebook's shape: typed columns, sessionId), besides
# the fixture's ann/bob/cy: aliases of event names, a duplicate, and rows the contract rejects.
BRONZE_SCHEMA = T.StructType([
    T.StructField("timestamp", T.TimestampType()),
    T.StructField("userId", T.StringType()),
    T.StructField("sessionId", T.StringType()),
    T.StructField("videoId", T.StringType()),
    T.StructField("eventName", T.StringType()),
    T.StructField("currentTime", T.DoubleType()),
])
EXTRA = [  # (day, clock, user, video, event name, position); None where the row has no value
    (DAYS[0], "14:00:00", "dee", "v300", "Video Playback Started", 10.0),
    (DAYS[0], "14:00:20", "dee", "v300", "video_heartbeat", 30.0),
    (DAYS[0], "14:00:20", "dee", "v300", "video_heartbeat", 30.0),  # a duplicate
    (DAYS[0], "14:01:00", "dee", "v300", "paused", 70.5),
    (DAYS[0], "14:02:00", "dee", "v300", "video_pause", -4.0),  # bad_position
    (DAYS[0], "14:03:00", None, "v300", "video_play", 0.0),  # missing_user_id
    (DAYS[1], "09:00:00", "dee", "v180", "buffering", 0.0),  # unknown_event_name
]


def _moment(day, clock):
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=timezone.utc)


def _landing_events(landing_dir):
    """The landing lines as (day, clock, user, video, name, position)."""
    rows = []
    for path in sorted((landing_dir / "events").glob("date=*/*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            day, clock = event["timestamp"].rstrip("Z").split("T")
            rows.append((day, clock, event.get("userId"), event["videoId"], event["eventName"], float(event["currentTime"])))
    return rows


def _as_line(day, clock, user, video, name, position):
    fields = {"timestamp": f"{day}T{clock}Z", "userId": user, "sessionId": _session(user), "videoId": video,
              "eventName": name, "currentTime": position}
    return json.dumps({key: value for key, value in fields.items() if value is not None})


def _session(user):
    return f"s-{user}" if user else None


def _bronze_table(spark, path, events):
    rows = [(_moment(day, clock), user, _session(user), video, name, position)
            for day, clock, user, video, name, position in events]
    literal_frame(spark, rows, BRONZE_SCHEMA).write.format("delta").save(str(path))


def _comparable(spark, warehouse_dir):
    """Every table as sorted JSON rows, without the columns that name the source (a file, or the table)."""
    tables = {}
    for name in TABLES:
        frame = spark.read.format("delta").load(str(warehouse_dir / name))
        frame = frame.drop("source_file", "raw_line", "raw_bytes")
        tables[name] = sorted(json.dumps(row.asDict(recursive=True), sort_keys=True, default=str) for row in frame.collect())
    return tables


@pytest.mark.slow
def test_the_graph_from_a_bronze_table_equals_the_graph_from_its_files(spark, landing, tmp_path, monkeypatch):
    events = _landing_events(landing) + EXTRA
    for path in (landing / "events").glob("date=*/*.jsonl"):
        path.unlink()  # written anew with the players' session ids, which the bronze table holds too
    for day in DAYS:
        write_day(landing, day, [_as_line(*row) for row in events if row[0] == day])
    assert materialize(ALL, DAYS[0], DAYS[-1]).success
    from_files = _comparable(spark, tmp_path / "warehouse")

    bronze = tmp_path / "bronze" / "video_events"
    _bronze_table(spark, bronze, events)
    videos = tmp_path / "bronze" / "videos"
    literal_frame(spark, [("v180", "Short", 180.0), ("v300", "Long", 300.0)], "videoId string, title string, duration double") \
        .write.format("delta").save(str(videos))
    use_folders(monkeypatch, tmp_path / "no-landing", tmp_path / "from-table")
    monkeypatch.setenv("VIDEO_ASSETS_EVENTS_TABLE", str(bronze))
    monkeypatch.setenv("VIDEO_ASSETS_VIDEOS_TABLE", str(videos))
    run = materialize(ALL, DAYS[0], DAYS[-1])
    assert run.success
    from_table = _comparable(spark, tmp_path / "from-table")

    assert from_table == from_files
    # Spot checks that the comparison compares something: the rejected rows, and dee's clean events.
    assert [json.loads(row)["reason"] for row in from_table["raw_video_events_quarantine"]] == [
        "bad_position", "missing_user_id", "unknown_event_name"]
    dee = [json.loads(row) for row in from_table["raw_video_events"] if json.loads(row)["user_id"] == "dee"]
    assert sorted((row["event_name"], row["position_seconds"]) for row in dee) == [
        ("video_heartbeat", 30.0), ("video_pause", 70.5), ("video_play", 10.0)]
    quarantined = spark.read.format("delta").load(str(tmp_path / "from-table" / "raw_video_events_quarantine"))
    [bad] = [row.asDict() for row in quarantined.where("reason = 'bad_position'").collect()]
    assert bad["source_file"] == str(bronze)
    assert json.loads(bad["raw_line"]) == {
        "timestamp": "2024-01-15T14:02:00.000000Z", "userId": "dee", "sessionId": "s-dee", "videoId": "v300",
        "eventName": "video_pause", "currentTime": -4.0}
    raw = {e.asset_key.to_user_string(): e for e in run.get_asset_materialization_events()}
    metadata = raw["raw_video_events"].materialization.metadata
    assert metadata["source_table"].value == str(bronze) and metadata["source_table_version"].value == 0
    assert metadata["lines_read"].value == len(events)


def test_a_column_of_the_wrong_type_stops_the_run_naming_it_before_anything_is_written(
    spark, landing_dir, warehouse_dir, tmp_path, monkeypatch
):
    table = tmp_path / "bronze"
    literal_frame(
        spark,
        [("2024-01-15T10:00:00Z", "ann", "v1", "video_play", True, "web", 7)],
        "timestamp string, userId string, videoId string, eventName string, currentTime boolean, "
        "platform string, extraCounter int",
    ).write.format("delta").save(str(table))
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    monkeypatch.setenv("VIDEO_ASSETS_EVENTS_TABLE", str(table))
    result = materialize(["raw_video_events", "raw_video_events_quarantine"], "2024-01-15")
    assert not result.success
    [failure] = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert f"The source table {table}" in message and "VIDEO_ASSETS_EVENTS_TABLE" in message
    assert "column 'timestamp' is STRING, expected a TIMESTAMP" in message
    assert "column 'currentTime' is BOOLEAN, expected a number" in message
    assert "extraCounter" not in message and "platform" not in message  # extra and well-typed columns are fine
    assert not warehouse_dir.exists() or not any(warehouse_dir.iterdir())

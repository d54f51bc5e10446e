"""Rows of an events table and of a videos table as the raw stage reads them (issue 25 items 1-2)."""

import json
from datetime import date, datetime, timezone

import pytest

from video_assets.frames import literal_frame
from video_assets.settings import EngagementSettings
from video_assets.sources import table_rows
from video_assets.transforms import catalog, events, platforms, sessions
from video_assets_tests.builders import catalog_frame, rows_of

DAYS = ["2024-01-15"]


def _utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def _table(spark, rows, schema):
    return literal_frame(spark, rows, schema)


def test_recognized_columns_match_any_spelling_and_case_and_ignore_the_rest(spark):
    table = _table(spark, [], "event_time timestamp, USERID string, video_id bigint, eventName string, "
                              "current_time string, sessionId string, campaign string, timestamp string")
    assert table_rows.recognized_columns(table.schema, "event_time", "t") == {
        "timestamp": "event_time", "userId": "USERID", "video_id": "video_id", "eventName": "eventName",
        "current_time": "current_time", "sessionId": "sessionId",
    }


def test_a_missing_time_column_names_the_setting_and_the_columns_found(spark):
    table = _table(spark, [], "ts timestamp, userId string")
    with pytest.raises(table_rows.SourceSchemaError, match=r"t has no column 'timestamp'.*its columns: ts, userId"
                       r".*events_time_column"):
        table_rows.recognized_columns(table.schema, "timestamp", "t")


def test_rows_become_json_lines_of_their_utc_day_only(spark):
    table = _table(
        spark,
        [
            (_utc(2024, 1, 14, 23, 59, 59), "early", 1.0),
            (_utc(2024, 1, 15, 0, 0, 0, 250), "ann", 12.5),
            (_utc(2024, 1, 15, 23, 59, 59), None, 3.0),
            (_utc(2024, 1, 16, 0, 0, 0), "late", 1.0),
            (None, "no time", 1.0),
        ],
        "timestamp timestamp, userId string, currentTime double",
    )
    columns = table_rows.recognized_columns(table.schema, "timestamp", "t")
    lines = rows_of(table_rows.rows_as_lines(table, columns, "main.bronze.events", DAYS), ["raw_line"])
    assert [(r["partition_date"].isoformat(), r["source_file"], json.loads(r["raw_line"])) for r in lines] == [
        ("2024-01-15", "main.bronze.events", {"timestamp": "2024-01-15T00:00:00.000250Z", "userId": "ann", "currentTime": 12.5}),
        ("2024-01-15", "main.bronze.events", {"timestamp": "2024-01-15T23:59:59.000000Z", "currentTime": 3.0}),
    ]
    per_day = {r["day"]: r["rows"] for r in rows_of(table_rows.rows_by_day(table, columns, DAYS))}
    assert per_day == {datetime(2024, 1, 15).date(): 2, None: 1}


def test_typed_columns_are_cleaned_as_a_landing_line_is(spark):
    table = _table(
        spark,
        [
            (datetime(2024, 1, 15, 10), 42, "v1", "Video Playback Started", "12.5"),  # an integer id, a text number
            (datetime(2024, 1, 15, 11), 42, "v1", "video_pause", "NaN"),
            (datetime(2024, 1, 15, 12), 42, "v1", "video_pause", None),
        ],
        "timestamp timestamp_ntz, userId int, videoId string, eventName string, currentTime string",
    )
    columns = table_rows.recognized_columns(table.schema, "timestamp", "t")
    classified = events.classify_lines(table_rows.rows_as_lines(table, columns, "t", DAYS))
    rows = rows_of(classified.select("event_ts", "user_id", "event_name", "position_seconds", "reason"), ["event_ts"])
    assert [(r["event_ts"].hour, r["user_id"], r["event_name"], r["position_seconds"], r["reason"]) for r in rows] == [
        (10, "42", "video_play", 12.5, None),  # TIMESTAMP_NTZ taken as UTC: the session's time zone is UTC
        (11, "42", "video_pause", None, "bad_position"),
        (12, "42", "video_pause", None, "missing_current_time"),
    ]


def test_the_catalog_from_a_table_keeps_the_file_rules(spark):
    table = _table(
        spark,
        [("v1", "One", 300.0, "x"), ("v1", None, None, "y"), ("v2", "Two", 0.0, "z"), ("  ", "Blank", 10.0, "w")],
        "videoId string, title string, duration double, owner string",
    )
    loaded = catalog.load_catalog_table(table, "main.bronze.videos")
    assert [(r["video_id"], r["title"], r["duration_seconds"]) for r in rows_of(loaded.videos, ["video_id"])] == [
        ("v1", "One", 300.0), ("v2", "Two", None)]
    counts = loaded.counts
    assert (counts.rows_read, counts.videos, counts.duplicate_rows, counts.rejected, counts.without_duration) == (4, 2, 1, 1, 1)
    assert counts.rejected_by_reason["missing_video_id"] == 1 and counts.ignored_columns == ("owner",)


def test_a_catalog_table_without_a_video_id_or_with_a_wrong_type_is_refused_naming_it(spark):
    with pytest.raises(catalog.CatalogHeaderError, match="no videoId or video_id column"):
        catalog.load_catalog_table(_table(spark, [], "id string, title string"), "t")
    with pytest.raises(catalog.CatalogHeaderError, match="column 'duration' is BOOLEAN"):
        catalog.load_catalog_table(_table(spark, [], "videoId string, duration boolean"), "t")


@pytest.mark.parametrize("column_type", ["double", "float"])
def test_a_table_position_that_is_nan_infinite_or_negative_is_bad_position_with_the_value_as_read(
    spark, tmp_path, column_type
):
    """Issue 39 item 4: NaN had been reported as missing_current_time, and missing from raw_line."""
    path = str(tmp_path / "bronze")
    spark.sql(
        f"SELECT TIMESTAMP'2024-01-15 10:00:00+00:00' + make_interval(0, 0, 0, 0, 0, 0, id) AS timestamp, 'u' AS userId, "
        f"'v' AS videoId, 'video_play' AS eventName, CAST(element_at(array('NaN', 'Infinity', '-Infinity', '-2.5', "
        f"'7.5'), CAST(id + 1 AS INT)) AS {column_type}) AS currentTime FROM range(5)"
    ).write.format("delta").save(path)
    table = spark.read.format("delta").load(path)
    columns = table_rows.recognized_columns(table.schema, "timestamp", "t")
    classified = events.classify_lines(table_rows.rows_as_lines(table, columns, path, DAYS))
    quarantined = rows_of(events.quarantined_records(classified), ["raw_line"])
    assert [(q["reason"], json.loads(q["raw_line"])["currentTime"]) for q in quarantined] == [
        ("bad_position", "NaN"), ("bad_position", "Infinity"), ("bad_position", "-Infinity"), ("bad_position", -2.5)]
    assert [r["position_seconds"] for r in rows_of(events.clean_events(classified))] == [7.5]


def test_a_platform_column_feeds_the_platform_summary_as_a_landing_file_does(spark):
    """SEMANTICS.md 9d through a table source: ' Roku ' is trimmed (raw stage) and lower-cased (session); an
    all-blank platform is none, so u2's session is `unknown`; and the table's rows give what the same lines
    of a landing file give."""
    rows = [
        (datetime(2024, 1, 15, 10, 0, 0), "u1", "v1", "play", 0.0, None),
        (datetime(2024, 1, 15, 10, 0, 30), "u1", "v1", "pause", 30.0, " Roku "),
        (datetime(2024, 1, 15, 11, 0, 0), "u2", "v1", "play", 0.0, "   "),
        (datetime(2024, 1, 15, 11, 0, 10), "u2", "v1", "pause", 10.0, None),
    ]
    table = _table(
        spark, rows,
        "timestamp timestamp_ntz, userId string, videoId string, eventName string, currentTime double, platform string",
    )
    columns = table_rows.recognized_columns(table.schema, "timestamp", "t")
    assert columns["platform"] == "platform"
    from_table = events.clean_events(events.classify_lines(table_rows.rows_as_lines(table, columns, "t", DAYS)))
    lines = [
        json.dumps({"timestamp": f"{when.isoformat()}Z", "userId": user, "videoId": video, "eventName": name,
                    "currentTime": position, **({"platform": platform} if platform is not None else {})})
        for when, user, video, name, position, platform in rows
    ]
    landing = literal_frame(
        spark, [(datetime(2024, 1, 15).date(), "events.jsonl", line) for line in lines],
        "partition_date date, source_file string, raw_line string",
    )
    from_file = events.clean_events(events.classify_lines(landing))
    compared = ["event_ts", "user_id", "event_name", "position_seconds", "platform"]
    assert rows_of(from_table.select(compared), compared) == rows_of(from_file.select(compared), compared)

    settings = EngagementSettings()
    first = date(2024, 1, 15)
    annotated = sessions.annotate_events(from_table, catalog_frame(spark, {"v1": 100}), settings, first, first)
    session_rows = sessions.video_sessions(sessions.summarize_sessions(annotated), settings)
    summary = rows_of(platforms.video_platform_summary(session_rows), ["platform"])
    assert [(r["platform"], r["sessions"], r["total_watch_seconds"]) for r in summary] == [
        ("roku", 1, 30.0), ("unknown", 1, 10.0),
    ]

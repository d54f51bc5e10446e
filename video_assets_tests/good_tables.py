"""Small, good tables of every kind, built once per test session with the real transforms (the `good_tables` fixture)."""

from datetime import date

from video_assets.frames import literal_frame
from video_assets.sources.catalog import load_catalog_file
from video_assets.transforms import events as event_transforms
from video_assets_tests.builders import catalog_frame, event, events_frame, run_engagement

DAY = "2025-01-15"
VIDEOS = {"video_001": 300.0, "video_002": 200.0}

# Peter (SEMANTICS.md 10) plus a viewer who replays, switches video and closes the browser, across two days.
EVENTS = [
    event("peter", "video_001", "2025-01-15 10:00:00", "play", 0),
    event("peter", "video_001", "2025-01-15 10:00:30", "pause", 30),
    event("peter", "video_001", "2025-01-15 10:01:00", "resume", 30),
    event("peter", "video_001", "2025-01-15 10:02:30", "pause", 120),
    event("peter", "video_001", "2025-01-15 10:03:00", "resume", 110),
    event("peter", "video_001", "2025-01-15 10:03:10", "pause", 120),
    event("ann", "video_002", "2025-01-15 08:00:00", "play", 0),
    event("ann", "video_002", "2025-01-15 08:03:20", "end", 200),
    event("ann", "video_002", "2025-01-15 08:03:30", "play", 0),
    event("ann", "video_002", "2025-01-15 08:04:00", "heartbeat", 30),
    event("ann", "video_001", "2025-01-15 08:04:10", "play", 0),
    event("ann", "video_001", "2025-01-15 08:05:00", "heartbeat", 50),
    event("bob", "video_001", "2025-01-14 09:00:00", "play", 0),
    event("bob", "video_001", "2025-01-14 09:01:00", "pause", 60),
    event("bob", "video_002", "2025-01-14 23:50:00", "play", 0),
    event("bob", "video_002", "2025-01-15 00:10:00", "seek", 100, from_position=40),
    event("bob", "video_002", "2025-01-15 00:11:00", "end", 160),
]

LANDING_LINES = [
    '{"eventId": "e1", "timestamp": "2025-01-15T10:00:00Z", "userId": "u1", "videoId": "v1", "eventName": "play", "currentTime": 0}',
    '{"eventId": "e1", "timestamp": "2025-01-15T10:00:00Z", "userId": "u1", "videoId": "v1", "eventName": "play", "currentTime": 0}',
    '{"eventId": "e2", "timestamp": "2025-01-15T10:00:10Z", "userId": "u1", "videoId": "v1", "eventName": "Paused", "currentTime": 10}',
    '{"timestamp": 1736935220000, "user_id": "u1", "video_id": "v1", "event_name": "resume", "current_time": "10"}',
    "{not json",
    '{"eventId": "e3", "timestamp": "2025-01-15T10:01:00Z", "userId": "u1", "videoId": "v1", "eventName": "teleport", "currentTime": 5}',
]


def materialized(frame):
    """The frame's rows as a new in-memory frame: tests then evaluate it without recomputing the pipeline."""
    return literal_frame(frame.sparkSession, frame.collect(), frame.schema)


def build_good_tables(spark, tmp_path_factory):
    """Every table of the contract, small and correct, produced by the project's transforms."""
    first, last = date.fromisoformat("2025-01-14"), date.fromisoformat(DAY)
    tables = run_engagement(spark, EVENTS, VIDEOS, first, last)
    result = {name: materialized(frame) for name, frame in tables.items()}

    lines = literal_frame(
        spark,
        [(first.replace(day=15), "file:/landing/events/date=2025-01-15/part-0.jsonl", line) for line in LANDING_LINES],
        "partition_date date, source_file string, raw_line string",
    )
    classified = event_transforms.classify_lines(lines)
    result["raw_video_events"] = materialized(event_transforms.clean_events(classified))
    result["raw_video_events_quarantine"] = materialized(event_transforms.quarantined_records(classified))
    result["raw_events_window"] = events_frame(spark, EVENTS)

    csv = tmp_path_factory.mktemp("catalog") / "videos.csv"
    csv.write_text("video_id,title,duration_seconds\nvideo_001,One,300\nvideo_002,Two,200\nvideo_003,Three,\n")
    result["video_catalog"] = materialized(load_catalog_file(spark, str(csv)).videos)
    result["catalog"] = catalog_frame(spark, VIDEOS)
    return result

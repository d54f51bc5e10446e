"""SEMANTICS.md section 10, the worked example, column by column."""

import random

import pytest

from video_assets_tests.builders import day, event, rows_of, run_engagement

PETER = [
    ("10:00:00", "play", 0),
    ("10:00:30", "pause", 30),
    ("10:01:00", "resume", 30),
    ("10:02:30", "pause", 120),
    ("10:03:00", "resume", 110),
    ("10:03:10", "pause", 120),
]


def peter_events(order=None):
    rows = [event("peter", "video_001", f"2025-01-15 {when}", name, position) for when, name, position in PETER]
    if order is not None:
        random.Random(order).shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def peter(spark):
    return run_engagement(spark, peter_events(), {"video_001": 300}, day("2025-01-15"))


def test_one_session_ended_by_pause(peter):
    [session] = rows_of(peter["video_sessions"])
    assert session["ended_by"] == "pause"
    assert session["session_date"] == day("2025-01-15")
    assert session["event_count"] == 6
    assert session["watched_seconds"] == 130.0
    assert session["quality_flags"] == []


def test_intervals_are_0_120_and_110_120(peter):
    intervals = rows_of(peter["watch_intervals"], ["interval_index"])
    assert [(i["start_position_seconds"], i["end_position_seconds"], i["watched_seconds"]) for i in intervals] == [
        (0.0, 120.0, 120.0),
        (110.0, 120.0, 10.0),
    ]


def test_metrics_match_the_worked_example(peter):
    [m] = rows_of(peter["user_video_metrics"])
    assert m["total_watch_seconds"] == 130.0
    assert m["unique_watch_seconds"] == 120.0
    assert m["rewatched_seconds"] == 10.0
    assert m["watch_percentage"] == 43.33
    assert m["unique_watch_percentage"] == 40.0
    assert m["max_position_seconds"] == 120.0
    assert m["completion_percentage"] == 40.0
    assert m["completed"] is False
    assert m["seek_count"] == 1
    assert m["skipped_backward_seconds"] == 10.0
    assert m["skipped_forward_seconds"] == 0.0
    assert m["pause_count"] == 3
    assert m["completion_count"] == 0
    assert m["session_count"] == 1
    assert m["replay_count"] == 0
    assert m["engagement_score"] == 35.7
    assert m["engagement_tier"] == "Low"
    assert m["session_wall_seconds"] == 190.0
    assert m["avg_watch_seconds_per_session"] == 130.0
    assert m["avg_pauses_per_session"] == 3.0
    assert m["duration_source"] == "catalog"
    assert m["video_duration_seconds"] == 300.0
    assert m["quality_flags"] == []


def test_input_order_does_not_matter(spark, peter):
    shuffled = run_engagement(spark, peter_events(order=3), {"video_001": 300}, day("2025-01-15"))
    assert rows_of(shuffled["user_video_metrics"]) == rows_of(peter["user_video_metrics"])

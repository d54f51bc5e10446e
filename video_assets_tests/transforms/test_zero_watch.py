"""A segment with nothing watched is no interval (SEMANTICS.md 7-8), wherever a position could leak from it.

"max_position_seconds: largest end of a watched interval (segments with
nothing watched are no interval: a play and a pause at the same position
give 0)". Each scenario is its own user and video, in one Spark pass.
"""

import pytest

from video_assets_tests.builders import day, event, rows_of, run_engagement

D = "2025-01-15"
CATALOG = {"v300": 300, "end300": 300, "gap300": 300}


def timeline(user, video, entries):
    return [event(user, video, f"{D} {when}", name, position) for when, name, position in entries]


ROWS = (
    # The contract's sentence: a play at 50 s and a pause at 50 s five seconds later.
    timeline("zed", "v300", [("10:00:00", "play", 50), ("10:00:05", "pause", 50)])
    # The same at 290 s of 300: were the position counted, 96.7 % would be a completion.
    + timeline("zoe", "end300", [("10:00:00", "play", 290), ("10:00:05", "pause", 290)])
    # [0, 66] watched, nothing at 67.5, then [69, 100]. 66 -> 67.5 -> 69 are steps of 1.5 s, within the
    # 2 s tolerance: a zero-length interval at 67.5 would bridge the two into one span covering the
    # retention moment 67.5 s (bucket 4 of 20) that nobody watched.
    + timeline("gus", "gap300", [
        ("10:00:00", "play", 0), ("10:01:06", "pause", 66),
        ("10:01:30", "resume", 67.5), ("10:01:35", "pause", 67.5),
        ("10:02:00", "resume", 69), ("10:02:31", "pause", 100),
    ])
)


@pytest.fixture(scope="module")
def tables(spark):
    out = run_engagement(spark, ROWS, CATALOG, day(D))
    return {
        "sessions": {r["user_id"]: r for r in rows_of(out["video_sessions"])},
        "intervals": rows_of(out["watch_intervals"], ["user_id", "interval_index"]),
        "metrics": {r["user_id"]: r for r in rows_of(out["user_video_metrics"])},
        "videos": {r["video_id"]: r for r in rows_of(out["video_engagement_summary"])},
        "lifetime": {r["user_id"]: r for r in rows_of(out["user_video_engagement"])},
    }


def test_a_play_and_a_pause_at_the_same_position_give_max_position_0(tables):
    m = tables["metrics"]["zed"]
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["max_position_seconds"]) == (0.0, 0.0, 0.0)
    assert (m["completion_percentage"], m["completed"], m["completion_count"]) == (0.0, False, 0)
    # 100 * (0.45 * 0 + 0.35 * 0 + 0.10 * 1/3 + 0.10 * 0) = 3.33 -> 3.3
    assert (m["engagement_score"], m["engagement_tier"]) == (3.3, "Minimal")
    assert tables["sessions"]["zed"]["max_position_seconds"] == 0.0


def test_nothing_watched_near_the_end_is_no_completion(tables):
    session, m = tables["sessions"]["zoe"], tables["metrics"]["zoe"]
    assert (session["max_position_seconds"], session["reached_completion"]) == (0.0, False)
    assert (m["max_position_seconds"], m["completed"], m["completion_count"]) == (0.0, False, 0)


def test_a_zero_length_segment_is_no_interval_and_bridges_none(tables):
    spans = [(i["user_id"], i["start_position_seconds"], i["end_position_seconds"], i["watched_seconds"])
             for i in tables["intervals"]]
    assert spans == [("gus", 0.0, 66.0, 66.0), ("gus", 69.0, 100.0, 31.0)]


def test_a_zero_length_segment_adds_no_unique_second(tables):
    m = tables["metrics"]["gus"]
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["max_position_seconds"]) == (97.0, 97.0, 100.0)


def test_a_zero_length_segment_covers_no_retention_moment(tables):
    # Moments 7.5 + 15k s: [0, 66] covers k = 0..3, [69, 100] k = 5..6; 67.5 (k = 4) is nobody's.
    assert tables["videos"]["gap300"]["retention_curve"] == [1.0] * 4 + [0.0] + [1.0] * 2 + [0.0] * 13
    assert tables["videos"]["v300"]["retention_curve"] == [0.0] * 20
    assert tables["videos"]["end300"]["retention_curve"] == [0.0] * 20


def test_the_lifetime_row_keeps_max_position_0(tables):
    for user in ("zed", "zoe"):
        row = tables["lifetime"][user]
        assert (row["max_position_seconds"], row["completion_percentage"], row["completed_at_least_once"]) == (
            0.0, 0.0, False,
        ), user

"""One scenario per rule of SEMANTICS.md 6-8, worked out by hand.

All scenarios run through the transforms in one Spark pass: each is a
different user, so no scenario can influence another (a video switch only
looks at the same user's next event).
"""

import hashlib

import pytest

from video_assets_tests.builders import day, event, rows_of, run_engagement

D = "2025-01-15"
CATALOG = {"v": 300, "v2": 300, "short": 100, "long": 3600, "tiers": 800}


def timeline(user, video, entries, date=D):
    """entries: (HH:MM:SS, name, position[, from_position]) on `date`."""
    rows = []
    for entry in entries:
        when, name, position = entry[:3]
        from_position = entry[3] if len(entry) > 3 else None
        rows.append(event(user, video, f"{date} {when}", name, position, from_position=from_position))
    return rows


SCENARIOS = {
    "timeout_split": timeline("timeout_split", "v", [
        ("10:00:00", "play", 0), ("10:01:00", "pause", 60),
        ("10:31:01", "play", 60), ("10:31:31", "pause", 90),
    ]),
    "timeout_exact": timeline("timeout_exact", "v", [
        ("10:00:00", "play", 0), ("10:01:00", "pause", 60),
        ("10:31:00", "play", 60), ("10:31:30", "pause", 90),
    ]),
    "replay": timeline("replay", "v", [
        ("10:00:00", "play", 0), ("10:05:00", "end", 300),
        ("10:05:10", "play", 0), ("10:06:00", "pause", 50),
    ]),
    "double_speed": timeline("double_speed", "v", [
        ("10:00:00", "play", 0), ("10:00:10", "heartbeat", 20), ("10:00:20", "heartbeat", 42),
        ("10:00:30", "pause", 42),
    ]),
    "forward_jump": timeline("forward_jump", "v", [
        ("10:00:00", "play", 0), ("10:00:10", "heartbeat", 100), ("10:00:20", "pause", 110),
    ]),
    "backward_jump": timeline("backward_jump", "v", [
        ("10:00:00", "play", 100), ("10:00:10", "heartbeat", 110), ("10:00:20", "heartbeat", 50),
        ("10:00:30", "pause", 60),
    ]),
    "jitter": timeline("jitter", "v", [
        ("10:00:00", "play", 0), ("10:00:10", "heartbeat", 10), ("10:00:20", "heartbeat", 9),
        ("10:00:30", "heartbeat", 19), ("10:00:40", "pause", 19),
    ]),
    "seek_from": timeline("seek_from", "v", [
        ("10:00:00", "play", 0), ("10:00:30", "seek", 200, 25), ("10:00:40", "pause", 220),
    ]),
    "seek_no_from": timeline("seek_no_from", "v", [
        ("10:00:00", "play", 0), ("10:00:30", "seek", 200), ("10:00:40", "pause", 220),
    ]),
    "seek_paused": timeline("seek_paused", "v", [
        ("10:00:00", "play", 0), ("10:00:30", "pause", 30), ("10:00:40", "seek", 100),
        ("10:00:50", "resume", 100), ("10:01:00", "pause", 110),
    ]),
    "resume_within_tolerance": timeline("resume_within_tolerance", "v", [
        ("10:00:00", "play", 0), ("10:00:30", "pause", 30), ("10:01:00", "resume", 31),
        ("10:01:10", "pause", 41),
    ]),
    "implicit_resume": timeline("implicit_resume", "v", [
        ("10:00:00", "play", 0), ("10:00:30", "pause", 30), ("10:01:00", "heartbeat", 60),
        ("10:01:10", "heartbeat", 70), ("10:01:20", "pause", 70),
    ]),
    "browser_close": timeline("browser_close", "v", [("10:00:00", "play", 0), ("10:00:10", "heartbeat", 10)]),
    "very_short": timeline("very_short", "v", [("10:00:00", "play", 0), ("10:00:05", "heartbeat", 5)]),
    "switch": timeline("switch", "v", [("10:00:00", "play", 0), ("10:00:10", "heartbeat", 10)])
    + timeline("switch", "v2", [("10:00:40", "play", 0), ("10:01:00", "pause", 20)]),
    # Same timestamp: the pause sorts before the resume, so the heartbeat finds the player PLAYING.
    "tie_order": timeline("tie_order", "v", [
        ("10:00:40", "heartbeat", 40), ("10:00:30", "resume", 30), ("10:00:30", "pause", 30),
        ("10:00:00", "play", 0),
    ]),
    "beyond_duration": timeline("beyond_duration", "short", [
        ("10:00:00", "play", 90), ("10:00:10", "heartbeat", 105), ("10:00:15", "end", 100),
    ]),
    "skim_to_end": timeline("skim_to_end", "v", [
        ("10:00:00", "play", 0), ("10:00:10", "seek", 280), ("10:00:20", "end", 300),
    ]),
    "two_sessions_overlap": timeline("two_sessions_overlap", "v", [
        ("10:00:00", "play", 0), ("10:01:00", "pause", 60),
        ("11:00:00", "play", 30), ("11:01:00", "pause", 90),
    ]),
    # 3 sessions, 599.5 s of 800 s watched once: score 45*0.749375 + 35*0.749375 + 10 = 69.95 -> 70.0.
    "tier_boundary": timeline("tier_boundary", "tiers", [
        ("08:00:00", "play", 0), ("08:03:20", "pause", 200),
        ("09:00:00", "play", 200), ("09:03:20", "pause", 400),
        ("10:00:00", "play", 400), ("10:03:19.500000", "pause", 599.5),
    ]),
    # Intervals follow the session's order: [0, 30] and [31.5, 51.5] join (1.5 s from where the previous segment
    # ended), [100, 110] does not (a resume elsewhere), nor the backward jump's [50, 60], which [60, 70] joins.
    "interval_runs": timeline("interval_runs", "v", [
        ("10:00:00", "play", 0), ("10:00:30", "pause", 30), ("10:01:00", "resume", 31.5),
        ("10:01:20", "pause", 51.5), ("10:02:00", "resume", 100), ("10:02:10", "heartbeat", 110),
        ("10:02:20", "heartbeat", 60), ("10:02:30", "pause", 70),
    ]),
    "midnight_stays": timeline("midnight_stays", "long", [("23:00:00", "play", 0), ("23:20:00", "pause", 1200)]),
    "midnight_moves": timeline("midnight_moves", "long", [("23:10:00", "play", 0), ("23:40:00", "pause", 1800)]),
    # Joined by "|", user "sep|a" on video "b" and user "sep" on video "a|b" give one text.
    "separator_in_ids": timeline("sep|a", "b", [("10:00:00", "play", 0), ("10:01:00", "pause", 60)])
    + timeline("sep", "a|b", [("10:00:00", "play", 0), ("10:01:00", "pause", 60)]),
}


@pytest.fixture(scope="module")
def tables(spark):
    rows = [row for scenario in SCENARIOS.values() for row in scenario]
    out = run_engagement(spark, rows, CATALOG, day(D))
    return {
        "sessions": rows_of(out["video_sessions"], ["user_id", "first_event_ts"]),
        "intervals": rows_of(out["watch_intervals"], ["user_id", "session_id", "interval_index"]),
        "metrics": {(m["user_id"], m["video_id"]): m for m in rows_of(out["user_video_metrics"])},
    }


def metric(tables, user, video="v"):
    return tables["metrics"][(user, video)]


def sessions_of(tables, user):
    return [s for s in tables["sessions"] if s["user_id"] == user]


def spans_of(tables, user, video=None):
    return [
        (i["start_position_seconds"], i["end_position_seconds"], i["watched_seconds"])
        for i in tables["intervals"]
        if i["user_id"] == user and video in (None, i["video_id"])
    ]


def test_gap_longer_than_timeout_starts_a_new_session(tables):
    m = metric(tables, "timeout_split")
    assert (m["session_count"], m["replay_count"], m["total_watch_seconds"]) == (2, 1, 90.0)


def test_gap_equal_to_timeout_stays_in_the_session(tables):
    m = metric(tables, "timeout_exact")
    assert (m["session_count"], m["total_watch_seconds"]) == (1, 90.0)


def test_play_after_end_is_a_replay(tables):
    first, second = sessions_of(tables, "replay")
    assert (first["ended_by"], second["ended_by"]) == ("end_event", "pause")
    m = metric(tables, "replay")
    assert m["session_count"] == 2 and m["replay_count"] == 1
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["rewatched_seconds"]) == (350.0, 300.0, 50.0)
    assert m["completed"] is True and m["completion_count"] == 1
    # 100 * (0.45 * 1 + 0.35 * 1 + 0.10 * 2/3 + 0.10 * 50/300) = 88.33
    assert (m["engagement_score"], m["engagement_tier"]) == (88.3, "High")


def test_double_speed_is_continuous_up_to_rate_times_wall_plus_tolerance(tables):
    assert spans_of(tables, "double_speed") == [(0.0, 42.0, 42.0)]
    assert metric(tables, "double_speed")["seek_count"] == 0


def test_forward_jump_credits_wall_time_and_counts_the_rest_as_skipped(tables):
    assert spans_of(tables, "forward_jump") == [(0.0, 10.0, 10.0), (100.0, 110.0, 10.0)]
    m = metric(tables, "forward_jump")
    assert (m["total_watch_seconds"], m["seek_count"], m["skipped_forward_seconds"]) == (20.0, 1, 90.0)
    derivations = [i["derivation"] for i in tables["intervals"] if i["user_id"] == "forward_jump"]
    assert derivations == ["jump_adjusted", "continuous"]


def test_backward_jump_credits_the_wall_time_before_the_landing_position(tables):
    assert spans_of(tables, "backward_jump") == [(100.0, 110.0, 10.0), (40.0, 60.0, 20.0)]
    m = metric(tables, "backward_jump")
    assert (m["total_watch_seconds"], m["unique_watch_seconds"]) == (30.0, 30.0)
    assert (m["seek_count"], m["skipped_backward_seconds"]) == (1, 60.0)


def test_jitter_is_neither_watched_nor_a_jump(tables):
    # [0,10] then a step back of 1 s (jitter), then [9,19]; the two join within tolerance.
    assert spans_of(tables, "jitter") == [(0.0, 19.0, 20.0)]
    m = metric(tables, "jitter")
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["rewatched_seconds"]) == (20.0, 19.0, 1.0)
    assert m["seek_count"] == 0


def test_seek_with_from_position_closes_the_segment_there(tables):
    assert spans_of(tables, "seek_from") == [(0.0, 25.0, 25.0), (200.0, 220.0, 20.0)]
    m = metric(tables, "seek_from")
    assert (m["total_watch_seconds"], m["seek_count"], m["skipped_forward_seconds"]) == (45.0, 1, 175.0)


def test_seek_without_from_position_closes_at_previous_plus_wall_time(tables):
    assert spans_of(tables, "seek_no_from") == [(0.0, 30.0, 30.0), (200.0, 220.0, 20.0)]
    m = metric(tables, "seek_no_from")
    assert (m["total_watch_seconds"], m["seek_count"], m["skipped_forward_seconds"]) == (50.0, 1, 170.0)


def test_seek_while_paused_jumps_from_the_standing_position(tables):
    m = metric(tables, "seek_paused")
    assert (m["total_watch_seconds"], m["seek_count"], m["skipped_forward_seconds"]) == (40.0, 1, 70.0)
    [session] = sessions_of(tables, "seek_paused")
    assert session["ended_by"] == "pause"


def test_resume_within_tolerance_of_the_pause_is_not_a_jump(tables):
    m = metric(tables, "resume_within_tolerance")
    assert (m["seek_count"], m["total_watch_seconds"], m["unique_watch_seconds"]) == (0, 40.0, 40.0)


def test_heartbeat_while_paused_is_an_implicit_resume_and_a_jump(tables):
    m = metric(tables, "implicit_resume")
    assert "implicit_resume" in m["quality_flags"]
    assert (m["total_watch_seconds"], m["seek_count"], m["skipped_forward_seconds"]) == (40.0, 1, 30.0)


def test_browser_close_credits_nothing_after_the_last_event(tables):
    [session] = sessions_of(tables, "browser_close")
    assert session["ended_by"] == "browser_close"
    m = metric(tables, "browser_close")
    assert (m["total_watch_seconds"], m["browser_close_count"]) == (10.0, 1)
    assert m["quality_flags"] == ["browser_close"]


def test_an_interval_is_a_run_of_segments_each_starting_where_the_previous_ended(tables):
    intervals = [
        (i["interval_index"], i["start_position_seconds"], i["end_position_seconds"], i["watched_seconds"],
         i["segment_count"], i["derivation"], [(s["start"], s["end"]) for s in i["segments"]],
         i["wall_start_ts"].strftime("%H:%M:%S"), i["wall_end_ts"].strftime("%H:%M:%S"))
        for i in tables["intervals"]
        if i["user_id"] == "interval_runs"
    ]
    assert intervals == [
        (1, 0.0, 51.5, 50.0, 2, "continuous", [(0.0, 30.0), (31.5, 51.5)], "10:00:00", "10:01:20"),
        (2, 100.0, 110.0, 10.0, 1, "continuous", [(100.0, 110.0)], "10:02:00", "10:02:10"),
        (3, 50.0, 70.0, 20.0, 2, "jump_adjusted", [(50.0, 60.0), (60.0, 70.0)], "10:02:10", "10:02:30"),
    ]
    m = metric(tables, "interval_runs")
    # Unique: [0, 30] + ([31.5, 51.5] and [50, 70] = [31.5, 70]) + [100, 110] = 30 + 38.5 + 10; the 1.5 s
    # between 30 and 31.5 were never watched. Jumps: the resume at 100 (48.5 from the pause) and the jump back.
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["seek_count"]) == (80.0, 78.5, 2)


def test_video_switch_credits_the_time_until_the_next_video(tables):
    first = metric(tables, "switch", "v")
    assert (first["total_watch_seconds"], first["video_switch_count"], first["browser_close_count"]) == (40.0, 1, 0)
    assert spans_of(tables, "switch", "v") == [(0.0, 40.0, 40.0)]
    assert [i["derivation"] for i in tables["intervals"] if i["video_id"] == "v" and i["user_id"] == "switch"] == [
        "switch_credit"
    ]
    second = metric(tables, "switch", "v2")
    assert (second["total_watch_seconds"], second["video_switch_count"]) == (20.0, 0)


def test_same_timestamp_orders_pause_before_resume(tables):
    m = metric(tables, "tie_order")
    assert m["total_watch_seconds"] == 40.0
    assert "implicit_resume" not in m["quality_flags"]


def test_positions_beyond_duration_are_clipped_and_flagged(tables):
    m = metric(tables, "beyond_duration", "short")
    assert "position_beyond_duration" in m["quality_flags"]
    assert (m["total_watch_seconds"], m["max_position_seconds"], m["completion_percentage"]) == (10.0, 100.0, 100.0)


def test_very_short_watch_flag(tables):
    assert metric(tables, "very_short")["quality_flags"] == ["browser_close", "very_short_watch"]
    assert "very_short_watch" not in metric(tables, "browser_close")["quality_flags"]


def test_completed_without_sufficient_watch(tables):
    m = metric(tables, "skim_to_end")
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["completion_percentage"]) == (30.0, 30.0, 100.0)
    assert m["completed"] is True and m["completion_count"] == 1
    assert "completed_without_sufficient_watch" in m["quality_flags"]


def test_unique_is_the_union_across_the_days_sessions(tables):
    m = metric(tables, "two_sessions_overlap")
    assert (m["total_watch_seconds"], m["unique_watch_seconds"], m["session_count"]) == (120.0, 90.0, 2)


def test_score_69_95_rounds_to_70_and_is_high(tables):
    m = metric(tables, "tier_boundary", "tiers")
    assert m["unique_watch_seconds"] == 599.5 and m["session_count"] == 3
    assert (m["engagement_score"], m["engagement_tier"]) == (70.0, "High")


def test_session_closing_before_midnight_stays_on_its_day(tables):
    assert [s["session_date"] for s in sessions_of(tables, "midnight_stays")] == [day(D)]


def test_session_closing_after_midnight_belongs_to_the_next_day(spark, tables):
    assert sessions_of(tables, "midnight_moves") == []
    next_day = run_engagement(spark, SCENARIOS["midnight_moves"], CATALOG, day("2025-01-16"))
    [session] = rows_of(next_day["video_sessions"])
    assert session["session_date"] == day("2025-01-16")
    assert session["quality_flags"] == []


def test_session_ids_hash_the_user_length_user_video_and_start_and_keep_ids_holding_the_separator_apart(tables):
    """docs/semantics-decisions.md: sha256("len(user)|user|video|start µs"), first 32 hex characters."""
    ids = {s["user_id"]: s["session_id"] for s in tables["sessions"] if s["user_id"] in ("sep|a", "sep")}
    text = f"5|sep|a|b|{D}T10:00:00.000000"
    assert ids["sep|a"] == hashlib.sha256(text.encode()).hexdigest()[:32]
    assert ids["sep"] != ids["sep|a"]

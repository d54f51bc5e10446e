"""Lookback, truncation, duration sources (SEMANTICS.md 5-6), and range runs equal day-by-day runs."""

from datetime import datetime, timedelta

import pytest
from pyspark.sql import functions as F

from video_assets.settings import EngagementSettings
from video_assets.transforms import sessions
from video_assets_tests.builders import catalog_frame, day, event, events_frame, rows_of, run_engagement


def long_chain(user, start, end, step_minutes=20):
    """Heartbeats every `step_minutes` from start to end: one session that never times out."""
    rows, moment, position = [], datetime.fromisoformat(start), 0.0
    rows.append(event(user, "long", moment.isoformat(sep=" "), "play", 0))
    while moment < datetime.fromisoformat(end):
        moment += timedelta(minutes=step_minutes)
        position = min(position + 60, 3600)
        rows.append(event(user, "long", moment.isoformat(sep=" "), "heartbeat", position))
    return rows


def only_days(spark, rows, first, last):
    """What the IO manager hands the session stage: raw events of the window only."""
    return events_frame(spark, rows).where(F.col("event_date").between(F.lit(day(first)), F.lit(day(last))))


def test_session_begun_the_day_before_is_read_through_the_lookback(spark):
    rows = [
        event("night", "long", "2025-01-15 23:50:00", "play", 0),
        event("night", "long", "2025-01-16 00:10:00", "pause", 1200),
    ]
    [session] = rows_of(run_engagement(spark, rows, {"long": 3600}, day("2025-01-16"))["video_sessions"])
    assert session["session_date"] == day("2025-01-16")
    assert session["watched_seconds"] == 1200.0
    assert session["first_event_ts"].hour == 23


def test_session_longer_than_the_lookback_is_cut_and_flagged_as_in_a_single_day_run(spark):
    rows = long_chain("marathon", "2025-01-14 22:00:00", "2025-01-16 00:05:00")
    window_only = [r for r in rows if r[3] >= day("2025-01-15")]
    single = run_engagement(spark, window_only, {"long": 3600}, day("2025-01-16"))
    ranged = run_engagement(spark, rows, {"long": 3600}, day("2025-01-15"), day("2025-01-16"))
    [cut] = rows_of(single["video_sessions"])
    assert cut["first_event_ts"] == datetime(2025, 1, 15, 0, 0)
    assert "session_truncated" in cut["quality_flags"]
    ranged_day = rows_of(ranged["video_sessions"].where(F.col("session_date") == day("2025-01-16")))
    assert ranged_day == [cut]


@pytest.mark.slow
def test_range_run_equals_day_by_day_runs(spark):
    rows = (
        long_chain("a", "2025-01-15 08:00:00", "2025-01-15 09:00:00")
        + [event("b", "long", "2025-01-15 23:50:00", "play", 0), event("b", "long", "2025-01-16 00:10:00", "pause", 1200)]
        + long_chain("c", "2025-01-16 10:00:00", "2025-01-17 00:10:00")
    )
    ranged = run_engagement(spark, rows, {}, day("2025-01-15"), day("2025-01-17"))
    for single_day in ("2025-01-15", "2025-01-16", "2025-01-17"):
        previous = (day(single_day) - timedelta(days=1)).isoformat()
        window = [r for r in rows if day(previous) <= r[3] <= day(single_day)]
        single = run_engagement(spark, window, {}, day(single_day))
        for table in ("video_sessions", "user_video_metrics"):
            date_column = "session_date" if table == "video_sessions" else "metric_date"
            expected = rows_of(ranged[table].where(F.col(date_column) == day(single_day)), ["user_id", "video_id"])
            assert rows_of(single[table], ["user_id", "video_id"]) == expected, (table, single_day)


def test_duration_from_catalog_then_player_median_then_largest_position(spark):
    def watch(user, video, duration=None):
        return [
            event(user, video, "2025-01-15 10:00:00", "play", 0, duration=duration),
            event(user, video, "2025-01-15 10:00:50", "pause", 50, duration=duration),
        ]

    rows = (
        watch("u1", "listed", duration=999)
        + watch("u1", "reported", duration=200)
        + watch("u2", "reported", duration=400)
        + watch("u3", "reported", duration=210)
        + watch("u1", "unknown")
    )
    out = run_engagement(spark, rows, {"listed": 100}, day("2025-01-15"))
    metrics = {(m["user_id"], m["video_id"]): m for m in rows_of(out["user_video_metrics"])}
    assert (metrics[("u1", "listed")]["video_duration_seconds"], metrics[("u1", "listed")]["duration_source"]) == (
        100.0,
        "catalog",
    )
    assert (metrics[("u1", "reported")]["video_duration_seconds"], metrics[("u1", "reported")]["duration_source"]) == (
        210.0,
        "player",
    )
    inferred = metrics[("u1", "unknown")]
    assert (inferred["video_duration_seconds"], inferred["duration_source"]) == (50.0, "inferred")
    assert "duration_inferred" in inferred["quality_flags"]
    assert inferred["completion_percentage"] == 100.0


def test_a_sessions_player_session_device_and_platform_are_those_of_its_first_event_that_has_one(spark):
    """docs/semantics-decisions.md: the first non-null value in the session, in event order, however rows arrive."""

    def sent_with(row, player_session_id, device_id, platform):
        return (*row[:10], player_session_id, device_id, platform, *row[13:])

    rows = [
        sent_with(event("ann", "v180", "2025-01-15 10:00:00", "play", 0), None, None, None),
        sent_with(event("ann", "v180", "2025-01-15 10:00:30", "heartbeat", 30), "s-1", "phone", None),
        sent_with(event("ann", "v180", "2025-01-15 10:01:00", "pause", 60), "s-2", "tv", "ios"),
    ]
    settings = EngagementSettings()
    annotated = sessions.annotate_events(
        events_frame(spark, rows), catalog_frame(spark, {"v180": 180}), settings, day("2025-01-15"), day("2025-01-15")
    )
    # The rows reach the aggregate last event first, as they can after a shuffle.
    summaries = sessions.summarize_sessions(annotated.orderBy(F.desc("event_index")).coalesce(1))
    [session] = rows_of(sessions.video_sessions(summaries, settings))
    assert (session["event_count"], session["player_session_id"], session["device_id"], session["platform"]) == (
        3, "s-1", "phone", "ios"
    )

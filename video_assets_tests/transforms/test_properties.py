"""Properties that hold for any event stream (hypothesis), checked on small random streams."""

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from video_assets_tests.builders import day, event, rows_of, run_engagement

NAMES = ("play", "pause", "resume", "seek", "heartbeat", "end")
START = datetime(2025, 1, 15, 12, 0, 0)

step = st.tuples(
    st.integers(min_value=0, max_value=2400),  # seconds since the user's previous event
    st.sampled_from(("a", "b")),  # video: "a" is in the catalog (300 s), "b" is not
    st.sampled_from(NAMES),
    st.floats(min_value=0, max_value=400, allow_nan=False).map(lambda x: round(x, 1)),
    st.one_of(st.none(), st.floats(min_value=0, max_value=400, allow_nan=False).map(lambda x: round(x, 1))),
)
streams = st.lists(st.lists(step, min_size=1, max_size=12), min_size=1, max_size=6)
# Users never share a session or an interval (worlds share only the videos and so their durations, and the
# properties hold for any duration), so several worlds, their users named apart, go through one Spark run:
# 8 worlds per example and 2 examples (Hypothesis makes its first example the smallest) check 8 random
# worlds for 2 runs of the transforms, where one world per example took 8 runs for 7.
WORLDS = 8
worlds = st.lists(streams, min_size=WORLDS, max_size=WORLDS)


def to_events(world_streams):
    """Events of every world's users: user ids w<world>-user<index>, event ids unique across worlds."""
    rows, counter = [], 0
    for world, user_streams in enumerate(world_streams):
        for user_index, steps in enumerate(user_streams):
            moment = START
            for gap, video, name, position, from_position in steps:
                moment += timedelta(seconds=gap)
                counter += 1
                rows.append(
                    event(
                        f"w{world}-user{user_index}", video, moment.isoformat(sep=" "), name, position,
                        from_position=from_position if name == "seek" else None, event_id=f"e{counter}",
                        duration=250 if video == "b" and counter % 2 else None,
                    )
                )
    return rows


def per_world(rows, value) -> list[float]:
    """Sum of value(row) per world, in world order (0 for a world without rows)."""
    totals = [0] * WORLDS
    for row in rows:
        totals[int(row["user_id"].split("-")[0].removeprefix("w"))] += value(row)
    return totals


@pytest.mark.slow
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world_streams=worlds)
def test_invariants_hold_for_random_streams(spark, world_streams):
    rows = to_events(world_streams)
    out = run_engagement(spark, rows, {"a": 300}, day("2025-01-15"), day("2025-01-16"))
    metric_rows = rows_of(out["user_video_metrics"])
    for m in metric_rows:
        assert m["unique_watch_seconds"] <= m["total_watch_seconds"] + 1e-9, m
        assert 0 <= m["completion_percentage"] <= 100, m
        assert 0 <= m["engagement_score"] <= 100, m
        assert m["rewatched_seconds"] >= -1e-9, m
    intervals_total = per_world(rows_of(out["watch_intervals"]), lambda i: i["watched_seconds"])
    metrics_total = per_world(metric_rows, lambda m: m["total_watch_seconds"])
    assert intervals_total == pytest.approx(metrics_total, abs=1e-6)
    # Every clean event belongs to exactly one session across the days its session can close on.
    sessions = rows_of(out["video_sessions"])
    assert per_world(sessions, lambda s: s["event_count"]) == [
        sum(len(steps) for steps in user_streams) for user_streams in world_streams
    ]
    assert out["annotated"].select("event_key").distinct().count() == len(rows)

"""The simulated world: the catalog and its gaps, player durations, and what viewers do in their sittings."""

import csv
from collections import Counter

import pytest

from video_assets_tests.sample_data.landing_files import events_by_user, good_events


# ---------------------------------------------------------------------------
# Catalog and durations
# ---------------------------------------------------------------------------


def test_catalog_has_the_columns_and_leaves_some_videos_out(sample):
    landing, *_ = sample
    with open(landing / "videos" / "videos.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["video_id", "title", "duration_seconds", "category", "published_at"]
    assert rows and all(60 <= float(row["duration_seconds"]) <= 3600 for row in rows)
    assert all(row["title"] and row["category"] and row["published_at"].endswith("Z") for row in rows)

    events = good_events(sample)
    catalogued = {row["video_id"] for row in rows}
    watched = {event["video"] for event in events}
    uncatalogued = watched - catalogued
    reported = {video for video in uncatalogued if any(e["duration"] for e in events if e["video"] == video)}
    assert reported, "a video absent from the catalog whose duration the players report (median fallback)"
    assert uncatalogued - reported, "a video absent from the catalog and never reported (inferred duration)"


def test_player_durations_are_on_most_events_and_sometimes_differ_slightly_from_the_catalog(sample):
    landing, *_ = sample
    with open(landing / "videos" / "videos.csv", newline="", encoding="utf-8") as handle:
        catalog = {row["video_id"]: float(row["duration_seconds"]) for row in csv.DictReader(handle)}
    events = good_events(sample)
    with_duration = [e for e in events if e["duration"] is not None]
    assert len(with_duration) > 0.6 * len(events)
    differences = [abs(e["duration"] - catalog[e["video"]]) for e in with_duration if e["video"] in catalog]
    assert any(d == 0 for d in differences) and any(0 < d < 1.5 for d in differences)
    assert max(differences) < 1.5


# ---------------------------------------------------------------------------
# Simulated viewer behaviour
# ---------------------------------------------------------------------------


def test_viewers_replay_switch_close_and_cross_midnight(sample):
    _, stats, _, _ = sample
    behaviour = stats["behaviour"]
    for key in ("sittings", "views", "replays", "switches", "browser_closes", "pause_exits", "completed_views",
                "midnight_crossings", "forward_seeks", "backward_seeks", "pauses"):
        assert behaviour.get(key, 0) > 0, key

    replays = switches = crossings = 0
    for events in events_by_user(sample).values():
        for previous, current in zip(events, events[1:]):
            gap = (current["instant"] - previous["instant"]).total_seconds()
            same_video = previous["video"] == current["video"]
            if same_video and previous["name"] == "video_end" and current["name"] == "video_play" and current["position"] == 0:
                replays += 1
            if not same_video and previous["name"] == "video_heartbeat" and current["name"] == "video_play" and gap < 20:
                switches += 1
            if same_video and previous["instant"].date() != current["instant"].date() and gap < 1800:
                crossings += 1
    assert replays > 0 and switches > 0 and crossings > 0


def test_heartbeats_every_ten_seconds_at_the_playback_rate(sample):
    steps = Counter()
    for events in events_by_user(sample).values():
        for previous, current in zip(events, events[1:]):
            if current["name"] == "video_heartbeat" and previous["video"] == current["video"]:
                wall = (current["instant"] - previous["instant"]).total_seconds()
                if previous["name"] in ("video_play", "video_resume", "video_heartbeat"):
                    assert 9.9 <= wall <= 10.1
                    steps[round((current["position"] - previous["position"]) / wall, 2)] += 1
    assert steps[1.0] > 0.7 * sum(steps.values())
    assert steps[1.5] > 0 and steps[2.0] > 0
    assert max(steps) <= 2.0


def test_seeks_go_both_ways_with_and_without_from_position(sample):
    seeks = [e for e in good_events(sample) if e["name"] == "video_seek"]
    with_origin = [s for s in seeks if s["from_position"] is not None]
    assert with_origin and len(with_origin) < len(seeks)
    assert any(s["position"] > s["from_position"] for s in with_origin)
    assert any(s["position"] < s["from_position"] for s in with_origin)


def test_pauses_are_followed_by_resumes_and_ends_are_at_the_duration(sample):
    names = Counter()
    for events in events_by_user(sample).values():
        for previous, current in zip(events, events[1:]):
            if previous["name"] == "video_pause" and previous["video"] == current["video"]:
                names[current["name"]] += 1
    assert names["video_resume"] > 0
    for event in good_events(sample):
        if event["name"] == "video_end" and event["duration"] is not None:
            assert event["position"] == pytest.approx(event["duration"], abs=0.001)

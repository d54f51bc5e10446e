"""A small hand-written landing zone for the e2e tests, with what the contract says comes out of it.

Days (UTC):

    2024-01-14  no folder at all (a backfill that starts before the first landing day)
    2024-01-15  three sessions, one of which (u1/v2, 23:40) closes after midnight -> session_date 01-16;
                one malformed line (quarantined), one retried line (duplicate eventId, dropped)
    2024-01-16  no folder (a gap): raw partition empty, but one session closes on it
    2024-01-17  two sessions, one of which (u1/v1, 23:50) closes after midnight -> session_date 01-18

A backfill over 2024-01-14..2024-01-17 therefore writes empty raw partitions
for 01-14 and 01-16 (with a warning), and session-stage partitions that are
non-empty on 01-15, 01-16, 01-17 (and on 01-18, which the backfill adds
because partition 01-18 of the session stage reads raw 01-17).
"""

from __future__ import annotations

import json
from pathlib import Path

FIRST_DAY = "2024-01-14"  # partitions start here in the e2e tests (VIDEO_ASSETS_PARTITION_START)
BACKFILL_DAYS = ["2024-01-14", "2024-01-15", "2024-01-16", "2024-01-17"]
LANDED_DAYS = ["2024-01-15", "2024-01-17"]

CATALOG = "video_id,title,duration_seconds,category,published_at\nv1,First video,600,howto,2023-12-01\nv2,Second video,300,music,2023-12-02\n"


def _event(event_id, ts, user, video, name, position, **extra):
    return {"eventId": event_id, "timestamp": ts, "userId": user, "videoId": video, "eventName": name,
            "currentTime": position, **extra}


DAY_15 = [
    # u1 watches v1 for 70 s in the morning, then pauses.
    _event("e15-01", "2024-01-15T10:00:00Z", "u1", "v1", "play", 0, videoDuration=600),
    _event("e15-02", "2024-01-15T10:00:30Z", "u1", "v1", "heartbeat", 30),
    _event("e15-03", "2024-01-15T10:01:00Z", "u1", "v1", "heartbeat", 60),
    _event("e15-04", "2024-01-15T10:01:10Z", "u1", "v1", "pause", 70),
    # u2 watches v2 to the end (snake_case fields and a player-style event name).
    {"event_id": "e15-05", "timestamp": "2024-01-15T12:00:00Z", "user_id": "u2", "video_id": "v2",
     "event_name": "Video Playback Started", "current_time": 0},
    {"event_id": "e15-06", "timestamp": "2024-01-15T12:02:30Z", "user_id": "u2", "video_id": "v2",
     "event_name": "video_heartbeat", "current_time": 150},
    {"event_id": "e15-07", "timestamp": "2024-01-15T12:05:00Z", "user_id": "u2", "video_id": "v2",
     "event_name": "ended", "current_time": 300},
    # u1 starts v2 late at night: the session closes 2024-01-16 00:11 (session_date 01-16).
    _event("e15-08", "2024-01-15T23:40:00Z", "u1", "v2", "play", 0),
    _event("e15-09", "2024-01-15T23:40:30Z", "u1", "v2", "heartbeat", 30),
    _event("e15-10", "2024-01-15T23:41:00Z", "u1", "v2", "pause", 60),
]
DAY_15_EXTRA_LINES = [
    '{"eventId": "broken", "timestamp": ',  # malformed_record
    json.dumps(_event("e15-02", "2024-01-15T10:00:30Z", "u1", "v1", "heartbeat", 30)),  # a retried delivery
]

DAY_17 = [
    _event("e17-01", "2024-01-17T08:00:00Z", "u2", "v1", "play", 0),
    _event("e17-02", "2024-01-17T08:00:30Z", "u2", "v1", "heartbeat", 30),
    _event("e17-03", "2024-01-17T08:01:00Z", "u2", "v1", "pause", 60),
    # u1 watches v1 just before midnight: closes 2024-01-18 00:20 (session_date 01-18).
    _event("e17-04", "2024-01-17T23:50:00Z", "u1", "v1", "play", 0),
    _event("e17-05", "2024-01-17T23:50:30Z", "u1", "v1", "heartbeat", 30),
]

# What the contract says the backfill of BACKFILL_DAYS produces.
EXPECTED_RAW_EVENTS = {"2024-01-15": len(DAY_15), "2024-01-17": len(DAY_17)}
EXPECTED_QUARANTINE = {"2024-01-15": 1}
EXPECTED_SESSIONS = {  # session_date -> (user_id, video_id) of the sessions closing that day
    "2024-01-15": {("u1", "v1"), ("u2", "v2")},
    "2024-01-16": {("u1", "v2")},
    "2024-01-17": {("u2", "v1")},
    "2024-01-18": {("u1", "v1")},
}
EXPECTED_PAIRS = {("u1", "v1"), ("u2", "v2"), ("u1", "v2"), ("u2", "v1")}

# A late delivery for 2024-01-15 (used by the late-data test): u2 watches v1 at noon.
LATE_FILE_NAME = "late-delivery.jsonl"
LATE_EVENTS_15 = [
    _event("late-01", "2024-01-15T13:00:00Z", "u2", "v1", "play", 0),
    _event("late-02", "2024-01-15T13:00:40Z", "u2", "v1", "heartbeat", 40),
    _event("late-03", "2024-01-15T13:01:00Z", "u2", "v1", "pause", 60),
]


def _write_jsonl(path: Path, records: list[dict], extra_lines: list[str] = ()) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record) for record in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")


def write_landing(root: Path) -> Path:
    """Writes the landing zone under root; returns root."""
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (root / "videos" / "videos.csv").write_text(CATALOG)
    _write_jsonl(root / "events" / "date=2024-01-15" / "part-00000.jsonl", DAY_15, DAY_15_EXTRA_LINES)
    _write_jsonl(root / "events" / "date=2024-01-17" / "part-00000.jsonl", DAY_17)
    return root


def write_late_file(root: Path) -> Path:
    path = root / "events" / "date=2024-01-15" / LATE_FILE_NAME
    _write_jsonl(path, LATE_EVENTS_15)
    return path

"""A small, deterministic landing zone for check tests and the overhead measurement.

Not a test module. ``write_landing`` writes ``<landing>/events/date=D/*.jsonl``
for the given days and ``<landing>/videos/videos.csv``: viewers who play,
pause, resume, seek, send heartbeats and sometimes finish, plus a few bad
lines (every quarantine reason we can produce from a file) and exact
duplicates, so every table of the graph gets rows.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

VIDEO_DURATIONS = {f"video_{n:03d}": 120.0 + 60.0 * n for n in range(1, 9)}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _viewing(rng: random.Random, user: str, video: str, start: datetime, duration: float) -> list[dict]:
    """One viewing: play, heartbeats every 10 s, maybe a pause/resume, a seek, an end."""
    moment, position, lines = start, 0.0, []

    def emit(name: str, **extra):
        lines.append(
            {
                "eventId": f"{user}-{video}-{int(moment.timestamp() * 1000)}-{name}-{len(lines)}",
                "timestamp": _iso(moment),
                "userId": user,
                "videoId": video,
                "eventName": name,
                "currentTime": round(position, 3),
                "videoDuration": duration,
                **extra,
            }
        )

    emit("video_play")
    watch_for = rng.uniform(20, duration * 1.1)
    while position < min(watch_for, duration):
        step = 10.0
        moment += timedelta(seconds=step)
        position = min(position + step, duration)
        roll = rng.random()
        if roll < 0.05:
            emit("video_pause")
            moment += timedelta(seconds=rng.uniform(5, 60))
            emit("video_resume")
        elif roll < 0.08:
            origin = position
            position = max(0.0, min(duration, position + rng.choice([-30.0, 45.0])))
            emit("video_seek", fromPosition=origin)
        else:
            emit("video_heartbeat")
    if position >= duration:
        emit("video_end")
    elif rng.random() < 0.5:
        emit("video_pause")
    return lines


def day_lines(day: str, users: int, seed: int) -> list[str]:
    """JSON lines of one event date: viewings, a few exact duplicates and bad records."""
    rng = random.Random(f"{seed}-{day}")
    midnight = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    records: list[dict] = []
    for u in range(users):
        user = f"user_{u:04d}"
        moment = midnight + timedelta(minutes=rng.uniform(0, 60 * 20))
        for _ in range(rng.randint(1, 3)):
            video = rng.choice(sorted(VIDEO_DURATIONS))
            viewing = _viewing(rng, user, video, moment, VIDEO_DURATIONS[video])
            records.extend(viewing)
            moment = datetime.fromisoformat(viewing[-1]["timestamp"].replace("Z", "+00:00")) + timedelta(
                seconds=rng.uniform(30, 3000)
            )
    records = [r for r in records if r["timestamp"][:10] == day]
    lines = [json.dumps(r) for r in records]
    lines += [json.dumps(r) for r in rng.sample(records, k=max(1, len(records) // 100))]  # duplicates
    first = records[0]
    lines += [
        "{not json",
        json.dumps({**first, "eventId": "bad-1", "userId": ""}),
        json.dumps({**first, "eventId": "bad-2", "eventName": "teleport"}),
        json.dumps({**first, "eventId": "bad-3", "currentTime": -5}),
        json.dumps({**first, "eventId": "bad-4", "timestamp": "yesterday"}),
        json.dumps({**first, "eventId": "bad-5", "timestamp": "2001-01-01T00:00:00Z"}),
    ]
    rng.shuffle(lines)
    return lines


NIGHT_OWL = "night_owl"


def night_owl_lines(day: str) -> dict[str, list[str]]:
    """A viewing from 23:55 of the day before ``day`` to 00:02 of ``day``: a session that needs D-1 and D."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    steps = [(-300, "video_play", 0.0), (-10, "video_heartbeat", 290.0), (10, "video_heartbeat", 310.0), (120, "video_pause", 420.0)]
    by_day: dict[str, list[str]] = {}
    for offset, name, position in steps:
        moment = midnight + timedelta(seconds=offset)
        record = {
            "eventId": f"{NIGHT_OWL}-{day}-{offset}", "timestamp": _iso(moment), "userId": NIGHT_OWL,
            "videoId": "video_008", "eventName": name, "currentTime": position,
        }
        by_day.setdefault(moment.strftime("%Y-%m-%d"), []).append(json.dumps(record))
    return by_day


def write_landing(
    root: Path, days: list[str], users: int = 40, seed: int = 7, catalog: bool = True, night_owl: bool = True
) -> dict[str, int]:
    """Writes the landing zone; returns the number of lines written per day.

    With ``night_owl``, each day after the first also gets a viewing that
    started before midnight (its first events are in the previous day's folder).
    """
    lines_by_day = {day: day_lines(day, users, seed) for day in days}
    if night_owl:
        for day in days[1:]:
            for event_day, lines in night_owl_lines(day).items():
                lines_by_day.setdefault(event_day, []).extend(lines)
    written = {}
    for day, lines in lines_by_day.items():
        folder = root / "events" / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part-0.jsonl").write_text("\n".join(lines) + "\n")
        written[day] = len(lines)
    if catalog:
        (root / "videos").mkdir(parents=True, exist_ok=True)
        rows = ["video_id,title,duration_seconds"] + [f"{v},Video {v},{d}" for v, d in VIDEO_DURATIONS.items()]
        (root / "videos" / "videos.csv").write_text("\n".join(rows) + "\n")
    return written

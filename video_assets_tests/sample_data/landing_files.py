"""Reading a generated landing zone with plain Python (json, gzip, pyarrow), independently of Spark.

``parse_good_event`` accepts a line as the pipeline would (SEMANTICS.md
section 2) and returns None for a line it would quarantine.
"""

import gzip
import json
import re
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from video_assets.transforms.events import CANONICAL_EVENT_ALIASES


# The contract's alias table, as the raw stage uses it.
KNOWN_EVENT_NAMES = CANONICAL_EVENT_ALIASES


def name_key(name: str) -> str:
    return " ".join(re.sub(r"[\s_\-]+", " ", name.lower()).split())


CANONICAL_BY_ALIAS = {name_key(a): c for c, aliases in KNOWN_EVENT_NAMES.items() for a in (c, *aliases)}


def field(record: dict, camel: str, snake: str):
    value = record.get(camel)
    return value if value is not None else record.get(snake)


def utc_instant(timestamp) -> datetime:
    """Epoch milliseconds (a number or a string of digits) or ISO-8601 with an offset, as a UTC datetime."""
    if isinstance(timestamp, (int, float)) or (isinstance(timestamp, str) and timestamp.isdigit()):
        return datetime.fromtimestamp(int(timestamp) / 1000, timezone.utc)
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(timezone.utc)


def parse_good_event(line: str) -> dict | None:
    """The event of a line the pipeline would accept (SEMANTICS.md 2), or None for a line it would quarantine."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    user = field(record, "userId", "user_id")
    video = field(record, "videoId", "video_id")
    raw_name = field(record, "eventName", "event_name")
    position = field(record, "currentTime", "current_time")
    if not user or not video or not raw_name or record.get("timestamp") in (None, ""):
        return None
    try:
        instant = utc_instant(record["timestamp"])
    except ValueError:
        return None
    if not isinstance(position, (int, float)) or position < 0:
        return None
    name = CANONICAL_BY_ALIAS.get(name_key(raw_name))
    if name is None:
        return None
    return {
        "record": record,
        "instant": instant,
        "user": user,
        "video": video,
        "name": name,
        "position": float(position),
        "from_position": field(record, "fromPosition", "from_position"),
        "duration": field(record, "videoDuration", "video_duration"),
        "event_id": field(record, "eventId", "event_id"),
    }


def event_files(landing: Path) -> list[Path]:
    return sorted(p for p in (landing / "events").glob("date=*/*") if not p.name.startswith(("_", ".")))


def read_lines(path: Path) -> list[str]:
    """The file's records as JSON text (Parquet rows become JSON objects without their null fields)."""
    if path.name.endswith(".parquet"):
        return [json.dumps({k: v for k, v in row.items() if v is not None}) for row in pq.read_table(path).to_pylist()]
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def folder_date(path: Path) -> str:
    return path.parent.name.removeprefix("date=")


def landing_bytes(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


def good_events(sample) -> list[dict]:
    """Every accepted event once (exact duplicate lines removed)."""
    _, _, lines, good = sample
    seen, events = set(), []
    for path, file_lines in lines.items():
        for line, event in zip(file_lines, good[path]):
            if event is not None and line not in seen:
                seen.add(line)
                events.append(event)
    return events


def events_by_user(sample) -> dict[str, list[dict]]:
    order = {"video_heartbeat": 0, "video_pause": 1, "video_end": 2, "video_seek": 3, "video_resume": 4, "video_play": 5}
    users = defaultdict(list)
    for event in good_events(sample):
        users[event["user"]].append(event)
    for events in users.values():
        events.sort(key=lambda e: (e["instant"], order[e["name"]], e["position"]))
    return users

"""How each device's player reports events: its spelling of fields, event names and timestamps.

A player (``PlayerSdk``) writes camelCase or snake_case field names, one of
the contract's aliases for each event name, and timestamps as ISO-8601 in UTC,
ISO-8601 on the viewer's offset, or epoch milliseconds. ``SittingFormatter``
turns a simulated sitting's events into those JSON lines or Parquet rows, and
``bad_line`` corrupts one the way a buggy player or proxy would.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING

from video_assets.sample_data.clock import IsoClock

if TYPE_CHECKING:
    from video_assets.sample_data.viewing import SittingSimulator

UNKNOWN_EVENT_NAMES = ("ad_start", "quality_change", "buffer_start", "fullscreen_enter", "caption_toggle")
UNPARSABLE_TIMESTAMPS = ("yesterday 10pm", "15/01/2024 10:00:00", "not-a-timestamp", "NaN")
"""What bad lines put in eventName (none is an alias of the contract) and in timestamp."""

CAMEL_CASE_KEYS = {
    "event_id": "eventId", "user_id": "userId", "video_id": "videoId", "event_name": "eventName",
    "current_time": "currentTime", "video_duration": "videoDuration", "from_position": "fromPosition",
    "session_id": "sessionId", "device_id": "deviceId",
}
SNAKE_CASE_KEYS = {field: field for field in CAMEL_CASE_KEYS}


def number_text(value: float) -> str:
    """A JSON number with at most 3 decimals and no trailing zeros (``312``, ``312.5``)."""
    return ("%.3f" % value).rstrip("0").rstrip(".")


class SittingFormatter:
    """Turns one sitting's events into what the device's player sends.

    Lines are built from per-(video, event kind) templates in which only the
    event id, timestamp and positions are filled in, which is several times
    faster than ``json.dumps`` per line and gives the same JSON.
    """

    def __init__(self, simulator: SittingSimulator):
        self.viewer = simulator.viewer
        self.device = simulator.device
        self.sdk = simulator.device.sdk
        self.videos = simulator.videos
        self.keys = SNAKE_CASE_KEYS if self.sdk.snake_case else CAMEL_CASE_KEYS
        self.player_session_id = "ps_" + simulator.event_id_base[:16]
        id_base = simulator.event_id_base
        self.event_id_prefix = f"{id_base[:8]}-{id_base[8:12]}-{id_base[12:16]}-{id_base[16:20]}-{id_base[20:24]}"
        self.reported_duration = {}
        self.templates: dict[tuple, str] = {}
        self.offset_minutes = 0 if self.device.timestamp_style == "iso_utc" else self.viewer.utc_offset_minutes
        self.clock = IsoClock(self.offset_minutes)
        self.epoch_timestamps = self.device.timestamp_style == "epoch_ms"
        self.sends_event_id = self.sdk.sends_event_id
        self.simulator = simulator

    def event_id(self, sequence: int) -> str:
        """A UUID-shaped id: 20 random hex digits per sitting, then the event's number in the sitting."""
        return "%s%08x" % (self.event_id_prefix, sequence)

    def duration_reported(self, video: int) -> float | None:
        """The videoDuration this player sends for the video, or None when it sends none."""
        if video not in self.reported_duration:
            reports = self.sdk.sends_duration and self.videos[video].players_report_duration
            self.reported_duration[video] = self.simulator.player_duration(video) if reports else None
        return self.reported_duration[video]

    def timestamp_text(self, epoch_ms: int) -> str:
        """The timestamp as a string (epoch milliseconds as digits), for Parquet's text column."""
        return str(epoch_ms) if self.epoch_timestamps else self.clock.text(epoch_ms)

    def template(self, video: int, kind: int, with_origin: bool) -> str:
        """The JSON line of one event with %s slots for [event id,] timestamp, position [, origin]."""
        key = (video, kind, with_origin)
        template = self.templates.get(key)
        if template is None:
            keys = self.keys
            fields = []
            if self.sdk.sends_event_id:
                fields.append(f'"{keys["event_id"]}":"%s"')
            fields.append('"timestamp":%s')
            fields.append(f'"{keys["user_id"]}":"{self.viewer.user_id}"')
            fields.append(f'"{keys["video_id"]}":"{self.videos[video].video_id}"')
            fields.append(f'"{keys["event_name"]}":"{self.sdk.event_names[kind]}"')
            fields.append(f'"{keys["current_time"]}":%s')
            duration = self.duration_reported(video)
            if duration is not None:
                fields.append(f'"{keys["video_duration"]}":{number_text(duration)}')
            if with_origin:
                fields.append(f'"{keys["from_position"]}":%s')
            fields.append(f'"{keys["session_id"]}":"{self.player_session_id}"')
            fields.append(f'"{keys["device_id"]}":"{self.device.device_id}"')
            fields.append(f'"platform":"{self.sdk.platform}"')
            template = "{" + ",".join(fields) + "}"
            self.templates[key] = template
        return template

    def line(self, sequence: int, event: tuple) -> str:
        """The event's JSON line (hot path: one template lookup and one %-format)."""
        epoch_ms, kind, video, position, origin = event
        template = self.templates.get((video, kind, origin is not None)) or self.template(video, kind, origin is not None)
        timestamp = str(epoch_ms) if self.epoch_timestamps else '"' + self.clock.text(epoch_ms) + '"'
        if self.sends_event_id:
            event_id = "%s%08x" % (self.event_id_prefix, sequence)
            if origin is None:
                return template % (event_id, timestamp, "%.3f" % position)
            return template % (event_id, timestamp, "%.3f" % position, "%.3f" % origin)
        if origin is None:
            return template % (timestamp, "%.3f" % position)
        return template % (timestamp, "%.3f" % position, "%.3f" % origin)

    def record(self, sequence: int, event: tuple) -> dict:
        """The event as a dict in this player's spelling (slow path, for the rare bad lines)."""
        epoch_ms, kind, video, position, origin = event
        keys = self.keys
        timestamp = epoch_ms if self.epoch_timestamps else self.clock.text(epoch_ms)
        record = {}
        if self.sdk.sends_event_id:
            record[keys["event_id"]] = self.event_id(sequence)
        record["timestamp"] = timestamp
        record[keys["user_id"]] = self.viewer.user_id
        record[keys["video_id"]] = self.videos[video].video_id
        record[keys["event_name"]] = self.sdk.event_names[kind]
        record[keys["current_time"]] = round(position, 3)
        duration = self.duration_reported(video)
        if duration is not None:
            record[keys["video_duration"]] = duration
        if origin is not None:
            record[keys["from_position"]] = round(origin, 3)
        record[keys["session_id"]] = self.player_session_id
        record[keys["device_id"]] = self.device.device_id
        record["platform"] = self.sdk.platform
        return record

    def parquet_row(self, sequence: int, event: tuple) -> tuple:
        """The event as a row of PARQUET_COLUMNS (the collector's export: camelCase, timestamp as text)."""
        epoch_ms, kind, video, position, origin = event
        timestamp = self.timestamp_text(epoch_ms)
        return (
            self.event_id(sequence) if self.sdk.sends_event_id else None,
            timestamp,
            self.viewer.user_id,
            self.videos[video].video_id,
            self.sdk.event_names[kind],
            round(position, 3),
            self.duration_reported(video),
            None if origin is None else round(origin, 3),
            self.player_session_id,
            self.device.device_id,
            self.sdk.platform,
        )


def bad_line(formatter: SittingFormatter, sequence: int, event: tuple, good_line: str, rng: random.Random) -> str:
    """A corrupted copy of an event, as a buggy player or proxy would send it; the pipeline must quarantine it."""
    problem = rng.randrange(5)
    if problem == 0:  # cut off mid-write: a strict prefix of a JSON object is never valid JSON
        return good_line[: rng.randint(5, len(good_line) - 2)]
    record = formatter.record(sequence, event)
    keys = formatter.keys
    if problem == 1:
        if rng.random() < 0.5:
            del record[keys["user_id"]]
        else:
            record[keys["user_id"]] = ""
    elif problem == 2:
        record[keys["current_time"]] = -round(rng.uniform(0.5, 30.0), 3)
    elif problem == 3:
        record[keys["event_name"]] = rng.choice(UNKNOWN_EVENT_NAMES)
    else:
        record["timestamp"] = rng.choice(UNPARSABLE_TIMESTAMPS)
    return json.dumps(record, separators=(",", ":"))


PARQUET_COLUMNS = (
    ("eventId", "string"), ("timestamp", "string"), ("userId", "string"), ("videoId", "string"),
    ("eventName", "string"), ("currentTime", "float64"), ("videoDuration", "float64"),
    ("fromPosition", "float64"), ("sessionId", "string"), ("deviceId", "string"), ("platform", "string"),
)

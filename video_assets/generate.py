"""Sample landing data: a deterministic simulation of people watching videos.

``generate_landing`` writes the landing zone of SEMANTICS.md section 1::

    <out>/events/date=YYYY-MM-DD/part-00000.jsonl   (or .jsonl.gz, or .parquet)
    <out>/videos/videos.csv

What is simulated (docs/sample-data.md has the full story):

* **Videos.** A catalog of videos of 60-3600 s with a Zipf-like popularity.
  A few videos are missing from ``videos.csv`` (their duration must come from
  the players' ``videoDuration``) and one or two of those are never reported
  by any player either (their duration can only be inferred).
* **Viewers.** Each user lives in a time zone, owns one or two devices and
  watches on some days, in one to a few *sittings* at realistic local hours.
  Night owls start sittings around 23:00-00:15 UTC that run past midnight.
* **Sittings.** In a sitting the viewer watches one or more videos: play at 0
  (or at a "continue watching" position), a heartbeat every 10 s of wall time
  while playing (the playhead advances at 1x, sometimes 1.25x, 1.5x or 2x),
  pauses followed by resumes, seeks forwards and backwards (with and without
  ``fromPosition``), ``video_end`` at the duration, replays (play at 0 right
  after an end), switches to another video while the first is still playing,
  and endings by pause or by simply closing the browser while playing.
  Two sittings of a user are always more than 45 minutes apart, so a video
  left playing at the end of a sitting is a browser close in the contract's
  terms (section 7) and never a video switch.
* **Players (SDKs).** Each device's player decides how events are spelled:
  camelCase or snake_case field names, which aliases of the event names,
  ISO-8601 timestamps in UTC (``Z``) or with the viewer's local offset (e.g.
  ``+02:00``) or epoch milliseconds, whether an ``eventId`` is sent, whether
  ``videoDuration`` is sent and how exactly it matches the catalog.
* **Noise.** A small share of extra bad lines (invalid JSON, missing userId,
  negative currentTime, unknown event name, unparsable timestamp) and of
  exact duplicate lines (a delivery retried).

Every event is written to the folder of the UTC date of its own timestamp.
The output depends only on the arguments: each viewer, day and sitting draws
from its own ``random.Random`` seeded from (seed, what, which), so days can be
written by separate processes and the bytes are identical run after run.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gzip
import json
import os
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path

# ---------------------------------------------------------------------------
# Constants of the simulated world
# ---------------------------------------------------------------------------

DAY_MS = 86_400_000
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

HEARTBEAT_SECONDS = 10.0
"""Players report progress every 10 s of wall time while playing."""

MIN_GAP_BETWEEN_SITTINGS_SECONDS = 45 * 60
"""Longer than the 30-minute session timeout: a video left playing when a sitting ends is a browser close."""
MIN_SITTING_SECONDS = 15 * 60
MAX_SITTING_SECONDS = 4 * 3600
"""A sitting never lasts longer, so a day only needs the previous day's late sittings to be complete."""

EVENT_FILE_STEM = "part-00000"
FORMAT_SUFFIXES = {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet"}

# Event kinds, in the order of the canonical names below.
PLAY, PAUSE, RESUME, SEEK, HEARTBEAT, END = range(6)
CANONICAL_EVENT_NAMES = ("video_play", "video_pause", "video_resume", "video_seek", "video_heartbeat", "video_end")

PLAYBACK_RATES = ((1.0, 0.84), (1.25, 0.03), (1.5, 0.08), (2.0, 0.05))
"""(rate, share of views): content seconds per wall second."""

PAUSE_CHANCE_PER_HEARTBEAT = 0.012
SEEK_CHANCE_PER_HEARTBEAT = 0.010
STALL_CHANCE_PER_HEARTBEAT = 0.010
"""Per 10 s of playing: a pause, a seek, or buffering (the playhead advances less than the clock)."""

UNKNOWN_EVENT_NAMES = ("ad_start", "quality_change", "buffer_start", "fullscreen_enter", "caption_toggle")
UNPARSABLE_TIMESTAMPS = ("yesterday 10pm", "15/01/2024 10:00:00", "not-a-timestamp", "NaN")


# ---------------------------------------------------------------------------
# Players: how a device spells its events
# ---------------------------------------------------------------------------

CAMEL_CASE_KEYS = {
    "event_id": "eventId", "user_id": "userId", "video_id": "videoId", "event_name": "eventName",
    "current_time": "currentTime", "video_duration": "videoDuration", "from_position": "fromPosition",
    "session_id": "sessionId", "device_id": "deviceId",
}
SNAKE_CASE_KEYS = {field: field for field in CAMEL_CASE_KEYS}


@dataclass(frozen=True)
class PlayerSdk:
    """One player implementation and its habits when it reports events."""

    platform: str
    share_of_devices: float
    snake_case: bool
    event_names: tuple[str, ...]  # by event kind (PLAY..END), all aliases of the contract's table
    timestamp_styles: tuple[tuple[str, float], ...]  # ("iso_utc" | "iso_local" | "epoch_ms", weight)
    sends_event_id: bool
    sends_duration: bool
    seek_origin_share: float  # share of seeks that carry fromPosition
    duration_skew_range: tuple[float, float]  # reported videoDuration minus the real length, seconds
    rewind_on_resume_seconds: float  # some TV players step back a few seconds when playback resumes


PLAYER_SDKS = (
    PlayerSdk(
        platform="web", share_of_devices=0.40, snake_case=False,
        event_names=("play", "pause", "resume", "seeked", "progress", "ended"),
        timestamp_styles=(("iso_utc", 0.7), ("iso_local", 0.3)),
        sends_event_id=True, sends_duration=True, seek_origin_share=0.9,
        duration_skew_range=(0.0, 0.0), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="ios", share_of_devices=0.20, snake_case=False,
        event_names=(
            "Video Playback Started", "Video Playback Paused", "Video Playback Resumed",
            "Video Playback Seek Completed", "Video Content Playing", "Video Playback Completed",
        ),
        timestamp_styles=(("iso_local", 1.0),),
        sends_event_id=True, sends_duration=True, seek_origin_share=0.0,
        duration_skew_range=(0.2, 0.9), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="android", share_of_devices=0.20, snake_case=False,
        event_names=("video_start", "video_pause", "video_resume", "video_seek", "video_heartbeat", "video_complete"),
        timestamp_styles=(("epoch_ms", 0.8), ("iso_utc", 0.2)),
        sends_event_id=True, sends_duration=True, seek_origin_share=0.6,
        duration_skew_range=(-0.4, 0.0), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="smart_tv", share_of_devices=0.12, snake_case=True,
        event_names=("Start", "Paused", "Resumed", "Seek", "Heartbeat", "Complete"),
        timestamp_styles=(("epoch_ms", 0.5), ("iso_utc", 0.5)),
        sends_event_id=False, sends_duration=True, seek_origin_share=0.5,
        duration_skew_range=(0.0, 0.0), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="roku", share_of_devices=0.08, snake_case=True,
        event_names=("started", "paused", "resumed", "seek", "ping", "video-completed"),
        timestamp_styles=(("iso_local", 1.0),),
        sends_event_id=False, sends_duration=False, seek_origin_share=0.0,
        duration_skew_range=(0.0, 0.0), rewind_on_resume_seconds=5.0,
    ),
)

UTC_OFFSETS_MINUTES = ((0, 0.45), (120, 0.25), (60, 0.10), (-300, 0.12), (330, 0.08))
"""(offset from UTC of the viewer's clock, share of viewers)."""


def offset_suffix(offset_minutes: int) -> str:
    """ISO-8601 suffix of a UTC offset: ``Z`` or e.g. ``+02:00``, ``-05:00``, ``+05:30``."""
    if offset_minutes == 0:
        return "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


class IsoClock:
    """Formats epoch milliseconds as ISO-8601 text on one UTC offset's clock, remembering the current date."""

    def __init__(self, offset_minutes: int):
        self.offset_ms = offset_minutes * 60_000
        self.suffix = offset_suffix(offset_minutes)
        self.day_first_ms = 0
        self.day_end_ms = -1
        self.date_text = ""

    def text(self, epoch_ms: int) -> str:
        local_ms = epoch_ms + self.offset_ms
        if not self.day_first_ms <= local_ms < self.day_end_ms:
            epoch_day = local_ms // DAY_MS
            self.day_first_ms = epoch_day * DAY_MS
            self.day_end_ms = self.day_first_ms + DAY_MS
            self.date_text = date.fromordinal(UNIX_EPOCH_ORDINAL + epoch_day).isoformat()
        seconds, millis = divmod(local_ms - self.day_first_ms, 1000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return "%sT%02d:%02d:%02d.%03d%s" % (self.date_text, hours, minutes, seconds, millis, self.suffix)


def number_text(value: float) -> str:
    """A JSON number with at most 3 decimals and no trailing zeros (``312``, ``312.5``)."""
    return ("%.3f" % value).rstrip("0").rstrip(".")


def weighted_choice(rng: random.Random, options: tuple[tuple[object, float], ...]):
    """One value of (value, weight) pairs."""
    pick = rng.random() * sum(weight for _, weight in options)
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


# ---------------------------------------------------------------------------
# Videos
# ---------------------------------------------------------------------------

CATEGORY_DURATION_SECONDS = {
    "music": (120, 420),
    "news": (60, 480),
    "comedy": (180, 900),
    "cooking": (300, 1500),
    "sports": (120, 1200),
    "travel": (300, 1800),
    "education": (420, 3600),
    "gaming": (600, 3600),
}
CATEGORY_TOPICS = {
    "music": ("Acoustic Session", "Live at the Harbour", "Piano Covers", "Festival Highlights", "Studio Diaries"),
    "news": ("Morning Briefing", "Markets Today", "Science Minute", "Week in Review", "Weather Outlook"),
    "comedy": ("Open Mic Night", "Office Sketches", "Stand-up Shorts", "Improv Hour", "Prank Week"),
    "cooking": ("Sourdough Basics", "Weeknight Curries", "Knife Skills", "Vegan Baking", "Street Food Tour"),
    "sports": ("Match Highlights", "Training Drills", "Marathon Diary", "Climbing Technique", "Tactics Board"),
    "travel": ("Alpine Rail Journey", "Island Hopping", "City Walks", "Desert Nights", "Coastal Road Trip"),
    "education": ("Linear Algebra", "Intro to Spark", "History of Rome", "Organic Chemistry", "Public Speaking"),
    "gaming": ("Speedrun Attempts", "Strategy Guide", "Retro Replay", "Boss Fight Breakdown", "Co-op Night"),
}


@dataclass(frozen=True)
class Video:
    """A video of the simulated service.

    ``duration_seconds`` is its real length. ``in_catalog`` says whether it is
    listed in videos.csv; ``players_report_duration`` whether any player ever
    sends its videoDuration (when neither, its duration can only be inferred).
    """

    video_id: str
    title: str
    duration_seconds: float
    category: str
    published_at: str
    popularity: float
    in_catalog: bool
    players_report_duration: bool


def build_videos(count: int, seed: int, start_date: date) -> tuple[Video, ...]:
    """The video library: ``count`` videos, a few of them absent from the catalog."""
    rng = random.Random(f"{seed}:videos")
    categories = list(CATEGORY_DURATION_SECONDS)
    popularity_ranks = list(range(count))
    rng.shuffle(popularity_ranks)
    # Moderately popular videos (popularity rank 4, 8, 12, ...) are the ones the catalog lacks, so they get
    # watched enough for the duration fallbacks to matter without dominating the data.
    step = 4 if count >= 20 else 2
    special_ranks = list(range(step, count, step))
    never_reported_count = 2 if count >= 20 else (1 if count >= 3 else 0)
    uncatalogued_count = max(1, round(count * 0.075)) if count >= 4 else 0
    never_reported_ranks = set(special_ranks[:never_reported_count])
    uncatalogued_ranks = set(special_ranks[never_reported_count : never_reported_count + uncatalogued_count])
    videos = []
    for index in range(count):
        category = categories[index % len(categories)]
        shortest, longest = CATEGORY_DURATION_SECONDS[category]
        rank = popularity_ranks[index]
        absent = rank in never_reported_ranks or rank in uncatalogued_ranks
        # Catalogued lengths are whole seconds; the others only exist as players measure them.
        duration = float(rng.randint(shortest, longest)) if not absent else round(rng.uniform(shortest, longest), 3)
        topic = rng.choice(CATEGORY_TOPICS[category])
        title = f"{topic}, Part {index // len(categories) + 1}" if rng.random() < 0.4 else f"{topic} #{index + 1}"
        published = start_date - timedelta(days=rng.randint(3, 720), seconds=rng.randint(0, 86_399))
        videos.append(
            Video(
                video_id=f"vid_{index + 1:04d}",
                title=title,
                duration_seconds=duration,
                category=category,
                published_at=f"{published.isoformat()}T{rng.randint(6, 20):02d}:00:00Z",
                popularity=1.0 / (rank + 1) ** 0.9,
                in_catalog=not absent,
                players_report_duration=rank not in never_reported_ranks,
            )
        )
    return tuple(videos)


class VideoPicker:
    """Chooses what a viewer plays next: by popularity, often from the viewer's favourite category."""

    FAVOURITE_CATEGORY_SHARE = 0.45

    def __init__(self, videos: tuple[Video, ...]):
        self.all_videos = self._cumulative(range(len(videos)), videos)
        self.by_category = {
            category: self._cumulative([i for i, v in enumerate(videos) if v.category == category], videos)
            for category in CATEGORY_DURATION_SECONDS
        }

    @staticmethod
    def _cumulative(indexes, videos):
        indexes = list(indexes)
        totals, running = [], 0.0
        for index in indexes:
            running += videos[index].popularity
            totals.append(running)
        return indexes, totals

    def pick(self, rng: random.Random, favourite_category: str, avoid: set[int]) -> int:
        """A video index, trying a few times to avoid the ones already watched in this sitting."""
        index = 0
        for _ in range(4):
            indexes, totals = self.by_category.get(favourite_category, ((), ()))
            if not indexes or rng.random() >= self.FAVOURITE_CATEGORY_SHARE:
                indexes, totals = self.all_videos
            index = indexes[min(bisect.bisect(totals, rng.random() * totals[-1]), len(indexes) - 1)]
            if index not in avoid:
                return index
        return index


# ---------------------------------------------------------------------------
# Viewers and their days
# ---------------------------------------------------------------------------

DAYPARTS_LOCAL_HOURS = ((6.5, 9.5), (11.5, 14.0), (14.0, 18.5), (18.5, 23.5), (23.5, 25.5))
"""Morning, lunch, afternoon, evening, late night (past midnight), in the viewer's local hours."""


@dataclass(frozen=True)
class Device:
    """One device of a viewer: its player and how that player writes timestamps."""

    device_id: str
    sdk: PlayerSdk
    timestamp_style: str
    duration_skew_seconds: float


@dataclass(frozen=True)
class Viewer:
    """A user of the service and their habits."""

    index: int
    user_id: str
    utc_offset_minutes: int
    devices: tuple[Device, ...]
    active_day_share: float  # chance of watching anything on a given day
    sittings_per_active_day: float
    videos_per_sitting: float
    favourite_category: str
    night_owl: bool  # often starts a sitting around 23:00-00:15 UTC
    daypart_weights: tuple[float, ...]


def user_id_width(users: int) -> int:
    return max(5, len(str(max(users - 1, 0))))


def build_viewer(index: int, seed: int, id_width: int) -> Viewer:
    """The habits of viewer number ``index`` (the same for every day and every process)."""
    rng = random.Random(f"{seed}:viewer:{index}")
    offset = weighted_choice(rng, UTC_OFFSETS_MINUTES)
    sdk_weights = tuple((sdk, sdk.share_of_devices) for sdk in PLAYER_SDKS)
    devices = []
    for number in range(1 if rng.random() < 0.65 else 2):
        sdk = weighted_choice(rng, sdk_weights)
        low, high = sdk.duration_skew_range
        devices.append(
            Device(
                device_id=f"dev_{rng.getrandbits(48):012x}",
                sdk=sdk,
                timestamp_style=weighted_choice(rng, sdk.timestamp_styles),
                duration_skew_seconds=round(rng.uniform(low, high), 3) if high > low else low,
            )
        )
    evening = rng.uniform(0.4, 0.8)
    rest = 1.0 - evening
    daypart_weights = (rest * 0.3, rest * 0.25, rest * 0.3, evening, rest * 0.15)
    return Viewer(
        index=index,
        user_id=f"user_{index:0{id_width}d}",
        utc_offset_minutes=offset,
        devices=tuple(devices),
        active_day_share=rng.uniform(0.35, 0.95),
        sittings_per_active_day=rng.uniform(1.0, 2.6),
        videos_per_sitting=rng.uniform(1.5, 4.0),
        favourite_category=rng.choice(list(CATEGORY_DURATION_SECONDS)),
        night_owl=rng.random() < 0.12,
        daypart_weights=daypart_weights,
    )


@dataclass(frozen=True)
class PlannedSitting:
    """When a viewer sits down to watch, on which device, and by when they are gone at the latest."""

    viewer_index: int
    day_ordinal: int  # the UTC day the sitting starts on
    number: int  # its position among that day's sittings
    start_ms: int
    deadline_ms: int  # all its events happen before this instant
    device_number: int


def day_start_ms(day_ordinal: int) -> int:
    return (day_ordinal - UNIX_EPOCH_ORDINAL) * DAY_MS


def sitting_starts(viewer: Viewer, day_ordinal: int, seed: int) -> list[int]:
    """Epoch ms at which the viewer starts watching on a UTC day (sorted, at least an hour apart)."""
    rng = random.Random(f"{seed}:day:{viewer.index}:{day_ordinal}")
    if rng.random() >= viewer.active_day_share:
        return []
    count = max(1, round(rng.gauss(viewer.sittings_per_active_day, 0.7)))
    seconds_in_day = []
    for _ in range(count):
        first_hour, last_hour = weighted_choice(rng, tuple(zip(DAYPARTS_LOCAL_HOURS, viewer.daypart_weights)))
        local_seconds = rng.uniform(first_hour, last_hour) * 3600
        seconds_in_day.append((local_seconds - viewer.utc_offset_minutes * 60) % 86_400)
    if viewer.night_owl and rng.random() < 0.7:
        # Around midnight UTC: mostly just before it, so the sitting runs into the next day.
        seconds_in_day.append(rng.uniform(23.0, 24.0) * 3600 if rng.random() < 0.8 else rng.uniform(0, 0.25) * 3600)
    starts, previous = [], None
    for second in sorted(seconds_in_day):
        if previous is None or second - previous >= MIN_SITTING_SECONDS + MIN_GAP_BETWEEN_SITTINGS_SECONDS:
            starts.append(second)
            previous = second
    base = day_start_ms(day_ordinal)
    return [base + int(second * 1000) for second in starts]


def planned_sittings(viewer: Viewer, day_ordinal: int, seed: int) -> list[PlannedSitting]:
    """The sittings starting on a UTC day, each ending 45 minutes before the viewer's next one at the latest."""
    starts = sitting_starts(viewer, day_ordinal, seed)
    next_starts = starts[1:] + sitting_starts(viewer, day_ordinal + 1, seed)[:1]
    device_rng = random.Random(f"{seed}:devices:{viewer.index}:{day_ordinal}")
    sittings = []
    for number, start in enumerate(starts):
        deadline = start + MAX_SITTING_SECONDS * 1000
        if number < len(next_starts):
            deadline = min(deadline, next_starts[number] - MIN_GAP_BETWEEN_SITTINGS_SECONDS * 1000)
        device_number = device_rng.randrange(len(viewer.devices))
        if deadline - start >= MIN_SITTING_SECONDS * 1000:
            sittings.append(PlannedSitting(viewer.index, day_ordinal, number, start, deadline, device_number))
    return sittings


# ---------------------------------------------------------------------------
# A sitting: the viewer's actions as player events
# ---------------------------------------------------------------------------

# How a view of one video ended, as far as the sitting is concerned.
VIEW_ENDED, VIEW_LEFT_PLAYING, VIEW_PAUSED_FOR_GOOD, VIEW_CUT_OFF = range(4)


class SittingSimulator:
    """Simulates one sitting and collects its player events.

    An event is ``(epoch_ms, kind, video_index, position_seconds, from_position_or_None)``;
    ``position`` is the playhead as the player reports it (``currentTime``).
    ``behaviour`` counts what the viewer did (views, replays, switches, ...).
    """

    def __init__(self, plan: PlannedSitting, viewer: Viewer, videos: tuple[Video, ...], picker: VideoPicker, seed: int):
        self.rng = random.Random(f"{seed}:sitting:{viewer.index}:{plan.day_ordinal}:{plan.number}")
        self.event_id_base = "%024x" % self.rng.getrandbits(96)
        self.plan = plan
        self.viewer = viewer
        self.device = viewer.devices[plan.device_number]
        self.videos = videos
        self.picker = picker
        self.clock = plan.start_ms / 1000.0  # wall clock, epoch seconds
        self.deadline = plan.deadline_ms / 1000.0
        self.position = 0.0  # playhead when a view is left without an event
        self.events: list[tuple] = []
        self.behaviour: Counter = Counter()

    # -- recording -----------------------------------------------------------

    def emit(self, kind: int, video: int, position: float, from_position: float | None = None) -> None:
        self.events.append((int(self.clock * 1000), kind, video, position, from_position))

    def player_duration(self, video: int) -> float:
        """The length this device's player measures for the video (the end position it reports)."""
        return round(self.videos[video].duration_seconds + self.device.duration_skew_seconds, 3)

    # -- the sitting ---------------------------------------------------------

    def run(self) -> list[tuple]:
        rng = self.rng
        views_wanted = 1 + int(rng.expovariate(1.0 / max(self.viewer.videos_per_sitting - 1.0, 0.1)))
        watched: set[int] = set()
        video = self.picker.pick(rng, self.viewer.favourite_category, watched)
        start_position = self.continue_watching_position(video)
        self.behaviour["sittings"] += 1
        while True:
            if self.events and self.clock >= self.deadline - 60:
                break
            outcome = self.watch(video, start_position)
            watched.add(video)
            views_wanted -= 1
            more_wanted = views_wanted > 0 and self.clock < self.deadline - 300
            if outcome == VIEW_CUT_OFF:
                self.behaviour["browser_closes"] += 1
                break
            if outcome == VIEW_PAUSED_FOR_GOOD:
                self.behaviour["pause_exits"] += 1
                break
            if outcome == VIEW_ENDED:
                self.behaviour["completed_views"] += 1
                if rng.random() < (0.25 if self.videos[video].category == "music" else 0.08):
                    self.behaviour["replays"] += 1
                    self.clock += rng.uniform(1.0, 4.0)
                    start_position = 0.0
                    continue
                if not more_wanted:
                    break
                self.clock += rng.uniform(5.0, 15.0) if rng.random() < 0.5 else rng.uniform(15.0, 90.0)
            else:  # left while playing
                if more_wanted and rng.random() < 0.55:
                    self.behaviour["switches"] += 1
                    self.clock += rng.uniform(1.0, 9.0)  # before the next heartbeat would have come
                elif more_wanted:
                    self.pause_here(video)
                    self.behaviour["pause_then_next"] += 1
                    self.clock += rng.uniform(5.0, 120.0)
                elif rng.random() < 0.5:
                    self.behaviour["browser_closes"] += 1
                    break
                else:
                    self.pause_here(video)
                    self.behaviour["pause_exits"] += 1
                    break
            video = self.picker.pick(rng, self.viewer.favourite_category, watched)
            start_position = self.continue_watching_position(video)
        return self.events

    def continue_watching_position(self, video: int) -> float:
        """Usually 0; sometimes the viewer resumes a video they started on another day."""
        if self.rng.random() < 0.15:
            self.behaviour["continue_watching_starts"] += 1
            return round(self.videos[video].duration_seconds * self.rng.uniform(0.1, 0.75), 3)
        return 0.0

    def pause_here(self, video: int) -> None:
        self.emit(PAUSE, video, self.position)

    # -- one view of one video -----------------------------------------------

    def viewing_intent(self, start: float, end: float) -> tuple[bool, float]:
        """(will watch to the end, playhead position at which the viewer stops otherwise)."""
        finish_share = 0.7 if end <= 300 else 0.5 if end <= 900 else 0.35 if end <= 1800 else 0.22
        if self.rng.random() < finish_share or end - start < 30:
            return True, end
        return False, min(end - 10.0, start + 8.0 + (end - start) * self.rng.betavariate(1.1, 2.2))

    def watch(self, video: int, start: float) -> int:
        """Plays one video from ``start`` until the viewer ends it, leaves it or the sitting must end."""
        rng = self.rng
        end = self.player_duration(video)
        rate = weighted_choice(rng, PLAYBACK_RATES)
        finishing, leave_at = self.viewing_intent(start, end)
        position = start
        self.behaviour["views"] += 1
        self.emit(PLAY, video, position)
        while True:
            wall_until_leaving = (leave_at - position) / rate
            if self.clock + min(wall_until_leaving, HEARTBEAT_SECONDS) > self.deadline:
                self.position = position
                return VIEW_CUT_OFF  # the laptop is closed mid-play
            if wall_until_leaving <= HEARTBEAT_SECONDS:
                self.clock += max(wall_until_leaving, 0.25)
                self.position = leave_at
                if finishing:
                    self.emit(END, video, end)
                    return VIEW_ENDED
                return VIEW_LEFT_PLAYING
            draw = rng.random()
            if draw < PAUSE_CHANCE_PER_HEARTBEAT:
                position = self.pause_and_resume(video, position, rate)
                if position is None:
                    return VIEW_PAUSED_FOR_GOOD
            elif draw < PAUSE_CHANCE_PER_HEARTBEAT + SEEK_CHANCE_PER_HEARTBEAT:
                position, finishing, leave_at = self.seek_while_playing(video, position, rate, end, finishing, leave_at)
            else:
                wall = HEARTBEAT_SECONDS + (rng.random() - 0.5) * 0.08
                self.clock += wall
                if draw > 1.0 - STALL_CHANCE_PER_HEARTBEAT:
                    position += rate * wall * rng.uniform(0.3, 0.9)  # buffering
                else:
                    position += rate * wall
                self.behaviour["heartbeats"] += 1
                self.emit(HEARTBEAT, video, position)

    def pause_and_resume(self, video: int, position: float, rate: float) -> float | None:
        """Pause, perhaps seek while paused, then resume; None when the viewer never comes back."""
        rng = self.rng
        played = rng.uniform(0.5, 9.5)
        self.clock += played
        position += rate * played
        self.behaviour["pauses"] += 1
        self.emit(PAUSE, video, position)
        draw = rng.random()
        pause_seconds = (
            rng.uniform(2, 30) if draw < 0.6 else rng.uniform(30, 300) if draw < 0.95 else rng.uniform(300, 1500)
        )
        if self.clock + pause_seconds + HEARTBEAT_SECONDS > self.deadline:
            return None
        if rng.random() < 0.08:  # scrub while paused
            self.clock += rng.uniform(1.0, 6.0)
            target = max(0.0, position + rng.uniform(-60.0, 60.0))
            target = min(target, self.player_duration(video) - 15.0)
            target = max(target, 0.0)
            origin = position if rng.random() < self.device.sdk.seek_origin_share else None
            self.behaviour["seeks"] += 1
            self.emit(SEEK, video, target, origin)
            position = target
        self.clock += pause_seconds
        rewind = self.device.sdk.rewind_on_resume_seconds
        position = max(0.0, position - rewind)
        self.emit(RESUME, video, position)
        return position

    def seek_while_playing(self, video, position, rate, end, finishing, leave_at):
        """A seek some seconds after the last event: forward (skipping) or backward (re-watching)."""
        rng = self.rng
        played = rng.uniform(0.5, 9.5)
        self.clock += played
        origin = position + rate * played
        if rng.random() < 0.6:
            target = min(origin + rng.uniform(15.0, max(20.0, 0.35 * (end - origin))), end - 2.0)
            self.behaviour["forward_seeks"] += 1
        else:
            target = max(0.0, origin - rng.uniform(5.0, 90.0))
            self.behaviour["backward_seeks"] += 1
        target = max(target, 0.0)
        from_position = origin if rng.random() < self.device.sdk.seek_origin_share else None
        self.behaviour["seeks"] += 1
        self.emit(SEEK, video, target, from_position)
        if not finishing and target >= leave_at - 1.0:
            # Skipped past where they would have stopped: they watch a little more from there.
            leave_at = target + rate * rng.uniform(10.0, 180.0)
            if leave_at >= end - 10.0:
                finishing, leave_at = True, end
        return target, finishing, leave_at


def simulate_sitting(plan: PlannedSitting, viewer: Viewer, videos, picker, seed: int) -> SittingSimulator:
    simulator = SittingSimulator(plan, viewer, videos, picker, seed)
    simulator.run()
    events = simulator.events
    if events and (events[0][0] // DAY_MS) != (events[-1][0] // DAY_MS):
        simulator.behaviour["midnight_crossings"] += 1
    return simulator


# ---------------------------------------------------------------------------
# Writing events: JSON lines (fast templates) and Parquet rows
# ---------------------------------------------------------------------------


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
PARQUET_ROW_GROUP_ROWS = 250_000


class TextEventFile:
    """Buffered JSON-lines output, optionally gzip-compressed (with mtime 0, so bytes are reproducible)."""

    def __init__(self, path: Path, compressed: bool):
        self._raw = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        self._stream = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=6) if compressed else self._raw
        self._pending: list[str] = []

    def add(self, lines: list[str]) -> None:
        self._pending.extend(lines)
        if len(self._pending) >= 20_000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._stream.write(("\n".join(self._pending) + "\n").encode("utf-8"))
            self._pending = []

    def close(self) -> None:
        self.flush()
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()


class ParquetEventFile:
    """Parquet output with one row per event, written in row groups."""

    def __init__(self, path: Path):
        import pyarrow as pa  # noqa: PLC0415 - only needed for parquet days
        import pyarrow.parquet as pq  # noqa: PLC0415

        self._pa = pa
        self._schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in PARQUET_COLUMNS])
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="snappy")
        self._rows: list[tuple] = []

    def add(self, rows: list[tuple]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= PARQUET_ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        columns = list(zip(*self._rows))
        arrays = [self._pa.array(list(values), type=field.type) for values, field in zip(columns, self._schema)]
        self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self._schema))
        self._rows = []

    def close(self) -> None:
        self.flush()
        self._writer.close()


# ---------------------------------------------------------------------------
# One day
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSettings:
    """What every day of one run shares."""

    out_dir: str
    seed: int
    users: int
    videos: tuple[Video, ...]
    bad_line_share: float
    duplicate_share: float


@dataclass(frozen=True)
class DaysJob:
    """Consecutive UTC days, each with its file format, written in order by one process."""

    settings: RunSettings
    days: tuple[tuple[int, str], ...]  # (day ordinal, file format)


Carried = dict[int, list[SittingSimulator]]
"""Per viewer index: sittings of the previous day that run past midnight into the day being written."""


def write_days(job: DaysJob) -> list[dict]:
    """Writes consecutive days, handing the sittings that cross midnight on to the next day."""
    carried: Carried | None = None
    results = []
    for day_ordinal, file_format in job.days:
        result, carried = write_day(job.settings, day_ordinal, file_format, carried)
        results.append(result)
    return results


def day_folder(out_dir: str | Path, day_ordinal: int) -> Path:
    return Path(out_dir) / "events" / f"date={date.fromordinal(day_ordinal).isoformat()}"


def open_event_file(folder: Path, file_format: str):
    """(writer, temporary path, final path); a previous run's file of this day, in any format, is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in FORMAT_SUFFIXES.values():
        (folder / f"{EVENT_FILE_STEM}{suffix}").unlink(missing_ok=True)
    final_path = folder / f"{EVENT_FILE_STEM}{FORMAT_SUFFIXES[file_format]}"
    temporary_path = folder / f"_{final_path.name}.tmp"  # readers skip "_" files until it is complete
    if file_format == "parquet":
        return ParquetEventFile(temporary_path), temporary_path, final_path
    return TextEventFile(temporary_path, compressed=file_format == "jsonl.gz"), temporary_path, final_path


def late_sittings_of_previous_day(viewer: Viewer, day_ordinal: int, settings: RunSettings, picker) -> list:
    """Re-simulates the previous day's sittings that may run into this day (the first day a process writes)."""
    earliest_start = day_start_ms(day_ordinal) - MAX_SITTING_SECONDS * 1000
    return [
        simulate_sitting(plan, viewer, settings.videos, picker, settings.seed)
        for plan in planned_sittings(viewer, day_ordinal - 1, settings.seed)
        if plan.start_ms >= earliest_start
    ]


def write_day(settings: RunSettings, day_ordinal: int, file_format: str, carried: Carried | None) -> tuple[dict, Carried]:
    """Simulates every viewer on one UTC day and writes the events whose UTC date is that day.

    ``carried`` holds the previous day's sittings that cross midnight (None:
    re-simulate them). The output is the same bytes either way. Returns the
    day's counts and the sittings to carry into the next day.
    """
    output, temporary_path, final_path = open_event_file(day_folder(settings.out_dir, day_ordinal), file_format)
    is_parquet = file_format == "parquet"
    picker = VideoPicker(settings.videos)
    noise_rng = random.Random(f"{settings.seed}:noise:{day_ordinal}")
    first_ms = day_start_ms(day_ordinal)
    last_ms = first_ms + DAY_MS
    id_width = user_id_width(settings.users)
    duplicate_cut = settings.duplicate_share
    bad_cut = settings.duplicate_share + (0.0 if is_parquet else settings.bad_line_share)
    counts: Counter = Counter()
    behaviour: Counter = Counter()
    carry_on: Carried = {}

    for viewer_index in range(settings.users):
        viewer = build_viewer(viewer_index, settings.seed, id_width)
        if carried is None:
            earlier = late_sittings_of_previous_day(viewer, day_ordinal, settings, picker)
        else:
            earlier = carried.get(viewer_index, [])
        own = [
            simulate_sitting(plan, viewer, settings.videos, picker, settings.seed)
            for plan in planned_sittings(viewer, day_ordinal, settings.seed)
        ]
        for simulator in own:
            behaviour.update(simulator.behaviour)
            if simulator.events and simulator.events[-1][0] >= last_ms:
                carry_on.setdefault(viewer_index, []).append(simulator)
        for simulator in earlier + own:
            events = simulator.events
            if not events or events[-1][0] < first_ms or events[0][0] >= last_ms:
                continue
            formatter = SittingFormatter(simulator)
            batch = []
            for sequence, event in enumerate(events):
                if not first_ms <= event[0] < last_ms:
                    continue
                record = formatter.parquet_row(sequence, event) if is_parquet else formatter.line(sequence, event)
                batch.append(record)
                counts["events"] += 1
                draw = noise_rng.random()
                if draw < duplicate_cut:
                    batch.append(record)  # the same delivery, retried
                    counts["duplicates"] += 1
                elif draw < bad_cut:
                    batch.append(bad_line(formatter, sequence, event, record, noise_rng))
                    counts["bad_lines"] += 1
            output.add(batch)
    output.close()
    os.replace(temporary_path, final_path)
    counts["lines"] = counts["events"] + counts["duplicates"] + counts["bad_lines"]
    result = {"day": date.fromordinal(day_ordinal).isoformat(), "counts": dict(counts), "behaviour": dict(behaviour)}
    return result, carry_on


def count_viewer_events(viewer: Viewer, day_ordinals: list[int], videos, picker: VideoPicker, seed: int) -> int:
    """How many good events a viewer contributes to the given consecutive UTC days (nothing is written)."""
    first_ms = day_start_ms(day_ordinals[0])
    last_ms = day_start_ms(day_ordinals[-1]) + DAY_MS
    plans = [p for p in planned_sittings(viewer, day_ordinals[0] - 1, seed) if p.start_ms >= first_ms - MAX_SITTING_SECONDS * 1000]
    for day_ordinal in day_ordinals:
        plans.extend(planned_sittings(viewer, day_ordinal, seed))
    total = 0
    for plan in plans:
        events = simulate_sitting(plan, viewer, videos, picker, seed).events
        total += sum(1 for event in events if first_ms <= event[0] < last_ms)
    return total


CALIBRATION_VIEWERS = 2000
"""At most this many viewers are simulated (without writing) to size a run for ``target_events``.
Events per viewer vary with a coefficient of variation of about 0.9, so their mean over 2000
viewers is known to about 2%."""


@dataclass(frozen=True)
class CountJob:
    """Viewers ``first``..``end - 1`` to simulate over some days, only counting their events."""

    first: int
    end: int
    day_ordinals: tuple[int, ...]
    videos: tuple[Video, ...]
    seed: int


def count_events_of_viewers(job: CountJob) -> list[int]:
    picker = VideoPicker(job.videos)
    return [
        count_viewer_events(build_viewer(index, job.seed, 5), list(job.day_ordinals), job.videos, picker, job.seed)
        for index in range(job.first, job.end)
    ]


def users_for_target(target_events: int, day_ordinals: list[int], videos, seed: int, mapper=map, parts: int = 1) -> int:
    """The number of viewers whose simulated days produce about ``target_events`` good events.

    Viewers are counted in order, in growing batches (split over ``parts``
    workers through ``mapper``), until their events reach the target, which
    then is met to within one viewer; past CALIBRATION_VIEWERS the number is
    extrapolated from their mean. The counted viewers are the first ones the
    real run writes.
    """
    counts: list[int] = []
    batch = 64
    while len(counts) < CALIBRATION_VIEWERS:
        first, end = len(counts), min(len(counts) + batch, CALIBRATION_VIEWERS)
        jobs = [CountJob(a, b, tuple(day_ordinals), videos, seed) for a, b in split_range(first, end, parts)]
        for part in mapper(count_events_of_viewers, jobs):
            counts.extend(part)
        running = 0
        for index, count in enumerate(counts):
            if running + count >= target_events:
                closer_with = running + count - target_events <= target_events - running
                return max(1, index + 1 if closer_with else index)
            running += count
        batch *= 2
    total = sum(counts)
    return max(1, round(target_events * len(counts) / total)) if total else len(counts)


def split_range(first: int, end: int, parts: int) -> list[tuple[int, int]]:
    """[first, end) as up to ``parts`` consecutive, non-empty (start, end) ranges."""
    return [(chunk[0], chunk[-1] + 1) for chunk in consecutive_chunks(list(range(first, end)), parts) if chunk]


# ---------------------------------------------------------------------------
# The whole landing zone
# ---------------------------------------------------------------------------


def write_catalog(out_dir: str | Path, videos: tuple[Video, ...]) -> Path:
    """videos/videos.csv with the catalogued videos only (video_id,title,duration_seconds,category,published_at)."""
    path = Path(out_dir) / "videos" / "videos.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("video_id", "title", "duration_seconds", "category", "published_at"))
        for video in videos:
            if video.in_catalog:
                writer.writerow(
                    (video.video_id, video.title, number_text(video.duration_seconds), video.category, video.published_at)
                )
    return path


def parse_formats(formats) -> tuple[str, ...]:
    """Formats as a tuple, from a tuple/list or a comma-separated string; unknown ones are an error."""
    if isinstance(formats, str):
        formats = [part.strip() for part in formats.split(",") if part.strip()]
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMAT_SUFFIXES]
    if not formats or unknown:
        raise ValueError(f"formats must be among {', '.join(FORMAT_SUFFIXES)}; got {formats!r}")
    return formats


@contextmanager
def worker_pool(workers: int):
    """A process pool of ``workers`` processes, or None (work in this process) for one."""
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=process_context()) as pool:
        yield pool


def process_context():
    """``fork`` where it exists: the workers only run this module's pure-Python code, and unlike
    ``spawn`` it works from scripts without an ``if __name__ == "__main__"`` guard."""
    try:
        return get_context("fork")
    except ValueError:
        return get_context("spawn")


def consecutive_chunks(items: list, count: int) -> list[list]:
    """``items`` cut into ``count`` runs of consecutive items of nearly equal length (none empty)."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    chunks, start = [], 0
    for number in range(count):
        end = start + size + (1 if number < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def default_process_count(expected_events: int, day_count: int) -> int:
    """Two processes (one day each at a time) when the run is big enough to repay starting them."""
    if expected_events < 300_000 or day_count < 2:
        return 1
    return max(1, min(2, day_count, os.cpu_count() or 1))


def generate_landing(
    out_dir,
    *,
    days: int = 7,
    users: int = 500,
    videos: int = 40,
    seed: int = 7,
    start_date: str = "2024-01-15",
    target_events: int | None = None,
    bad_line_share: float = 0.003,
    duplicate_share: float = 0.003,
    formats=("jsonl",),
    processes: int | None = None,
) -> dict:
    """Simulates viewers and writes the landing zone; returns what was written.

    ``target_events`` overrides ``users`` with the number of viewers that
    produces about that many good events. ``formats`` rotate day by day.
    ``processes`` (default: 2 for big runs) write days in parallel; the bytes
    do not depend on it.

    Returns ``{"events", "bad_lines", "duplicates", "lines", "files", "days",
    "seconds", "users", "behaviour"}``: good events, extra bad lines, extra
    duplicate lines, all lines, event files written, the UTC dates, the wall
    time, the viewers simulated, and counts of what the viewers did in the
    sittings that started on those days.
    """
    started = time.perf_counter()
    if days < 1 or videos < 1:
        raise ValueError("days and videos must be at least 1")
    if not (0 <= bad_line_share < 0.5 and 0 <= duplicate_share < 0.5):
        raise ValueError("bad_line_share and duplicate_share must be between 0 and 0.5")
    formats = parse_formats(formats)
    first_day = date.fromisoformat(str(start_date))
    day_ordinals = [first_day.toordinal() + offset for offset in range(days)]
    library = build_videos(videos, seed, first_day)
    expected_events = target_events if target_events is not None else users * days * 140
    workers = processes or default_process_count(expected_events, days)
    with worker_pool(workers) as pool:
        mapper = pool.map if pool else map
        if target_events is not None:
            users = users_for_target(int(target_events), day_ordinals, library, seed, mapper, workers)
        if users < 0:
            raise ValueError("users must not be negative")
        write_catalog(out_dir, library)
        settings = RunSettings(str(out_dir), seed, users, library, bad_line_share, duplicate_share)
        day_formats = [(ordinal, formats[number % len(formats)]) for number, ordinal in enumerate(day_ordinals)]
        jobs = [DaysJob(settings, tuple(chunk)) for chunk in consecutive_chunks(day_formats, workers)]
        results = [result for chunk_results in mapper(write_days, jobs) for result in chunk_results]

    counts, behaviour = Counter(), Counter()
    for result in results:
        counts.update(result["counts"])
        behaviour.update(result["behaviour"])
    return {
        "events": counts["events"],
        "bad_lines": counts["bad_lines"],
        "duplicates": counts["duplicates"],
        "lines": counts["lines"],
        "files": len(results),
        "days": [result["day"] for result in results],
        "seconds": round(time.perf_counter() - started, 3),
        "users": users,
        "behaviour": dict(sorted(behaviour.items())),
    }


def summary_line(stats: dict, out_dir) -> str:
    days = stats["days"]
    span = f"{days[0]}..{days[-1]}" if days else "no days"
    return (
        f"wrote {stats['events']:,} events ({stats['lines']:,} lines: {stats['bad_lines']:,} bad, "
        f"{stats['duplicates']:,} duplicates) from {stats['users']:,} viewers in {stats['files']} files "
        f"for {span} to {out_dir} in {stats['seconds']:.1f} s"
    )


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="video-assets generate",
        description="Write simulated video-player events and a video catalog in the landing-zone layout.",
    )
    parser.add_argument("--out", default="data/landing", help="landing zone root (default: data/landing)")
    parser.add_argument("--days", type=int, default=7, help="number of UTC days (default: 7)")
    parser.add_argument("--users", type=int, default=500, help="number of viewers (default: 500)")
    parser.add_argument("--videos", type=int, default=40, help="number of videos (default: 40)")
    parser.add_argument("--seed", type=int, default=7, help="random seed; same arguments, same bytes (default: 7)")
    parser.add_argument("--start-date", default="2024-01-15", help="first UTC day, YYYY-MM-DD (default: 2024-01-15)")
    parser.add_argument(
        "--target-events", type=int, default=None, help="about this many events (±10%%), overriding --users"
    )
    parser.add_argument(
        "--formats", default="jsonl", help="comma-separated, rotated by day: jsonl, jsonl.gz, parquet (default: jsonl)"
    )
    parser.add_argument("--bad-line-share", type=float, default=0.003, help="extra bad lines per event (default: 0.003)")
    parser.add_argument(
        "--duplicate-share", type=float, default=0.003, help="extra duplicate lines per event (default: 0.003)"
    )
    parser.add_argument("--processes", type=int, default=None, help="parallel day writers (default: 2 for big runs)")
    return parser


def cli(argv: list[str] | None = None) -> int:
    """``video-assets generate ...``: writes the landing zone and prints a one-line summary."""
    args = build_argument_parser().parse_args(argv)
    stats = generate_landing(
        args.out,
        days=args.days,
        users=args.users,
        videos=args.videos,
        seed=args.seed,
        start_date=args.start_date,
        target_events=args.target_events,
        bad_line_share=args.bad_line_share,
        duplicate_share=args.duplicate_share,
        formats=parse_formats(args.formats),
        processes=args.processes,
    )
    print(summary_line(stats, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())

"""The simulated world: videos, viewers with their devices and habits, and when they sit down to watch.

Every draw comes from a ``random.Random`` seeded from (seed, what, which), so
a viewer, a day or a video is the same whichever process builds it.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta

from video_assets.sample_data.clock import day_start_ms
from video_assets.sample_data.players import PLAYER_SDKS, PlayerSdk

MIN_GAP_BETWEEN_SITTINGS_SECONDS = 45 * 60
"""Longer than the 30-minute session timeout: a video left playing when a sitting ends is a browser close."""
MIN_SITTING_SECONDS = 15 * 60
MAX_SITTING_SECONDS = 4 * 3600
"""A sitting never lasts longer, so a day only needs the previous day's late sittings to be complete."""


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

UTC_OFFSETS_MINUTES = ((0, 0.45), (120, 0.25), (60, 0.10), (-300, 0.12), (330, 0.08))
"""(offset from UTC of the viewer's clock, share of viewers)."""


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

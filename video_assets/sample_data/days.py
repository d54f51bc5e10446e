"""Simulating every viewer over UTC days: writing a day's events, or only counting them to size a run."""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date

from video_assets.sample_data.clock import DAY_MS, day_start_ms
from video_assets.sample_data.formats import SittingFormatter, bad_line
from video_assets.sample_data.viewing import SittingSimulator, simulate_sitting
from video_assets.sample_data.world import (
    MAX_SITTING_SECONDS,
    Video,
    VideoPicker,
    Viewer,
    build_viewer,
    planned_sittings,
    user_id_width,
)
from video_assets.sample_data.writers import day_folder, open_event_file


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

"""``generate_landing`` and the ``video-assets generate`` command line."""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date
from multiprocessing import get_context

from video_assets.sample_data.days import DaysJob, RunSettings, consecutive_chunks, users_for_target, write_days
from video_assets.sample_data.world import build_videos
from video_assets.sample_data.writers import parse_formats, write_catalog


@contextmanager
def worker_pool(workers: int):
    """A process pool of ``workers`` processes, or None (work in this process) for one."""
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=process_context()) as pool:
        yield pool


def process_context():
    """``fork`` where it exists: the workers only run this package's pure-Python code, and unlike
    ``spawn`` it works from scripts without an ``if __name__ == "__main__"`` guard."""
    try:
        return get_context("fork")
    except ValueError:
        return get_context("spawn")


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

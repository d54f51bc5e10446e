"""Benchmark: the whole graph (every check included) on N generated events vs a Spark "floor" job, in one process.

    .venv/bin/python benchmarks/whole_graph.py --events 1000000 --days 3
    .venv/bin/python benchmarks/whole_graph.py --events 10000000 --days 10 --videos 2000 \
        --bad-line-share 0.005 --duplicate-share 0.005        # the shape of issue 24's held-out landing
    .venv/bin/python benchmarks/whole_graph.py --events 10000000 --days 10 --floor-only
    .venv/bin/python benchmarks/whole_graph.py --lifetime-history   # the all-time step after 3 vs 30 days

Prints, per asset step, wall seconds (checks are evaluated inside the steps;
their share comes from each materialization's `check_seconds`); the whole
graph; the floor (read every landing line once, parse the keys, sort by
user/video/time, write Delta) and the ratio; peak resident memory of this
process and its JVM (all of it, and its anonymous part: see resident_memory);
each target next to its figure: the whole graph, the raw stage and the session
stage against the floor. Generated landing data (one plain .jsonl file per
day) is kept under benchmarks/out/ and reused.
"""

import argparse
import ctypes
import json
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _process_tree(root_pid: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    tree, stack = [], [(root_pid, 0)]
    while stack:
        pid, parent = stack.pop()
        tree.append((pid, parent))
        stack.extend((child, pid) for child in children.get(pid, []))
    return tree


_SYS_KCMP, _KCMP_VM = 312, 1  # x86_64
_LIBC = ctypes.CDLL(None, use_errno=True)


def shares_parent_memory(pid: int, parent: int) -> bool:
    """True for a child that still runs in its parent's memory: a vfork/posix_spawn child before its exec.

    The JVM starts processes that way (Python workers, chmod). For that instant the child's RSS
    is the JVM's own pages, and summing it would count the JVM twice (the 8 GiB "peaks" once
    reported at 10M were that). kcmp(2) says whether two processes share one address space.
    """
    return bool(parent) and _LIBC.syscall(_SYS_KCMP, parent, pid, _KCMP_VM, 0, 0) == 0


def resident_memory(pid: int) -> tuple[str, int, int]:
    """(process name, anonymous resident bytes, file-backed resident bytes) of one process.

    Anonymous pages are what the process allocated (heaps, stacks, malloc). File-backed pages are
    files it maps (jars, shared libraries): page cache the kernel can drop under pressure, counted
    in RSS all the same.
    """
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return "", 0, 0
    kib = lambda key: int(fields.get(key, "0 kB").split()[0]) * 1024  # noqa: E731
    return fields.get("Name", "?"), kib("RssAnon") + kib("RssShmem"), kib("RssFile")


class PeakMemory:
    """Samples the resident memory of this process tree: peak of all of it and peak of its anonymous part."""

    def __init__(self, interval: float = 0.5):
        self.peak = self.peak_anonymous = 0
        self.at_peak: list[tuple[str, int, int]] = []
        self._stop, self._interval = threading.Event(), interval
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            processes = [
                resident_memory(pid)
                for pid, parent in _process_tree(os.getpid())
                if not shares_parent_memory(pid, parent)
            ]
            self.peak_anonymous = max(self.peak_anonymous, sum(anon for _, anon, _ in processes))
            total = sum(anon + file for _, anon, file in processes)
            if total > self.peak:
                self.peak, self.at_peak = total, processes
            self._stop.wait(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def report(self) -> str:
        biggest = sorted((p for p in self.at_peak if p[1] + p[2] > 2**26), key=lambda p: -p[1] - p[2])
        parts = ", ".join(f"{name} {anon / 2**30:.2f} + {file / 2**30:.2f} file" for name, anon, file in biggest)
        return (f"peak resident memory (python + JVM): {self.peak / 2**30:.2f} GiB ({parts}); "
                f"peak of its anonymous part {self.peak_anonymous / 2**30:.2f} GiB")


def floor_seconds(spark, landing: Path, out: Path) -> float:
    """Read every landing line once, parse the keys, sort by user/video/time, write Delta."""
    from pyspark.sql import functions as F  # noqa: PLC0415

    started = time.perf_counter()
    lines = spark.read.text(str(landing / "events"))
    record = F.from_json("value", "userId string, user_id string, videoId string, video_id string, timestamp string")
    parsed = lines.select(record.alias("r")).select(
        F.coalesce("r.userId", "r.user_id").alias("user_id"),
        F.coalesce("r.videoId", "r.video_id").alias("video_id"),
        F.col("r.timestamp").alias("timestamp"),
    )
    parsed.sort("user_id", "video_id", "timestamp").write.format("delta").mode("overwrite").save(str(out))
    return time.perf_counter() - started


@dataclass(frozen=True)
class LandingShape:
    """What the generator is asked for besides the size: catalog size and shares of bad and duplicate lines."""

    videos: int = 40
    bad_line_share: float = 0.003
    duplicate_share: float = 0.003

    @property
    def label(self) -> str:
        default = LandingShape()
        return "" if self == default else f"-v{self.videos}-b{self.bad_line_share:g}-d{self.duplicate_share:g}"


def landing_for(events: int, days: int, seed: int, start: str, shape: LandingShape = LandingShape()) -> Path:
    landing = HERE / "out" / f"{events}-{days}d-{seed}{shape.label}" / "landing"
    if not (landing / "events").exists():
        from video_assets.sample_data import generate_landing  # noqa: PLC0415

        stats = generate_landing(
            landing, days=days, seed=seed, start_date=start, target_events=events, videos=shape.videos,
            bad_line_share=shape.bad_line_share, duplicate_share=shape.duplicate_share,
        )
        print(f"generated {stats['events']:,} events ({stats['lines']:,} lines) in {stats['seconds']:.1f} s")
    return landing


def run_range(first: str, last: str):
    """One run of the main job over first..last (inclusive): (result, instance, seconds)."""
    import dagster as dg  # noqa: PLC0415

    from video_assets.definitions import defs  # noqa: PLC0415

    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = defs.resolve_job_def("video_engagement_job").execute_in_process(
        instance=instance, tags={RANGE_START: first, RANGE_END: last}, raise_on_error=False
    )
    return result, instance, time.perf_counter() - started


def step_seconds(instance, run_id: str) -> dict[str, float]:
    starts, durations = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            durations[event.step_key] = entry.timestamp - starts[event.step_key]
    return durations


def timed_parts(instance, run_id: str) -> dict[str, list[str]]:
    """Per step, the parts it timed itself (its log's "<part>: finished in N s" lines), in order."""
    parts: dict[str, list[str]] = {}
    for entry in instance.all_logs(run_id):
        message = entry.user_message or ""
        if entry.step_key and ": finished in " in message:
            parts.setdefault(entry.step_key, []).append(message)
    return parts


def check_seconds(result) -> dict[str, float]:
    """Seconds each step spent evaluating checks after its writes (the materializations' check_seconds).

    Tables whose checks were one query (``checks_evaluated_with``) are one entry, named by all of them.
    """
    seconds = {}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        value = metadata.get("check_seconds")
        if value is None:
            continue
        shared = metadata.get("checks_evaluated_with")
        tables = sorted([event.asset_key.to_user_string(), *(shared.value.split(", ") if shared else [])])
        seconds[" + ".join(tables)] = float(value.value)
    return seconds


def target(label: str, figure: str, goal: str, met: bool) -> None:
    print(f"  {label:52} {figure:>12}   target {goal:12} {'met' if met else 'NOT MET'}")


REFERENCE_RUN = (1_000_000, 3)  # the run that larger ones are compared with (issue "One pass per stage")


def scaling_targets(events: int, days: int, whole: float, peak: int, shape_label: str = "") -> None:
    """Keeps this run's figures; a larger run prints its time and memory against the kept 1M / 3-day run.

    Runs of another landing shape are kept and compared under their own label.
    """
    kept = HERE / "out" / "runs.json"
    runs = json.loads(kept.read_text()) if kept.exists() else {}
    runs[f"{events}/{days}{shape_label}"] = {"whole_seconds": round(whole, 1), "peak_bytes": peak}
    kept.write_text(json.dumps(runs, indent=1))
    reference = runs.get("{}/{}".format(*REFERENCE_RUN) + shape_label)
    if not reference or events <= REFERENCE_RUN[0]:
        return
    times, memory = whole / reference["whole_seconds"], peak / reference["peak_bytes"]
    target(f"time / time of the kept 1M run ({events / REFERENCE_RUN[0]:g}x the events)", f"{times:.2f}",
           "<= 10", times <= 10)
    target("peak memory / peak of the kept 1M run", f"{memory:.2f}x", "<= 1.5x", memory <= 1.5)


# Each stage's seconds against the floor, and the targets of issue 24.
STAGES = {"raw stage": "raw_video_events", "session stage": "video_sessions"}  # stage -> the step writing its tables
TARGETS = {  # (events at least) -> {figure: (must, aim)}
    10_000_000: {"raw stage": (3.0, 1.5), "session stage": (3.0, 1.5), "whole graph": (8.0, 4.0)},
    1_000_000: {"whole graph": (6.0, None)},
}


def stage_targets(events: int, floor: float, whole: float, steps: dict[str, float]) -> None:
    """Each stage's and the whole graph's seconds / the floor's, next to its target for this size."""
    goals = next((goals for size, goals in sorted(TARGETS.items(), reverse=True) if events >= size), {})
    figures = {stage: steps.get(step, 0.0) for stage, step in STAGES.items()}
    figures["whole graph"] = whole
    for name, seconds in figures.items():
        ratio = seconds / floor
        must, aim = goals.get(name, (None, None))
        if must is None:
            print(f"  {name + ' / floor':52} {ratio:11.2f}x   (no target at this size)")
            continue
        goal = f"<= {must:g}x" + (f" (aim {aim:g}x)" if aim else "")
        target(f"{name} / floor", f"{ratio:.2f}x", goal, ratio <= must)


def floor_only(args) -> int:
    """The floor alone, over ``--landing`` or the generated landing (generated first if it is not kept)."""
    landing = args.landing or landing_for(args.events, args.days, args.seed, args.start_date, _shape(args))
    spark, line_count = _spark_and_lines(landing)
    with PeakMemory() as memory:
        floor = floor_seconds(spark, landing, landing.parent / f"floor-{landing.name}")
    print(f"\nlanding lines: {line_count:,} over {args.days} days")
    print(f"{'floor (read, parse, sort, write)':44} {floor:9.1f} {line_count / floor:12,.0f}")
    print(memory.report())
    print(f"\nRESULT events={args.events} days={args.days} floor={floor:.1f}")
    return 0


def _shape(args) -> LandingShape:
    return LandingShape(args.videos, args.bad_line_share, args.duplicate_share)


def _spark_and_lines(landing: Path):
    """The project's SparkSession and the landing's line count (counting also warms the JVM)."""
    from video_assets.definitions import defs  # noqa: PLC0415

    spark = defs.resources["spark"].get_session()
    return spark, spark.read.text(str(landing / "events")).count()


def whole_graph(args) -> int:
    landing = landing_for(args.events, args.days, args.seed, args.start_date, _shape(args))
    work = landing.parent
    warehouse = work / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    os.environ["VIDEO_ASSETS_LANDING_DIR"] = str(landing)
    os.environ["VIDEO_ASSETS_WAREHOUSE_DIR"] = str(warehouse)
    first = date.fromisoformat(args.start_date)
    last = first + timedelta(days=args.days - 1)
    spark, line_count = _spark_and_lines(landing)

    with PeakMemory() as memory:
        floor = None if args.skip_floor else floor_seconds(spark, landing, work / "floor")
        result, instance, whole = run_range(first.isoformat(), last.isoformat())
    if not result.success:
        print("the run FAILED", file=sys.stderr)
        return 1
    per_table = check_seconds(result)
    checks = sum(per_table.values())
    print(f"\nlanding lines: {line_count:,} over {args.days} days")
    print(f"{'step':44} {'seconds':>9} {'lines/s':>12}")
    steps = step_seconds(instance, result.run_id)
    parts = timed_parts(instance, result.run_id)
    for step, seconds in steps.items():
        print(f"{step:44} {seconds:9.1f} {line_count / seconds:12,.0f}")
        for part in parts.get(step, []):
            print(f"    {part}")
    print(f"{'whole graph (one run, checks included)':44} {whole:9.1f} {line_count / whole:12,.0f}")
    print(f"{'  of which checks (after the writes)':44} {checks:9.1f}")
    for table, seconds in sorted(per_table.items(), key=lambda item: -item[1]):
        print(f"{'    ' + table:44} {seconds:9.1f}")
    if floor is not None:
        print(f"{'floor (read, parse, sort, write)':44} {floor:9.1f} {line_count / floor:12,.0f}")
    print(memory.report())
    print("\ntargets:")
    if floor is not None:
        stage_targets(args.events, floor, whole, steps)
    target("checks / whole graph", f"{checks / whole:.1%}", "<= 15%", checks / whole <= 0.15)
    scaling_targets(args.events, args.days, whole, memory.peak, _shape(args).label)
    print(f"\nRESULT events={args.events} days={args.days} whole={whole:.1f} floor={floor or 0:.1f} "
          f"checks={checks:.1f} peak_gib={memory.peak / 2**30:.2f} peak_anonymous_gib={memory.peak_anonymous / 2**30:.2f}")
    return 0


def lifetime_history(args) -> int:
    """The all-time step of a one-day run after 3 days of history vs after 30 (same events per day)."""
    days = 31
    landing = landing_for(args.events_per_day * days, days, args.seed, args.start_date)
    warehouse = landing.parent / "warehouse-lifetime"
    shutil.rmtree(warehouse, ignore_errors=True)
    os.environ["VIDEO_ASSETS_LANDING_DIR"] = str(landing)
    os.environ["VIDEO_ASSETS_WAREHOUSE_DIR"] = str(warehouse)
    first = date.fromisoformat(args.start_date)
    day = lambda n: (first + timedelta(days=n)).isoformat()  # noqa: E731

    def lifetime_step(result, instance) -> float:
        assert result.success, "run failed"
        return step_seconds(instance, result.run_id)["user_video_engagement"]

    run_range(day(0), day(2))  # 3 days of history
    after_3 = lifetime_step(*run_range(day(3), day(3))[:2])
    run_range(day(4), day(29))  # 30 days of history
    after_30 = lifetime_step(*run_range(day(30), day(30))[:2])
    print(f"\nuser_video_engagement step of a one-day run: after 3 days {after_3:.1f} s, after 30 days {after_30:.1f} s")
    target("after 30 days / after 3 days", f"{after_30 / after_3:.2f}x", "<= 1.5x", after_30 / after_3 <= 1.5)
    return 0


def add_landing_arguments(parser: argparse.ArgumentParser) -> None:
    """The generated landing's size and shape (shared with versus_notebook.py, which reuses the same landing)."""
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start-date", default="2024-01-15")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--videos", type=int, default=LandingShape.videos, help="videos in the generated catalog")
    parser.add_argument("--bad-line-share", type=float, default=LandingShape.bad_line_share)
    parser.add_argument("--duplicate-share", type=float, default=LandingShape.duplicate_share)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_landing_arguments(parser)
    parser.add_argument("--skip-floor", action="store_true", help="do not run the floor job")
    parser.add_argument("--lifetime-history", action="store_true", help="measure the all-time step vs history")
    parser.add_argument("--events-per-day", type=int, default=100_000)
    parser.add_argument("--floor-only", action="store_true", help="run only the floor job")
    parser.add_argument("--landing", type=Path, help="with --floor-only: an existing landing (its events/ folder)")
    args = parser.parse_args()
    if args.lifetime_history:
        return lifetime_history(args)
    return floor_only(args) if args.floor_only else whole_graph(args)


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the whole graph (every check included) on N generated events vs a Spark "floor" job, in one process.

    .venv/bin/python benchmarks/whole_graph.py --events 1000000 --days 3
    .venv/bin/python benchmarks/whole_graph.py --events 10000000 --days 10 --skip-floor
    .venv/bin/python benchmarks/whole_graph.py --lifetime-history   # the all-time step after 3 vs 30 days

Prints, per asset step, wall seconds (checks are evaluated inside the steps;
their share comes from each materialization's `check_seconds`); the whole
graph; the floor (read every landing line once, parse the keys, sort by
user/video/time, write Delta) and the ratio; peak resident memory of this
process and its JVM; each target next to its figure. Generated landing data
is kept under benchmarks/out/ and reused.
"""

import argparse
import os
import shutil
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def process_tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
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
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total


class PeakMemory:
    def __init__(self, interval: float = 0.5):
        self.peak, self._stop, self._interval = 0, threading.Event(), interval
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, process_tree_rss_bytes(os.getpid()))
            self._stop.wait(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


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


def landing_for(events: int, days: int, seed: int, start: str) -> Path:
    landing = HERE / "out" / f"{events}-{days}d-{seed}" / "landing"
    if not (landing / "events").exists():
        from video_assets.sample_data import generate_landing  # noqa: PLC0415

        stats = generate_landing(landing, days=days, seed=seed, start_date=start, target_events=events)
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


def check_seconds(result) -> dict[str, float]:
    """Per table, seconds its step spent evaluating checks after the write (the materialization's check_seconds)."""
    seconds = {}
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get("check_seconds")
        if value is not None:
            seconds[event.asset_key.to_user_string()] = float(value.value)
    return seconds


def target(label: str, figure: str, goal: str, met: bool) -> None:
    print(f"  {label:52} {figure:>12}   target {goal:12} {'met' if met else 'NOT MET'}")


def whole_graph(args) -> int:
    landing = landing_for(args.events, args.days, args.seed, args.start_date)
    work = landing.parent
    warehouse = work / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    os.environ["VIDEO_ASSETS_LANDING_DIR"] = str(landing)
    os.environ["VIDEO_ASSETS_WAREHOUSE_DIR"] = str(warehouse)
    from video_assets.definitions import defs  # noqa: PLC0415

    first = date.fromisoformat(args.start_date)
    last = first + timedelta(days=args.days - 1)
    spark = defs.resources["spark"].get_session()
    line_count = spark.read.text(str(landing / "events")).count()  # also warms the JVM

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
    for step, seconds in step_seconds(instance, result.run_id).items():
        print(f"{step:44} {seconds:9.1f} {line_count / seconds:12,.0f}")
    print(f"{'whole graph (one run, checks included)':44} {whole:9.1f} {line_count / whole:12,.0f}")
    print(f"{'  of which checks (after the writes)':44} {checks:9.1f}")
    for table, seconds in sorted(per_table.items(), key=lambda item: -item[1]):
        print(f"{'    ' + table:44} {seconds:9.1f}")
    if floor is not None:
        print(f"{'floor (read, parse, sort, write)':44} {floor:9.1f} {line_count / floor:12,.0f}")
    print(f"peak memory (python + JVM): {memory.peak / 2**30:.2f} GiB")
    print("\ntargets:")
    if floor is not None:
        target("whole graph / floor", f"{whole / floor:.2f}x", "<= 3.0x", whole / floor <= 3.0)
    target("checks / whole graph", f"{checks / whole:.1%}", "<= 15%", checks / whole <= 0.15)
    print(f"\nRESULT events={args.events} days={args.days} whole={whole:.1f} floor={floor or 0:.1f} "
          f"checks={checks:.1f} peak_gib={memory.peak / 2**30:.2f}")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start-date", default="2024-01-15")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-floor", action="store_true", help="do not run the floor job")
    parser.add_argument("--lifetime-history", action="store_true", help="measure the all-time step vs history")
    parser.add_argument("--events-per-day", type=int, default=100_000)
    args = parser.parse_args()
    return lifetime_history(args) if args.lifetime_history else whole_graph(args)


if __name__ == "__main__":
    raise SystemExit(main())

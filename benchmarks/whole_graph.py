"""Benchmark: the whole graph on N generated events vs a "floor" job, in one process.

    .venv/bin/python benchmarks/whole_graph.py --events 1000000 --days 3

Prints, per asset step, wall seconds and events/s; the whole-graph total; the
floor (read the landing once, sort by user/video/time, write Delta) and the
ratio whole graph / floor; and the peak resident memory of this process and
its JVM. Generated landing data is kept under benchmarks/out/ and reused.
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
    """Read every landing line once, parse the minimum, sort by user/video/time, write Delta."""
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


def without_checks(defs):
    """The main job over the same assets and resources, with no asset checks attached."""
    import dagster as dg  # noqa: PLC0415

    from video_assets.jobs import video_engagement_job  # noqa: PLC0415

    bare = dg.Definitions(
        assets=defs.assets, resources=defs.resources, jobs=[video_engagement_job], executor=defs.executor
    )
    return bare.get_job_def("video_engagement_job")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start-date", default="2024-01-15")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-checks", action="store_true", help="run the assets without their asset checks")
    args = parser.parse_args()

    work = HERE / "out" / f"{args.events}-{args.days}d-{args.seed}"
    landing, warehouse = work / "landing", work / "warehouse"
    if not (landing / "events").exists():
        from video_assets.generate import generate_landing  # noqa: PLC0415

        stats = generate_landing(
            landing, days=args.days, seed=args.seed, start_date=args.start_date, target_events=args.events
        )
        print(f"generated {stats['events']} events ({stats['lines']} lines) in {stats['seconds']:.1f} s")
    shutil.rmtree(warehouse, ignore_errors=True)
    os.environ["VIDEO_ASSETS_LANDING_DIR"] = str(landing)
    os.environ["VIDEO_ASSETS_WAREHOUSE_DIR"] = str(warehouse)

    import dagster as dg  # noqa: PLC0415
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG  # noqa: PLC0415

    from video_assets.definitions import defs  # noqa: PLC0415

    first = date.fromisoformat(args.start_date)
    last = first + timedelta(days=args.days - 1)
    spark = defs.resources["spark"].get_session()
    line_count = spark.read.text(str(landing / "events")).count()  # also warms the JVM

    with PeakMemory() as memory:
        floor = floor_seconds(spark, landing, work / "floor")
        job = defs.get_job_def("video_engagement_job")
        if args.no_checks:
            job = without_checks(defs)
        started = time.perf_counter()
        instance = dg.DagsterInstance.ephemeral()
        result = job.execute_in_process(
            instance=instance,
            tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
            raise_on_error=False,
        )
        whole = time.perf_counter() - started
    if not result.success:
        print("the run FAILED", file=sys.stderr)
        return 1

    starts, durations = {}, {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            durations[event.step_key] = entry.timestamp - starts[event.step_key]
    print(f"\nlanding lines: {line_count:,} over {args.days} days")
    print(f"{'step':44} {'seconds':>9} {'lines/s':>12}")
    for step, seconds in durations.items():
        print(f"{step:44} {seconds:9.1f} {line_count / seconds:12,.0f}")
    print(f"{'whole graph (one run)':44} {whole:9.1f} {line_count / whole:12,.0f}")
    print(f"{'floor (read, sort, write)':44} {floor:9.1f} {line_count / floor:12,.0f}")
    print(f"ratio whole graph / floor: {whole / floor:.2f}")
    print(f"peak memory (python + JVM): {memory.peak / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

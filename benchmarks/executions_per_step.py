"""Benchmark: Spark SQL executions and seconds per asset step, for one day of a small landing.

    .venv/bin/python benchmarks/executions_per_step.py            # warm: a first run, then the measured one
    .venv/bin/python benchmarks/executions_per_step.py --list     # also every execution's description

On a few rows a step's time is its fixed cost: each Spark SQL execution (analysis, planning,
a job per stage) costs about 0.1 s whatever the data. This counts them per step from Spark's own
REST API (the executions' submission times inside each step's STEP_START..STEP_SUCCESS), so a
change that saves queries shows here as a smaller count. The first run warms the JVM (class
loading, JIT) and is not reported; the second writes the same day again, as a rerun does.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DAY = "2024-01-16"  # the second day: its sessions look back at the first


def _write_landing(landing: Path) -> None:
    from video_assets_tests.assets.small_landing import DAYS, record, write_day

    (landing / "events").mkdir(parents=True)
    (landing / "videos").mkdir()
    (landing / "videos" / "videos.csv").write_text("video_id,title,duration_seconds\nv180,Short,180\nv300,Long,300\n")
    write_day(landing, DAYS[0], [
        record(DAYS[0], "10:00:00", "ann", "v180", "play", 0),
        record(DAYS[0], "23:50:00", "cy", "v300", "play", 0),
    ])
    write_day(landing, DAYS[1], [
        record(DAYS[1], "00:05:00", "cy", "v300", "pause", 600),
        record(DAYS[1], "10:00:00", "ann", "v180", "play", 0),
        record(DAYS[1], "10:03:00", "ann", "v180", "end", 180),
        record(DAYS[1], "12:00:00", "bob", "v300", "play", 0),
        record(DAYS[1], "12:05:00", "bob", "v300", "end", 300),
    ])


def _executions(ui_url: str, app_id: str) -> list[tuple[float, str, float]]:
    """(submission epoch seconds, description, seconds it ran) of every SQL execution so far, oldest first."""
    with urllib.request.urlopen(f"{ui_url}/api/v1/applications/{app_id}/sql?details=false&length=100000") as reply:
        executions = json.load(reply)
    out = []
    for execution in executions:
        submitted = datetime.strptime(execution["submissionTime"], "%Y-%m-%dT%H:%M:%S.%f%Z").timestamp()
        out.append((submitted, execution["description"].splitlines()[0][:100], execution["duration"] / 1000))
    return sorted(out)


def _step_windows(instance, run_id: str) -> dict[str, tuple[float, float]]:
    import dagster as dg

    windows: dict[str, list[float]] = defaultdict(list)
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event and event.event_type in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS):
            windows[event.step_key].append(entry.timestamp)
    return {step: (min(times), max(times)) for step, times in windows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="print every execution's description per step")
    parser.add_argument("--test-settings", action="store_true", help="the tests' Spark settings (no codegen, no AQE)")
    args = parser.parse_args()

    import dagster as dg

    work = Path(tempfile.mkdtemp(prefix="executions-"))
    os.environ["VIDEO_ASSETS_LANDING_DIR"] = str(work / "landing")
    os.environ["VIDEO_ASSETS_WAREHOUSE_DIR"] = str(work / "warehouse")
    _write_landing(work / "landing")

    from video_assets.definitions import defs
    from video_assets.config import build_resources

    resources = build_resources()
    conf = {**resources["spark"].conf}
    if args.test_settings:
        from video_assets_tests.spark_settings import TEST_SPARK_SETTINGS

        conf.update(TEST_SPARK_SETTINGS)
    # Started here with its web UI (the REST API counts executions); every resource then shares it.
    spark = resources["spark"].model_copy(update={"ui_enabled": True, "conf": conf}).get_session()
    app_id = spark.sparkContext.applicationId
    ui_url = spark.sparkContext.uiWebUrl

    tags = {"dagster/asset_partition_range_start": DAY, "dagster/asset_partition_range_end": DAY}
    job = defs.resolve_job_def("video_engagement_job")
    with dg.DagsterInstance.ephemeral() as instance:
        for attempt in ("warm-up", "measured"):
            started = time.time()
            result = job.execute_in_process(tags=tags, resources=resources, instance=instance, raise_on_error=False)
            seconds = time.time() - started
            if not result.success:
                raise SystemExit(f"the {attempt} run failed")
        windows = _step_windows(instance, result.run_id)
        executions = _executions(ui_url, app_id)

    per_step: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for submitted, description, ran in executions:
        for step, (start, end) in windows.items():
            if start <= submitted <= end:
                per_step[step].append((description, ran))
    print(f"one day ({DAY}) of the small landing, second run, {'tests' if args.test_settings else 'project'} settings")
    print(f"{'step':<40} {'seconds':>8} {'executions':>11} {'their seconds':>14}")
    for step, (start, end) in sorted(windows.items(), key=lambda item: item[1][0]):
        ran = sum(r for _, r in per_step[step])
        print(f"{step:<40} {end - start:>8.2f} {len(per_step[step]):>11} {ran:>14.2f}")
        if args.list:
            counts = Counter(d for d, _ in per_step[step])
            for description, count in counts.most_common():
                spent = sum(r for d, r in per_step[step] if d == description)
                print(f"    {count:>3} x {spent:6.2f} s  {description}")
    total = sum(len(v) for v in per_step.values())
    print(f"{'whole run':<40} {seconds:>8.2f} {total:>11}")


if __name__ == "__main__":
    main()

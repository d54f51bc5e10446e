"""Benchmark: Spark SQL executions and seconds per asset step, for one day of a small landing.

    .venv/bin/python benchmarks/executions_per_step.py            # a warm-up run, then the median of 5
    .venv/bin/python benchmarks/executions_per_step.py --list     # also every execution's description (last run)

On a few rows a step's time is its fixed cost: each Spark SQL execution (analysis, planning,
a job per stage) costs about 0.1 s whatever the data. This counts them per step from Spark's own
REST API (the executions' submission times inside each step's STEP_START..STEP_SUCCESS), so a
change that saves queries shows here as a smaller count. The first run warms the JVM (class
loading, JIT) and is not reported; the next ``--runs`` (5) write the same day again, as reruns do, and
each step's seconds and executions are their median.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from statistics import median
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
    parser.add_argument("--runs", type=int, default=5, help="measured runs after the warm-up (median reported)")
    parser.add_argument(
        "--interpreted-below", type=int, metavar="N",
        help="spark.interpreted_below_events for this run (0: every query compiled); default: the YAML's",
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting on top (repeatable)"
    )
    args = parser.parse_args()

    import dagster as dg

    work = Path(tempfile.mkdtemp(prefix="executions-"))
    os.environ["VIDEO_ASSETS_LANDING_DIR"] = str(work / "landing")
    os.environ["VIDEO_ASSETS_WAREHOUSE_DIR"] = str(work / "warehouse")
    _write_landing(work / "landing")

    from video_assets import definitions
    from video_assets.jobs import video_engagement_job
    from video_assets.config import build_resources

    # Built with the override (Dagster builds a run's resources from their configuration, which model_copy
    # leaves as it was).
    overrides = {} if args.interpreted_below is None else {"interpreted_below_events": args.interpreted_below}
    resources = build_resources(spark_overrides=overrides)
    conf = {**resources["spark"].conf}
    if args.test_settings:
        from video_assets_tests.spark_settings import TEST_SPARK_SETTINGS

        conf.update(TEST_SPARK_SETTINGS)
    conf.update(setting.split("=", 1) for setting in args.conf)
    # Started here with its web UI (the REST API counts executions); every resource then shares it.
    spark = resources["spark"].model_copy(update={"ui_enabled": True, "conf": conf}).get_session()
    app_id = spark.sparkContext.applicationId
    ui_url = spark.sparkContext.uiWebUrl

    tags = {"dagster/asset_partition_range_start": DAY, "dagster/asset_partition_range_end": DAY}
    # The job with these resources (the Definitions' own were built before any override above).
    job = dg.Definitions(
        assets=definitions.assets,
        asset_checks=definitions.freshness_checks,
        resources=resources,
        jobs=[video_engagement_job],
        executor=dg.in_process_executor,
    ).resolve_job_def("video_engagement_job")
    run_seconds, windows_per_run = [], []
    with dg.DagsterInstance.ephemeral() as instance:
        for attempt in range(args.runs + 1):
            started = time.time()
            result = job.execute_in_process(tags=tags, resources=resources, instance=instance, raise_on_error=False)
            if not result.success:
                raise SystemExit(f"run {attempt} failed")
            if not attempt:
                cold_seconds = time.time() - started
            else:  # the first warms the JVM
                run_seconds.append(time.time() - started)
                windows_per_run.append(_step_windows(instance, result.run_id))
        executions = _executions(ui_url, app_id)

    # Per run, per step: the executions submitted inside the step's window.
    per_run: list[dict[str, list[tuple[str, float]]]] = []
    for windows in windows_per_run:
        per_step: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for submitted, description, ran in executions:
            for step, (start, end) in windows.items():
                if start <= submitted <= end:
                    per_step[step].append((description, ran))
        per_run.append(per_step)
    last_windows, last_steps = windows_per_run[-1], per_run[-1]
    settings_name = ("tests" if args.test_settings else "project") + "".join(f", {c}" for c in args.conf)
    threshold = resources["spark"].interpreted_below_events
    settings_name += f", interpreted below {threshold} events" if threshold else ", every query compiled"
    print(f"one day ({DAY}) of the small landing, median of {args.runs} runs after a warm-up, {settings_name} settings")
    print(f"{'step':<40} {'seconds':>8} {'executions':>11} {'their seconds':>14}")
    for step, _ in sorted(last_windows.items(), key=lambda item: item[1][0]):
        seconds = median(w[step][1] - w[step][0] for w in windows_per_run)
        count = median(len(r[step]) for r in per_run)
        ran = median(sum(t for _, t in r[step]) for r in per_run)
        print(f"{step:<40} {seconds:>8.2f} {count:>11.0f} {ran:>14.2f}")
        if args.list:
            counts = Counter(d for d, _ in last_steps[step])
            for description, times in counts.most_common():
                spent = sum(t for d, t in last_steps[step] if d == description)
                print(f"    {times:>3} x {spent:6.2f} s  {description}")
    total = median(sum(len(v) for v in r.values()) for r in per_run)
    spread = f"(runs {min(run_seconds):.1f}..{max(run_seconds):.1f} s)"
    print(f"{'whole run':<40} {median(run_seconds):>8.2f} {total:>11.0f}  {spread}")
    print(f"{'the first run (a fresh JVM, not counted)':<40} {cold_seconds:>8.2f}")


if __name__ == "__main__":
    main()

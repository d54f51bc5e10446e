"""Our graph's ranged run against the notebook it replaces, each from a cold process, on the same landing (issue 42).

    .venv/bin/python benchmarks/versus_notebook.py --events 1000000 --days 3
    .venv/bin/python benchmarks/versus_notebook.py --events 10000000 --days 10 --videos 2000 \\
        --bad-line-share 0.005 --duplicate-share 0.005 --short-lines   # ~155-byte lines, no eventId

In one invocation, each a new process timed from outside (start to exit):

* the notebook peer (``notebook_peer.py``): Spark start, JSON into bronze Delta, one aggregation;
* the graph's ranged run over every day, the catalog already materialized (as a user's daily backfill
  finds it): every daily and all-time asset, checks included;
* the floor (``whole_graph.py --floor-only``: read, parse, sort, write the same lines), for the stage ratios.

The graph's process starts its Spark session before the run and times it apart, so each step's seconds
are its own work, like the warm floor's; the graph's time is still the whole process, start to exit.

Prints the three times, the graph's steps, and the ratios: graph / notebook (target <= 1.5x at 1M,
<= 2.0x at 10M) and the raw and session stages / floor (<= 3x at 10M).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from whole_graph import LandingShape, add_landing_arguments, landing_for  # noqa: E402

TARGETS = {1_000_000: 1.5, 10_000_000: 2.0}  # graph / notebook, must
DROPPED_KEYS = ("eventId", "event_id", "sessionId", "session_id", "deviceId", "device_id")


def short_lines(landing: Path) -> Path:
    """The same events with shorter lines (no event id, player session or device: ~155 bytes), kept beside."""
    short = landing.parent / "landing-short"
    if (short / "events").exists():
        return short
    started = time.perf_counter()
    for source in sorted((landing / "events").rglob("*.jsonl")):
        target = short / source.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open() as lines, target.open("w") as out:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    out.write(line)  # a bad line stays as bad as it was
                    continue
                if isinstance(record, dict):
                    for key in DROPPED_KEYS:
                        record.pop(key, None)
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
    if (landing / "videos").exists():
        shutil.copytree(landing / "videos", short / "videos", dirs_exist_ok=True)
    print(f"shortened the lines in {time.perf_counter() - started:.1f} s")
    return short


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, done.stdout


def graph_child(mode: str, first: str, last: str) -> int:
    """In a child process: materialize the catalog (mode "catalog") or run every other asset over the range."""
    import dagster as dg  # noqa: PLC0415

    from video_assets.dagster_internals import (  # noqa: PLC0415
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )
    from video_assets.definitions import defs  # noqa: PLC0415

    job = defs.resolve_job_def("video_engagement_job")
    catalog = dg.AssetKey("video_catalog")
    keys = [catalog] if mode == "catalog" else [key for key in job.asset_layer.executable_asset_keys if key != catalog]
    instance = dg.DagsterInstance.ephemeral()
    tags = {} if mode == "catalog" else {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    # The JVM started before the run, timed on its own: the raw step's seconds are then its own work, as the
    # warm floor's are (the whole process, this start included, is what the graph's time counts).
    started = time.perf_counter()
    defs.resources["spark"].get_session().sql("SELECT 1").collect()
    print(f"SPARK_START {time.perf_counter() - started:.1f}")
    result = job.execute_in_process(instance=instance, asset_selection=keys, tags=tags, raise_on_error=False)
    steps = {}
    starts = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is not None and event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event is not None and event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = round(entry.timestamp - starts[event.step_key], 1)
    print("STEPS " + json.dumps(steps))
    return 0 if result.success else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_landing_arguments(parser)
    parser.add_argument("--short-lines", action="store_true", help="~155-byte lines without eventId")
    parser.add_argument("--child", choices=["catalog", "range"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    first = date.fromisoformat(args.start_date)
    last = (first + timedelta(days=args.days - 1)).isoformat()
    if args.child:
        return graph_child(args.child, first.isoformat(), last)

    shape = LandingShape(args.videos, args.bad_line_share, args.duplicate_share)
    landing = landing_for(args.events, args.days, args.seed, args.start_date, shape)
    if args.short_lines:
        landing = short_lines(landing)
    work = landing.parent / ("versus-short" if args.short_lines else "versus")
    shutil.rmtree(work, ignore_errors=True)
    sizes = [p.stat().st_size for p in (landing / "events").rglob("*.jsonl")]
    python = sys.executable
    env = {**os.environ, "VIDEO_ASSETS_LANDING_DIR": str(landing), "VIDEO_ASSETS_WAREHOUSE_DIR": str(work / "warehouse")}

    notebook, notebook_out = timed([python, str(HERE / "notebook_peer.py"), "--landing", str(landing),
                                    "--out", str(work / "notebook")], env)
    shutil.rmtree(work / "notebook", ignore_errors=True)  # its bronze copy: not needed, and the disk is small
    me = [python, str(Path(__file__).resolve()), "--events", str(args.events), "--days", str(args.days),
          "--start-date", args.start_date]
    timed([*me, "--child", "catalog"], env)
    graph, graph_out = timed([*me, "--child", "range"], env)
    steps = json.loads(re.search(r"^STEPS (.*)$", graph_out, re.M).group(1))
    spark_start = float(re.search(r"^SPARK_START ([0-9.]+)$", graph_out, re.M).group(1))
    floor_command = [python, str(HERE / "whole_graph.py"), "--floor-only", "--landing", str(landing),
                     "--days", str(args.days)]
    _, floor_out = timed(floor_command, env)
    floor = float(re.search(r"floor=([0-9.]+)", floor_out).group(1))

    print(f"\nlanding: {landing} ({len(sizes)} files, {sum(sizes) / 2**20:.0f} MiB)")
    print(notebook_out.strip())
    print(f"\n{'notebook peer, cold process':44} {notebook:8.1f} s")
    print(f"{'graph ranged run, cold process':44} {graph:8.1f} s")
    print(f"    {'Spark start (before the run)':40} {spark_start:8.1f} s")
    for step, seconds in steps.items():
        print(f"    {step:40} {seconds:8.1f} s")
    print(f"{'floor (warm, same lines)':44} {floor:8.1f} s")
    ratio = graph / notebook
    must = next((goal for size, goal in sorted(TARGETS.items(), reverse=True) if args.events >= size), None)
    verdict = "" if must is None else f"   target <= {must}x: {'met' if ratio <= must else 'NOT met'}"
    print(f"\ngraph / notebook: {ratio:.2f}x{verdict}   (aim <= 1.0x)")
    raw = steps.get("raw_video_events", 0.0)
    sessions = steps.get("video_sessions", 0.0)
    rest = sum(v for k, v in steps.items() if k not in ("raw_video_events", "video_sessions"))
    print(f"raw stage / floor: {raw / floor:.2f}x   session stage / floor: {sessions / floor:.2f}x   "
          f"the other steps together: {rest:.1f} s")
    print(f"\nRESULT events={args.events} days={args.days} short={args.short_lines} notebook={notebook:.1f} "
          f"graph={graph:.1f} ratio={ratio:.2f} floor={floor:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

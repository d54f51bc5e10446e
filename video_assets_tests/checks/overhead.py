"""Measure what the asset checks add to a whole-graph run. Not a test; prints numbers.

    .venv/bin/python -m video_assets_tests.checks.overhead [--events 4000] [--days 3] [--repeats 1] [--range]

Writes a generated landing (video_assets.generate) to a temporary folder and
materializes every asset for each day, once without checks (warehouse A)
and once with every check of ``all_checks`` (warehouse B), alternating the
order day by day so a busy machine penalizes both alike. Prints per run the
wall time, the CPU seconds of this process and the Spark JVM (steadier than
wall time when other work shares the cores), and from the run's own step
events the seconds spent in asset steps and in check steps. The first run of the process (JVM start, Delta
jars) is a warm-up and is not counted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG


def _process_tree_cpu_seconds(root_pid: int) -> float:
    """user + system CPU seconds of a process and its live descendants (Linux /proc)."""
    parents, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total


def cpu_seconds(spark_session) -> float:
    """CPU seconds used so far by this Python process and the Spark JVM: robust to a busy machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    gateway = spark_session.sparkContext._gateway  # noqa: SLF001 - the JVM launched by PySpark
    jvm = _process_tree_cpu_seconds(gateway.proc.pid) if getattr(gateway, "proc", None) else 0.0
    return own.ru_utime + own.ru_stime + jvm


def _step_seconds(result, check_steps: set[str]) -> tuple[float, float]:
    """Seconds of successful asset steps and of check steps, from the run's STEP_SUCCESS events."""
    asset_seconds, check_seconds = 0.0, 0.0
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            seconds = event.event_specific_data.duration_ms / 1000
            if event.step_key in check_steps:
                check_seconds += seconds
            else:
                asset_seconds += seconds
    return asset_seconds, check_seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="good events over all days")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1, help="passes over the days")
    parser.add_argument("--start", default="2024-03-04")
    parser.add_argument(
        "--range", action="store_true", help="one run over all the days (a single-run backfill) instead of one per day"
    )
    parser.add_argument(
        "--exclude",
        default="",
        help="comma-separated asset:check keys to leave out, e.g. raw_video_events:lines_reconcile",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary landing and warehouses")
    args = parser.parse_args(argv)

    from video_assets.checks import all_checks
    from video_assets.definitions import defs
    from video_assets.environment import build_resources
    from video_assets.generate import generate_landing
    from video_assets.io.delta import DeltaIOManager
    from video_assets.io.landing import LandingZone

    root = Path(tempfile.mkdtemp(prefix="checks_overhead_"))
    written = generate_landing(root / "landing", days=args.days, start_date=args.start, target_events=args.events)
    print(f"landing: {written['lines']} lines, {written['events']} good events over {args.days} days in {root}")

    assets = list(defs.assets)
    check_steps = {c.node_def.name for c in all_checks}
    base = build_resources()
    spark = base["spark"]

    def resources(warehouse: Path) -> dict:
        return {
            **base,
            "landing": LandingZone(location=str(root / "landing")),
            "io_manager": DeltaIOManager(warehouse=str(warehouse), spark=spark),
        }

    instance = dg.DagsterInstance.ephemeral()
    days = [(date.fromisoformat(args.start) + timedelta(days=i)).isoformat() for i in range(args.days)]

    session = spark.get_session()
    excluded = [
        dg.AssetCheckKey(dg.AssetKey(key.split(":")[0]), key.split(":")[1]) for key in args.exclude.split(",") if key
    ]
    selection = dg.AssetSelection.all() - dg.AssetSelection.checks(*excluded) if excluded else None
    if excluded:
        print(f"checks left out: {', '.join(args.exclude.split(','))}")

    def run(with_checks: bool, day: str, warehouse: Path):
        cpu_before = cpu_seconds(session)
        started = time.perf_counter()
        first, _, last = day.partition("..")
        partition = (
            {"tags": {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}}
            if last
            else {"partition_key": day}
        )
        result = dg.materialize(
            assets + (list(all_checks) if with_checks else []),
            selection=selection if with_checks else None,
            **partition,
            resources=resources(warehouse),
            instance=instance,
            raise_on_error=False,
        )
        wall = time.perf_counter() - started
        cpu = cpu_seconds(session) - cpu_before
        asset_seconds, check_seconds = _step_seconds(result, check_steps)
        failed = [
            f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
        ]
        return result.success, wall, cpu, asset_seconds, check_seconds, failed

    print("warm-up run (not counted) ...")
    run(False, days[0], root / "warmup")
    if args.range:
        days = [f"{days[0]}..{days[-1]}"]

    rows = []
    for repeat in range(args.repeats):
        for i, day in enumerate(days):
            order = (False, True) if (i + repeat) % 2 == 0 else (True, False)
            for with_checks in order:
                warehouse = root / f"warehouse_{'checks' if with_checks else 'plain'}_{repeat}"
                ok, wall, cpu, asset_s, check_s, failed = run(with_checks, day, warehouse)
                rows.append((with_checks, day, ok, wall, asset_s, check_s, cpu))
                label = "with checks   " if with_checks else "without checks"
                print(
                    f"{day} {label}: success={ok} wall {wall:6.1f} s | CPU {cpu:6.1f} s | asset steps {asset_s:6.1f} s | "
                    f"check steps {check_s:5.1f} s" + (f" | failed checks: {failed}" if failed else "")
                )

    plain = [r[3] for r in rows if not r[0]]
    checked = [r[3] for r in rows if r[0]]
    check_share = [r[5] / r[4] for r in rows if r[0] and r[4]]
    print(
        f"\nwall, median: without checks {statistics.median(plain):.1f} s, with checks {statistics.median(checked):.1f} s "
        f"-> +{100 * (statistics.median(checked) / statistics.median(plain) - 1):.0f}%"
    )
    plain_cpu = [r[6] for r in rows if not r[0]]
    checked_cpu = [r[6] for r in rows if r[0]]
    print(
        f"CPU (Python + Spark JVM), median: without checks {statistics.median(plain_cpu):.1f} s, with checks "
        f"{statistics.median(checked_cpu):.1f} s -> +{100 * (statistics.median(checked_cpu) / statistics.median(plain_cpu) - 1):.0f}%"
    )
    print(
        f"within the runs with checks: check steps / asset steps = {100 * statistics.median(check_share):.0f}% (median)"
    )
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

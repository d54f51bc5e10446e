"""Measure what the asset checks add to a whole-graph run. Not a test; prints numbers.

    .venv/bin/python -m video_assets_tests.checks.overhead [--events 4000] [--days 3] [--repeats 1]

Writes a generated landing (video_assets.generate) to a temporary folder and
materializes every asset for each day, once without checks (warehouse A)
and once with every check of ``all_checks`` (warehouse B), alternating the
order day by day so a busy machine penalizes both alike. Prints per run the
wall time, and from the run's own step events the seconds spent in asset
steps and in check steps. The first run of the process (JVM start, Delta
jars) is a warm-up and is not counted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg


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

    def run(with_checks: bool, day: str, warehouse: Path):
        started = time.perf_counter()
        result = dg.materialize(
            assets + (list(all_checks) if with_checks else []),
            partition_key=day,
            resources=resources(warehouse),
            instance=instance,
            raise_on_error=False,
        )
        wall = time.perf_counter() - started
        asset_seconds, check_seconds = _step_seconds(result, check_steps)
        failed = [
            f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
        ]
        return result.success, wall, asset_seconds, check_seconds, failed

    print("warm-up run (not counted) ...")
    run(False, days[0], root / "warmup")

    rows = []
    for repeat in range(args.repeats):
        for i, day in enumerate(days):
            order = (False, True) if (i + repeat) % 2 == 0 else (True, False)
            for with_checks in order:
                warehouse = root / f"warehouse_{'checks' if with_checks else 'plain'}_{repeat}"
                ok, wall, asset_s, check_s, failed = run(with_checks, day, warehouse)
                rows.append((with_checks, day, ok, wall, asset_s, check_s))
                label = "with checks   " if with_checks else "without checks"
                print(
                    f"{day} {label}: success={ok} wall {wall:6.1f} s | asset steps {asset_s:6.1f} s | "
                    f"check steps {check_s:5.1f} s" + (f" | failed checks: {failed}" if failed else "")
                )

    plain = [r[3] for r in rows if not r[0]]
    checked = [r[3] for r in rows if r[0]]
    check_share = [r[5] / r[4] for r in rows if r[0] and r[4]]
    print(
        f"\nwall, median: without checks {statistics.median(plain):.1f} s, with checks {statistics.median(checked):.1f} s "
        f"-> +{100 * (statistics.median(checked) / statistics.median(plain) - 1):.0f}%"
    )
    print(
        f"within the runs with checks: check steps / asset steps = {100 * statistics.median(check_share):.0f}% (median)"
    )


if __name__ == "__main__":
    main()

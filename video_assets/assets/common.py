"""What every asset wrapper shares: the partition range of the run, the write-and-check of a table, timing."""

import time
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Optional

import dagster as dg

from video_assets.checks.in_step import Invariant, TableChecks, selected_checks
from video_assets.checks.results import verdicts
from video_assets.io.delta import DeltaWarehouse, WriteResult
from video_assets.settings import EngagementSettings

SPARK_KINDS = {"spark", "delta"}
# Every Spark asset takes a `step_launcher: StepLauncherParam` argument: on
# Databricks that resource takes the step to the cluster; locally it holds
# nothing and the step runs in process. The asset body never uses it.
StepLauncherParam = dg.ResourceParam[Optional[object]]


def partition_days(context: dg.AssetExecutionContext) -> list[str]:
    """The run's partition days (YYYY-MM-DD), one for a single partition, many for a range."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [(first + timedelta(days=offset)).isoformat() for offset in range((end - first).days)]


def day_range(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last (inclusive) partition day of the run."""
    window = context.partition_time_window
    return window.start.date(), window.end.date() - timedelta(days=1)


@contextmanager
def timed_step(context, label: str):
    """Logs start and end of a step with its wall time; yields a dict to receive the seconds."""
    context.log.info(f"{label}: started")
    started = time.perf_counter()
    result = {}
    try:
        yield result
    finally:
        result["seconds"] = round(time.perf_counter() - started, 2)
        context.log.info(f"{label}: finished in {result['seconds']} s")


def write_range(days: list[str]) -> tuple[str, str] | None:
    """[first day, day after the last) for a partitioned write, None for an all-time table."""
    if not days:
        return None
    return days[0], (date.fromisoformat(days[-1]) + timedelta(days=1)).isoformat()


def write_checked(
    context,
    warehouse: DeltaWarehouse,
    table: str,
    frame,
    settings: EngagementSettings,
    days: list[str],
    *,
    invariant: Invariant | None = None,
    observe: dict | None = None,
) -> tuple[WriteResult, list[dg.AssetCheckResult]]:
    """Writes ``table`` for ``days`` and evaluates its selected checks in this step.

    The contract's row rules and rows per day are observed during the write
    (plus any extra ``observe`` aggregates); key and invariant are one query
    over the written range. Returns the write's result and the check results.
    """
    checks = TableChecks(table, frame, selected_checks(context, table), settings, days)
    result = warehouse.write_table(
        table,
        frame,
        write_range(days),
        context.log,
        observe={**checks.observations(), **(observe or {})},
        writer_id=f"dagster run {context.run_id}",
    )
    started = time.perf_counter()
    found = checks.evaluate(result.observed, lambda: warehouse.read_range(table, days), invariant)
    result.metadata["check_seconds"] = round(time.perf_counter() - started, 2)
    if found:
        context.log.info(f"{table}: {verdicts(found)} ({result.metadata['check_seconds']} s)")
    return result, found

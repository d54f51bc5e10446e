"""What every asset wrapper shares: the partition range of the run, timing, progress logs."""

import time
from typing import Optional
from contextlib import contextmanager
from datetime import date, timedelta

import dagster as dg

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

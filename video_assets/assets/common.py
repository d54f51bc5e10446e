"""What every asset wrapper shares: the partition range of the run, the write-and-check of a table, timing,
and the events a step reports (``materialized``)."""

import functools
import time
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Optional

import dagster as dg

from video_assets.checks.in_step import Invariant, TableChecks, WrittenTable, evaluate_written, selected_checks
from video_assets.checks.results import COLUMNS_BACKFILLED, backfill_result, per_day_evaluations, verdicts
from video_assets.io.delta import DeltaWarehouse, WriteResult
from video_assets.io.scratch import RunState, remove_abandoned
from video_assets.io.spark import SparkResource
from video_assets.settings import EngagementSettings

SPARK_KINDS = {"spark", "delta"}
RAW_EVENTS_TABLE = "raw_video_events"
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


def run_state_in(instance: dg.DagsterInstance):
    """What ``instance``'s run storage says of a run id (scratch.RunState)."""

    def state(run_id: str) -> RunState:
        run = instance.get_run_by_id(run_id)
        if run is None:
            return RunState.UNKNOWN
        return RunState.FINISHED if run.is_finished else RunState.UNFINISHED

    return state


def remove_abandoned_scratch(context, warehouse: DeltaWarehouse) -> None:
    """Before a step writes scratch rows: removes those that earlier, killed steps left (io/scratch.py)."""
    remove_abandoned(warehouse.spark.get_session(), warehouse.location, run_state_in(context.instance), context.log)


def choose_query_execution(context, warehouse: DeltaWarehouse) -> None:
    """For a step after the raw stage: its queries run interpreted while raw_video_events is small.

    Every table such a step reads or writes is derived from raw_video_events, so the table's whole row
    count (which Delta answers from its log) bounds the step's work. The raw stage's steps read the
    landing, whose size is unknown before reading: they start compiled (``use_interpreted(False)``).
    """
    spark = warehouse.spark
    if spark.interprets_small_runs():
        events = warehouse.table_rows(RAW_EVENTS_TABLE)
        interpret_when_few(context, spark, events, f"{RAW_EVENTS_TABLE} holds {events} events")


def interpret_when_few(context, spark: SparkResource, rows: int | None, what: str) -> None:
    """Runs the step's next queries interpreted when ``rows`` (None: unknown) is below
    ``spark.interpreted_below_events``, compiled otherwise; ``what`` says what was counted, for the log."""
    if not spark.interprets_small_runs():
        return
    interpreted = rows is not None and rows < spark.interpreted_below_events
    spark.use_interpreted(interpreted)
    if interpreted:
        context.log.info(
            f"{what} (fewer than spark.interpreted_below_events = {spark.interpreted_below_events}): "
            "the step's queries run interpreted from here, without compiling code"
        )


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


@dataclass
class TableWrite:
    """One table a step writes: the rows, its invariant check (if any) and extra aggregates to observe."""

    table: str
    frame: object  # DataFrame
    invariant: Invariant | None = None
    observe: dict | None = None


def write_all_checked(
    context, warehouse: DeltaWarehouse, settings: EngagementSettings, days: list[str], writes: list[TableWrite]
) -> list[tuple[WriteResult, list[dg.AssetCheckResult]]]:
    """Writes each table for ``days`` in turn, then evaluates the selected checks of all of them in this step.

    The contract's row rules and rows per day are observed during each write
    (plus any extra ``observe`` aggregates); the keys and invariants of all the
    tables are one query over the written ranges. Returns, per table, the
    write's result and the check results; ``check_seconds`` is that query's
    time, the same on every table of the step.
    """
    results, written = [], []
    for write in writes:
        checks = TableChecks(write.table, write.frame, selected_checks(context, write.table), settings, days)
        result = warehouse.write_table(
            write.table,
            write.frame,
            write_range(days),
            context.log,
            observe={**checks.observations(), **(write.observe or {})},
            writer_id=f"dagster run {context.run_id}",
        )
        results.append(result)
        read_back = functools.partial(warehouse.read_range, write.table, days)
        written.append(WrittenTable(checks, result.observed, read_back, write.invariant))
    started = time.perf_counter()
    found = evaluate_written(written)
    seconds = round(time.perf_counter() - started, 2)
    for write, result, table_found in zip(writes, results, found, strict=True):
        if COLUMNS_BACKFILLED in selected_checks(context, write.table):
            table_found.append(backfill_result(write.table, result.backfill, days))
        result.metadata["check_seconds"] = seconds
        if len(writes) > 1:  # one query for all: its seconds are not to be added up per table
            result.metadata["checks_evaluated_with"] = ", ".join(w.table for w in writes if w is not write)
        if table_found:
            context.log.info(f"{write.table}: {verdicts(table_found)} ({seconds} s)")
    return list(zip(results, found, strict=True))


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
    """Writes ``table`` for ``days`` and evaluates its selected checks in this step (``write_all_checked``)."""
    [written] = write_all_checked(context, warehouse, settings, days, [TableWrite(table, frame, invariant, observe)])
    return written


def merge_checked(
    context,
    warehouse: DeltaWarehouse,
    table: str,
    source,
    keys: tuple[str, ...],
    settings: EngagementSettings,
    *,
    shape,
    merged_rows,
    gone_column: str = "_gone",
) -> tuple[dict, list[dg.AssetCheckResult]]:
    """MERGEs ``source`` into an all-time table by ``keys``, then evaluates the table's selected checks in this step.

    A MERGE cannot be observed as a write is, so the rules are counted by one
    query over ``merged_rows()`` (the rows to check, read back after the
    MERGE); ``shape`` is a frame of the table's columns for the structural
    check. Returns the MERGE's metadata and the check results.
    """
    metadata, backfill = warehouse.merge_rows(table, source, keys, gone_column, context.log)
    selected = selected_checks(context, table)
    checks = TableChecks(table, shape, selected, settings, [])
    check_results = checks.evaluate({}, merged_rows)
    if COLUMNS_BACKFILLED in selected:
        check_results.append(backfill_result(table, backfill, []))
    if check_results:
        context.log.info(f"{table}: {verdicts(check_results)} (over the merged rows)")
    return metadata, check_results


@dataclass
class Output:
    """One asset a step materialized: its metadata (plain values; lists and dicts shown as JSON) and the
    check results evaluated for it."""

    asset: str
    metadata: dict[str, Any]
    checks: list[dg.AssetCheckResult] = field(default_factory=list)


def as_metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values as Dagster metadata: a list or dict is shown as JSON, the rest as it is."""
    return {
        key: dg.MetadataValue.json(value) if isinstance(value, list | dict) else value for key, value in values.items()
    }


def materialized(
    outputs: list[Output], days: list[str], stage_checks: list[dg.AssetCheckResult] = ()
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """What a step reports: one materialization per output with its check results (and those of
    ``stage_checks``, checks over several tables, that belong to it), then each check's verdict per day of
    a range run (``per_day_evaluations``)."""
    for output in outputs:
        own = [found for found in stage_checks if found.asset_key.to_user_string() == output.asset]
        yield dg.MaterializeResult(
            asset_key=output.asset, metadata=as_metadata(output.metadata), check_results=[*output.checks, *own]
        )
    yield from per_day_evaluations([*(found for o in outputs for found in o.checks), *stage_checks], list(days))

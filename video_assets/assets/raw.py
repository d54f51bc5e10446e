"""Landing files or source tables -> video_catalog, raw_video_events and its quarantine, each checked in its step."""

import dagster as dg
from pyspark.sql import functions as F

from video_assets.assets.common import (
    RAW_EVENTS_TABLE,
    SPARK_KINDS,
    Output,
    StepLauncherParam,
    interpret_when_few,
    materialized,
    partition_days,
    remove_abandoned_scratch,
    timed_step,
    write_checked,
)
from video_assets.checks.in_step import selected_checks
from video_assets.checks.raw_stage import RawCounts, line_counters, raw_stage_results, reason_counters
from video_assets.checks.results import (
    CATALOG_ROWS_VALID,
    DEFAULT_MAX_QUARANTINE_SHARE,
    HAS_EVENTS,
    LINES_RECONCILE,
    MAX_QUARANTINE_SHARE_ENV,
    QUARANTINE_SHARE,
    check_spec,
    contract_specs,
    result,
)
from video_assets.io.delta import DeltaWarehouse, EmptyOverwriteRefused
from video_assets.io.scratch import scratch_rows
from video_assets.io.spark import SparkResource
from video_assets.partitions import daily_partitions
from video_assets.settings import EngagementSettings
from video_assets.sources.landing_zone import LandingZone
from video_assets.tables import column_schema
from video_assets.transforms import events

RAW_GROUP = "raw"
CLEAN, QUARANTINE = RAW_EVENTS_TABLE, "raw_video_events_quarantine"
QUARANTINED = "_quarantined"  # the scratch rows' split: a line with a quarantine reason or a candidate event


@dg.asset(
    group_name=RAW_GROUP,
    kinds=SPARK_KINDS,
    check_specs=[
        *contract_specs("video_catalog"),
        check_spec(
            CATALOG_ROWS_VALID,
            "video_catalog",
            "WARN when videos.csv has rows that were rejected (not a well-formed record of its header, no "
            "video_id) or videos without a usable duration (section 5's fallbacks then apply).",
            blocking=False,
        ),
    ],
    pool="writes_video_catalog",
    metadata={"dagster/column_schema": column_schema("video_catalog")},
    description=(
        "One row per video from <landing>/videos/videos.csv (or the videos table, landing.videos_table): "
        "video_id, title, duration_seconds "
        "(s; null when the file gives no finite positive number), category, published_at."
    ),
)
def video_catalog(
    context: dg.AssetExecutionContext,
    spark: SparkResource,
    landing: LandingZone,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """The catalog (file or table) validated row by row (SEMANTICS.md 1); rejected and duration-less rows counted."""
    spark.use_interpreted(False)  # the file's size is unknown before reading it
    read = landing.catalog().read(spark.get_session(), context.log)
    counts = read.counts
    if (counts is None or counts.videos == 0) and warehouse.has_rows("video_catalog"):
        if not warehouse.allow_empty_overwrite:
            raise EmptyOverwriteRefused(
                description=(
                    f"video_catalog: refusing to replace the videos it holds with nothing ({read.why_empty}). "
                    "Nothing was written. Fix the file or the landing location; to empty the catalog on purpose, "
                    "rerun with allow_empty_overwrite (docs/operating.md)."
                ),
                metadata=dict(read.metadata),
            )
        context.log.warning(f"video_catalog: emptied ({read.why_empty}); allow_empty_overwrite is on.")
    write, check_results = write_checked(context, warehouse, "video_catalog", read.videos, engagement, [])
    metadata = {**write.metadata, **read.metadata, "catalog_found": counts is not None}
    if counts is not None:
        found = counts.as_dict()
        names = ("rows_read", "videos", "duplicate_rows", "rejected", "without_duration", "rejected_by_reason")
        metadata.update({name: found[name] for name in names})
        if found["rejected_samples"]:
            metadata["rejected_samples"] = found["rejected_samples"]
    if CATALOG_ROWS_VALID in selected_checks(context, "video_catalog"):
        check_results.append(catalog_rows_result(counts))
    yield from materialized([Output("video_catalog", metadata, check_results)], [])


def catalog_rows_result(counts) -> dg.AssetCheckResult:
    """catalog_rows_valid: WARN when rows were rejected or videos have no usable duration."""
    if counts is None:
        return result("video_catalog", CATALOG_ROWS_VALID, True, "No catalog file: nothing to validate.", {}, warn=True)
    problems = []
    if counts.rejected:
        problems.append(f"{counts.rejected} of {counts.rows_read} rows rejected ({', '.join(f'{k} {v}' for k, v in counts.rejected_by_reason.items() if v)})")
    if counts.without_duration:
        problems.append(f"{counts.without_duration} of {counts.videos} videos without a usable duration")
    return result(
        "video_catalog",
        CATALOG_ROWS_VALID,
        not problems,
        "; ".join(problems) + "." if problems else f"All {counts.rows_read} rows are videos with a duration (or duplicates).",
        {
            "rows_read": counts.rows_read,
            "rejected": counts.rejected,
            "rejected_by_reason": dg.MetadataValue.json(dict(counts.rejected_by_reason)),
            "without_duration": counts.without_duration,
            "rejected_samples": dg.MetadataValue.json(list(counts.rejected_samples)),
        },
        warn=True,
    )


def _raw_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        *contract_specs(CLEAN),
        check_spec(
            LINES_RECONCILE,
            CLEAN,
            "Per day: landing lines read = valid events + quarantined records + duplicates, from the counts the "
            "step observed on its parse and on its two writes, and equal to the rows the two Delta commits wrote.",
        ),
        check_spec(HAS_EVENTS, CLEAN, "WARN when a day of the run has no clean event.", blocking=False),
        *contract_specs(QUARANTINE),
        check_spec(
            QUARANTINE_SHARE,
            QUARANTINE,
            f"WARN when quarantined / (valid + quarantined) of a day exceeds {MAX_QUARANTINE_SHARE_ENV} "
            f"(default {DEFAULT_MAX_QUARANTINE_SHARE:.0%}).",
            blocking=False,
        ),
    ]


@dg.multi_asset(
    outs={
        CLEAN: dg.AssetOut(
            group_name=RAW_GROUP,
            metadata={"dagster/column_schema": column_schema(CLEAN)},
            kinds=SPARK_KINDS,
            description=(
                "One row per clean, de-duplicated player event of the day (event_date = UTC date of the "
                "event). Canonical event_name, event_ts in UTC, position_seconds = playhead (s)."
            ),
        ),
        QUARANTINE: dg.AssetOut(
            group_name=RAW_GROUP,
            metadata={"dagster/column_schema": column_schema(QUARANTINE)},
            kinds=SPARK_KINDS,
            description=(
                "One row per rejected landing record: the original line (valid UTF-8; raw_bytes keeps the exact "
                "bytes when they differ), the reason code, the source file and the landing folder's date."
            ),
        ),
    },
    check_specs=_raw_check_specs(),
    pool="writes_raw_video_events",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # The two tables are one reconciliation of the landing lines: they are always written together.
    can_subset=False,
)
def raw_video_events(
    context: dg.AssetExecutionContext,
    spark: SparkResource,
    landing: LandingZone,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Parse, normalize, quarantine and de-duplicate the day's landing files (SEMANTICS.md 1-2).

    One read and one parse of every landing line: the classified lines are
    written once to the step's scratch rows, split by whether they are
    quarantined; the quarantine table is written from one part (no shuffle),
    the clean table from the other, de-duplicated (one shuffle). Every count
    the checks need is observed on the way (docs/performance.md).
    """
    spark.use_interpreted(False)  # the landing's size is unknown before reading it
    session = spark.get_session()
    days = partition_days(context)
    read = landing.events().read_days(session, days, context.log, lambda held: warehouse.days_with_rows(CLEAN, held))
    for table in (CLEAN, QUARANTINE):
        for why, refused_days in read.not_to_empty:
            warehouse.refuse_to_empty(table, refused_days, why, context.log)

    remove_abandoned_scratch(context, warehouse)
    with scratch_rows(session, warehouse.location, "raw_video_events_lines", context.run_id) as scratch:
        with timed_step(context, "landing lines: read, parse, classify (one pass)") as parse_timing:
            line_totals = scratch.write(
                _kept_for_the_tables(events.classify_lines(read.lines)), QUARANTINED,
                observe=line_counters(days),
            )
        # The rest of the step (both writes and their checks) works on these lines only.
        lines = int(line_totals.get("lines", 0))
        interpret_when_few(context, spark, lines, f"{lines} landing lines read")
        with timed_step(context, "raw_video_events_quarantine: write") as quarantine_timing:
            quarantine_write, quarantine_checks = write_checked(
                context, warehouse, QUARANTINE,
                events.quarantined_records(scratch.read().where(F.col(QUARANTINED))), engagement, days,
                observe=reason_counters(events.QUARANTINE_REASONS),
            )
        with timed_step(context, "raw_video_events: de-duplicate, write") as clean_timing:
            clean_write, clean_checks = write_checked(
                context, warehouse, CLEAN, events.clean_events(scratch.read().where(~F.col(QUARANTINED))),
                engagement, days,
            )
    counts = RawCounts.observed(line_totals, quarantine_write, clean_write, days)
    duplicates = sum(counts.duplicates(day) for day in days)
    context.log.info(
        f"lines read {line_totals.get('lines', 0)}: valid {clean_write.rows_written}, quarantined "
        f"{quarantine_write.rows_written}, duplicates {duplicates}"
    )
    stage_results = raw_stage_results(
        counts, days, {table: selected_checks(context, table) for table in (CLEAN, QUARANTINE)}
    )
    common = {"days": len(days), **read.metadata}
    clean = {
        **clean_write.metadata, **common,
        "lines_read": int(line_totals.get("lines", 0)), "valid_events": clean_write.rows_written,
        "duplicates_dropped": duplicates, "quarantined": quarantine_write.rows_written,
        "parse_seconds": parse_timing["seconds"], "compute_seconds": clean_timing["seconds"],
    }
    by_reason = {
        reason: int(quarantine_write.observed.get(f"reason:{reason}") or 0) for reason in events.QUARANTINE_REASONS
    }
    quarantine = {
        **quarantine_write.metadata, **common, "quarantined": quarantine_write.rows_written,
        "quarantined_by_reason": by_reason, "compute_seconds": quarantine_timing["seconds"],
    }
    outputs = [Output(CLEAN, clean, clean_checks), Output(QUARANTINE, quarantine, quarantine_checks)]
    yield from materialized(outputs, days, stage_results)


def _kept_for_the_tables(classified):
    """The classified lines split by QUARANTINED, the line text kept for the quarantine only.

    The clean table holds no line text and orders copies without it: a candidate's text would be
    written to the scratch rows for nothing (about half their bytes).
    """
    quarantined = F.col("reason").isNotNull()
    return classified.select(
        *[F.when(quarantined, F.col(c)).alias(c) if c in ("raw_line", "raw_bytes") else c for c in classified.columns],
        quarantined.alias(QUARANTINED),
    )

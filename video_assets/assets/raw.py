"""Landing files or source tables -> video_catalog, raw_video_events and its quarantine, each checked in its step."""

from datetime import date

import dagster as dg
from pyspark.sql import functions as F

from video_assets import config
from video_assets.assets.common import (
    SPARK_KINDS,
    StepLauncherParam,
    partition_days,
    remove_abandoned_scratch,
    timed_step,
    write_checked,
)
from video_assets.checks.in_step import per_day, rows_per_day, selected_checks
from video_assets.checks.raw_stage import RawCounts, raw_stage_results
from video_assets.checks.results import (
    CATALOG_ROWS_VALID,
    HAS_EVENTS,
    LINES_RECONCILE,
    MAX_QUARANTINE_SHARE_ENV,
    DEFAULT_MAX_QUARANTINE_SHARE,
    QUARANTINE_SHARE,
    check_spec,
    contract_specs,
    per_day_evaluations,
    result,
)
from video_assets.io.delta import DeltaWarehouse, EmptyOverwriteRefused
from video_assets.io.landing import LandingZone, list_day_files, path_exists
from video_assets.io.scratch import scratch_rows
from video_assets.io.source_table import SourceTable
from video_assets.io.spark import SparkResource
from video_assets.partitions import daily_partitions
from video_assets.settings import EngagementSettings
from video_assets.tables import column_schema
from video_assets.transforms import catalog, events, source_rows

RAW_GROUP = "raw"
EVENTS_TABLE_SETTING = f"landing.events_table of the resources YAML or {config.EVENTS_TABLE_VARIABLE}"
VIDEOS_TABLE_SETTING = f"landing.videos_table of the resources YAML or {config.VIDEOS_TABLE_VARIABLE}"
CLEAN, QUARANTINE = "raw_video_events", "raw_video_events_quarantine"
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
    session = spark.get_session()
    if landing.videos_table:
        source = SourceTable(landing.videos_table, VIDEOS_TABLE_SETTING)
        source_name = source.name
        try:
            loaded = catalog.load_catalog_table(source.read(session, source.current_version(session)), source.name)
        except catalog.CatalogHeaderError as error:
            raise source.failure(f"cannot be read as the video catalog: {error}") from error
        table, counts, why_empty = loaded.videos, loaded.counts, f"{source.name} has no valid video row"
    elif path_exists(session, source_name := landing.catalog_path()):
        try:
            loaded = catalog.load_catalog(session, source_name)
        except catalog.CatalogHeaderError as error:
            raise dg.Failure(description=f"{error} Nothing was written.", metadata={"source": source_name}) from error
        table, counts = loaded.videos, loaded.counts
        why_empty = f"{source_name} has no valid video row"
    else:
        landing.require_location(session)
        context.log.warning(
            f"No catalog at {source_name}. Durations will come from the players' videoDuration or, failing that, "
            "the largest position seen (flag duration_inferred)."
        )
        table, counts, why_empty = catalog.empty_catalog(session), None, f"no catalog at {source_name}"
    if (counts is None or counts.videos == 0) and warehouse.has_rows("video_catalog"):
        if not warehouse.allow_empty_overwrite:
            raise EmptyOverwriteRefused(
                description=(
                    f"video_catalog: refusing to replace the videos it holds with nothing ({why_empty}). Nothing "
                    "was written. Fix the file or the landing location; to empty the catalog on purpose, rerun "
                    "with allow_empty_overwrite (docs/operating.md)."
                ),
                metadata={"source": source_name},
            )
        context.log.warning(f"video_catalog: emptied ({why_empty}); allow_empty_overwrite is on.")
    write, check_results = write_checked(context, warehouse, "video_catalog", table, engagement, [])
    metadata = {**write.metadata, "source": source_name, "catalog_found": counts is not None}
    if counts is not None:
        found = counts.as_dict()
        metadata.update({name: found[name] for name in ("rows_read", "videos", "duplicate_rows", "rejected",
                                                         "without_duration")})
        metadata["rejected_by_reason"] = dg.MetadataValue.json(found["rejected_by_reason"])
        if found["rejected_samples"]:
            metadata["rejected_samples"] = dg.MetadataValue.json(found["rejected_samples"])
        if CATALOG_ROWS_VALID in selected_checks(context, "video_catalog"):
            check_results.append(catalog_rows_result(counts))
    elif CATALOG_ROWS_VALID in selected_checks(context, "video_catalog"):
        check_results.append(catalog_rows_result(None))
    yield dg.MaterializeResult(asset_key="video_catalog", metadata=metadata, check_results=check_results)


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
    session = spark.get_session()
    days = partition_days(context)
    if landing.events_table:
        lines, common = _table_lines(context, session, landing, warehouse, days)
    else:
        lines, common = _landing_file_lines(context, session, landing, warehouse, days)

    # Every line and every candidate is counted on the one pass that classifies them; the two writes count
    # what they write: the reconciliation adds up three independent counts.
    line_counts = {
        "lines": F.count(F.lit(1)),
        **rows_per_day("partition_date", days, "lines:"),
        **rows_per_day("partition_date", days, "candidates:", F.col("reason").isNull()),
        **{f"reason:{r}": F.count_if(F.col("reason") == r) for r in events.QUARANTINE_REASONS},
    }
    remove_abandoned_scratch(context, warehouse)
    with scratch_rows(session, warehouse.location, "raw_video_events_lines", context.run_id) as scratch:
        with timed_step(context, "landing lines: read, parse, classify (one pass)") as parse_timing:
            line_totals = scratch.write(
                _kept_for_the_tables(events.classify_lines(lines)), QUARANTINED, observe=line_counts
            )
        with timed_step(context, "raw_video_events_quarantine: write") as quarantine_timing:
            quarantine_write, quarantine_checks = write_checked(
                context, warehouse, QUARANTINE,
                events.quarantined_records(scratch.read().where(F.col(QUARANTINED))), engagement, days,
            )
        with timed_step(context, "raw_video_events: de-duplicate, write") as clean_timing:
            clean_write, clean_checks = write_checked(
                context, warehouse, CLEAN, events.clean_events(scratch.read().where(~F.col(QUARANTINED))),
                engagement, days, observe=rows_per_day("event_date", days, "valid:"),
            )
    counts = RawCounts(
        lines=per_day(line_totals, "lines:", days),
        quarantined=per_day(quarantine_write.observed, f"{QUARANTINE}:day:", days),
        candidates=per_day(line_totals, "candidates:", days),
        valid=per_day(clean_write.observed, "valid:", days),
        rows_written={CLEAN: clean_write.rows_written, QUARANTINE: quarantine_write.rows_written},
    )
    duplicates = sum(counts.duplicates(day) for day in days)
    context.log.info(
        f"lines read {line_totals.get('lines', 0)}: valid {clean_write.rows_written}, quarantined "
        f"{quarantine_write.rows_written}, duplicates {duplicates}"
    )
    stage_results = raw_stage_results(
        counts, days, {table: selected_checks(context, table) for table in (CLEAN, QUARANTINE)}
    )
    common = {"days": len(days), **common}
    yield dg.MaterializeResult(
        asset_key=CLEAN,
        metadata={
            **clean_write.metadata,
            **common,
            "lines_read": int(line_totals.get("lines", 0)),
            "valid_events": clean_write.rows_written,
            "duplicates_dropped": duplicates,
            "quarantined": quarantine_write.rows_written,
            "parse_seconds": parse_timing["seconds"],
            "compute_seconds": clean_timing["seconds"],
        },
        check_results=clean_checks + [r for r in stage_results if r.asset_key.to_user_string() == CLEAN],
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE,
        metadata={
            **quarantine_write.metadata,
            **common,
            "quarantined": quarantine_write.rows_written,
            "quarantined_by_reason": dg.MetadataValue.json(
                {reason: int(line_totals.get(f"reason:{reason}", 0)) for reason in events.QUARANTINE_REASONS}
            ),
            "compute_seconds": quarantine_timing["seconds"],
        },
        check_results=quarantine_checks + [r for r in stage_results if r.asset_key.to_user_string() == QUARANTINE],
    )
    yield from per_day_evaluations([*clean_checks, *quarantine_checks, *stage_results], days)


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


def _landing_file_lines(context, session, landing: LandingZone, warehouse: DeltaWarehouse, days: list[str]):
    """(the landing lines of ``days``, metadata about the files) from <landing>/events/date=D/."""
    day_files = [list_day_files(session, landing, day) for day in days]
    if any(files.is_empty for files in day_files):
        landing.require_location(session)  # a missing landing root lists as empty days: tell it apart
    skipped = [path for files in day_files for path in getattr(files, "skipped_files", ())]
    for path in skipped:
        context.log.warning(f"Not read (not .jsonl, .jsonl.gz or .parquet): {path}")
    for files in day_files:
        for path in files.folder_files:
            context.log.warning(f"Not read (a folder named like a data file; quarantined as unreadable_file): {path}")
        for path in files.outside_files:
            context.log.warning(
                f"Not read (resolves outside the landing zone {landing.location}; quarantined as "
                f"outside_landing_zone, its path only): {path}"
            )
    empty_days = [files.day for files in day_files if files.is_empty]
    for day in empty_days:
        context.log.warning(f"No landing files for {day} in {landing.events_dir(day)}.")
    # A day whose files hold only blank lines would be replaced by nothing too; it is looked at only when
    # the table holds rows for it (a rerun), so a first load costs no extra read.
    held = warehouse.days_with_rows(CLEAN, [files.day for files in day_files if not files.is_empty])
    recordless = [
        files.day for files in day_files if files.day in held and not events.day_has_records(session, files)
    ]
    for day in recordless:
        context.log.warning(f"The landing files of {day} hold no records (blank lines only).")
    for table in (CLEAN, QUARANTINE):
        warehouse.refuse_to_empty(table, empty_days, "no landing files", context.log)
        warehouse.refuse_to_empty(table, recordless, "its landing files hold no records", context.log)
    file_count = sum(len(f.text_files) + len(f.parquet_files) for f in day_files)
    context.log.info(f"Reading {file_count} landing file(s) for {days[0]}..{days[-1]}")
    metadata = {
        "landing_files": file_count,
        "skipped_files": len(skipped),
        "outside_landing_zone_entries": sum(len(files.outside_files) for files in day_files),
    }
    if skipped:
        metadata["skipped_file_names"] = dg.MetadataValue.json(skipped[:50])
    return events.read_landing_lines(session, day_files), metadata




def _table_lines(context, session, landing: LandingZone, warehouse: DeltaWarehouse, days: list[str]):
    """(the rows of ``days`` in the events table as landing lines, metadata about the read).

    The table is read at the version current when the step starts; one small
    query (the time column only) counts its rows per day first, so that a day
    without rows is refused like a day without files, and rows without an
    event time are reported.
    """
    source = SourceTable(landing.events_table, EVENTS_TABLE_SETTING)
    version = source.current_version(session)
    table = source.read(session, version)
    try:
        columns = source_rows.recognized_columns(table.schema, landing.events_time_column, f"events table {source.name}")
    except source_rows.SourceSchemaError as error:
        raise source.failure(f"cannot be read as events: {error}") from error
    rows_on = {row["day"]: int(row["rows"]) for row in source_rows.rows_by_day(table, columns, days).collect()}
    without_time = rows_on.pop(None, 0)
    if without_time:
        context.log.warning(
            f"{without_time} row(s) of {source.name} have no {columns[source_rows.TIME_FIELD]}: they belong to no "
            "day and are not read."
        )
    empty_days = [day for day in days if date.fromisoformat(day) not in rows_on]
    for day in empty_days:
        context.log.warning(f"No rows of {source.name} on {day} (UTC).")
    for name in (CLEAN, QUARANTINE):
        warehouse.refuse_to_empty(name, empty_days, f"no rows in {source.name}", context.log)
    version_text = f" at version {version}" if version is not None else ""
    context.log.info(
        f"Reading {sum(rows_on.values())} row(s) of {source.name}{version_text} for {days[0]}..{days[-1]} "
        f"(columns: {', '.join(columns.values())})"
    )
    metadata = {
        "source_table": source.name,
        "source_columns": dg.MetadataValue.json(columns),
        "source_rows_without_event_time": without_time,
    }
    if version is not None:
        metadata["source_table_version"] = version
    return source_rows.rows_as_lines(table, columns, source.name, days), metadata

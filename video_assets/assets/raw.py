"""Landing zone -> video_catalog, raw_video_events and its quarantine."""

from datetime import date, timedelta

import dagster as dg
from pyspark import StorageLevel

from video_assets.assets.common import SPARK_KINDS, StepLauncherParam, partition_days, timed_step
from video_assets.io.delta import DeltaWarehouse
from video_assets.io.landing import LandingZone, list_day_files, path_exists
from video_assets.io.spark import SparkResource
from video_assets.partitions import daily_partitions
from video_assets.transforms import catalog, events

RAW_GROUP = "raw"


@dg.asset(
    group_name=RAW_GROUP,
    kinds=SPARK_KINDS,
    description=(
        "One row per video from <landing>/videos/videos.csv: video_id, title, duration_seconds "
        "(s; null when the file gives no positive number), category, published_at."
    ),
)
def video_catalog(
    context: dg.AssetExecutionContext, spark: SparkResource, landing: LandingZone, step_launcher: StepLauncherParam
):
    session = spark.get_session()
    csv_path = landing.catalog_path()
    if not path_exists(session, csv_path):
        context.log.warning(
            f"No catalog at {csv_path}: writing an empty video_catalog. Durations will come from the "
            "players' videoDuration or, failing that, the largest position seen (flag duration_inferred)."
        )
        return dg.Output(catalog.empty_catalog(session), metadata={"source": csv_path, "catalog_found": False})
    return dg.Output(catalog.read_catalog(session, csv_path), metadata={"source": csv_path, "catalog_found": True})


@dg.multi_asset(
    outs={
        "raw_video_events": dg.AssetOut(
            is_required=False,  # the pair can be materialized one at a time
            group_name=RAW_GROUP,
            kinds=SPARK_KINDS,
            description=(
                "One row per clean, de-duplicated player event of the day (event_date = UTC date of the "
                "event). Canonical event_name, event_ts in UTC, position_seconds = playhead (s)."
            ),
        ),
        "raw_video_events_quarantine": dg.AssetOut(
            is_required=False,  # the pair can be materialized one at a time
            group_name=RAW_GROUP,
            kinds=SPARK_KINDS,
            description=(
                "One row per rejected landing record: the original line, the reason code, the source "
                "file and the landing folder's date (partition_date)."
            ),
        ),
    },
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
)
def raw_video_events(
    context: dg.AssetExecutionContext,
    spark: SparkResource,
    landing: LandingZone,
    warehouse: DeltaWarehouse,
    step_launcher: StepLauncherParam,
):
    """Parse, normalize, quarantine and de-duplicate the day's landing files (SEMANTICS.md 1-2)."""
    session = spark.get_session()
    days = partition_days(context)
    day_files = [list_day_files(session, landing, day) for day in days]
    for files in day_files:
        if files.is_empty:
            context.log.warning(
                f"No landing files for {files.day} in {landing.events_dir(files.day)}: "
                "that day's partition is written empty."
            )
    file_count = sum(len(f.text_files) + len(f.parquet_files) for f in day_files)
    context.log.info(f"Reading {file_count} landing file(s) for {days[0]}..{days[-1]}")

    with timed_step(context, "raw_video_events: parse and classify") as timing:
        classified = events.classify_lines(events.read_landing_lines(session, day_files))
        classified = classified.persist(StorageLevel.MEMORY_AND_DISK)
        counts = reconciliation(events.status_counts(classified).collect())

    context.log.info(
        f"lines read {counts['lines_read']}: valid {counts['valid']}, quarantined {counts['quarantined']}, "
        f"duplicates {counts['duplicates']}"
    )
    common = {"days": len(days), "landing_files": file_count, "parse_seconds": timing["seconds"]}
    selected = context.selected_output_names
    if "raw_video_events" in selected:
        yield dg.Output(
            events.clean_events(classified),
            output_name="raw_video_events",
            metadata={
                **common,
                "lines_read": counts["lines_read"],
                "valid_events": counts["valid"],
                "duplicates_dropped": counts["duplicates"],
                "quarantined": counts["quarantined"],
            },
        )
    if "raw_video_events_quarantine" not in selected:
        # The quarantine is the other half of the day's reconciliation: written with the
        # clean events even when only they were selected, so no rejected line goes missing.
        context.log.warning(
            "raw_video_events_quarantine was not selected; writing it anyway for "
            f"{days[0]}..{days[-1]} (no materialization event is recorded for it in this run)."
        )
        warehouse.write_table(
            "raw_video_events_quarantine",
            events.quarantined_records(classified),
            (days[0], (date.fromisoformat(days[-1]) + timedelta(days=1)).isoformat()),
            context.log,
        )
    else:
        yield dg.Output(
            events.quarantined_records(classified),
            output_name="raw_video_events_quarantine",
            metadata={
                **common,
                "quarantined": counts["quarantined"],
                "quarantined_by_reason": dg.MetadataValue.json(counts["by_reason"]),
            },
        )
    classified.unpersist()


def reconciliation(status_rows) -> dict:
    """lines read = valid + quarantined + duplicates, from the per-status counts (a few rows)."""
    by_status: dict[str, int] = {}
    for row in status_rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + int(row["count"])
    by_reason = {reason: by_status.get(reason, 0) for reason in events.QUARANTINE_REASONS}
    valid = by_status.get(events.VALID, 0)
    duplicates = by_status.get(events.DUPLICATE, 0)
    return {
        "lines_read": sum(by_status.values()),
        "valid": valid,
        "duplicates": duplicates,
        "quarantined": sum(by_reason.values()),
        "by_reason": by_reason,
    }

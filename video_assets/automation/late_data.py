"""Late data: re-materialize days whose landing folder changed after they were materialized.

The sensor looks only at days that ``raw_video_events`` has already
materialized. For each, it fingerprints ``<landing>/events/date=D/`` from the
file listing alone (names, sizes, modification times; no file is opened) and
compares it with the fingerprint it saw last time, kept per day in the sensor
cursor as compact JSON. A day with no remembered fingerprint (the sensor was
just switched on, or the day was just materialized) counts as changed when one
of its files is newer than the start of the run that last materialized it.

For the changed days it launches one asset backfill, the same thing as
"Materialize → Launch backfill" in the UI on ``raw_video_events`` and its
downstream assets:

* ``raw_video_events`` + ``raw_video_events_quarantine`` for each changed day D;
* every downstream partition that reads D: D and D+1 for the session stage and
  what follows it (partition D+1 of the session stage reads raw D and D+1);
* the unpartitioned all-time assets (``user_video_engagement``, ``video_lifetime_summary``).

Downstream partitions that were never materialized are left to the normal
pipeline (the sensor repairs, it does not extend). The backfill daemon orders
the work and uses the fewest runs the partition mappings allow (single-run
backfill policy): one run for the raw days, one for the downstream days, one
for the all-time assets.

Off by default. Turn it on in the UI (Automation → late_data_sensor) or with
``dagster sensor start late_data_sensor``. It evaluates at most every
``VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS`` seconds (default 300).

What "changed" means is the event source's to say (``sources``: the landing
zone's file listing, or an events table's Delta log); a source that cannot be
looked at from the daemon (cloud storage, a catalog table) makes the sensor
skip with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg

from video_assets import config
from video_assets.dagster_internals import AssetGraphSubset, AssetKeyPartitionKey
from video_assets.sources.landing_zone import LandingZone

SENSOR_NAME = "late_data_sensor"
INTERVAL_ENV = config.LATE_DATA_INTERVAL_VARIABLE
DEFAULT_INTERVAL_SECONDS = config.DEFAULT_LATE_DATA_INTERVAL_SECONDS

RAW_EVENTS = dg.AssetKey("raw_video_events")
RAW_QUARANTINE = dg.AssetKey("raw_video_events_quarantine")

TRIGGER_TAG = "video_assets/trigger"
DAYS_TAG = "video_assets/late_data_days"


def interval_seconds() -> int:
    """Minimum seconds between evaluations, from VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS (at least 1)."""
    return config.from_environment().late_data_interval_seconds


# --- what changed ---------------------------------------------------------------------------------


def describe_days(days: Iterable[str]) -> str:
    """Sorted days as compact ranges: '2024-01-15..2024-01-17,2024-02-01'."""
    ordered = sorted({date.fromisoformat(day) for day in days})
    runs: list[list[date]] = []
    for day in ordered:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ",".join(start.isoformat() if start == end else f"{start}..{end}" for start, end in runs)


class InstanceMaterializations:
    """What the Dagster instance knows of raw_video_events' materializations per day (sources' Materializations)."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance

    def _latest(self, days: list[str]) -> dict[str, "dg.EventLogRecord"]:
        """For each day, its latest raw_video_events materialization record."""
        if not days:
            return {}
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RAW_EVENTS, asset_partitions=days), limit=max(1000, 20 * len(days))
        ).records
        latest = {}
        for record in records:  # newest first
            if record.partition_key and record.partition_key not in latest:
                latest[record.partition_key] = record
        return latest

    def run_starts(self, days: list[str]) -> dict[str, float]:
        """For each day, the start time of the run that last materialized raw_video_events for it."""
        latest = self._latest(days)
        run_ids = sorted({record.run_id for record in latest.values() if record.run_id})
        starts = {}
        if run_ids:
            for run_record in self.instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids)):
                if run_record.start_time is not None:
                    starts[run_record.dagster_run.run_id] = run_record.start_time
        return {day: starts.get(record.run_id, record.timestamp) for day, record in latest.items()}

    def versions_read(self, days: list[str]) -> dict[str, int | None]:
        """For each day, the source table version its latest raw_video_events materialization read (None: unknown)."""
        found = {}
        for day, record in self._latest(days).items():
            value = record.asset_materialization.metadata.get("source_table_version")
            found[day] = int(value.value) if value is not None else None
        return found


# --- what to rerun --------------------------------------------------------------------------------


def _ever_materialized(instance: dg.DagsterInstance, key: dg.AssetKey) -> bool:
    return bool(instance.fetch_materializations(key, limit=1).records)


def rerun_subset(
    asset_graph, instance: dg.DagsterInstance, changed_days: list[str]
) -> AssetGraphSubset:
    """Raw events (+ quarantine) for the changed days and every already-materialized partition downstream."""
    raw_partitions_def = asset_graph.get(RAW_EVENTS).partitions_def
    # Days outside today's partitions (VIDEO_ASSETS_PARTITION_START moved later) cannot be rerun.
    days = [day for day in changed_days if raw_partitions_def.has_partition_key(day)]
    roots = [key for key in (RAW_EVENTS, RAW_QUARANTINE) if asset_graph.has(key)]
    # The same downstream walk (through the partition mappings) as a UI backfill of the raw assets and
    # everything downstream of them, one root at a time.
    reached = AssetGraphSubset()
    for root in roots:
        initial = AssetGraphSubset(
            partitions_subsets_by_asset_key={
                root: asset_graph.get(root).partitions_def.subset_with_partition_keys(days)
            }
        )
        reached |= asset_graph.bfs_filter_subsets(
            lambda key, _subset: asset_graph.get(key).is_materializable, initial
        )
    wanted: set[AssetKeyPartitionKey] = set()
    materialized_cache: dict[dg.AssetKey, set[str] | bool] = {}
    for asset_partition in reached.iterate_asset_partitions():
        key, partition = asset_partition.asset_key, asset_partition.partition_key
        if key not in materialized_cache:
            materialized_cache[key] = (
                instance.get_materialized_partitions(key)
                if partition is not None
                else _ever_materialized(instance, key)
            )
        done = materialized_cache[key]
        if key in roots or (partition in done if partition is not None else done):
            wanted.add(asset_partition)
    # Assets that can only be computed together (multi-assets that cannot be subset) rerun together.
    for asset_partition in list(wanted):
        for sibling in asset_graph.get(asset_partition.asset_key).execution_set_asset_keys:
            wanted.add(AssetKeyPartitionKey(sibling, asset_partition.partition_key))
    return AssetGraphSubset.from_asset_partition_set(wanted, asset_graph)


def partitions_by_asset(subset: AssetGraphSubset) -> dict[str, list[str | None]]:
    """{asset name: sorted partition keys ([None] for an unpartitioned asset)} of a subset."""
    found: dict[str, set[str | None]] = {}
    for asset_partition in subset.iterate_asset_partitions():
        found.setdefault(asset_partition.asset_key.to_user_string(), set()).add(asset_partition.partition_key)
    return {name: sorted(keys, key=lambda k: k or "") for name, keys in sorted(found.items())}


# --- the sensor -----------------------------------------------------------------------------------


@dg.sensor(
    name=SENSOR_NAME,
    asset_selection=dg.AssetSelection.assets(RAW_EVENTS, RAW_QUARANTINE).downstream(),
    minimum_interval_seconds=interval_seconds(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Late data: when files are added to, changed in or removed from <landing>/events/date=D/ for a day "
        "raw_video_events has already materialized, launches a backfill of raw_video_events (+ quarantine) for D "
        "and of every already-materialized downstream partition that reads D (D and D+1 for the session stage "
        "and after), plus the all-time assets. Fingerprints are file names, sizes and modification times, "
        "kept per day in the cursor. With an events table (landing.events_table), the days that commits newer "
        "than the version a day was read at touched, from the table's Delta log. "
        f"Interval: ${INTERVAL_ENV} (default {DEFAULT_INTERVAL_SECONDS} s)."
    ),
)
def late_data_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    asset_graph = context.repository_def.asset_graph
    if not asset_graph.has(RAW_EVENTS):
        return dg.SkipReason(f"{RAW_EVENTS.to_user_string()} is not in this code location.")
    materialized_days = context.instance.get_materialized_partitions(RAW_EVENTS)
    history = InstanceMaterializations(context.instance)
    found = landing.events().changed_days(context.cursor, materialized_days, history)
    if isinstance(found, str):
        return dg.SkipReason(found)
    for warning in found.warnings:
        context.log.warning(warning)
    changed, new_cursor, where = found.days, found.cursor, found.looked_at
    if not changed:
        return dg.SensorResult(
            skip_reason=f"No changes in the {len(materialized_days)} materialized day(s) of {where}.",
            cursor=new_cursor,
        )

    subset = rerun_subset(asset_graph, context.instance, changed)
    if not subset.asset_keys:
        return dg.SensorResult(
            skip_reason=f"{where} changed for {describe_days(changed)}, but no such partition exists any more.",
            cursor=new_cursor,
        )
    days_text = describe_days(changed)
    plan = partitions_by_asset(subset)
    context.log.info(
        f"Late data in {days_text}: backfilling "
        + "; ".join(f"{name} {describe_days(k for k in keys if k) or '(all time)'}" for name, keys in plan.items())
    )
    backfill = dg.RunRequest.for_asset_graph_subset(subset, tags={TRIGGER_TAG: SENSOR_NAME, DAYS_TAG: days_text[:200]})
    return dg.SensorResult(run_requests=[backfill], cursor=new_cursor)

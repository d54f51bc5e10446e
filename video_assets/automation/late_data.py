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

Only a local landing zone (a folder, or a ``file:`` URI) can be listed from the
daemon; for any other location the sensor skips with a reason.

With an events table instead of files (``landing.events_table``), a day is
changed when a commit newer than the table version its materialization read
touched it (``table_changes``: the Delta log's statistics of the time column);
the cursor is then the last table version looked at. Only a Delta table in a
local folder is read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from video_assets import config
from video_assets.automation import table_changes
from video_assets.dagster_internals import AssetGraphSubset, AssetKeyPartitionKey
from video_assets.io.landing import LandingZone, is_landing_data_file

SENSOR_NAME = "late_data_sensor"
INTERVAL_ENV = config.LATE_DATA_INTERVAL_VARIABLE
DEFAULT_INTERVAL_SECONDS = config.DEFAULT_LATE_DATA_INTERVAL_SECONDS

RAW_EVENTS = dg.AssetKey("raw_video_events")
RAW_QUARANTINE = dg.AssetKey("raw_video_events_quarantine")

TRIGGER_TAG = "video_assets/trigger"
DAYS_TAG = "video_assets/late_data_days"
CURSOR_VERSION = 1
NO_FILES = "-"  # fingerprint of a day whose folder is missing or holds no data file


def interval_seconds() -> int:
    """Minimum seconds between evaluations, from VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS (at least 1)."""
    return config.from_environment().late_data_interval_seconds


# --- fingerprints and cursor ---------------------------------------------------------------------


def local_events_root(location: str) -> Path | None:
    """<landing>/events as a local folder, or None when the landing zone is not on this machine."""
    if location.startswith("file://"):
        location = location[len("file://") :]
    elif location.startswith("file:"):
        location = location[len("file:") :]
    elif "://" in location or ":" in location.split("/")[0]:
        return None
    return Path(location) / "events"


def _data_files(folder: Path) -> list[os.DirEntry]:
    """The files the raw stage would read: data suffixes, hidden (./_) names skipped."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [entry for entry in entries if entry.is_file() and is_landing_data_file(entry.name)]


def day_listing(events_root: Path, day: str) -> tuple[str, float | None]:
    """(fingerprint, newest modification time) of one day's landing folder, from its listing only."""
    files = _data_files(events_root / f"date={day}")
    if not files:
        return NO_FILES, None
    stats = sorted((entry.name, entry.stat()) for entry in files)
    listing = [[name, stat.st_size, stat.st_mtime_ns] for name, stat in stats]
    digest = hashlib.blake2b(json.dumps(listing, separators=(",", ":")).encode(), digest_size=8).hexdigest()
    return digest, max(stat.st_mtime for _, stat in stats)


def read_cursor(cursor: str | None) -> dict[str, str]:
    """Last fingerprint per day; an unreadable or older cursor starts afresh."""
    if not cursor:
        return {}
    try:
        payload = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        return {}
    days = payload.get("days", {})
    return {str(day): str(value) for day, value in days.items()} if isinstance(days, dict) else {}


def write_cursor(fingerprints: Mapping[str, str]) -> str:
    return json.dumps({"v": CURSOR_VERSION, "days": dict(sorted(fingerprints.items()))}, separators=(",", ":"))


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


# --- what changed ---------------------------------------------------------------------------------


def _materialization_run_starts(instance: dg.DagsterInstance, days: list[str]) -> dict[str, float]:
    """For each day, the start time of the run that last materialized raw_video_events for it."""
    if not days:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_EVENTS, asset_partitions=days), limit=max(1000, 20 * len(days))
    ).records
    latest: dict[str, tuple[str, float]] = {}
    for record in records:  # newest first
        partition = record.partition_key
        if partition and partition not in latest:
            latest[partition] = (record.run_id, record.timestamp)
    run_ids = sorted({run_id for run_id, _ in latest.values() if run_id})
    starts = {}
    if run_ids:
        for run_record in instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids)):
            if run_record.start_time is not None:
                starts[run_record.dagster_run.run_id] = run_record.start_time
    return {day: starts.get(run_id, timestamp) for day, (run_id, timestamp) in latest.items()}


def find_changed_days(
    instance: dg.DagsterInstance, events_root: Path, materialized_days: Iterable[str], previous: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """(changed days, fingerprints to remember) for the materialized days."""
    fingerprints: dict[str, str] = {}
    changed: list[str] = []
    unseen: dict[str, float | None] = {}
    for day in sorted(materialized_days):
        fingerprint, newest = day_listing(events_root, day)
        fingerprints[day] = fingerprint
        if day not in previous:
            unseen[day] = newest
        elif previous[day] != fingerprint:
            changed.append(day)
    candidates = [day for day, newest in unseen.items() if newest is not None]
    starts = _materialization_run_starts(instance, candidates)
    for day in candidates:
        if day in starts and unseen[day] > starts[day]:
            changed.append(day)
    return sorted(changed), fingerprints


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
    if landing.events_table:
        found = _changed_days_in_table(context, landing, materialized_days)
    else:
        found = _changed_days_in_landing(context, landing, materialized_days)
    if isinstance(found, dg.SkipReason):
        return found
    changed, new_cursor, where = found
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


def _changed_days_in_landing(context, landing: LandingZone, materialized_days):
    """(changed days, new cursor, what was looked at) for a landing zone of files, or a SkipReason."""
    events_root = local_events_root(landing.location)
    if events_root is None:
        return dg.SkipReason(
            f"The landing zone {landing.location} is not a local folder; this sensor lists local folders only."
        )
    previous = read_cursor(context.cursor)
    changed, fingerprints = find_changed_days(context.instance, events_root, materialized_days, previous)
    return changed, write_cursor(fingerprints), f"the landing zone {events_root}"


# --- a table source --------------------------------------------------------------------------------


def read_table_cursor(cursor: str | None, table: str) -> int | None:
    """The last table version the sensor looked at, when the cursor is about this table."""
    try:
        payload = json.loads(cursor or "")
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION or payload.get("table") != table:
        return None
    version = payload.get("table_version")
    return version if isinstance(version, int) else None


def write_table_cursor(table: str, version: int) -> str:
    return json.dumps({"v": CURSOR_VERSION, "table": table, "table_version": version}, separators=(",", ":"))


def versions_read(instance: dg.DagsterInstance, days: list[str]) -> dict[str, int | None]:
    """For each day, the source table version its latest raw_video_events materialization read (None: unknown)."""
    if not days:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_EVENTS, asset_partitions=days), limit=max(1000, 20 * len(days))
    ).records
    found: dict[str, int | None] = {}
    for record in records:  # newest first
        if record.partition_key and record.partition_key not in found:
            value = record.asset_materialization.metadata.get("source_table_version")
            found[record.partition_key] = int(value.value) if value is not None else None
    return found


def find_changed_days_in_table(
    commits: list[table_changes.Commit], read_at: Mapping[str, int | None], materialized_days: Iterable[str]
) -> list[str]:
    """The materialized days that a commit newer than the version each was read at touched.

    A commit whose days are unknown touches every materialized day. A day
    with no recorded version (materialized from files) counts every commit.
    """
    materialized = set(materialized_days)
    changed = set()
    for commit in commits:
        for day in materialized if commit.days is None else commit.days & materialized:
            version = read_at.get(day)
            if version is None or commit.version > version:
                changed.add(day)
    return sorted(changed)


def _changed_days_in_table(context, landing: LandingZone, materialized_days):
    """(changed days, new cursor, what was looked at) for an events table, or a SkipReason."""
    folder = table_changes.local_table_folder(landing.events_table)
    if folder is None:
        return dg.SkipReason(
            f"The events table {landing.events_table} is not a Delta table in a local folder; this sensor reads "
            "local Delta logs only. Rerun days that received late rows with a backfill of raw_video_events "
            "and its downstream assets (docs/from-a-notebook.md)."
        )
    current = table_changes.latest_version(folder)
    if current is None:
        return dg.SkipReason(f"{folder} holds no Delta table (no _delta_log).")
    read_at = versions_read(context.instance, sorted(materialized_days))
    start = read_table_cursor(context.cursor, landing.events_table)
    if start is None:
        known = [version for version in read_at.values() if version is not None]
        start = min(known) if known else current
    commits = table_changes.commits_after(folder, start, landing.events_time_column)
    changed = find_changed_days_in_table(commits, read_at, materialized_days)
    if any(commit.days is None for commit in commits):
        context.log.warning(
            f"A commit of {landing.events_table} after version {start} has no statistics for "
            f"{landing.events_time_column}: every materialized day it may touch is rerun."
        )
    return changed, write_table_cursor(landing.events_table, current), f"the events table {landing.events_table}"

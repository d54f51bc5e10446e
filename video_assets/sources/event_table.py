"""An existing events table (Delta or Unity Catalog) as an event source.

Reading: the table at the version current when the step starts, the rows of
the run's days only (a range on the time column), each row as the JSON text
of its recognized columns (``table_rows``): one landing line per row, parsed
and quarantined as a file's line is. One small query (the time column only)
counts the rows per day first, so that a day without rows is refused like a
day without files, and rows without an event time are reported.

Changes (for the late-data sensor): a day changed when a commit newer than
the table version its materialization read touched it (``delta_log``: the
Delta log's statistics of the time column); the cursor is the last table
version looked at. Only a Delta table in a local folder is read.
"""

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from video_assets.io.paths import local_path
from video_assets.sources import delta_log, table_rows
from video_assets.sources.interface import CURSOR_VERSION, Changes, EventSource, EventsRead, Materializations, RunLog
from video_assets.sources.source_table import SourceTable


class EventsTable(EventSource):
    """Events from a table. ``setting`` names where the table was configured, for error messages."""

    def __init__(self, table: str, time_column: str, setting: str):
        self.table = SourceTable(table, setting)
        self.time_column = time_column

    @property
    def name(self) -> str:
        return f"the events table {self.table.name}"

    def read_days(
        self, spark, days: list[str], log: RunLog, days_held: Callable[[list[str]], set[str]]
    ) -> EventsRead:
        source = self.table
        version = source.current_version(spark)
        table = source.read(spark, version)
        try:
            columns = table_rows.recognized_columns(table.schema, self.time_column, f"events table {source.name}")
        except table_rows.SourceSchemaError as error:
            raise source.failure(f"cannot be read as events: {error}") from error
        # One row per day of the run: the only rows this process holds.
        rows_on = {row["day"]: int(row["rows"]) for row in table_rows.rows_by_day(table, columns, days).collect()}
        without_time = rows_on.pop(None, 0)
        if without_time:
            log.warning(
                f"{without_time} row(s) of {source.name} have no {columns[table_rows.TIME_FIELD]}: they belong to "
                "no day and are not read."
            )
        empty_days = [day for day in days if date.fromisoformat(day) not in rows_on]
        for day in empty_days:
            log.warning(f"No rows of {source.name} on {day} (UTC).")
        version_text = f" at version {version}" if version is not None else ""
        log.info(
            f"Reading {sum(rows_on.values())} row(s) of {source.name}{version_text} for {days[0]}..{days[-1]} "
            f"(columns: {', '.join(columns.values())})"
        )
        metadata = {
            "source_table": source.name,
            "source_columns": columns,
            "source_rows_without_event_time": without_time,
        }
        if version is not None:
            metadata["source_table_version"] = version
        return EventsRead(
            lines=table_rows.rows_as_lines(table, columns, source.name, days),
            not_to_empty=[(f"no rows in {source.name}", empty_days)],
            metadata=metadata,
        )

    def changed_days(
        self, cursor: str | None, materialized_days: Iterable[str], history: Materializations
    ) -> Changes | str:
        name = self.table.name
        reference = self.table.reference
        folder = local_path(reference.path) if reference.is_path else None
        if folder is None:
            return (
                f"The events table {name} is not a Delta table in a local folder; this sensor reads local Delta "
                "logs only. Rerun days that received late rows with a backfill of raw_video_events and its "
                "downstream assets (docs/from-a-notebook.md)."
            )
        current = delta_log.latest_version(folder)
        if current is None:
            return f"{folder} holds no Delta table (no _delta_log)."
        read_at = history.versions_read(sorted(materialized_days))
        start = read_cursor(cursor, name)
        if start is None:
            known = [version for version in read_at.values() if version is not None]
            start = min(known) if known else current
        commits = delta_log.commits_after(folder, start, self.time_column)
        warnings = []
        if any(commit.days is None for commit in commits):
            warnings.append(
                f"A commit of {name} after version {start} has no statistics for {self.time_column}: every "
                "materialized day it may touch is rerun."
            )
        return Changes(
            find_changed_days(commits, read_at, materialized_days), write_cursor(name, current),
            f"the events table {name}", warnings,
        )


def read_cursor(cursor: str | None, table: str) -> int | None:
    """The last table version the sensor looked at, when the cursor is about this table."""
    try:
        payload = json.loads(cursor or "")
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION or payload.get("table") != table:
        return None
    version = payload.get("table_version")
    return version if isinstance(version, int) else None


def write_cursor(table: str, version: int) -> str:
    return json.dumps({"v": CURSOR_VERSION, "table": table, "table_version": version}, separators=(",", ":"))


def find_changed_days(
    commits: list[delta_log.Commit], read_at: Mapping[str, int | None], materialized_days: Iterable[str]
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

"""Which days of an events table changed after a version: read from its Delta log, without Spark.

A Delta table's log holds one JSON file per commit (``_delta_log/<version>.json``),
and each file added by a commit carries statistics: the minimum and maximum of
its columns. The days a commit touched are the UTC dates between the minimum
and the maximum of the event-time column over the files it added or removed
(a file's statistics may span several days; every day in between counts).
Commits that change no data (``dataChange: false``: OPTIMIZE, compaction) touch
no day. A file without statistics for the time column (statistics are kept
for the first 32 columns by default) makes its commit touch an unknown set of
days, reported as such.

Only a table in a local folder is read here (the sensor runs in the Dagster
daemon, which may not reach the cloud storage a cluster reads).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

_COMMIT_FILE = re.compile(r"^(\d{20})\.json$")


@dataclass(frozen=True)
class Commit:
    """One commit after the version asked about: the days it touched (None: it changed data, days unknown)."""

    version: int
    days: frozenset[str] | None


def latest_version(table_folder: Path) -> int | None:
    """The newest commit's version, or None when the folder holds no Delta log."""
    versions = _commit_versions(table_folder)
    return versions[-1] if versions else None


def commits_after(table_folder: Path, version: int, time_column: str) -> list[Commit]:
    """The commits newer than ``version`` that changed data, oldest first, with the days each touched."""
    commits = []
    for number in _commit_versions(table_folder):
        if number <= version:
            continue
        days, changed, unknown = set(), False, False
        path = table_folder / "_delta_log" / f"{number:020d}.json"
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            action = json.loads(line)
            file_action = action.get("add") or action.get("remove")
            if not file_action or not file_action.get("dataChange", True):
                continue
            changed = True
            span = _time_span(file_action.get("stats"), time_column)
            if span is None:
                unknown = True
            else:
                days.update(_days_between(*span))
        if changed:
            commits.append(Commit(number, None if unknown else frozenset(days)))
    return commits


def _commit_versions(table_folder: Path) -> list[int]:
    log = table_folder / "_delta_log"
    if not log.is_dir():
        return []
    return sorted(int(match.group(1)) for entry in log.iterdir() if (match := _COMMIT_FILE.match(entry.name)))


def _time_span(stats_text: str | None, time_column: str) -> tuple[str, str] | None:
    """(first day, last day) of the time column in a file's statistics; None without them."""
    if not stats_text:
        return None
    stats = json.loads(stats_text)
    if stats.get("numRecords") == 0:
        return ("", "")  # an empty file touches no day
    low = _value(stats.get("minValues", {}), time_column)
    high = _value(stats.get("maxValues", {}), time_column)
    if low is None or high is None:
        return None
    return _utc_day(low), _utc_day(high)


def _utc_day(text: str) -> str:
    """The UTC date of a statistics time (written with the writer's offset; without one it is taken as UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.date().isoformat()


def _value(values: dict, column: str):
    for name, value in values.items():
        if name.lower() == column.lower():
            return value
    return None


def _days_between(first: str, last: str) -> list[str]:
    if not first:
        return []
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)]

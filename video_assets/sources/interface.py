"""What every source of events or of the video catalog answers, whatever it is made of.

An event source (the landing zone's files, an existing Delta or Unity Catalog
table, and tomorrow a stream's bronze table or a Segment export) gives:

* ``read_days``: its records of a set of days as landing lines
  (``transforms.events.LINE_COLUMNS``: the one shape the raw stage parses),
  the days that must not replace rows a table holds (no data, blank files),
  the metadata the materialization reports, and one line for the run's log;
* ``changed_days``: which already-materialized days changed since the
  sensor's cursor (or since each day was read), for the late-data sensor.

A catalog source gives the catalog, validated row by row, or says why there
is none. The asset layer and the sensor never ask which kind of source they
hold: a new source is one module that implements these, plus its tests.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyspark.sql import DataFrame

from video_assets.transforms.catalog import CatalogCounts

CURSOR_VERSION = 1  # of the late-data sensor's cursor, whichever source wrote it


class RunLog(Protocol):
    """Where a source says what it found (a Dagster context's log)."""

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class EventsRead:
    """One read of an event source for a run's days.

    ``lines``: lazy, in ``events.LINE_COLUMNS`` (one row per record, plus one
    per unreadable file). ``not_to_empty``: (why, days) pairs, the days that
    must not replace rows the raw tables already hold with nothing.
    ``metadata``: plain values (numbers, text, lists, dicts) for the
    materialization of both raw tables.
    """

    lines: DataFrame
    not_to_empty: list[tuple[str, list[str]]]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Changes:
    """The late-data sensor's answer: the materialized days to rerun, its next cursor, and what it looked at."""

    days: list[str]
    cursor: str
    looked_at: str
    warnings: list[str] = field(default_factory=list)


class Materializations(Protocol):
    """What the Dagster instance knows of earlier raw_video_events materializations, per day."""

    def run_starts(self, days: list[str]) -> dict[str, float]:
        """For each day, the start (epoch seconds) of the run that last materialized it."""

    def versions_read(self, days: list[str]) -> dict[str, int | None]:
        """For each day, the source table version its latest materialization read (None: unknown)."""


class EventSource(ABC):
    """Player events, one record per event, each on one UTC day."""

    @property
    @abstractmethod
    def name(self) -> str:
        """What the source is, for messages: ``the landing zone /data/landing``, ``the events table c.s.t``."""

    @abstractmethod
    def read_days(
        self, spark, days: list[str], log: RunLog, days_held: Callable[[list[str]], set[str]]
    ) -> EventsRead:
        """The records of ``days`` (consecutive YYYY-MM-DD). ``days_held`` tells which days the raw table holds
        rows for (asked only where an extra read of the source would be needed to protect them)."""

    @abstractmethod
    def changed_days(
        self, cursor: str | None, materialized_days: Iterable[str], history: Materializations
    ) -> Changes | str:
        """The materialized days whose records changed since the cursor, or the reason (text) the sensor skips."""


@dataclass(frozen=True)
class CatalogRead:
    """The video catalog (``video_catalog``'s columns, lazy) and what became of the source's rows.

    ``counts`` is None when there is no catalog at all (then ``videos`` is
    empty); ``why_empty`` is what the run says if it has no video.
    """

    videos: DataFrame
    counts: CatalogCounts | None
    why_empty: str
    metadata: Mapping[str, Any]


class CatalogSource(ABC):
    """One row per video: id, title, duration."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The file or table read, for messages and metadata."""

    @abstractmethod
    def read(self, spark, log: RunLog) -> CatalogRead:
        """The catalog, validated row by row (SEMANTICS.md 1); fails clearly when the source cannot be read."""

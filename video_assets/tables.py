"""Every table of the contract, defined once: its columns, partition column, key and purpose.

Each column has its name, Spark type, whether it may be null, its meaning
(with units) and the values it may take. Everything else follows from here:

* the transforms end with :func:`project`, which gives their output the
  contract's columns, order and types;
* the checks build their pandera schemas and value rules from the columns
  (``video_assets/checks/schemas.py``);
* every asset shows its table's columns and meanings in Dagster
  (:func:`column_schema`, metadata ``dagster/column_schema``);
* ``docs/tables.md`` is rendered from the specs: ``python -m video_assets.tables``.

So adding a column is one entry here plus the transform that fills it.
Importing this module is cheap: pyspark's Python API (no SparkSession, no
JVM), no Dagster (imported by :func:`column_schema`), no transform.
"""

import dataclasses
import importlib
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Sums of doubles computed two ways (interval sums vs session sums, union vs total) differ by float noise.
FLOAT_TOLERANCE = 1e-6

STRING, DOUBLE, LONG, BOOLEAN, DATE, TIMESTAMP, BINARY = (
    T.StringType(), T.DoubleType(), T.LongType(), T.BooleanType(), T.DateType(), T.TimestampType(), T.BinaryType(),
)
STRING_ARRAY = T.ArrayType(T.StringType())
DOUBLE_ARRAY = T.ArrayType(T.DoubleType())
POSITION_RANGES = T.ArrayType(
    T.StructType([T.StructField("start", T.DoubleType()), T.StructField("end", T.DoubleType())])
)

DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "tables.md"
REGENERATE_DOCS = "python -m video_assets.tables"


@dataclass(frozen=True)
class OneOf:
    """The allowed values of a column, named by the constant that defines them: ``"module:NAME"``.

    Looked up when used, so that the values keep their one definition in the
    code that produces them, and this module imports no transform (the
    transforms import it).
    """

    constant: str

    def values(self) -> tuple[str, ...]:
        module, _, name = self.constant.partition(":")
        return tuple(getattr(importlib.import_module(module), name))


@dataclass(frozen=True)
class Column:
    """One column: name, Spark type, meaning with units, nullability and allowed values.

    ``ge`` / ``gt`` / ``le`` are bounds, ``in_range`` an inclusive (low, high)
    range, ``isin`` the allowed values. A null passes them: nullability is its
    own rule.
    """

    name: str
    type: T.DataType
    meaning: str
    nullable: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    in_range: tuple[float, float] | None = None
    isin: OneOf | None = None

    def value_rules(self) -> tuple[str, ...]:
        """The column's bounds and allowed values in words, e.g. ``≥ 0`` or ``one of: a, b``."""
        rules = []
        if self.ge is not None:
            rules.append(f"≥ {self.ge:g}")
        if self.gt is not None:
            rules.append(f"> {self.gt:g}")
        if self.le is not None:
            rules.append(f"≤ {self.le:g}")
        if self.in_range is not None:
            low, high = self.in_range
            rules.append(f"in [{low:g}, {high:g}]")
        if self.isin is not None:
            rules.append("one of: " + ", ".join(self.isin.values()))
        return tuple(rules)

    def meaning_in(self, meaning: str) -> "Column":
        """This column with the meaning it has in another table (type and rules unchanged)."""
        return dataclasses.replace(self, meaning=meaning)


@dataclass(frozen=True)
class TableSpec:
    """A table: its partition column (None: not partitioned), key, one-line description and columns in order."""

    name: str
    partition_column: str | None
    key_columns: tuple[str, ...]
    description: str = ""
    columns: tuple[Column, ...] = ()
    # The columns Delta keeps min/max statistics of, for data skipping; empty: Delta's default (the first 32).
    # Worth naming for a large table: statistics of random ids or long texts skip nothing and cost each write.
    statistics_columns: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


# ---------------------------------------------------------------- columns of several tables

_TIERS = OneOf("video_assets.settings:TIERS")
SHARE, PERCENT = (0, 1), (0, 100)  # inclusive ranges of a fraction and of a percentage

USER_ID = Column("user_id", STRING, "viewer (userId as sent)")
VIDEO_ID = Column("video_id", STRING, "video identifier (videoId as sent)")
SOURCE_FILE = Column("source_file", STRING, "landing file the record came from (or the events table's name)")
CARRIED = (
    Column("player_session_id", STRING, "sessionId as sent; carried, not used for sessionization", nullable=True),
    Column("device_id", STRING, "deviceId as sent", nullable=True),
    Column("platform", STRING, "platform as sent", nullable=True),
)
SESSION_OF = (
    Column("session_id", STRING, "hash of (user_id, video_id, first event timestamp): 32 hex characters"),
    USER_ID,
    VIDEO_ID,
    Column("session_date", DATE, "UTC date the session closes on (last event + session timeout); partition column"),
)
METRIC_DATE = Column("metric_date", DATE, "session_date of the day's sessions (UTC); partition column")
VIDEO_TITLE = Column("video_title", STRING, "catalog title; null when the catalog has none", nullable=True)
VIDEO_DURATION = Column(
    "video_duration_seconds", DOUBLE, "duration used (s): catalog, else median player-reported, else inferred", ge=0
)
DURATION_SOURCE = Column(
    "duration_source", STRING, "where video_duration_seconds came from (SEMANTICS.md 5)",
    isin=OneOf("video_assets.transforms.sessions:DURATION_SOURCES"),
)
MAX_POSITION = Column(
    "max_position_seconds", DOUBLE,
    "largest end of a segment that watched something (content s); 0 if none (a play and a pause at one position watch nothing)",
    ge=0,
)
PAUSE_COUNT = Column("pause_count", LONG, "video_pause events", ge=0)
HEARTBEAT_COUNT = Column("heartbeat_count", LONG, "video_heartbeat events", ge=0)
SEEK_COUNT = Column("seek_count", LONG, "jumps (SEMANTICS.md 7): explicit seeks and jumps found between events", ge=0)
SKIPPED_SECONDS = (
    Column("skipped_forward_seconds", DOUBLE, "sum of forward jump distances (content s)", ge=0),
    Column("skipped_backward_seconds", DOUBLE, "sum of backward jump distances, as a positive number (content s)", ge=0),
)
ENDINGS = (
    Column("video_switch_count", LONG, "sessions ended by a switch to another video", ge=0),
    Column("browser_close_count", LONG, "sessions ended by a browser close", ge=0),
)
TOTAL_WATCH = Column("total_watch_seconds", DOUBLE, "content seconds watched, replays included", ge=0)
# The watch figures of one (user, video) pair, for a day or for all time (SEMANTICS.md 8 and 9b).
WATCH_FIGURES = (
    TOTAL_WATCH,
    Column(
        "unique_watch_seconds", DOUBLE, "length of the union of the watched segments' position ranges (content s)",
        ge=0,
    ),
    Column("rewatched_seconds", DOUBLE, "total − unique (content s); ≥ 0 up to float noise", ge=-FLOAT_TOLERANCE),
    Column("watch_percentage", DOUBLE, "100 · total / duration (%), 2 decimals, not capped", ge=0),
    Column("unique_watch_percentage", DOUBLE, "100 · unique / duration (%), 2 decimals", ge=0),
    MAX_POSITION,
    Column(
        "completion_percentage", DOUBLE, "100 · max position / duration (%), capped at 100, 2 decimals",
        in_range=PERCENT,
    ),
)
COMPLETIONS_AND_SESSIONS = (
    Column("completion_count", LONG, "sessions whose own max position reached the completion threshold", ge=0),
    Column("session_count", LONG, "sessions", ge=1),
)
SESSION_WALL = Column("session_wall_seconds", DOUBLE, "Σ (last − first event) over the sessions (wall s)", ge=0)
ENGAGEMENT_TIER = Column(
    "engagement_tier", STRING, "tier of the one-decimal score under the configured thresholds", isin=_TIERS
)
SCORE_AND_TIER = (
    Column(
        "engagement_score", DOUBLE,
        "100 · weighted unique share, completion, sessions and rewatch (SEMANTICS.md 8), one decimal",
        in_range=PERCENT,
    ),
    ENGAGEMENT_TIER,
)


def _summary_averages(unit: str) -> tuple[Column, ...]:
    """A summary's watch seconds, completion and completion rate, averaged over its pairs or its viewers."""
    return (
        Column("avg_watch_seconds", DOUBLE, f"mean total_watch_seconds per {unit} (content s)", ge=0),
        Column(
            "avg_completion_percentage", DOUBLE, f"mean completion_percentage per {unit} (%, 2 decimals)",
            in_range=PERCENT,
        ),
        Column("completion_rate", DOUBLE, f"share of the {unit}s that completed (fraction, 4 decimals)", in_range=SHARE),
    )


# ---------------------------------------------------------------- the tables

_CATALOG = TableSpec(
    "video_catalog", None, ("video_id",),
    "One row per video of `<landing>/videos/videos.csv`; rejected and duplicate rows are left out.",
    (
        Column("video_id", STRING, "video identifier"),
        Column("title", STRING, "catalog title; null when empty", nullable=True),
        Column(
            "duration_seconds", DOUBLE, "catalog duration (s); null when the file gives no finite number > 0",
            nullable=True, gt=0,
        ),
        Column("category", STRING, "catalog category; null when empty or absent", nullable=True),
        Column(
            "published_at", TIMESTAMP, "catalog publication time (UTC); null when absent or not a timestamp",
            nullable=True,
        ),
    ),
)

_RAW_EVENTS = TableSpec(
    "raw_video_events", "event_date", ("event_date", "event_key"),
    "One row per clean, de-duplicated player event, in the partition of its UTC date.",
    (
        Column(
            "event_key", STRING,
            "de-duplication key: `id:<eventId>`, or without an eventId `content:<sha256 of user, video, name, "
            "timestamp, position>`",
        ),
        Column("event_id", STRING, "eventId as sent; null when absent", nullable=True),
        Column("event_ts", TIMESTAMP, "event time (UTC)"),
        Column("event_date", DATE, "UTC date of event_ts = the landing folder's date; partition column"),
        USER_ID,
        VIDEO_ID,
        Column(
            "event_name", STRING, "canonical event name (aliases mapped, SEMANTICS.md 1)",
            isin=OneOf("video_assets.transforms.events:EVENT_NAMES"),
        ),
        Column("position_seconds", DOUBLE, "playhead (currentTime), content seconds", ge=0),
        Column(
            "reported_duration_seconds", DOUBLE, "videoDuration as the player reported it (s); null when absent or "
            "not > 0", nullable=True, gt=0,
        ),
        Column(
            "from_position_seconds", DOUBLE, "fromPosition of a seek (content s); null when absent or negative",
            nullable=True, ge=0,
        ),
        *CARRIED,
        Column("raw_event_name", STRING, "the event name as sent"),
        SOURCE_FILE,
    ),
    statistics_columns=("event_ts", "user_id", "video_id", "event_name"),
)

_QUARANTINE = TableSpec(
    "raw_video_events_quarantine", "partition_date", (),
    "One row per rejected landing record, with its reason and original line. No key: two identical bad lines "
    "are two rejected records.",
    (
        Column("partition_date", DATE, "the landing folder's date; partition column"),
        Column(
            "reason", STRING, "quarantine reason code, the first that applies (SEMANTICS.md 2)",
            isin=OneOf("video_assets.transforms.events:QUARANTINE_REASONS"),
        ),
        Column(
            "raw_line", STRING, "the original line as valid UTF-8 (invalid bytes become U+FFFD; Parquet or an "
            "events table: the row as JSON; an unreadable file: the error)",
        ),
        Column("raw_bytes", BINARY, "the line's exact bytes when they differ from raw_line; else null", nullable=True),
        SOURCE_FILE,
    ),
)

_SESSIONS = TableSpec(
    "video_sessions", "session_date", ("session_id",),
    "One row per viewing session of a user on a video, in the partition of the UTC day it closes on.",
    (
        *SESSION_OF,
        Column("first_event_ts", TIMESTAMP, "first event of the session (UTC)"),
        Column("last_event_ts", TIMESTAMP, "last event of the session (UTC)"),
        Column("wall_seconds", DOUBLE, "last − first event (wall s)", ge=0),
        Column("closed_at", TIMESTAMP, "last event + session timeout (UTC)"),
        Column("event_count", LONG, "events in the session", ge=1),
        Column("play_count", LONG, "video_play events", ge=0),
        PAUSE_COUNT,
        Column("resume_count", LONG, "video_resume events", ge=0),
        Column("seek_event_count", LONG, "explicit video_seek events", ge=0),
        HEARTBEAT_COUNT,
        Column("end_count", LONG, "video_end events", ge=0),
        Column("start_position_seconds", DOUBLE, "position at the first event (content s, clipped to the duration)", ge=0),
        Column("end_position_seconds", DOUBLE, "position at the last event (content s, clipped to the duration)", ge=0),
        Column("watched_seconds", DOUBLE, "content seconds watched (segments, incl. video-switch credit)", ge=0),
        MAX_POSITION,
        Column("reached_completion", BOOLEAN, "the session's own max position reached the completion threshold"),
        Column("jump_count", LONG, "jumps (SEMANTICS.md 7); the metrics' seek_count adds them up", ge=0),
        *SKIPPED_SECONDS,
        Column(
            "ended_by", STRING, "how the session ended (SEMANTICS.md 7)",
            isin=OneOf("video_assets.transforms.sessions:ENDED_BY"),
        ),
        Column("quality_flags", STRING_ARRAY, "sorted distinct quality flags of the session (SEMANTICS.md 5-7)"),
        VIDEO_DURATION,
        DURATION_SOURCE,
        VIDEO_TITLE,
        *CARRIED,
        Column(
            "normalized_platform", STRING,
            "the session's platform (SEMANTICS.md 9d): the platform of its first event that carries a non-empty "
            "one, trimmed and lower-cased; `unknown` when none does",
        ),
    ),
)

_INTERVALS = TableSpec(
    "watch_intervals", "session_date", ("session_id", "interval_index"),
    "One row per watch interval: a maximal run of a session's watched segments whose positions join up.",
    (
        *SESSION_OF,
        Column("interval_index", LONG, "1-based index of the interval within its session", ge=1),
        Column("start_position_seconds", DOUBLE, "position where the interval starts (content s)", ge=0),
        Column("end_position_seconds", DOUBLE, "position where the interval ends (content s)", ge=0),
        Column("watched_seconds", DOUBLE, "content seconds watched: the sum of its segments", gt=0),
        Column("wall_start_ts", TIMESTAMP, "wall time its first segment started (UTC)"),
        Column("wall_end_ts", TIMESTAMP, "wall time its last segment ended (UTC)"),
        Column("segment_count", LONG, "watched segments joined into the interval", ge=1),
        Column(
            "derivation", STRING, "how its seconds were credited: a switch credit, else a jump rule, else plain play",
            isin=OneOf("video_assets.transforms.intervals:DERIVATIONS"),
        ),
        Column("segments", POSITION_RANGES, "the watched [start, end] position ranges (content s), sorted"),
    ),
)

_METRICS = TableSpec(
    "user_video_metrics", "metric_date", ("metric_date", "user_id", "video_id"),
    "One row per (metric_date, user, video) over that day's sessions (SEMANTICS.md 8).",
    (
        METRIC_DATE,
        USER_ID,
        VIDEO_ID,
        VIDEO_TITLE,
        VIDEO_DURATION,
        DURATION_SOURCE,
        *WATCH_FIGURES,
        Column("completed", BOOLEAN, "completion (unrounded) ≥ the completion threshold"),
        *COMPLETIONS_AND_SESSIONS,
        Column("replay_count", LONG, "sessions − 1", ge=0),
        PAUSE_COUNT,
        SEEK_COUNT,
        HEARTBEAT_COUNT,
        Column("event_count", LONG, "events of the day's sessions", ge=1),
        *SKIPPED_SECONDS,
        *ENDINGS,
        Column("first_event_ts", TIMESTAMP, "first event of the day's sessions (UTC)"),
        Column("last_event_ts", TIMESTAMP, "last event of the day's sessions (UTC)"),
        SESSION_WALL,
        Column("avg_watch_seconds_per_session", DOUBLE, "total_watch_seconds / sessions (content s)", ge=0),
        Column("avg_pauses_per_session", DOUBLE, "pause_count / sessions", ge=0),
        *SCORE_AND_TIER,
        Column(
            "quality_flags", STRING_ARRAY, "sorted distinct flags of the day's sessions, plus very_short_watch "
            "(total < 10 s) and completed_without_sufficient_watch (completed, unique < 50 %)",
        ),
    ),
)

_TIER_SUMMARY = TableSpec(
    "engagement_tier_summary", "metric_date", ("metric_date", "engagement_tier"),
    "One row per (metric_date, engagement_tier): all four tiers every day, zeros included.",
    (
        METRIC_DATE,
        ENGAGEMENT_TIER.meaning_in("engagement tier"),
        Column("pair_count", LONG, "(user, video) pairs of the day in the tier", ge=0),
        Column("user_count", LONG, "distinct users among those pairs", ge=0),
        Column("video_count", LONG, "distinct videos among those pairs", ge=0),
        Column("share_of_pairs", DOUBLE, "pair_count / the day's pairs (fraction, 4 decimals)", in_range=SHARE),
        Column("avg_engagement_score", DOUBLE, "mean engagement_score per pair (2 decimals)", in_range=PERCENT),
        *_summary_averages("pair"),
        TOTAL_WATCH.meaning_in("content seconds watched by the tier's pairs, replays included"),
    ),
)

_VIDEO_SUMMARY = TableSpec(
    "video_engagement_summary", "metric_date", ("metric_date", "video_id"),
    "One row per (metric_date, video): audience, watch time, completion, viewers per tier, retention curve.",
    (
        METRIC_DATE,
        VIDEO_ID,
        VIDEO_TITLE,
        VIDEO_DURATION,
        Column("viewers", LONG, "distinct users with a metrics row that day", ge=1),
        Column("sessions", LONG, "sessions of the day on the video", ge=1),
        TOTAL_WATCH.meaning_in("content seconds watched by all viewers, replays included"),
        *_summary_averages("viewer"),
        Column("high_tier_count", LONG, "viewers in tier High", ge=0),
        Column("medium_tier_count", LONG, "viewers in tier Medium", ge=0),
        Column("low_tier_count", LONG, "viewers in tier Low", ge=0),
        Column("minimal_tier_count", LONG, "viewers in tier Minimal", ge=0),
        Column(
            "retention_curve", DOUBLE_ARRAY, "retention_buckets (N) shares of the viewers, 4 decimals: point k is "
            "the share whose intervals cover the moment duration·(k + 0.5)/N",
        ),
        # SEMANTICS.md 9c, appended after the older columns (a table written before them gains them at its end).
        Column(
            "engaged_viewers", LONG,
            "viewers with total_watch_seconds ≥ engaged_watch_seconds (default 30 s, replays included) or completed",
            ge=0,
        ),
        Column("engaged_rate", DOUBLE, "engaged_viewers / viewers (fraction, 4 decimals)", in_range=SHARE),
        *[
            Column(
                f"reached_{percent}_share", DOUBLE,
                f"share of the viewers whose watch intervals cover the moment duration·{percent} % (an interval "
                "[start, end) covers m when start ≤ m < end; fraction, 4 decimals)",
                in_range=SHARE,
            )
            for percent in (25, 50, 75, 95)
        ],
        Column(
            "furthest_point_shares", DOUBLE_ARRAY,
            "20 shares of the viewers, 4 decimals: point k is the share whose furthest point, "
            "min(max_position_seconds / duration, 1), lies in [k/20, (k+1)/20) (1 falls in k = 19); they add up "
            "to 1 (up to the rounding: ± 0.001)",
        ),
        Column(
            "median_furthest_percentage", DOUBLE,
            "100 · the median over viewers of min(max_position_seconds / duration, 1) (%, 2 decimals; the mean "
            "of the two middle values for an even count)",
            in_range=PERCENT,
        ),
        Column(
            "relative_retention", DOUBLE,
            "the video's mean min(unique_watch_percentage, 100) over its viewers, divided by the median of that "
            "mean over the day's videos of its duration band ([0, 60), [60, 300), [300, 1200), [1200, ∞) s), "
            "4 decimals; null when the band has fewer than 3 videos or its median is 0",
            nullable=True, ge=0,
        ),
    ),
)

_PLATFORM_SUMMARY = TableSpec(
    "video_platform_summary", "metric_date", ("metric_date", "video_id", "platform"),
    "One row per (metric_date, video, platform) with at least one session of the day (SEMANTICS.md 9d).",
    (
        METRIC_DATE,
        VIDEO_ID,
        Column(
            "platform", STRING,
            "the sessions' platform: video_sessions.normalized_platform (first non-empty platform of the session, "
            "trimmed, lower-cased; `unknown` when none)",
        ),
        Column("sessions", LONG, "sessions of the day on the video from the platform", ge=1),
        Column(
            "viewers", LONG, "distinct users among those sessions (a user on two platforms counts on each)", ge=1,
        ),
        TOTAL_WATCH.meaning_in("content seconds the sessions watched, replays included"),
        Column(
            "completed_sessions", LONG, "sessions whose own max position reached the completion threshold", ge=0,
        ),
        Column("completion_rate", DOUBLE, "completed_sessions / sessions (fraction, 4 decimals)", in_range=SHARE),
    ),
)

_LIFETIME = TableSpec(
    "user_video_engagement", None, ("user_id", "video_id"),
    "All time, one row per (user, video), from the daily tables (SEMANTICS.md 9b).",
    (
        USER_ID,
        VIDEO_ID,
        VIDEO_TITLE.meaning_in("catalog title on the latest day; null when the catalog has none"),
        VIDEO_DURATION.meaning_in("duration used on the latest day (s)"),
        DURATION_SOURCE.meaning_in("where that duration came from (SEMANTICS.md 5)"),
        Column("first_watch_ts", TIMESTAMP, "first event of any session (UTC)"),
        Column("last_watch_ts", TIMESTAMP, "last event of any session (UTC)"),
        Column("first_metric_date", DATE, "first day with a metrics row"),
        Column("last_metric_date", DATE, "last day with a metrics row"),
        Column("active_days", LONG, "days with a metrics row", ge=1),
        *WATCH_FIGURES,
        Column("completed_at_least_once", BOOLEAN, "completed on at least one day"),
        *COMPLETIONS_AND_SESSIONS,
        Column("is_replay", BOOLEAN, "session_count > 1"),
        PAUSE_COUNT,
        SEEK_COUNT,
        HEARTBEAT_COUNT,
        Column("event_count", LONG, "events of all sessions", ge=1),
        *SKIPPED_SECONDS,
        *ENDINGS,
        SESSION_WALL,
        *SCORE_AND_TIER,
    ),
)

_VIDEO_LIFETIME = TableSpec(
    "video_lifetime_summary", None, ("video_id",),
    "All time, one row per video with a row in user_video_engagement, derived from that table only "
    "(SEMANTICS.md 9e).",
    (
        VIDEO_ID,
        VIDEO_TITLE.meaning_in("catalog title on the video's latest day; null when the catalog has none"),
        Column("viewers", LONG, "users with a user_video_engagement row for the video", ge=1),
        TOTAL_WATCH.meaning_in("content seconds watched by all its viewers on all days, replays included"),
        Column("completed_viewers", LONG, "viewers who completed it at least once (completed_at_least_once)", ge=0),
        Column("completion_rate", DOUBLE, "completed_viewers / viewers (fraction, 4 decimals)", in_range=SHARE),
        Column("returning_viewers", LONG, "viewers who watched it on two days or more (active_days ≥ 2)", ge=0),
        Column("first_watch_ts", TIMESTAMP, "first event of any session on the video (UTC)"),
        Column("last_watch_ts", TIMESTAMP, "last event of any session on the video (UTC)"),
        Column("first_metric_date", DATE, "first day any viewer has a metrics row for it"),
        Column("last_metric_date", DATE, "last day any viewer has a metrics row for it"),
        Column(
            "avg_engagement_score", DOUBLE, "mean over its viewers of their lifetime engagement_score (2 decimals)",
            in_range=PERCENT,
        ),
    ),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        _CATALOG, _RAW_EVENTS, _QUARANTINE, _SESSIONS, _INTERVALS, _METRICS, _TIER_SUMMARY, _VIDEO_SUMMARY,
        _PLATFORM_SUMMARY, _LIFETIME, _VIDEO_LIFETIME,
    )
}


# Tables one step writes from one pass over its input. Dagster runs such a step whole, so a selection that
# names one of them must name the others (it refuses the run otherwise).
WRITTEN_TOGETHER: tuple[tuple[str, ...], ...] = (
    ("raw_video_events", "raw_video_events_quarantine"),
    ("video_sessions", "watch_intervals"),
)


def rewrite_selection(name: str) -> str:
    """What ``dagster asset materialize --select`` takes to rewrite ``name`` and everything downstream of it:
    the table with its downstream assets (``name*``), plus the tables its step writes with it."""
    table_spec(name)  # a table of the contract, or a KeyError naming the known ones
    together = next((group for group in WRITTEN_TOGETHER if name in group), (name,))
    return ",".join([f"{name}*", *(table for table in together if table != name)])


def table_spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"'{name}' is not a table of the contract; known tables: {sorted(TABLES)}") from None


def column_names(name: str) -> tuple[str, ...]:
    """The table's column names in order."""
    return table_spec(name).column_names


def ddl_schema(name: str) -> str:
    """The table's columns as a Spark DDL schema (``"video_id string, title string, ..."``)."""
    return ", ".join(f"`{column.name}` {column.type.simpleString()}" for column in table_spec(name).columns)


# ---------------------------------------------------------------- the transforms' output


def relaxed_type(data_type: T.DataType) -> T.DataType:
    """The type with every nested element, value and field nullable: the contract does not depend on those flags.

    (A Delta round trip, or an ``array_compact``, changes them without changing the data.)
    """
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(relaxed_type(data_type.elementType), True)
    if isinstance(data_type, T.MapType):
        return T.MapType(relaxed_type(data_type.keyType), relaxed_type(data_type.valueType), True)
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, relaxed_type(f.dataType), True) for f in data_type.fields])
    return data_type


def same_type(actual: T.DataType, contract: T.DataType) -> bool:
    """True when the types are equal up to the nullability of nested elements and fields."""
    return relaxed_type(actual) == relaxed_type(contract)


# Casts that keep every value (besides that of a null, to any type): a narrower integer, a float to a double.
_WIDENS_TO = {
    T.LongType(): (T.ByteType(), T.ShortType(), T.IntegerType()),
    T.DoubleType(): (T.FloatType(),),
}


def project(frame: DataFrame, name: str) -> DataFrame:
    """The frame as the table: its columns in the contract's order and types; other columns are dropped.

    A column that already has the contract's type (up to nested nullability)
    is taken as it is, so what is written does not change. A typed null, a
    narrower integer or a float is cast to the contract's type. Anything else
    (a missing column, a cast that could change values) raises ``ValueError``:
    the transform and the contract disagree, and that is fixed in one of them.
    """
    spec = table_spec(name)
    actual = {field.name: field.dataType for field in frame.schema.fields}  # one round trip to the JVM
    missing = [column.name for column in spec.columns if column.name not in actual]
    if missing:
        raise ValueError(f"{name}: the transform gives no column {', '.join(missing)}; found {sorted(actual)}")
    selected = []
    for column in spec.columns:
        given = actual[column.name]
        if same_type(given, column.type):
            selected.append(F.col(column.name))
        elif given == T.NullType() or given in _WIDENS_TO.get(column.type, ()):
            selected.append(F.col(column.name).cast(column.type).alias(column.name))
        else:
            raise ValueError(
                f"{name}.{column.name}: the transform gives {given.simpleString()}, "
                f"the contract says {column.type.simpleString()}"
            )
    return frame.select(*selected)


# ---------------------------------------------------------------- Dagster and docs


def column_schema(name: str):
    """The table's columns as a Dagster ``TableSchema``: type, meaning, nullability, bounds and allowed values.

    Attached to each asset as metadata ``dagster/column_schema``, so the asset
    page lists every column with its meaning.
    """
    import dagster as dg  # noqa: PLC0415 - keeps this module's import free of Dagster

    spec = table_spec(name)
    single_key = spec.key_columns[0] if len(spec.key_columns) == 1 else None
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=column.type.simpleString(),
                description=column.meaning,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable, unique=column.name == single_key, other=list(column.value_rules())
                ),
            )
            for column in spec.columns
        ]
    )


_DOCS_INTRO = """\
# Tables

One Delta table per asset, named after it, under the warehouse
(`data/warehouse/<table>` locally). Partitioned tables are partitioned by
their date column and keyed as in `video_assets/tables.py`. Seconds are
content seconds of video unless the column says wall time; times are UTC.

This file is generated from the table specs in `video_assets/tables.py`:
edit them there, then run `{command}`.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_docs() -> str:
    """docs/tables.md: per table its description, partition column, key and columns."""
    parts = [_DOCS_INTRO.format(command=REGENERATE_DOCS)]
    for spec in TABLES.values():
        partition = f"partitioned by `{spec.partition_column}`" if spec.partition_column else "not partitioned"
        key = ", ".join(f"`{name}`" for name in spec.key_columns) or "none"
        statistics = "; data-skipping statistics on " + ", ".join(f"`{name}`" for name in spec.statistics_columns)
        statistics = statistics if spec.statistics_columns else ""
        lines = [
            f"## {spec.name}",
            "",
            spec.description,
            "",
            f"{partition.capitalize()}; key: {key}{statistics}.",
            "",
            "| column | type | nullable | meaning | values |",
            "|---|---|---|---|---|",
        ]
        for column in spec.columns:
            lines.append(
                f"| `{column.name}` | `{column.type.simpleString()}` | {'yes' if column.nullable else 'no'} "
                f"| {_cell(column.meaning)} | {_cell('; '.join(column.value_rules()))} |"
            )
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def main() -> None:
    DOCS_PATH.write_text(render_docs(), encoding="utf-8")
    print(f"wrote {DOCS_PATH}")


if __name__ == "__main__":
    main()

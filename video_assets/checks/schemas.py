"""The contract of every table as pandera models, plus the row rules that span columns.

Two layers, one source of truth per table:

* ``<Table>Schema`` (a ``pandera.pyspark.DataFrameModel``): every column with
  its Spark type, whether it may be null, and its range or allowed values.
  pandera validates the *structure* (names, types, no extra columns); the
  nullability and value declarations of the same fields are turned into Spark
  rules (``field_rules``) and counted row by row, because pandera's PySpark
  backend says only "failed", runs one Spark job per column, and gives no
  count of failing rows (docs/checks.md, "Why this split").
* ``ROW_RULES``: rules between columns of one row (unique <= total, tier
  consistent with score under the configured thresholds, ...), as Spark
  boolean expressions. Some depend on the ``EngagementSettings`` in force.

``table_rules(name, settings)`` returns both as ``Rule`` objects; the checks
count failures of all of them in one aggregation pass per table.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandera.pyspark as pa
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from video_assets.settings import TIERS, EngagementSettings
from video_assets.transforms.events import EVENT_NAMES, QUARANTINE_REASONS
from video_assets.transforms.intervals import DERIVATIONS
from video_assets.transforms.sessions import DURATION_SOURCES, ENDED_BY, SESSION_FLAGS

# Sums of doubles computed two ways (interval sums vs session sums, union vs total) differ by float noise.
FLOAT_TOLERANCE = 1e-6
METRIC_FLAGS = (*SESSION_FLAGS, "very_short_watch", "completed_without_sufficient_watch")

String, Double, Long, Boolean, Date, Timestamp = (
    T.StringType(), T.DoubleType(), T.LongType(), T.BooleanType(), T.DateType(), T.TimestampType(),
)
StringArray = T.ArrayType(T.StringType())
DoubleArray = T.ArrayType(T.DoubleType())
Segments = T.ArrayType(
    T.StructType([T.StructField("start", T.DoubleType()), T.StructField("end", T.DoubleType())])
)

# pandera.pyspark reads each column's Spark type from the annotation (a DataType instance).


class _Contract(pa.DataFrameModel):
    class Config:
        strict = True  # a column that is not in the contract is a schema error


class VideoCatalogSchema(_Contract):
    video_id: String = pa.Field()
    title: String = pa.Field(nullable=True)
    duration_seconds: Double = pa.Field(nullable=True, gt=0)
    category: String = pa.Field(nullable=True)
    published_at: Timestamp = pa.Field(nullable=True)

    class Config:
        name = "video_catalog"


class RawVideoEventsSchema(_Contract):
    event_key: String = pa.Field()
    event_id: String = pa.Field(nullable=True)
    event_ts: Timestamp = pa.Field()
    event_date: Date = pa.Field()
    user_id: String = pa.Field()
    video_id: String = pa.Field()
    event_name: String = pa.Field(isin=EVENT_NAMES)
    position_seconds: Double = pa.Field(ge=0)
    reported_duration_seconds: Double = pa.Field(nullable=True, gt=0)
    from_position_seconds: Double = pa.Field(nullable=True, ge=0)
    player_session_id: String = pa.Field(nullable=True)
    device_id: String = pa.Field(nullable=True)
    platform: String = pa.Field(nullable=True)
    raw_event_name: String = pa.Field()
    source_file: String = pa.Field()

    class Config:
        name = "raw_video_events"


class RawVideoEventsQuarantineSchema(_Contract):
    partition_date: Date = pa.Field()
    reason: String = pa.Field(isin=QUARANTINE_REASONS)
    raw_line: String = pa.Field()
    source_file: String = pa.Field()

    class Config:
        name = "raw_video_events_quarantine"


class VideoSessionsSchema(_Contract):
    session_id: String = pa.Field()
    user_id: String = pa.Field()
    video_id: String = pa.Field()
    session_date: Date = pa.Field()
    first_event_ts: Timestamp = pa.Field()
    last_event_ts: Timestamp = pa.Field()
    wall_seconds: Double = pa.Field(ge=0)
    closed_at: Timestamp = pa.Field()
    event_count: Long = pa.Field(ge=1)
    play_count: Long = pa.Field(ge=0)
    pause_count: Long = pa.Field(ge=0)
    resume_count: Long = pa.Field(ge=0)
    seek_event_count: Long = pa.Field(ge=0)
    heartbeat_count: Long = pa.Field(ge=0)
    end_count: Long = pa.Field(ge=0)
    start_position_seconds: Double = pa.Field(ge=0)
    end_position_seconds: Double = pa.Field(ge=0)
    watched_seconds: Double = pa.Field(ge=0)
    max_position_seconds: Double = pa.Field(ge=0)
    reached_completion: Boolean = pa.Field()
    jump_count: Long = pa.Field(ge=0)
    skipped_forward_seconds: Double = pa.Field(ge=0)
    skipped_backward_seconds: Double = pa.Field(ge=0)
    ended_by: String = pa.Field(isin=ENDED_BY)
    quality_flags: StringArray = pa.Field()
    video_duration_seconds: Double = pa.Field(ge=0)
    duration_source: String = pa.Field(isin=DURATION_SOURCES)
    video_title: String = pa.Field(nullable=True)
    player_session_id: String = pa.Field(nullable=True)
    device_id: String = pa.Field(nullable=True)
    platform: String = pa.Field(nullable=True)

    class Config:
        name = "video_sessions"


class WatchIntervalsSchema(_Contract):
    session_id: String = pa.Field()
    user_id: String = pa.Field()
    video_id: String = pa.Field()
    session_date: Date = pa.Field()
    interval_index: Long = pa.Field(ge=1)
    start_position_seconds: Double = pa.Field(ge=0)
    end_position_seconds: Double = pa.Field(ge=0)
    watched_seconds: Double = pa.Field(gt=0)
    wall_start_ts: Timestamp = pa.Field()
    wall_end_ts: Timestamp = pa.Field()
    segment_count: Long = pa.Field(ge=1)
    derivation: String = pa.Field(isin=DERIVATIONS)
    segments: Segments = pa.Field()

    class Config:
        name = "watch_intervals"


class UserVideoMetricsSchema(_Contract):
    metric_date: Date = pa.Field()
    user_id: String = pa.Field()
    video_id: String = pa.Field()
    video_title: String = pa.Field(nullable=True)
    video_duration_seconds: Double = pa.Field(ge=0)
    duration_source: String = pa.Field(isin=DURATION_SOURCES)
    total_watch_seconds: Double = pa.Field(ge=0)
    unique_watch_seconds: Double = pa.Field(ge=0)
    rewatched_seconds: Double = pa.Field(ge=-FLOAT_TOLERANCE)
    watch_percentage: Double = pa.Field(ge=0)
    unique_watch_percentage: Double = pa.Field(ge=0)
    max_position_seconds: Double = pa.Field(ge=0)
    completion_percentage: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    completed: Boolean = pa.Field()
    completion_count: Long = pa.Field(ge=0)
    session_count: Long = pa.Field(ge=1)
    replay_count: Long = pa.Field(ge=0)
    pause_count: Long = pa.Field(ge=0)
    seek_count: Long = pa.Field(ge=0)
    heartbeat_count: Long = pa.Field(ge=0)
    event_count: Long = pa.Field(ge=1)
    skipped_forward_seconds: Double = pa.Field(ge=0)
    skipped_backward_seconds: Double = pa.Field(ge=0)
    video_switch_count: Long = pa.Field(ge=0)
    browser_close_count: Long = pa.Field(ge=0)
    first_event_ts: Timestamp = pa.Field()
    last_event_ts: Timestamp = pa.Field()
    session_wall_seconds: Double = pa.Field(ge=0)
    avg_watch_seconds_per_session: Double = pa.Field(ge=0)
    avg_pauses_per_session: Double = pa.Field(ge=0)
    engagement_score: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    engagement_tier: String = pa.Field(isin=TIERS)
    quality_flags: StringArray = pa.Field()

    class Config:
        name = "user_video_metrics"


class EngagementTierSummarySchema(_Contract):
    metric_date: Date = pa.Field()
    engagement_tier: String = pa.Field(isin=TIERS)
    pair_count: Long = pa.Field(ge=0)
    user_count: Long = pa.Field(ge=0)
    video_count: Long = pa.Field(ge=0)
    share_of_pairs: Double = pa.Field(in_range={"min_value": 0, "max_value": 1})
    avg_engagement_score: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    avg_watch_seconds: Double = pa.Field(ge=0)
    avg_completion_percentage: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    completion_rate: Double = pa.Field(in_range={"min_value": 0, "max_value": 1})
    total_watch_seconds: Double = pa.Field(ge=0)

    class Config:
        name = "engagement_tier_summary"


class VideoEngagementSummarySchema(_Contract):
    metric_date: Date = pa.Field()
    video_id: String = pa.Field()
    video_title: String = pa.Field(nullable=True)
    video_duration_seconds: Double = pa.Field(ge=0)
    viewers: Long = pa.Field(ge=1)
    sessions: Long = pa.Field(ge=1)
    total_watch_seconds: Double = pa.Field(ge=0)
    avg_watch_seconds: Double = pa.Field(ge=0)
    avg_completion_percentage: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    completion_rate: Double = pa.Field(in_range={"min_value": 0, "max_value": 1})
    high_tier_count: Long = pa.Field(ge=0)
    medium_tier_count: Long = pa.Field(ge=0)
    low_tier_count: Long = pa.Field(ge=0)
    minimal_tier_count: Long = pa.Field(ge=0)
    retention_curve: DoubleArray = pa.Field()

    class Config:
        name = "video_engagement_summary"


class UserVideoEngagementSchema(_Contract):
    user_id: String = pa.Field()
    video_id: String = pa.Field()
    video_title: String = pa.Field(nullable=True)
    video_duration_seconds: Double = pa.Field(ge=0)
    duration_source: String = pa.Field(isin=DURATION_SOURCES)
    first_watch_ts: Timestamp = pa.Field()
    last_watch_ts: Timestamp = pa.Field()
    first_metric_date: Date = pa.Field()
    last_metric_date: Date = pa.Field()
    active_days: Long = pa.Field(ge=1)
    total_watch_seconds: Double = pa.Field(ge=0)
    unique_watch_seconds: Double = pa.Field(ge=0)
    rewatched_seconds: Double = pa.Field(ge=-FLOAT_TOLERANCE)
    watch_percentage: Double = pa.Field(ge=0)
    unique_watch_percentage: Double = pa.Field(ge=0)
    max_position_seconds: Double = pa.Field(ge=0)
    completion_percentage: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    completed_at_least_once: Boolean = pa.Field()
    completion_count: Long = pa.Field(ge=0)
    session_count: Long = pa.Field(ge=1)
    is_replay: Boolean = pa.Field()
    pause_count: Long = pa.Field(ge=0)
    seek_count: Long = pa.Field(ge=0)
    heartbeat_count: Long = pa.Field(ge=0)
    event_count: Long = pa.Field(ge=1)
    skipped_forward_seconds: Double = pa.Field(ge=0)
    skipped_backward_seconds: Double = pa.Field(ge=0)
    video_switch_count: Long = pa.Field(ge=0)
    browser_close_count: Long = pa.Field(ge=0)
    session_wall_seconds: Double = pa.Field(ge=0)
    engagement_score: Double = pa.Field(in_range={"min_value": 0, "max_value": 100})
    engagement_tier: String = pa.Field(isin=TIERS)

    class Config:
        name = "user_video_engagement"


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    model.Config.name: model
    for model in (
        VideoCatalogSchema,
        RawVideoEventsSchema,
        RawVideoEventsQuarantineSchema,
        VideoSessionsSchema,
        WatchIntervalsSchema,
        UserVideoMetricsSchema,
        EngagementTierSummarySchema,
        VideoEngagementSummarySchema,
        UserVideoEngagementSchema,
    )
}


@dataclass(frozen=True, eq=False)
class Rule:
    """One row-level rule: ``passes`` is true for a good row; null counts as passing (nullability is its own rule)."""

    name: str
    passes: Column
    columns: tuple[str, ...]


# ---------------------------------------------------------------- field rules (from the models)


def _value_rule(column: str, check) -> tuple[str, Column]:
    """A pandera built-in check of a field as (name, Spark condition)."""
    c, stats = F.col(column), check.statistics
    if check.name == "greater_than_or_equal_to":
        return f"{column} >= {stats['min_value']}", c >= stats["min_value"]
    if check.name == "greater_than":
        return f"{column} > {stats['min_value']}", c > stats["min_value"]
    if check.name == "less_than_or_equal_to":
        return f"{column} <= {stats['max_value']}", c <= stats["max_value"]
    if check.name == "less_than":
        return f"{column} < {stats['max_value']}", c < stats["max_value"]
    if check.name == "in_range":
        low, high = stats["min_value"], stats["max_value"]
        above = c >= low if stats.get("include_min", True) else c > low
        below = c <= high if stats.get("include_max", True) else c < high
        return f"{column} in [{low}, {high}]", above & below
    if check.name == "isin":
        allowed = sorted(stats["allowed_values"])
        return f"{column} in ({', '.join(allowed)})", c.isin(*allowed)
    raise NotImplementedError(f"pandera check '{check.name}' on {column} has no Spark rule; add it to _value_rule")


def field_rules(table: str) -> list[Rule]:
    """Not-null and value rules of every field of the table's model, in column order."""
    schema = SCHEMAS[table].to_schema()
    rules = []
    for column, spec in schema.columns.items():
        if not spec.nullable:
            rules.append(Rule(f"{column} is not null", F.col(column).isNotNull(), (column,)))
        for check in spec.checks:
            name, condition = _value_rule(column, check)
            rules.append(Rule(name, F.col(column).isNull() | condition, (column,)))
    return rules


# ---------------------------------------------------------------- row rules (between columns)


def _approx_le(smaller: str, larger: str) -> Column:
    return F.col(smaller) <= F.col(larger) + FLOAT_TOLERANCE


def _approx_eq(left: Column, right: Column) -> Column:
    return F.abs(left - right) <= FLOAT_TOLERANCE


def _flags_within(column: str, allowed: tuple[str, ...]) -> Column:
    return F.forall(F.col(column), lambda flag: flag.isin(*allowed))


def expected_tier(score: Column, settings: EngagementSettings) -> Column:
    """The tier a one-decimal score must have under the configured thresholds (SEMANTICS.md 8)."""
    return (
        F.when(score >= settings.tier_high_min_score, "High")
        .when(score >= settings.tier_medium_min_score, "Medium")
        .when(score >= settings.tier_low_min_score, "Low")
        .otherwise("Minimal")
    )


def _engagement_rules(settings: EngagementSettings) -> list[Rule]:
    """Rules shared by the daily metrics and the lifetime rollup."""
    return [
        Rule(
            "unique_watch_seconds <= total_watch_seconds",
            _approx_le("unique_watch_seconds", "total_watch_seconds"),
            ("unique_watch_seconds", "total_watch_seconds"),
        ),
        Rule(
            "rewatched_seconds = total - unique",
            _approx_eq(F.col("rewatched_seconds"), F.col("total_watch_seconds") - F.col("unique_watch_seconds")),
            ("rewatched_seconds", "total_watch_seconds", "unique_watch_seconds"),
        ),
        Rule(
            "engagement_tier matches engagement_score",
            F.col("engagement_tier") == expected_tier(F.col("engagement_score"), settings),
            ("engagement_tier", "engagement_score"),
        ),
        Rule(
            "engagement_score has one decimal",
            _approx_eq(F.col("engagement_score"), F.round("engagement_score", 1)),
            ("engagement_score",),
        ),
        Rule(
            "max_position_seconds <= video_duration_seconds",
            _approx_le("max_position_seconds", "video_duration_seconds"),
            ("max_position_seconds", "video_duration_seconds"),
        ),
        Rule(
            "completion_count <= session_count",
            F.col("completion_count") <= F.col("session_count"),
            ("completion_count", "session_count"),
        ),
    ]


RowRules = Callable[[EngagementSettings], list[Rule]]

ROW_RULES: dict[str, RowRules] = {
    "video_catalog": lambda settings: [],
    "raw_video_events": lambda settings: [
        Rule("event_date = UTC date of event_ts", F.col("event_date") == F.to_date("event_ts"), ("event_date", "event_ts")),
    ],
    "raw_video_events_quarantine": lambda settings: [],
    "video_sessions": lambda settings: [
        Rule(
            "first_event_ts <= last_event_ts",
            F.col("first_event_ts") <= F.col("last_event_ts"),
            ("first_event_ts", "last_event_ts"),
        ),
        Rule(
            "session_date = UTC date of closed_at",
            F.col("session_date") == F.to_date("closed_at"),
            ("session_date", "closed_at"),
        ),
        Rule(
            "event_count = sum of per-name counts",
            F.col("event_count")
            == F.col("play_count") + F.col("pause_count") + F.col("resume_count") + F.col("seek_event_count")
            + F.col("heartbeat_count") + F.col("end_count"),
            ("event_count", "play_count", "pause_count", "resume_count", "seek_event_count", "heartbeat_count", "end_count"),
        ),
        Rule(
            "max_position_seconds <= video_duration_seconds",
            _approx_le("max_position_seconds", "video_duration_seconds"),
            ("max_position_seconds", "video_duration_seconds"),
        ),
        Rule("quality_flags are known flags", _flags_within("quality_flags", SESSION_FLAGS), ("quality_flags",)),
    ],
    "watch_intervals": lambda settings: [
        Rule(
            "start_position_seconds <= end_position_seconds",
            F.col("start_position_seconds") <= F.col("end_position_seconds"),
            ("start_position_seconds", "end_position_seconds"),
        ),
        Rule("wall_start_ts <= wall_end_ts", F.col("wall_start_ts") <= F.col("wall_end_ts"), ("wall_start_ts", "wall_end_ts")),
        Rule(
            "segment_count = size(segments)",
            F.col("segment_count") == F.size("segments"),
            ("segment_count", "segments"),
        ),
    ],
    "user_video_metrics": lambda settings: [
        *_engagement_rules(settings),
        Rule(
            "replay_count = session_count - 1",
            F.col("replay_count") == F.col("session_count") - 1,
            ("replay_count", "session_count"),
        ),
        Rule(
            "first_event_ts <= last_event_ts",
            F.col("first_event_ts") <= F.col("last_event_ts"),
            ("first_event_ts", "last_event_ts"),
        ),
        Rule("quality_flags are known flags", _flags_within("quality_flags", METRIC_FLAGS), ("quality_flags",)),
    ],
    "engagement_tier_summary": lambda settings: [
        Rule("user_count <= pair_count", F.col("user_count") <= F.col("pair_count"), ("user_count", "pair_count")),
        Rule("video_count <= pair_count", F.col("video_count") <= F.col("pair_count"), ("video_count", "pair_count")),
    ],
    "video_engagement_summary": lambda settings: [
        Rule(
            "tier counts add up to viewers",
            F.col("high_tier_count") + F.col("medium_tier_count") + F.col("low_tier_count") + F.col("minimal_tier_count")
            == F.col("viewers"),
            ("high_tier_count", "medium_tier_count", "low_tier_count", "minimal_tier_count", "viewers"),
        ),
        Rule("sessions >= viewers", F.col("sessions") >= F.col("viewers"), ("sessions", "viewers")),
        Rule(
            f"retention_curve has retention_buckets ({settings.retention_buckets}) points",
            F.size("retention_curve") == settings.retention_buckets,
            ("retention_curve",),
        ),
        Rule(
            "retention_curve shares in [0, 1]",
            F.forall("retention_curve", lambda share: share.between(0, 1)),
            ("retention_curve",),
        ),
    ],
    "user_video_engagement": lambda settings: [
        *_engagement_rules(settings),
        Rule("is_replay = (session_count > 1)", F.col("is_replay") == (F.col("session_count") > 1), ("is_replay", "session_count")),
        Rule(
            "first_watch_ts <= last_watch_ts",
            F.col("first_watch_ts") <= F.col("last_watch_ts"),
            ("first_watch_ts", "last_watch_ts"),
        ),
        Rule(
            "active_days <= days from first to last metric_date",
            F.col("active_days") <= F.datediff("last_metric_date", "first_metric_date") + 1,
            ("active_days", "first_metric_date", "last_metric_date"),
        ),
    ],
}


def table_rules(table: str, settings: EngagementSettings) -> list[Rule]:
    """Every row rule of a table: its fields' nullability and values, then the rules between columns."""
    return field_rules(table) + ROW_RULES[table](settings)

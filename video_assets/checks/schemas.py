"""The contract of every table as pandera schemas, plus the row rules that span columns.

Two layers, both from the table specs in ``video_assets/tables.py``:

* ``SCHEMAS[table]`` (a strict ``pandera.pyspark.DataFrameSchema`` built from
  the spec's columns): every column with its Spark type, whether it may be
  null, and its range or allowed values. pandera validates the *structure*
  (names, types, no extra columns); the nullability and value declarations of
  the same columns are turned into Spark rules (``field_rules``) and counted
  row by row, because pandera's PySpark backend says only "failed", runs one
  Spark job per column, and gives no count of failing rows (docs/checks.md,
  "Why this split").
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

from video_assets.settings import EngagementSettings
from video_assets.tables import FLOAT_TOLERANCE, TABLES, TableSpec
from video_assets.tables import Column as ColumnSpec
from video_assets.transforms.metrics import engagement_tier
from video_assets.transforms.audience import FURTHEST_POINT_BUCKETS
from video_assets.transforms.sessions import SESSION_FLAGS, trimmed_of_whitespace

METRIC_FLAGS = (*SESSION_FLAGS, "very_short_watch", "completed_without_sufficient_watch")


def _pandera_column(column: ColumnSpec) -> pa.Column:
    checks = []
    if column.ge is not None:
        checks.append(pa.Check.greater_than_or_equal_to(column.ge))
    if column.gt is not None:
        checks.append(pa.Check.greater_than(column.gt))
    if column.le is not None:
        checks.append(pa.Check.less_than_or_equal_to(column.le))
    if column.in_range is not None:
        checks.append(pa.Check.in_range(*column.in_range))
    if column.isin is not None:
        checks.append(pa.Check.isin(column.isin.values()))
    return pa.Column(column.type, checks=checks, nullable=column.nullable, description=column.meaning)


def _pandera_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """The spec as a strict pandera schema: a column that is not in the contract is a schema error."""
    columns = {column.name: _pandera_column(column) for column in spec.columns}
    return pa.DataFrameSchema(columns, strict=True, name=spec.name, description=spec.description)


SCHEMAS: dict[str, pa.DataFrameSchema] = {name: _pandera_schema(spec) for name, spec in TABLES.items()}


@dataclass(frozen=True, eq=False)
class Rule:
    """One row-level rule: ``passes`` is true for a good row; null counts as passing (nullability is its own rule)."""

    name: str
    passes: Column
    columns: tuple[str, ...]


# ---------------------------------------------------------------- field rules (from the schemas)


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
    """Not-null and value rules of every column of the table's schema, in column order."""
    schema = SCHEMAS[table]
    rules = []
    for column, spec in schema.columns.items():
        if not spec.nullable:
            rules.append(Rule(f"{column} is not null", F.col(column).isNotNull(), (column,)))
        if isinstance(spec.dtype.type, T.DoubleType):
            # NaN passes every comparison Spark makes (NaN > 0 is true): durations, seconds and percentages
            # must be finite numbers, whatever their range rule says.
            value = F.col(column)
            rules.append(Rule(f"{column} is finite", value.isNull() | ~(F.isnan(value) | (F.abs(value) == float("inf"))), (column,)))
        for check in spec.checks:
            name, condition = _value_rule(column, check)
            rules.append(Rule(name, F.col(column).isNull() | condition, (column,)))
    return rules


# ---------------------------------------------------------------- row rules (between columns)


def _at_most(smaller: str, larger: str) -> Rule:
    """The rule ``smaller <= larger`` between two columns of a row."""
    return Rule(f"{smaller} <= {larger}", F.col(smaller) <= F.col(larger), (smaller, larger))


def _approx_le(smaller: str, larger: str) -> Column:
    return F.col(smaller) <= F.col(larger) + FLOAT_TOLERANCE


def _approx_eq(left: Column, right: Column) -> Column:
    return F.abs(left - right) <= FLOAT_TOLERANCE


def _flags_within(column: str, allowed: tuple[str, ...]) -> Column:
    return F.forall(F.col(column), lambda flag: flag.isin(*allowed))


def _array_sum(column: str) -> Column:
    return F.aggregate(F.col(column), F.lit(0.0), lambda total, value: total + value)


def _normalized_platform_rule(column: str) -> Rule:
    value = F.col(column)
    return Rule(
        f"{column} is trimmed, lower-case and not empty",
        (value == F.lower(trimmed_of_whitespace(column))) & (value != ""),
        (column,),
    )


# Shares rounded to 4 decimals are each off by at most 0.00005: 20 of them add up to 1 within 0.001.
_ROUNDED_SHARES_SLACK = FURTHEST_POINT_BUCKETS * 0.00005 + FLOAT_TOLERANCE


# The tier a one-decimal score must have under the configured thresholds (SEMANTICS.md 8): the
# transform's own rule, applied to the stored score with the settings in force now.
expected_tier = engagement_tier


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
        _at_most("completion_count", "session_count"),
    ]


RowRules = Callable[[EngagementSettings], list[Rule]]

ROW_RULES: dict[str, RowRules] = {
    "video_catalog": lambda settings: [],
    "raw_video_events": lambda settings: [
        Rule("event_date = UTC date of event_ts", F.col("event_date") == F.to_date("event_ts"), ("event_date", "event_ts")),
    ],
    "raw_video_events_quarantine": lambda settings: [],
    "video_sessions": lambda settings: [
        _at_most("first_event_ts", "last_event_ts"),
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
        _normalized_platform_rule("normalized_platform"),
    ],
    "watch_intervals": lambda settings: [
        _at_most("start_position_seconds", "end_position_seconds"),
        _at_most("wall_start_ts", "wall_end_ts"),
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
        _at_most("first_event_ts", "last_event_ts"),
        Rule("quality_flags are known flags", _flags_within("quality_flags", METRIC_FLAGS), ("quality_flags",)),
    ],
    "engagement_tier_summary": lambda settings: [
        _at_most("user_count", "pair_count"),
        _at_most("video_count", "pair_count"),
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
        _at_most("engaged_viewers", "viewers"),
        Rule(
            f"furthest_point_shares has {FURTHEST_POINT_BUCKETS} points",
            F.size("furthest_point_shares") == FURTHEST_POINT_BUCKETS,
            ("furthest_point_shares",),
        ),
        Rule(
            "furthest_point_shares in [0, 1]",
            F.forall("furthest_point_shares", lambda share: share.between(0, 1)),
            ("furthest_point_shares",),
        ),
        Rule(
            "furthest_point_shares add up to 1 on a row with viewers",
            (F.col("viewers") <= 0) | (F.abs(_array_sum("furthest_point_shares") - 1) <= _ROUNDED_SHARES_SLACK),
            ("furthest_point_shares", "viewers"),
        ),
    ],
    "video_platform_summary": lambda settings: [
        _at_most("viewers", "sessions"),
        _at_most("completed_sessions", "sessions"),
        _normalized_platform_rule("platform"),
    ],
    "user_video_engagement": lambda settings: [
        *_engagement_rules(settings),
        Rule("is_replay = (session_count > 1)", F.col("is_replay") == (F.col("session_count") > 1), ("is_replay", "session_count")),
        _at_most("first_watch_ts", "last_watch_ts"),
        Rule(
            "active_days <= days from first to last metric_date",
            F.col("active_days") <= F.datediff("last_metric_date", "first_metric_date") + 1,
            ("active_days", "first_metric_date", "last_metric_date"),
        ),
    ],
    "video_lifetime_summary": lambda settings: [
        _at_most("completed_viewers", "viewers"),
        _at_most("returning_viewers", "viewers"),
        _at_most("first_watch_ts", "last_watch_ts"),
        _at_most("first_metric_date", "last_metric_date"),
    ],
}


def table_rules(table: str, settings: EngagementSettings) -> list[Rule]:
    """Every row rule of a table: its fields' nullability and values, then the rules between columns."""
    return field_rules(table) + ROW_RULES[table](settings)

"""Evaluate one table against its contract: structure with pandera, row rules and key in one Spark pass.

Pure functions (DataFrame in, small Python report out), no Dagster, so tests
call them directly on hand-made frames. What leaves Spark is a handful of
rows: one aggregate row per day, plus up to ``sample_size`` offending rows
per failing rule.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

from pandera.config import ValidationDepth, config_context
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from video_assets.checks.schemas import SCHEMAS, Rule, table_rules
from video_assets.settings import EngagementSettings
from video_assets.tables import table_spec

SAMPLE_SIZE = 5
# A table without a key is sampled by these columns instead.
SAMPLE_COLUMNS = {"raw_video_events_quarantine": ("partition_date", "source_file", "reason", "raw_line")}
_MAX_SAMPLED_RULES = 10
_MAX_TEXT = 200


@dataclass
class SchemaReport:
    """pandera's structural verdict: missing, extra or mistyped columns."""

    errors: list[dict]
    bad_columns: set[str]

    @property
    def passed(self) -> bool:
        return not self.errors


@dataclass
class RuleReport:
    rows: int = 0
    rows_by_day: dict[str, int] = field(default_factory=dict)
    rules_checked: int = 0
    failing_rows: int = 0  # rows that fail at least one rule
    failures: dict[str, int] = field(default_factory=dict)  # rule -> failing rows (failing rules only)
    failures_by_day: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: dict[str, list[dict]] = field(default_factory=dict)
    not_evaluated: list[str] = field(default_factory=list)  # rules on missing or mistyped columns

    @property
    def passed(self) -> bool:
        return not self.failures and not self.not_evaluated


@dataclass
class KeyReport:
    key_columns: tuple[str, ...]
    duplicate_rows: int = 0  # rows whose key appears more than once (every copy)
    duplicated_keys: int = 0  # distinct keys that appear more than once
    duplicate_rows_by_day: dict[str, int] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    evaluated: bool = True

    @property
    def passed(self) -> bool:
        return self.evaluated and self.duplicate_rows == 0


@dataclass
class TableReport:
    table: str
    schema: SchemaReport
    rules: RuleReport
    key: KeyReport | None


# ---------------------------------------------------------------- schema layer (pandera)


@functools.cache
def _structure_schema(table: str):
    """The table's pandera schema reduced to structure: names, types, strictness.

    Nullability and value checks are dropped here because ``field_rules``
    counts them in the one aggregation pass; left in, pandera's PySpark
    backend would run one Spark job per non-nullable column and report no
    counts.
    """
    schema = SCHEMAS[table].to_schema()
    return schema.update_columns({name: {"nullable": True, "checks": []} for name in schema.columns})


def validate_structure(frame: DataFrame, table: str) -> SchemaReport:
    """pandera validation of columns and types; runs no Spark job on a table that matches."""
    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        validated = _structure_schema(table).validate(frame)
    errors = []
    for category in (validated.pandera.errors or {}).values():
        for reason, items in category.items():
            for item in items:
                errors.append({"reason": reason, "column": item.get("column"), "error": _short(item.get("error"))})
    expected = SCHEMAS[table].to_schema().columns
    missing = {name for name in expected if name not in frame.columns}
    mistyped = {e["column"] for e in errors if e["reason"] == "WRONG_DATATYPE"}
    return SchemaReport(errors=errors, bad_columns=missing | mistyped)


# ---------------------------------------------------------------- row rules and key (Spark)


def _fails(rule: Rule) -> Column:
    """True for a row that breaks the rule; a null verdict passes (nulls are the not-null rules' business)."""
    return ~F.coalesce(rule.passes, F.lit(True))


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def jsonable_row(row) -> dict:
    return {name: _jsonable(value) for name, value in row.asDict(recursive=True).items()}


def _identity_columns(table: str, frame: DataFrame) -> list[str]:
    spec = table_spec(table)
    wanted = SAMPLE_COLUMNS.get(table) or tuple(
        dict.fromkeys(((spec.partition_column,) if spec.partition_column else ()) + spec.key_columns)
    )
    return [c for c in wanted if c in frame.columns]


def evaluate_table(
    frame: DataFrame,
    table: str,
    settings: EngagementSettings,
    *,
    with_rules: bool = True,
    with_key: bool = True,
    sample_size: int = SAMPLE_SIZE,
) -> TableReport:
    """Structure (pandera), then every row rule and the key's uniqueness counted in one aggregation.

    Failing-row counts are grouped by the table's partition column, so a
    range run says which day failed. Offending rows are sampled only for
    rules that failed (``limit(sample_size)`` each).
    """
    spec = table_spec(table)
    schema = validate_structure(frame, table)
    day_column = spec.partition_column if spec.partition_column in frame.columns else None
    rules_report = RuleReport()
    key_report = KeyReport(spec.key_columns) if spec.key_columns else None
    if not (with_rules or (with_key and key_report)):
        return TableReport(table, schema, rules_report, key_report)

    rules = table_rules(table, settings) if with_rules else []
    evaluable = [r for r in rules if not (set(r.columns) & schema.bad_columns)]
    rules_report.not_evaluated = [r.name for r in rules if r not in evaluable]
    rules_report.rules_checked = len(evaluable)

    checked = frame
    key_ok = with_key and key_report is not None and all(c in frame.columns for c in spec.key_columns)
    if key_report is not None and with_key and not key_ok:
        key_report.evaluated = False
    duplicate = None
    if key_ok:
        any_null = functools.reduce(lambda a, b: a | b, [F.col(c).isNull() for c in spec.key_columns])
        copies = F.count(F.lit(1)).over(Window.partitionBy(*spec.key_columns))
        checked = frame.withColumn("_key_copies", F.when(~any_null, copies))
        duplicate = F.col("_key_copies") > 1

    aggregates = [F.count(F.lit(1)).alias("_rows")]
    aggregates += [F.count(F.when(_fails(rule), 1)).alias(f"_rule_{i}") for i, rule in enumerate(evaluable)]
    if evaluable:
        any_failure = functools.reduce(lambda a, b: a | b, [_fails(rule) for rule in evaluable])
        aggregates.append(F.count(F.when(any_failure, 1)).alias("_any_rule"))
    if duplicate is not None:
        aggregates.append(F.count(F.when(duplicate, 1)).alias("_dup_rows"))
        aggregates.append(F.sum(F.when(duplicate, 1.0 / F.col("_key_copies"))).alias("_dup_keys"))
    grouped = checked.groupBy(F.col(day_column).cast("string").alias("_day")) if day_column else checked.groupBy()
    per_day = grouped.agg(*aggregates).collect()

    def total(name: str) -> int:
        return int(sum(row[name] or 0 for row in per_day))

    rules_report.rows = total("_rows")
    if day_column:
        rules_report.rows_by_day = {row["_day"]: int(row["_rows"]) for row in per_day}
    failing_rules = []
    for i, rule in enumerate(evaluable):
        count = total(f"_rule_{i}")
        if count:
            failing_rules.append(rule)
            rules_report.failures[rule.name] = count
            if day_column:
                for row in per_day:
                    if row[f"_rule_{i}"]:
                        rules_report.failures_by_day.setdefault(row["_day"], {})[rule.name] = int(row[f"_rule_{i}"])
    rules_report.failing_rows = total("_any_rule") if evaluable else 0

    identity = _identity_columns(table, frame)
    for rule in failing_rules[:_MAX_SAMPLED_RULES]:
        columns = list(dict.fromkeys(identity + [c for c in rule.columns if c in frame.columns]))
        sample = frame.where(_fails(rule)).select(*columns).limit(sample_size).collect()
        rules_report.samples[rule.name] = [jsonable_row(row) for row in sample]

    if duplicate is not None and key_report is not None:
        key_report.duplicate_rows = total("_dup_rows")
        key_report.duplicated_keys = int(round(sum(row["_dup_keys"] or 0.0 for row in per_day)))
        if day_column:
            key_report.duplicate_rows_by_day = {row["_day"]: int(row["_dup_rows"]) for row in per_day if row["_dup_rows"]}
        if key_report.duplicate_rows:
            sample = (
                checked.where(duplicate)
                .groupBy(*spec.key_columns)
                .agg(F.count(F.lit(1)).alias("copies"))
                .limit(sample_size)
                .collect()
            )
            key_report.sample = [jsonable_row(row) for row in sample]
    return TableReport(table, schema, rules_report, key_report)


def _short(text) -> str | None:
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= 400 else text[:400] + "…"

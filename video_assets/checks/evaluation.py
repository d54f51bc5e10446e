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
class Comparison:
    """The verdict of an invariant: disagreeing rows, per-day totals of both sides, a sample."""

    failing_rows: int = 0
    by_day: dict[str, dict] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    evaluated: bool = True

    @property
    def passed(self) -> bool:
        return self.evaluated and self.failing_rows == 0


@dataclass(eq=False)
class Reference:
    """An invariant at the table's grain: what other tables say each of its keys must hold.

    ``expected`` has one row per ``keys`` (columns the table has too) and
    otherwise only columns of its own names. The table is full-outer-joined
    with it, and ``disagree`` is evaluated on every joined row; it may use
    ``_in_table`` and ``_in_expected`` (true on the side a row comes from)
    and a null verdict counts as disagreeing. ``totals`` are per-day
    aggregates for the metadata; ``expected_day`` is the expected column
    holding the day of a row the table lacks (the partition column when it
    is a key).
    """

    expected: DataFrame
    keys: list[str]
    disagree: Column
    totals: dict[str, Column]
    expected_day: str | None = None
    sample_columns: tuple[str, ...] = ()


@dataclass
class TableReport:
    table: str
    schema: SchemaReport
    rules: RuleReport
    key: KeyReport | None
    reference: Comparison | None = None


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
    reference: Reference | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> TableReport:
    """Structure (pandera); then every row rule, the key's uniqueness and the reference in one aggregation.

    Failing-row counts are grouped by the table's partition column, so a
    range run says which day failed. Offending rows are sampled only for
    what failed (``limit(sample_size)`` each).
    """
    spec = table_spec(table)
    schema = validate_structure(frame, table)
    day_column = spec.partition_column if spec.partition_column in frame.columns else None
    rules_report = RuleReport()
    key_report = KeyReport(spec.key_columns) if spec.key_columns and with_key else None
    report = TableReport(table, schema, rules_report, key_report)

    rules = table_rules(table, settings) if with_rules else []
    evaluable = [r for r in rules if not (set(r.columns) & schema.bad_columns)]
    evaluable_ids = {id(r) for r in evaluable}
    rules_report.not_evaluated = [r.name for r in rules if id(r) not in evaluable_ids]
    rules_report.rules_checked = len(evaluable)
    if key_report is not None and any(c not in frame.columns for c in spec.key_columns):
        key_report.evaluated = False
        key_report = None
    if reference is not None:
        report.reference = Comparison()
        if any(c not in frame.columns for c in reference.keys) or not day_column:
            report.reference.evaluated = False
            reference = None

    # One row per table row (and per expected row the table lacks), with a boolean per rule.
    joined = frame.withColumn("_in_table", F.lit(True))
    day = F.col(day_column) if day_column else F.lit(None)
    if reference is not None:
        expected = reference.expected.withColumn("_in_expected", F.lit(True))
        joined = joined.join(expected, reference.keys, "full_outer")
        if reference.expected_day:
            day = F.coalesce(day, F.col(reference.expected_day))
    in_table = F.coalesce(F.col("_in_table"), F.lit(False))
    flags = {"_day": day.cast("string"), "_is_row": in_table}
    for i, rule in enumerate(evaluable):
        flags[f"_rule_{i}"] = in_table & _fails(rule)
    if key_report is not None:
        any_null = functools.reduce(lambda a, b: a | b, [F.col(c).isNull() for c in spec.key_columns])
        copies = F.sum(in_table.cast("int")).over(Window.partitionBy(*spec.key_columns))
        joined = joined.withColumn("_key_copies", F.when(in_table & ~any_null, copies))
        flags["_dup"] = F.coalesce(F.col("_key_copies") > 1, F.lit(False))
    if reference is not None:
        flags["_ref_fail"] = F.coalesce(reference.disagree, F.lit(True))
    flagged = joined.select("*", *[value.alias(name) for name, value in flags.items()])

    rule_flags = [F.col(f"_rule_{i}") for i in range(len(evaluable))]
    aggregates = [F.count(F.when(F.col("_is_row"), 1)).alias("_rows")]
    aggregates += [F.count(F.when(flag, 1)).alias(f"_rule_{i}") for i, flag in enumerate(rule_flags)]
    if rule_flags:
        any_rule = functools.reduce(lambda a, b: a | b, rule_flags)
        aggregates.append(F.count(F.when(any_rule, 1)).alias("_any_rule"))
    if key_report is not None:
        aggregates.append(F.count(F.when(F.col("_dup"), 1)).alias("_dup_rows"))
        aggregates.append(F.sum(F.when(F.col("_dup"), 1.0 / F.col("_key_copies"))).alias("_dup_keys"))
    if reference is not None:
        aggregates.append(F.count(F.when(F.col("_ref_fail"), 1)).alias("_ref_fail"))
        aggregates += [value.alias(f"_total_{name}") for name, value in reference.totals.items()]
    per_day = sorted(flagged.groupBy("_day").agg(*aggregates).collect(), key=lambda row: row["_day"] or "")

    def total(name: str) -> int:
        return int(sum(row[name] or 0 for row in per_day))

    rules_report.rows = total("_rows")
    if day_column:
        rules_report.rows_by_day = {row["_day"]: int(row["_rows"]) for row in per_day if row["_day"] is not None}
    failing = []
    for i, rule in enumerate(evaluable):
        count = total(f"_rule_{i}")
        if not count:
            continue
        failing.append((i, rule))
        rules_report.failures[rule.name] = count
        for row in per_day:
            if day_column and row[f"_rule_{i}"]:
                rules_report.failures_by_day.setdefault(row["_day"], {})[rule.name] = int(row[f"_rule_{i}"])
    rules_report.failing_rows = total("_any_rule") if rule_flags else 0

    identity = _identity_columns(table, frame)
    for i, rule in failing[:_MAX_SAMPLED_RULES]:
        columns = list(dict.fromkeys(identity + [c for c in rule.columns if c in frame.columns]))
        sample = flagged.where(F.col(f"_rule_{i}")).select(*columns).limit(sample_size).collect()
        rules_report.samples[rule.name] = [jsonable_row(row) for row in sample]

    if key_report is not None:
        key_report.duplicate_rows = total("_dup_rows")
        key_report.duplicated_keys = int(round(sum(row["_dup_keys"] or 0.0 for row in per_day)))
        if day_column:
            key_report.duplicate_rows_by_day = {row["_day"]: int(row["_dup_rows"]) for row in per_day if row["_dup_rows"]}
        if key_report.duplicate_rows:
            sample = (
                flagged.where("_dup").groupBy(*spec.key_columns).agg(F.count(F.lit(1)).alias("copies")).limit(sample_size)
            )
            key_report.sample = [jsonable_row(row) for row in sample.collect()]

    if reference is not None and report.reference is not None:
        comparison = report.reference
        for row in per_day:
            values = {"failing_rows": int(row["_ref_fail"])}
            values.update({name: _number(row[f"_total_{name}"]) for name in reference.totals})
            comparison.by_day[row["_day"]] = values
            comparison.failing_rows += values["failing_rows"]
        if comparison.failing_rows:
            columns = list(dict.fromkeys([*identity, *reference.keys, *reference.sample_columns]))
            sample = flagged.where("_ref_fail").select(*columns).limit(sample_size).collect()
            comparison.sample = [jsonable_row(row) for row in sample]
    return report


def _number(value):
    if value is None:
        return 0
    return round(float(value), 6) if isinstance(value, float) else int(value)


def _short(text) -> str | None:
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= 400 else text[:400] + "…"

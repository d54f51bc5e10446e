"""Evaluate one table against its contract: structure with pandera, then rules, key and invariant in one Spark query.

Pure functions (DataFrame in, small Python report out), no Dagster, so tests
call them directly on hand-made frames.

How the one query works (``evaluate_table``): every row of the table emits a
few small *findings* ``(code, value, key)``: "I am a row", "I break rule 7",
"my key is K", "my invariant disagrees", "my part of a total is v". Two
aggregations (by day, code and key, then by day and code) turn them into a
handful of counts: rows per day, failing rows per rule and day, keys that
occur more than once, disagreeing rows and the invariant's totals. Compared
with one wide aggregate of a column per rule this keeps the plan small, and
on tables of this size planning and code generation, not data, are the cost.
Offending rows are sampled (``limit``) only for what failed.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

from pandera.config import ValidationDepth, config_context
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from video_assets.checks.schemas import SCHEMAS, Rule, table_rules
from video_assets.frames import literal_frame
from video_assets.settings import EngagementSettings
from video_assets.tables import relaxed_type, table_spec

SAMPLE_SIZE = 5
# A table without a key is sampled by these columns instead.
SAMPLE_COLUMNS = {"raw_video_events_quarantine": ("partition_date", "source_file", "reason", "raw_line")}
_MAX_SAMPLED_RULES = 10
_MAX_TEXT = 200

# Finding codes; a rule's code is its index (>= 0), a total's is TOTAL - its index.
ROW, ANY_RULE, KEY, DISAGREE, TOTAL = -1, -2, -3, -4, -10


@dataclass
class SchemaReport:
    """pandera's structural verdict: missing, extra or mistyped columns."""

    errors: list[dict]
    bad_columns: set[str]
    columns: set[str] = field(default_factory=set)  # the frame's columns

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
    and a null verdict counts as disagreeing. ``totals`` are per-row values
    summed per day for the metadata; ``expected_day`` is the expected column
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
    counts them in the one query; left in, pandera's PySpark backend would
    run one Spark job per non-nullable column and report no counts.
    """
    schema = SCHEMAS[table]
    return schema.update_columns({name: {"nullable": True, "checks": []} for name in schema.columns})


def validate_structure(frame: DataFrame, table: str) -> SchemaReport:
    """pandera validation of column names and types; runs no Spark job.

    pandera sees an empty frame with the table's columns and types, the
    nullability flags of nested types relaxed (a Delta round trip, or an
    ``array_compact``, changes them without changing the data).
    """
    frame_schema = frame.schema  # one round trip to the JVM; ``frame.columns`` would make one per call
    present = set(frame_schema.fieldNames())
    shape = literal_frame(frame.sparkSession, [], relaxed_type(frame_schema))
    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        validated = _structure_schema(table).validate(shape)
    errors = []
    for category in (validated.pandera.errors or {}).values():
        for reason, items in category.items():
            for item in items:
                errors.append({"reason": reason, "column": item.get("column"), "error": _short(item.get("error"))})
    expected = SCHEMAS[table].columns
    missing = {name for name in expected if name not in present}
    mistyped = {e["column"] for e in errors if e["reason"] == "WRONG_DATATYPE"}
    return SchemaReport(errors=errors, bad_columns=missing | mistyped, columns=present)


# ---------------------------------------------------------------- rules, key, invariant (Spark)


_RULES_CACHE: dict[tuple, list[Rule]] = {}


def _rules(table: str, settings: EngagementSettings, session) -> list[Rule]:
    """``table_rules``, built once per table, settings and Spark session (building them costs JVM calls).

    ``session`` is the SparkSession of the frame the rules are applied to: a classic session's
    Columns live in its JVM and are not reused by another one.
    """
    key = (table, settings.model_dump_json(), session)
    if key not in _RULES_CACHE:
        _RULES_CACHE[key] = table_rules(table, settings)
    return _RULES_CACHE[key]


def _rule_failed(index: int) -> str:
    """SQL: the row is a table row and breaks rule ``index``; a null verdict passes (nulls are the not-null rules' business)."""
    return f"(_is_row AND NOT coalesce(_pass_{index}, true))"


def _finding(code: int, condition: str | None = None, value: str = "NULL") -> str:
    """SQL of one finding, null when the condition is false (built as text: one expression, one JVM call)."""
    finding = f"named_struct('code', {code}, 'value', CAST({value} AS DOUBLE))"
    return finding if condition is None else f"IF({condition}, {finding}, NULL)"


@dataclass(eq=False)
class TableCheck:
    """One table to evaluate and what to evaluate on it (see ``evaluate_tables``)."""

    frame: DataFrame
    table: str
    with_rules: bool = True
    with_key: bool = True
    reference: Reference | None = None


@dataclass(eq=False)
class _Plan:
    check: TableCheck
    index: int
    report: TableReport
    evaluable: list[Rule]
    key_columns: tuple[str, ...] | None  # None: key not evaluated
    reference: Reference | None
    day_column: str | None
    flagged: DataFrame
    exploded: DataFrame | None  # None: only the key is asked for, which its own grouping answers


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
    """Structure (pandera); then the row rules, the key's uniqueness and the invariant in one query."""
    check = TableCheck(frame, table, with_rules=with_rules, with_key=with_key, reference=reference)
    return evaluate_tables([check], settings, sample_size=sample_size)[0]


def evaluate_tables(checks: list[TableCheck], settings: EngagementSettings, *, sample_size: int = SAMPLE_SIZE) -> list[TableReport]:
    """Evaluate several tables with one Spark query (their findings unioned, then counted once).

    Counts are grouped by each table's partition column, so a range run says
    which day failed. Rules on columns that are missing or mistyped are not
    evaluated (and reported as such). Offending rows are sampled only for
    what failed.
    """
    plans = [_plan(check, settings, index) for index, check in enumerate(checks)]
    exploded = [plan.exploded for plan in plans if plan.exploded is not None]
    per_finding = [
        functools.reduce(DataFrame.unionByName, exploded)
        .groupBy("_table", "_day", F.col("f.code").alias("code"))
        .agg(F.count(F.lit(1)).alias("n"), F.sum("f.value").alias("value"))
    ] if exploded else []
    # Copies per key, counted over all days together (a duplicate across two days is still a duplicate), grouped
    # on a 64-bit hash of the key: equal keys hash alike, so no repeated hash means no repeated key. A repeated
    # hash is recounted on the key's own columns (``_read``). 10M raw events: 7.1-8.1 s -> 4.6-5.8 s.
    per_key = [_copies_per_key_hash(plan) for plan in plans if plan.key_columns]
    per_row = functools.reduce(DataFrame.unionByName, [*per_finding, *per_key])
    counts = per_row.groupBy("_table", "_day", "code").agg(
        F.sum("n").alias("n"),
        F.sum("value").alias("value"),
        F.count(F.when(F.col("n") > 1, 1)).alias("keys_repeated"),
        F.sum(F.when(F.col("n") > 1, F.col("n"))).alias("rows_repeated"),
    )
    found: dict[int, dict] = {index: {} for index in range(len(plans))}
    for row in counts.collect():
        found[row["_table"]][(row["_day"], row["code"])] = row
    return [_read(plan, found[index], sample_size) for index, plan in enumerate(plans)]


def _keyed_rows(frame: DataFrame, key_columns: tuple[str, ...]) -> DataFrame:
    return frame.where(functools.reduce(Column.__and__, [F.col(c).isNotNull() for c in key_columns]))


def _key_hash(key_columns: tuple[str, ...]) -> Column:
    """A 64-bit hash of a row's key: rows with equal keys get equal hashes (distinct keys rarely do)."""
    return F.xxhash64(*key_columns)


def _copies_per_key_hash(plan: _Plan) -> DataFrame:
    """(table index, no day, KEY, rows per key hash, no value): one row per hash of a non-null key."""
    return (
        _keyed_rows(plan.check.frame, plan.key_columns)
        .groupBy(_key_hash(plan.key_columns).alias("_key_hash"))
        .agg(F.count(F.lit(1)).alias("n"))
        .select(
            F.lit(plan.index).alias("_table"),
            F.lit(None).cast("string").alias("_day"),
            F.lit(KEY).alias("code"),
            "n",
            F.lit(None).cast("double").alias("value"),
        )
    )


def _plan(check: TableCheck, settings: EngagementSettings, index: int) -> _Plan:
    """The table's findings as a lazy frame: (table index, day, finding) rows."""
    frame, table = check.frame, check.table
    spec = table_spec(table)
    schema = validate_structure(frame, table)
    columns = schema.columns
    day_column = spec.partition_column if spec.partition_column in columns else None
    key_report = KeyReport(spec.key_columns) if spec.key_columns and check.with_key else None
    report = TableReport(table, schema, RuleReport(), key_report)

    rules = _rules(table, settings, frame.sparkSession) if check.with_rules else []
    evaluable = [r for r in rules if not (set(r.columns) & schema.bad_columns)]
    report.rules.not_evaluated = [r.name for r in rules if r not in evaluable]
    report.rules.rules_checked = len(evaluable)
    key_columns = spec.key_columns if key_report is not None else None
    if key_report is not None and any(c not in columns for c in spec.key_columns):
        key_report.evaluated = False
        key_columns = None
    reference = check.reference
    if reference is not None:
        report.reference = Comparison()
        if any(c not in columns for c in reference.keys) or not day_column:
            report.reference.evaluated = False
            reference = None

    # One row per table row, and per expected row the table lacks.
    joined = frame.withColumn("_in_table", F.lit(True))
    day = f"`{day_column}`" if day_column else "NULL"
    if reference is not None:
        expected = reference.expected.withColumn("_in_expected", F.lit(True))
        joined = joined.join(expected, reference.keys, "full_outer")
        if reference.expected_day:
            day = f"coalesce({day}, `{reference.expected_day}`)"

    # Each rule's Spark expression is attached once (one JVM call each); everything built on the
    # verdicts is SQL text, so a table of 60 rules costs a few calls to the JVM, not thousands.
    attached = [rule.passes.alias(f"_pass_{i}") for i, rule in enumerate(evaluable)]
    if reference is not None:
        attached.append(reference.disagree.alias("_disagree_raw"))
        attached += [value.alias(f"_total_{j}") for j, value in enumerate(reference.totals.values())]
    derived = [f"CAST({day} AS STRING) AS _day", "coalesce(_in_table, false) AS _is_row"]
    if reference is not None:
        derived.append("coalesce(_disagree_raw, true) AS _disagree")
    flagged = joined.select("*", *attached).selectExpr("*", *derived)

    findings = [_finding(ROW, "_is_row")]
    findings += [_finding(i, _rule_failed(i)) for i in range(len(evaluable))]
    if evaluable:
        findings.append(_finding(ANY_RULE, "(" + " OR ".join(_rule_failed(i) for i in range(len(evaluable))) + ")"))
    if reference is not None:
        findings.append(_finding(DISAGREE, "_disagree"))
        findings += [_finding(TOTAL - j, value=f"_total_{j}") for j in range(len(reference.totals))]
    # The rows per day are only read with the rules: when the key is all that is asked, the table is scanned
    # once, for its key (``_copies_per_key``).
    key_alone = key_columns and not check.with_rules and reference is None
    exploded = None if key_alone else flagged.selectExpr(
        f"{index} AS _table", "_day", f"explode(array_compact(array({', '.join(findings)}))) AS f"
    )
    return _Plan(check, index, report, evaluable, key_columns, reference, day_column, flagged, exploded)


def _read(plan: _Plan, found: dict, sample_size: int) -> TableReport:
    """The report of one table from its counts; samples offending rows of what failed."""
    report, rules_report, flagged = plan.report, plan.report.rules, plan.flagged
    frame, table = plan.check.frame, plan.check.table

    def by_day(code: int, column: str = "n") -> dict:
        return {d: row[column] for (d, c), row in found.items() if c == code and row[column] is not None}

    rules_report.rows_by_day = {d: int(n) for d, n in by_day(ROW).items() if d is not None}
    rules_report.rows = int(sum(by_day(ROW).values()))
    rules_report.failing_rows = int(sum(by_day(ANY_RULE).values()))
    for i, rule in enumerate(plan.evaluable):
        days = by_day(i)
        if days:
            rules_report.failures[rule.name] = int(sum(days.values()))
            if plan.day_column:
                for d, n in days.items():
                    rules_report.failures_by_day.setdefault(d, {})[rule.name] = int(n)

    identity = _identity_columns(table, report.schema.columns)
    failing = [(i, rule) for i, rule in enumerate(plan.evaluable) if rule.name in rules_report.failures]
    for i, rule in failing[:_MAX_SAMPLED_RULES]:
        sampled = list(dict.fromkeys(identity + [c for c in rule.columns if c in report.schema.columns]))
        sample = flagged.where(_rule_failed(i)).select(*sampled).limit(sample_size).collect()
        rules_report.samples[rule.name] = [jsonable_row(row) for row in sample]

    key_report = report.key
    if plan.key_columns and key_report is not None:
        key_row = found.get((None, KEY))
        if key_row and key_row["rows_repeated"]:
            # A hash that repeats is a repeated key or, rarely, two keys with one hash: counted again on the key.
            copies = _keyed_rows(frame, plan.key_columns).groupBy(*plan.key_columns).agg(
                F.count(F.lit(1)).alias("copies")
            )
            repeated = copies.where("copies > 1")
            counted = repeated.agg(F.count(F.lit(1)).alias("keys"), F.sum("copies").alias("rows")).first()
            key_report.duplicated_keys = int(counted["keys"] or 0)
            key_report.duplicate_rows = int(counted["rows"] or 0)
            if key_report.duplicate_rows:
                key_report.sample = [jsonable_row(row) for row in repeated.limit(sample_size).collect()]

    reference = plan.reference
    if reference is not None and report.reference is not None:
        comparison = report.reference
        days = sorted({d for (d, c) in found if d is not None and (c in (ROW, DISAGREE) or c <= TOTAL)})
        disagreeing = by_day(DISAGREE)
        for d in days:
            values = {"failing_rows": int(disagreeing.get(d, 0))}
            for j, name in enumerate(reference.totals):
                values[name] = _number(by_day(TOTAL - j, "value").get(d))
            comparison.by_day[d] = values
        comparison.failing_rows = int(sum(disagreeing.values()))
        if comparison.failing_rows:
            columns = list(dict.fromkeys([*identity, *reference.keys, *reference.sample_columns]))
            sample = flagged.where("_disagree").select(*columns).limit(sample_size).collect()
            comparison.sample = [jsonable_row(row) for row in sample]
    return report


# ---------------------------------------------------------------- small helpers


def _identity_columns(table: str, columns: set[str]) -> list[str]:
    spec = table_spec(table)
    wanted = SAMPLE_COLUMNS.get(table) or tuple(
        dict.fromkeys(((spec.partition_column,) if spec.partition_column else ()) + spec.key_columns)
    )
    return [c for c in wanted if c in columns]


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def jsonable_row(row) -> dict:
    return {name: _jsonable(value) for name, value in row.asDict(recursive=True).items()}


def _number(value):
    if value is None:
        return 0
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)


def _short(text) -> str | None:
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= 400 else text[:400] + "…"

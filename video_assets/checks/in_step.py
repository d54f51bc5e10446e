"""A table's checks, evaluated in the step that writes the table, from what that step already has.

The happy path costs no extra pass over the data:

* ``contract_schema``: pandera on the frame's schema (no Spark job).
* ``contract_rules``: every rule's failing rows and the rows per day are
  *observed* while the rows are written (``DataFrame.observe`` on the write,
  see ``TableChecks.observations``). Only when a rule fails is the written
  range queried again, to break the failures down by day and sample the
  offending rows for the message.
* ``unique_key`` and the table's invariant need a grouping or a join that a
  write cannot observe: one query over the *written* range (Delta, pruned to
  the range and the columns it needs) and the inputs the step already loaded,
  one query for all the tables a step writes (``evaluate_written``).
  Nothing re-reads the landing zone or re-runs a transform.

Pure of Dagster apart from building ``AssetCheckResult`` objects, so tests
drive it with hand-made frames.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from video_assets.checks import results
from video_assets.checks.evaluation import (
    Reference,
    RuleReport,
    TableCheck,
    TableReport,
    _rules,
    evaluate_tables,
    validate_structure,
)
from video_assets.settings import EngagementSettings
from video_assets.tables import table_spec

_ROWS, _ANY = "rows", "any_rule_failed"


def rows_per_day(column: str, days: list[str], prefix: str, where: Column | None = None) -> dict[str, Column]:
    """Aggregates counting rows (those meeting ``where``, if given) per day of ``days``, known before the write."""
    counted = {}
    for day in days:
        on_day = F.col(column) == F.lit(day).cast("date")
        counted[f"{prefix}{day}"] = F.count_if(on_day if where is None else on_day & where)
    return counted


def per_day(observed: dict, prefix: str, days: list[str]) -> dict[str, int]:
    return {day: int(observed.get(f"{prefix}{day}") or 0) for day in days}


@dataclass(frozen=True)
class Invariant:
    """A table's invariant check: its name, what it states, and the Reference that decides it."""

    name: str
    statement: str
    # Or a function returning it, called only when the check is selected (and after the step's earlier writes).
    reference: Reference | Callable[[], Reference]

    def resolved(self) -> Reference:
        return self.reference() if callable(self.reference) else self.reference


@dataclass
class TableChecks:
    """The selected checks of one table for the days a step writes (``days`` empty for all-time tables)."""

    table: str
    frame: DataFrame  # what the step writes (its schema; the rows are observed on the way)
    selected: set[str]
    settings: EngagementSettings
    days: list[str]
    _schema: object = field(init=False, default=None)
    _rules: list = field(init=False, default_factory=list)

    def __post_init__(self):
        self._schema = validate_structure(self.frame, self.table)
        if results.CONTRACT_RULES in self.selected:
            rules = _rules(self.table, self.settings, self.frame.sparkSession)
            self._rules = [r for r in rules if not (set(r.columns) & self._schema.bad_columns)]
            self._not_evaluated = [r.name for r in rules if r not in self._rules]
        else:
            self._not_evaluated = []

    @property
    def _prefix(self) -> str:
        return f"{self.table}:"

    @property
    def day_column(self) -> str | None:
        column = table_spec(self.table).partition_column
        return column if column in self._schema.columns else None

    def observations(self) -> dict[str, Column]:
        """Aggregates to observe on the write: rows (per day) and failing rows per rule."""
        p = self._prefix
        wanted = {f"{p}{_ROWS}": F.count(F.lit(1))}
        if self.day_column and self.days:
            wanted.update(rows_per_day(self.day_column, self.days, f"{p}day:"))
        fails = [~F.coalesce(rule.passes, F.lit(True)) for rule in self._rules]
        for index, failed in enumerate(fails):
            wanted[f"{p}rule:{index}"] = F.count_if(failed)
        if fails:
            # One flat expression, not a chain of ORs: a Spark Connect plan refuses expressions nested past
            # about 100 levels, and a table has dozens of rules.
            any_failed = F.greatest(*fails) if len(fails) > 1 else fails[0]
            wanted[f"{p}{_ANY}"] = F.count_if(any_failed)
        return wanted

    def rows_by_day(self, observed: dict) -> dict[str, int]:
        return per_day(observed, f"{self._prefix}day:", self.days)

    def rows(self, observed: dict) -> int:
        return int(observed.get(f"{self._prefix}{_ROWS}") or 0)

    def evaluate(
        self, observed: dict, written: Callable[[], DataFrame], invariant: Invariant | None = None
    ) -> list[dg.AssetCheckResult]:
        """The check results, from the observed counts and (for key and invariant) the written range.

        ``written`` returns the rows just written (read back lazily, only when a query is needed).
        """
        return evaluate_written([WrittenTable(self, observed, written, invariant)])[0]

    def _query(self, written: "WrittenTable") -> tuple[TableReport, TableCheck | None]:
        """The report from what was observed, and what is left to query over the written rows (None: nothing)."""
        report = TableReport(self.table, self._schema, self._rule_report(written.observed), None)
        wants_key = results.UNIQUE_KEY in self.selected and bool(table_spec(self.table).key_columns)
        invariant = written.invariant
        if invariant is not None and invariant.name not in self.selected:
            invariant = None
        # A write that could not be observed (a MERGE) has its rules counted by the query instead.
        unobserved = f"{self._prefix}{_ROWS}" not in written.observed and results.CONTRACT_RULES in self.selected
        rules_failed = bool(report.rules.failures) or unobserved
        if not (wants_key or invariant is not None or rules_failed):
            return report, None
        query = TableCheck(
            written.rows(),
            self.table,
            with_rules=rules_failed,
            with_key=wants_key,
            reference=invariant.resolved() if invariant is not None else None,
        )
        return report, query

    def _results(
        self, report: TableReport, query: TableCheck | None, queried: TableReport | None, invariant: Invariant | None
    ) -> list[dg.AssetCheckResult]:
        """The check results, from the observed report and (when ``query`` ran) the queried one."""
        if query is not None:
            report.key, report.reference = queried.key, queried.reference
            if query.with_rules:  # the query re-counted the rules by day and sampled what failed
                queried.rules.not_evaluated = report.rules.not_evaluated
                report.rules = queried.rules
        days = self.days
        found = []
        if results.CONTRACT_SCHEMA in self.selected:
            found.append(results.schema_result(self.table, report, days))
        if results.CONTRACT_RULES in self.selected:
            found.append(results.rules_result(self.table, report, days))
        # A key or comparison report exists only when the query evaluated a selected check.
        if report.key is not None:
            found.append(results.key_result(self.table, report, days))
        if report.reference is not None:
            found.append(
                results.comparison_result(self.table, invariant.name, report.reference, days, invariant.statement)
            )
        return found

    def _rule_report(self, observed: dict) -> RuleReport:
        p = self._prefix
        report = RuleReport(rows=self.rows(observed), rows_by_day=self.rows_by_day(observed) if self.day_column else {})
        report.rules_checked = len(self._rules)
        report.not_evaluated = list(self._not_evaluated)
        report.failing_rows = int(observed.get(f"{p}{_ANY}") or 0)
        for index, rule in enumerate(self._rules):
            count = int(observed.get(f"{p}rule:{index}") or 0)
            if count:
                report.failures[rule.name] = count
        return report


@dataclass
class WrittenTable:
    """One table a step has written: its checks, what its write observed, and its rows read back (lazily)."""

    checks: TableChecks
    observed: dict
    rows: Callable[[], DataFrame]
    invariant: Invariant | None = None


def evaluate_written(tables: list[WrittenTable]) -> list[list[dg.AssetCheckResult]]:
    """The check results of each table a step wrote; what needs a query is one query for all of them."""
    started = [written.checks._query(written) for written in tables]
    queries = [query for _, query in started if query is not None]
    reports = iter(evaluate_tables(queries, tables[0].checks.settings) if queries else [])
    return [
        written.checks._results(report, query, next(reports) if query is not None else None, written.invariant)
        for written, (report, query) in zip(tables, started, strict=True)
    ]


def selected_checks(context, table: str) -> set[str]:
    """Names of the checks on ``table`` that this run evaluates."""
    key = dg.AssetKey(table)
    return {check.name for check in context.selected_asset_check_keys if check.asset_key == key}

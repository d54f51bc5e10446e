"""Dagster asset checks: every table's contract, the cross-asset invariants, the soft signals.

One ``@multi_asset_check`` op per stage reads its tables once (through the
Delta IO manager, exactly the run's partition range), evaluates them in one
Spark query (``evaluation.evaluate_tables``) and yields one result per check
(docs/checks.md lists them all):

* ``contract_schema`` / ``contract_rules`` / ``unique_key`` on every table:
  ERROR and blocking. A failure stops the assets downstream of that table in
  the same run.
* invariants between tables (``lines_reconcile``, ``events_in_sessions``,
  ``watch_seconds_match_intervals``, ``pair_counts_match_metrics``,
  ``viewers_match_metrics``): ERROR and blocking.
* ``has_events`` and ``quarantine_share``: WARN, never blocking.

Partitions: the checks on daily tables carry the daily ``partitions_def``
(a preview feature of Dagster 1.13's ``AssetCheckSpec``), so a
single-partition run records each result against its day. A range run
(a backfill with the single-run policy) records one result for the whole
range; its metadata then names every day and breaks counts down by day.
"""

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from video_assets.assets.common import StepLauncherParam
from video_assets.checks import invariants
from video_assets.checks.evaluation import Comparison, TableCheck, TableReport, evaluate_tables
from video_assets.io.delta import DeltaIOManager, range_condition
from video_assets.io.landing import LandingZone
from video_assets.io.spark import SparkResource
from video_assets.partitions import daily_partitions, previous_and_same_day
from video_assets.settings import EngagementSettings
from video_assets.tables import table_spec

CONTRACT_SCHEMA, CONTRACT_RULES, UNIQUE_KEY = "contract_schema", "contract_rules", "unique_key"
CONTRACT_CHECKS = {CONTRACT_SCHEMA, CONTRACT_RULES, UNIQUE_KEY}
LINES_RECONCILE, HAS_EVENTS, QUARANTINE_SHARE = "lines_reconcile", "has_events", "quarantine_share"
EVENTS_IN_SESSIONS = "events_in_sessions"
WATCH_SECONDS_MATCH = "watch_seconds_match_intervals"
PAIR_COUNTS_MATCH = "pair_counts_match_metrics"
VIEWERS_MATCH = "viewers_match_metrics"

MAX_QUARANTINE_SHARE_ENV = "VIDEO_ASSETS_MAX_QUARANTINE_SHARE"
DEFAULT_MAX_QUARANTINE_SHARE = 0.05


def max_quarantine_share() -> float:
    """The quarantine share (0-1) above which ``quarantine_share`` warns; env VIDEO_ASSETS_MAX_QUARANTINE_SHARE."""
    text = os.environ.get(MAX_QUARANTINE_SHARE_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_QUARANTINE_SHARE
    value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    if not 0 <= value <= 1:
        raise ValueError(f"{MAX_QUARANTINE_SHARE_ENV}={text!r}: give a share between 0 and 1 (0.05) or a percent (5%).")
    return value


# ---------------------------------------------------------------- specs

_CONTRACT_DESCRIPTIONS = {
    CONTRACT_SCHEMA: "Columns and Spark types match the contract (pandera model in checks/schemas.py); no extra columns.",
    CONTRACT_RULES: (
        "Every row keeps the contract: required columns not null, ranges and allowed values, and the rules "
        "between columns. Metadata: failing rows per rule and a sample of offending rows."
    ),
    UNIQUE_KEY: "The table's key (video_assets/tables.py) identifies one row.",
}


def _spec(
    name: str,
    table: str,
    description: str,
    *,
    blocking: bool = True,
    additional_deps: Sequence[dg.AssetDep | str] = (),
) -> dg.AssetCheckSpec:
    partitioned = table_spec(table).partition_column is not None
    with warnings.catch_warnings():
        # partitions_def on AssetCheckSpec is a preview feature in Dagster 1.13; we rely on it knowingly.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name,
            asset=table,
            description=description,
            blocking=blocking,
            additional_deps=list(additional_deps),
            partitions_def=daily_partitions if partitioned else None,
        )


def contract_specs(table: str) -> list[dg.AssetCheckSpec]:
    names = [CONTRACT_SCHEMA, CONTRACT_RULES] + ([UNIQUE_KEY] if table_spec(table).key_columns else [])
    return [_spec(name, table, _CONTRACT_DESCRIPTIONS[name]) for name in names]


# ---------------------------------------------------------------- helpers


def run_days(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The run's partition days: one for a partition run, several for a range (backfill) run."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [(first + timedelta(days=i)).isoformat() for i in range((end - first).days)]


def _selected(context: dg.AssetCheckExecutionContext, table: str) -> set[str]:
    return {key.name for key in context.selected_asset_check_keys if key.asset_key == dg.AssetKey(table)}


def _scope(days: list[str]) -> str:
    if not days:
        return "all rows"
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"


def _result(table: str, name: str, passed: bool, description: str, metadata: dict, *, warn: bool = False):
    return dg.AssetCheckResult(
        asset_key=table,
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def _json(value) -> dg.MetadataValue:
    return dg.MetadataValue.json(value)


def _day_metadata(days: list[str]) -> dict:
    return {"days": ", ".join(days)} if days else {}


# ---------------------------------------------------------------- contract results


@dataclass(frozen=True)
class Invariant:
    """A table's invariant check: its name, what it states, and how to build its Reference (lazily)."""

    name: str
    statement: str
    build: Callable[[], invariants.Reference]


@dataclass(frozen=True)
class Target:
    """One table an op checks: its frame (the run's partitions), its invariant, whether its day counts are needed."""

    table: str
    frame: object
    invariant: Invariant | None = None
    counts_needed: bool = False


def table_results(
    context: dg.AssetCheckExecutionContext, targets: list[Target], settings: EngagementSettings, days: list[str]
) -> tuple[list[dg.AssetCheckResult], dict[str, TableReport]]:
    """contract_schema, contract_rules, unique_key and the invariant of each table, from ONE Spark query.

    Only the selected checks are evaluated (an invariant's Reference is built
    only when its check is selected). Returns the results and the reports by
    table, whose per-day row counts other checks reuse.
    """
    checks, wanted = [], {}
    for target in targets:
        selected = _selected(context, target.table)
        with_invariant = target.invariant is not None and target.invariant.name in selected
        if not (selected & CONTRACT_CHECKS or with_invariant or target.counts_needed):
            continue
        wanted[target.table] = (target, selected, with_invariant)
        checks.append(
            TableCheck(
                target.frame,
                target.table,
                with_rules=CONTRACT_RULES in selected,
                with_key=UNIQUE_KEY in selected,
                reference=target.invariant.build() if with_invariant else None,
            )
        )
    if not checks:
        return [], {}
    reports = {report.table: report for report in evaluate_tables(checks, settings)}
    results = []
    for table, (target, selected, with_invariant) in wanted.items():
        report = reports[table]
        context.log.info(f"{table} ({_scope(days)}): {_summary(report)}")
        if CONTRACT_SCHEMA in selected:
            results.append(_schema_result(table, report, days))
        if CONTRACT_RULES in selected:
            results.append(_rules_result(table, report, days))
        if UNIQUE_KEY in selected and report.key is not None:
            results.append(_key_result(table, report, days))
        if with_invariant and report.reference is not None:
            invariant = target.invariant
            results.append(_comparison_result(table, invariant.name, report.reference, days, invariant.statement))
    return results, reports


def _summary(report: TableReport) -> str:
    parts = [f"{len(report.schema.errors)} schema errors", f"{report.rules.rows} rows"]
    parts.append(f"{len(report.rules.failures)} of {report.rules.rules_checked} rules failed")
    if report.key is not None:
        parts.append(f"{report.key.duplicate_rows} rows with a duplicate key")
    return ", ".join(parts)


def _schema_result(table: str, report: TableReport, days: list[str]) -> dg.AssetCheckResult:
    errors = report.schema.errors
    description = (
        f"{table} matches its contract's columns and types."
        if report.schema.passed
        else f"{table} ({_scope(days)}): {len(errors)} schema error(s): "
        + "; ".join(f"{e['reason']} {e['column']}" for e in errors[:5])
    )
    return _result(
        table,
        CONTRACT_SCHEMA,
        report.schema.passed,
        description,
        {**_day_metadata(days), "schema_errors": len(errors), "errors": _json(errors)},
    )


def _rules_result(table: str, report: TableReport, days: list[str]) -> dg.AssetCheckResult:
    rules = report.rules
    metadata = {
        **_day_metadata(days),
        "rows_checked": rules.rows,
        "rules_checked": rules.rules_checked,
        "failing_rows": rules.failing_rows,
        "failing_rows_by_rule": _json(rules.failures),
        "sample_offending_rows": _json(rules.samples),
    }
    if days:
        metadata["failing_rows_by_day"] = _json(rules.failures_by_day)
    if rules.not_evaluated:
        metadata["rules_not_evaluated"] = _json(rules.not_evaluated)
    if rules.passed:
        description = f"{rules.rows} rows of {table} ({_scope(days)}) keep all {rules.rules_checked} rules."
    else:
        broken = ", ".join(f"{name} ({count})" for name, count in rules.failures.items())
        description = f"{table} ({_scope(days)}): {rules.failing_rows} of {rules.rows} rows break a rule: {broken or '-'}"
        if rules.not_evaluated:
            description += f"; {len(rules.not_evaluated)} rule(s) not evaluated (schema errors)"
    return _result(table, CONTRACT_RULES, rules.passed, description, metadata)


def _key_result(table: str, report: TableReport, days: list[str]) -> dg.AssetCheckResult:
    key = report.key
    assert key is not None
    metadata = {
        **_day_metadata(days),
        "key": ", ".join(key.key_columns),
        "duplicate_key_rows": key.duplicate_rows,
        "duplicated_keys": key.duplicated_keys,
        "sample_duplicate_keys": _json(key.sample),
    }
    if not key.evaluated:
        description = f"{table}: key columns ({', '.join(key.key_columns)}) missing, uniqueness not evaluated."
    elif key.passed:
        description = f"Every ({', '.join(key.key_columns)}) of {table} ({_scope(days)}) is unique."
    else:
        description = (
            f"{table} ({_scope(days)}): {key.duplicated_keys} key(s) appear more than once, "
            f"{key.duplicate_rows} rows in all."
        )
    return _result(table, UNIQUE_KEY, key.passed, description, metadata)


def _comparison_result(table: str, name: str, comparison: Comparison, days: list[str], what: str) -> dg.AssetCheckResult:
    if not comparison.evaluated:
        description = f"{table} ({_scope(days)}): {what} not evaluated (columns missing)."
    elif comparison.passed:
        description = f"{table} ({_scope(days)}): {what} holds."
    else:
        description = f"{table} ({_scope(days)}): {what} fails for {comparison.failing_rows} row(s)."
    return _result(
        table,
        name,
        comparison.passed,
        description,
        {
            **_day_metadata(days),
            "failing_rows": comparison.failing_rows,
            "by_day": _json(comparison.by_day),
            "sample": _json(comparison.sample),
        },
    )


def _day_range(days: list[str]) -> tuple[date, date]:
    return date.fromisoformat(days[0]), date.fromisoformat(days[-1])


# ---------------------------------------------------------------- the check ops


@dg.multi_asset_check(name="video_catalog_checks", specs=contract_specs("video_catalog"), can_subset=True)
def video_catalog_checks(
    context: dg.AssetCheckExecutionContext,
    video_catalog,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    results, _ = table_results(context, [Target("video_catalog", video_catalog)], engagement, [])
    yield from results


@dg.multi_asset_check(
    name="raw_stage_checks",
    specs=[
        *contract_specs("raw_video_events"),
        _spec(
            LINES_RECONCILE,
            "raw_video_events",
            "Landing lines of the day = valid events + quarantined records + duplicates: the landing is "
            "re-read and re-classified and compared with the row counts of both tables, per day.",
            additional_deps=["raw_video_events_quarantine"],
        ),
        _spec(HAS_EVENTS, "raw_video_events", "WARN when a day of the run has no clean event.", blocking=False),
        *contract_specs("raw_video_events_quarantine"),
        _spec(
            QUARANTINE_SHARE,
            "raw_video_events_quarantine",
            f"WARN when quarantined / (valid + quarantined) of a day exceeds {MAX_QUARANTINE_SHARE_ENV} "
            f"(default {DEFAULT_MAX_QUARANTINE_SHARE:.0%}).",
            blocking=False,
            additional_deps=["raw_video_events"],
        ),
    ],
    can_subset=True,
)
def raw_stage_checks(
    context: dg.AssetCheckExecutionContext,
    raw_video_events,
    raw_video_events_quarantine,
    spark: SparkResource,
    landing: LandingZone,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    days = run_days(context)
    raw_selected = _selected(context, "raw_video_events")
    share_selected = QUARANTINE_SHARE in _selected(context, "raw_video_events_quarantine")
    needs_counts = bool(raw_selected & {LINES_RECONCILE, HAS_EVENTS}) or share_selected
    # The contract query counts each table's rows per day; the three day-level checks reuse those counts.
    results, reports = table_results(
        context,
        [
            Target("raw_video_events", raw_video_events, counts_needed=needs_counts),
            Target("raw_video_events_quarantine", raw_video_events_quarantine, counts_needed=needs_counts),
        ],
        engagement,
        days,
    )
    yield from results
    if not needs_counts:
        return
    valid_rows = reports["raw_video_events"].rules.rows_by_day
    quarantined_rows = reports["raw_video_events_quarantine"].rules.rows_by_day

    if LINES_RECONCILE in raw_selected:
        landing_counts = invariants.landing_status_counts(spark.get_session(), landing, days)
        comparison = invariants.reconcile_lines(landing_counts, valid_rows, quarantined_rows, days)
        yield _comparison_result(
            "raw_video_events", LINES_RECONCILE, comparison, days, "lines read = valid + quarantined + duplicates"
        )

    per_day = invariants.quarantine_shares(valid_rows, quarantined_rows, days)
    if HAS_EVENTS in raw_selected:
        empty = [day for day in days if per_day[day]["valid"] == 0]
        yield _result(
            "raw_video_events",
            HAS_EVENTS,
            not empty,
            f"No clean events on {', '.join(empty)}: is the landing folder missing or late?"
            if empty
            else f"Every day of {_scope(days)} has clean events.",
            {
                **_day_metadata(days),
                "days_without_events": len(empty),
                "events_by_day": _json({day: values["valid"] for day, values in per_day.items()}),
            },
            warn=True,
        )
    if share_selected:
        threshold = max_quarantine_share()
        high = {day: values["share"] for day, values in per_day.items() if values["share"] > threshold}
        yield _result(
            "raw_video_events_quarantine",
            QUARANTINE_SHARE,
            not high,
            (
                f"Quarantine share above {threshold:.1%} on "
                + ", ".join(f"{day} ({share:.1%})" for day, share in high.items())
                if high
                else f"Quarantine share at most {threshold:.1%} on every day of {_scope(days)}."
            ),
            {
                **_day_metadata(days),
                "threshold": threshold,
                "max_share": max((values["share"] for values in per_day.values()), default=0.0),
                "days_above_threshold": len(high),
                "by_day": _json(per_day),
            },
            warn=True,
        )


@dg.multi_asset_check(
    name="session_stage_checks",
    specs=[
        *contract_specs("video_sessions"),
        _spec(
            EVENTS_IN_SESSIONS,
            "video_sessions",
            "Every clean event of the day's sessions is counted in exactly one session: the raw events of "
            "D-1..D are re-assigned to sessions and compared with event_count and session_date per session_id.",
            additional_deps=[dg.AssetDep("raw_video_events", partition_mapping=previous_and_same_day)],
        ),
        *contract_specs("watch_intervals"),
    ],
    can_subset=True,
)
def session_stage_checks(
    context: dg.AssetCheckExecutionContext,
    video_sessions,
    watch_intervals,
    io_manager: dg.ResourceParam[DeltaIOManager],
    spark: SparkResource,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    days = run_days(context)
    first_day, last_day = _day_range(days)

    def raw_window():
        # Dagster 1.13 ignores the partition mapping of a check's dependency when it loads an input (it would
        # load raw events of D only), so the D-1..D window the stage sessionized is read from the table here.
        window_start = (first_day - timedelta(days=1)).isoformat()
        window_end = (last_day + timedelta(days=1)).isoformat()
        raw = io_manager.location("raw_video_events").read(spark.get_session())
        return raw.where(range_condition("event_date", window_start, window_end))

    events_in_sessions = Invariant(
        EVENTS_IN_SESSIONS,
        "events assigned = events counted, per session",
        lambda: invariants.events_in_sessions(raw_window(), engagement, first_day, last_day),
    )
    results, _ = table_results(
        context,
        [Target("video_sessions", video_sessions, events_in_sessions), Target("watch_intervals", watch_intervals)],
        engagement,
        days,
    )
    yield from results


def _with_invariant(table: str, name: str, description: str, upstream: str) -> list[dg.AssetCheckSpec]:
    return [*contract_specs(table), _spec(name, table, description, additional_deps=[upstream])]


@dg.multi_asset_check(
    name="user_video_metrics_checks",
    specs=_with_invariant(
        "user_video_metrics",
        WATCH_SECONDS_MATCH,
        "Per (day, user, video): sum of watch_intervals.watched_seconds = total_watch_seconds (tolerance 1e-6).",
        "watch_intervals",
    ),
    can_subset=True,
)
def user_video_metrics_checks(
    context: dg.AssetCheckExecutionContext,
    user_video_metrics,
    watch_intervals,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    days = run_days(context)
    watch_seconds = Invariant(
        WATCH_SECONDS_MATCH,
        "interval seconds = total_watch_seconds",
        lambda: invariants.watch_seconds_match(watch_intervals),
    )
    results, _ = table_results(context, [Target("user_video_metrics", user_video_metrics, watch_seconds)], engagement, days)
    yield from results


@dg.multi_asset_check(
    name="summary_stage_checks",
    specs=[
        *_with_invariant(
            "engagement_tier_summary",
            PAIR_COUNTS_MATCH,
            "Per day, all four tiers present, and pair_count = user_video_metrics rows of that tier.",
            "user_video_metrics",
        ),
        *_with_invariant(
            "video_engagement_summary",
            VIEWERS_MATCH,
            "Per (day, video): viewers = distinct users with a user_video_metrics row.",
            "user_video_metrics",
        ),
    ],
    can_subset=True,
)
def summary_stage_checks(
    context: dg.AssetCheckExecutionContext,
    engagement_tier_summary,
    video_engagement_summary,
    user_video_metrics,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    days = run_days(context)
    pair_counts = Invariant(
        PAIR_COUNTS_MATCH,
        "pair_count = metrics rows per tier",
        lambda: invariants.tier_pairs_match(user_video_metrics, days),
    )
    viewers = Invariant(
        VIEWERS_MATCH, "viewers = distinct users in metrics", lambda: invariants.viewers_match(user_video_metrics)
    )
    results, _ = table_results(
        context,
        [
            Target("engagement_tier_summary", engagement_tier_summary, pair_counts),
            Target("video_engagement_summary", video_engagement_summary, viewers),
        ],
        engagement,
        days,
    )
    yield from results


@dg.multi_asset_check(name="user_video_engagement_checks", specs=contract_specs("user_video_engagement"), can_subset=True)
def user_video_engagement_checks(
    context: dg.AssetCheckExecutionContext,
    user_video_engagement,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    results, _ = table_results(context, [Target("user_video_engagement", user_video_engagement)], engagement, [])
    yield from results


all_checks = [
    video_catalog_checks,
    raw_stage_checks,
    session_stage_checks,
    user_video_metrics_checks,
    summary_stage_checks,
    user_video_engagement_checks,
]

"""Every check's name, spec and result: what a user reads on an asset's Checks tab (docs/checks.md).

* ``contract_schema`` / ``contract_rules`` / ``unique_key`` on every table:
  ERROR and blocking. A failure stops the assets downstream of that table in
  the same run.
* invariants between tables (``lines_reconcile``, ``events_in_sessions``,
  ``watch_seconds_match_intervals``, ``pair_counts_match_metrics``,
  ``viewers_match_metrics``, ``sessions_match_video_summary``): ERROR and blocking.
* ``has_events``, ``quarantine_share`` and ``catalog_rows_valid``: WARN,
  never blocking.

The specs are declared on the assets (``check_specs``) and evaluated in the
asset's own step (``checks/in_step.py``). Checks of daily tables carry the
daily ``partitions_def`` (a preview feature of Dagster 1.13's
``AssetCheckSpec``): a single-partition run records each result against its
day; a range run records one result for the range, whose metadata names
every day and breaks counts down by day.
"""

import warnings
from collections.abc import Sequence

import dagster as dg

from video_assets import config
from video_assets.checks.evaluation import Comparison, TableReport
from video_assets.partitions import daily_partitions
from video_assets.tables import table_spec

CONTRACT_SCHEMA, CONTRACT_RULES, UNIQUE_KEY = "contract_schema", "contract_rules", "unique_key"
# WARN: rows an earlier release wrote hold NULL in columns this release added (io/table_upgrades.py).
COLUMNS_BACKFILLED = "columns_backfilled"
# Tables rewritten whole by every run: an added column is filled at once, nothing is ever left to backfill.
_ALWAYS_REWRITTEN = ("video_catalog",)
CONTRACT_CHECKS = {CONTRACT_SCHEMA, CONTRACT_RULES, UNIQUE_KEY}
LINES_RECONCILE, HAS_EVENTS, QUARANTINE_SHARE = "lines_reconcile", "has_events", "quarantine_share"
EVENTS_IN_SESSIONS = "events_in_sessions"
CATALOG_ROWS_VALID = "catalog_rows_valid"
WATCH_SECONDS_MATCH = "watch_seconds_match_intervals"
PAIR_COUNTS_MATCH = "pair_counts_match_metrics"
VIEWERS_MATCH = "viewers_match_metrics"
PLATFORM_SESSIONS_MATCH = "sessions_match_video_summary"

MAX_QUARANTINE_SHARE_ENV = config.MAX_QUARANTINE_SHARE_VARIABLE
DEFAULT_MAX_QUARANTINE_SHARE = config.DEFAULT_MAX_QUARANTINE_SHARE


def max_quarantine_share() -> float:
    """The quarantine share (0-1) above which ``quarantine_share`` warns; env VIDEO_ASSETS_MAX_QUARANTINE_SHARE."""
    return config.from_environment().max_quarantine_share


# ---------------------------------------------------------------- specs

_CONTRACT_DESCRIPTIONS = {
    CONTRACT_SCHEMA: "Columns and Spark types match the contract (the table's spec in video_assets/tables.py, checked by pandera); no extra columns.",
    CONTRACT_RULES: (
        "Every row keeps the contract: required columns not null, ranges and allowed values, and the rules "
        "between columns. Metadata: failing rows per rule and a sample of offending rows."
    ),
    UNIQUE_KEY: "The table's key (video_assets/tables.py) identifies one row.",
    COLUMNS_BACKFILLED: (
        "WARN: every row holds the columns of this release. After an upgrade that adds a column, the rows an "
        "earlier release wrote hold NULL in it; this check names their days and the backfill that fills them."
    ),
}


def check_spec(
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
    specs = [check_spec(name, table, _CONTRACT_DESCRIPTIONS[name]) for name in names]
    if table not in _ALWAYS_REWRITTEN:
        specs.append(check_spec(COLUMNS_BACKFILLED, table, _CONTRACT_DESCRIPTIONS[COLUMNS_BACKFILLED], blocking=False))
    return specs


def backfill_result(table: str, backfill, days: list[str]) -> dg.AssetCheckResult:
    """``columns_backfilled`` from what the write left to backfill (``io.table_upgrades.Backfill``)."""
    if not backfill.pending:
        added = f" ({', '.join(backfill.columns)} filled everywhere)" if backfill.columns else ""
        return result(table, COLUMNS_BACKFILLED, True, f"Every row of {table} holds this release's columns{added}.",
                      day_metadata(days), warn=True)
    metadata = {**day_metadata(days), "columns": ", ".join(backfill.columns), "backfill_command": backfill.command()}
    if not backfill.all_rows:
        metadata["days_to_backfill"] = len(backfill.days)
    return result(table, COLUMNS_BACKFILLED, False, backfill.describe(), metadata, warn=True)




def scope(days: list[str]) -> str:
    if not days:
        return "all rows"
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"


def result(table: str, name: str, passed: bool, description: str, metadata: dict, *, warn: bool = False):
    return dg.AssetCheckResult(
        asset_key=table,
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def json_value(value) -> dg.MetadataValue:
    return dg.MetadataValue.json(value)


def day_metadata(days: list[str]) -> dict:
    return {"days": ", ".join(days)} if days else {}


# ---------------------------------------------------------------- results


def verdicts(found: list[dg.AssetCheckResult]) -> str:
    """One line for a log: how many checks passed, and which did not (with their severity)."""
    failed = [f"{r.check_name} ({r.severity.value})" for r in found if not r.passed]
    text = f"{len(found) - len(failed)}/{len(found)} checks passed"
    return text + (f"; failed: {', '.join(failed)}" if failed else "")


def schema_result(table: str, report: TableReport, days: list[str]) -> dg.AssetCheckResult:
    errors = report.schema.errors
    description = (
        f"{table} matches its contract's columns and types."
        if report.schema.passed
        else f"{table} ({scope(days)}): {len(errors)} schema error(s): "
        + "; ".join(f"{e['reason']} {e['column']}" for e in errors[:5])
    )
    return result(
        table,
        CONTRACT_SCHEMA,
        report.schema.passed,
        description,
        {**day_metadata(days), "schema_errors": len(errors), "errors": json_value(errors)},
    )


def rules_result(table: str, report: TableReport, days: list[str]) -> dg.AssetCheckResult:
    rules = report.rules
    metadata = {
        **day_metadata(days),
        "rows_checked": rules.rows,
        "rules_checked": rules.rules_checked,
        "failing_rows": rules.failing_rows,
        "failing_rows_by_rule": json_value(rules.failures),
        "sample_offending_rows": json_value(rules.samples),
    }
    if days:
        metadata["failing_rows_by_day"] = json_value(rules.failures_by_day)
    if rules.not_evaluated:
        metadata["rules_not_evaluated"] = json_value(rules.not_evaluated)
    if rules.passed:
        description = f"{rules.rows} rows of {table} ({scope(days)}) keep all {rules.rules_checked} rules."
    else:
        broken = ", ".join(f"{name} ({count})" for name, count in rules.failures.items())
        description = f"{table} ({scope(days)}): {rules.failing_rows} of {rules.rows} rows break a rule: {broken or '-'}"
        if rules.not_evaluated:
            description += f"; {len(rules.not_evaluated)} rule(s) not evaluated (schema errors)"
    return result(table, CONTRACT_RULES, rules.passed, description, metadata)


def key_result(table: str, report: TableReport, days: list[str]) -> dg.AssetCheckResult:
    key = report.key
    assert key is not None
    metadata = {
        **day_metadata(days),
        "key": ", ".join(key.key_columns),
        "duplicate_key_rows": key.duplicate_rows,
        "duplicated_keys": key.duplicated_keys,
        "sample_duplicate_keys": json_value(key.sample),
    }
    if not key.evaluated:
        description = f"{table}: key columns ({', '.join(key.key_columns)}) missing, uniqueness not evaluated."
    elif key.passed:
        description = f"Every ({', '.join(key.key_columns)}) of {table} ({scope(days)}) is unique."
    else:
        description = (
            f"{table} ({scope(days)}): {key.duplicated_keys} key(s) appear more than once, "
            f"{key.duplicate_rows} rows in all."
        )
    return result(table, UNIQUE_KEY, key.passed, description, metadata)


def comparison_result(table: str, name: str, comparison: Comparison, days: list[str], what: str) -> dg.AssetCheckResult:
    if not comparison.evaluated:
        description = f"{table} ({scope(days)}): {what} not evaluated (columns missing)."
    elif comparison.passed:
        description = f"{table} ({scope(days)}): {what} holds."
    else:
        description = f"{table} ({scope(days)}): {what} fails for {comparison.failing_rows} row(s)."
    return result(
        table,
        name,
        comparison.passed,
        description,
        {
            **day_metadata(days),
            "failing_rows": comparison.failing_rows,
            "by_day": json_value(comparison.by_day),
            "sample": json_value(comparison.sample),
        },
    )


def _failed_days(found: dg.AssetCheckResult, days: list[str]) -> set[str]:
    """The days a failed range result is about, from its per-day metadata (every day when it has none)."""
    metadata = {name: value.value for name, value in (found.metadata or {}).items()}
    if found.check_name == COLUMNS_BACKFILLED:
        return set()  # about the days the run did not write: the run's own days hold every column now
    if "failing_rows_by_day" in metadata:
        return set(metadata["failing_rows_by_day"]) & set(days)
    if "events_by_day" in metadata:
        return {day for day, events in metadata["events_by_day"].items() if not events}
    by_day = metadata.get("by_day")
    if isinstance(by_day, dict) and by_day:
        threshold = metadata.get("threshold")
        failed = set()
        for day, values in by_day.items():
            if threshold is not None and values.get("share", 0) > threshold:
                failed.add(day)
            elif values.get("failing_rows") or values.get("unaccounted"):
                failed.add(day)
        return failed
    return set(days)


def per_day_evaluations(found: list[dg.AssetCheckResult], days: list[str]) -> list[dg.AssetCheckEvaluation]:
    """For a range run, each check's verdict recorded against every day of the range.

    Dagster records a check result of a range run without a partition, so the
    UI's per-partition view would show the days as never checked. Each day
    gets its own evaluation: failed when the range result names it (per-day
    metadata) or when the result has no per-day breakdown, passed otherwise.
    """
    if len(days) < 2:
        return []
    evaluations = []
    for range_result in found:
        failed_days = set() if range_result.passed else _failed_days(range_result, days)
        for day in days:
            passed = day not in failed_days
            evaluations.append(
                dg.AssetCheckEvaluation(
                    asset_key=dg.AssetKey.from_coercible(range_result.asset_key),
                    check_name=range_result.check_name,
                    passed=passed,
                    severity=range_result.severity,
                    blocking=range_result.severity == dg.AssetCheckSeverity.ERROR,
                    partition=day,
                    description=f"{day}: {'passed' if passed else 'failed'} in the range run of {scope(days)}. "
                    + (range_result.description or ""),
                    metadata={"range": scope(days)},
                )
            )
    return evaluations

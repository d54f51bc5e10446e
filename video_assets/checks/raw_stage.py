"""The raw stage's own checks: reconciliation, days without events, quarantine share.

All three are decided from counts the raw step observes while it writes
(``RawCounts``): no landing file is read twice for a check.
"""

from dataclasses import dataclass

import dagster as dg
from pyspark.sql import functions as F

from video_assets.checks import results
from video_assets.checks.evaluation import Comparison
from video_assets.checks.in_step import per_day, rows_per_day
from video_assets.checks.results import (
    HAS_EVENTS,
    LINES_RECONCILE,
    QUARANTINE_SHARE,
    max_quarantine_share,
    result,
)


CLEAN_TABLE, QUARANTINE_TABLE = "raw_video_events", "raw_video_events_quarantine"


@dataclass(frozen=True)
class RawCounts:
    """Per day of the run, what the raw step counted on its parse of the landing lines and on its two writes.

    ``lines``: non-blank lines read (plus one per unreadable file) and
    ``candidates``: lines with no quarantine reason, both counted on the one
    pass that parses and classifies them; ``quarantined``: quarantine rows
    written; ``valid``: clean rows written (after de-duplication).
    ``rows_written``: the two Delta commits' own row counts, per table.
    """

    lines: dict[str, int]
    quarantined: dict[str, int]
    candidates: dict[str, int]
    valid: dict[str, int]
    rows_written: dict[str, int]

    def duplicates(self, day: str) -> int:
        return self.candidates.get(day, 0) - self.valid.get(day, 0)

    @classmethod
    def observed(cls, lines: dict, quarantine_write, clean_write, days: list[str]) -> "RawCounts":
        """From what the parse observed (``line_counters``) and the two writes' observations and row counts."""
        return cls(
            lines=per_day(lines, "lines:", days),
            quarantined=per_day(quarantine_write.observed, f"{QUARANTINE_TABLE}:day:", days),
            candidates=per_day(lines, "candidates:", days),
            valid=per_day(clean_write.observed, f"{CLEAN_TABLE}:day:", days),
            rows_written={CLEAN_TABLE: clean_write.rows_written, QUARANTINE_TABLE: quarantine_write.rows_written},
        )


def line_counters(days: list[str]) -> dict:
    """The aggregates observed on the one pass that classifies the landing lines: lines and candidates per
    day. The two writes count what they write (rows per day, which the contract checks observe on every
    write, and rows per reason on the quarantine): the reconciliation adds up three independent counts."""
    return {
        "lines": F.count(F.lit(1)),
        **rows_per_day("partition_date", days, "lines:"),
        **rows_per_day("partition_date", days, "candidates:", F.col("reason").isNull()),
    }


def reason_counters(reasons: tuple[str, ...]) -> dict:
    """Quarantined rows per reason, observed on the quarantine table's write.

    There, not on the parse: an aggregate observed on every landing line costs about 0.2 s per 10M lines.
    """
    return {f"reason:{reason}": F.count_if(F.col("reason") == reason) for reason in reasons}


def reconcile_lines(counts: RawCounts, days: list[str]) -> Comparison:
    """lines read = valid + quarantined + duplicates, per day (SEMANTICS.md 2).

    The parse and the two writes count independently (a row lost between the
    parse and a write shows as ``unaccounted``), and the observed totals must
    equal what the Delta commits say they wrote.
    """
    comparison = Comparison()
    for day in days:
        lines, valid, quarantined = counts.lines.get(day, 0), counts.valid.get(day, 0), counts.quarantined.get(day, 0)
        duplicates = counts.duplicates(day)
        unaccounted = lines - valid - quarantined - duplicates
        comparison.by_day[day] = {
            "lines_read": lines,
            "valid": valid,
            "quarantined": quarantined,
            "duplicates": duplicates,
            "unaccounted": unaccounted,
        }
        comparison.failing_rows += abs(unaccounted)
    written_mismatch = abs(sum(counts.valid.values()) - counts.rows_written.get("raw_video_events", 0)) + abs(
        sum(counts.quarantined.values()) - counts.rows_written.get("raw_video_events_quarantine", 0)
    )
    comparison.failing_rows += written_mismatch
    if written_mismatch:
        comparison.sample = [{"observed_valid": sum(counts.valid.values()),
                              "observed_quarantined": sum(counts.quarantined.values()),
                              **{f"written_{k}": v for k, v in counts.rows_written.items()}}]
    return comparison


def quarantine_shares(counts: RawCounts, days: list[str]) -> dict[str, dict]:
    """Per day: valid events, quarantined records and quarantined / (valid + quarantined)."""
    shares = {}
    for day in days:
        valid, quarantined = counts.valid.get(day, 0), counts.quarantined.get(day, 0)
        records = valid + quarantined
        shares[day] = {"valid": valid, "quarantined": quarantined, "share": round(quarantined / records, 6) if records else 0.0}
    return shares


def raw_stage_results(counts: RawCounts, days: list[str], selected: dict[str, set[str]]) -> list[dg.AssetCheckResult]:
    """lines_reconcile and has_events (raw_video_events), quarantine_share (the quarantine), as selected."""
    found = []
    on_events, on_quarantine = selected.get("raw_video_events", set()), selected.get("raw_video_events_quarantine", set())
    if LINES_RECONCILE in on_events:
        found.append(
            results.comparison_result(
                "raw_video_events",
                LINES_RECONCILE,
                reconcile_lines(counts, days),
                days,
                "lines read = valid + quarantined + duplicates",
            )
        )
    per_day = quarantine_shares(counts, days)
    if HAS_EVENTS in on_events:
        empty = [day for day in days if per_day[day]["valid"] == 0]
        found.append(
            result(
                "raw_video_events",
                HAS_EVENTS,
                not empty,
                f"No clean events on {', '.join(empty)}: is the landing folder missing or late?"
                if empty
                else f"Every day of {results.scope(days)} has clean events.",
                {
                    **results.day_metadata(days),
                    "days_without_events": len(empty),
                    "events_by_day": dg.MetadataValue.json({day: values["valid"] for day, values in per_day.items()}),
                },
                warn=True,
            )
        )
    if QUARANTINE_SHARE in on_quarantine:
        threshold = max_quarantine_share()
        high = {day: values["share"] for day, values in per_day.items() if values["share"] > threshold}
        found.append(
            result(
                "raw_video_events_quarantine",
                QUARANTINE_SHARE,
                not high,
                (
                    f"Quarantine share above {threshold:.1%} on "
                    + ", ".join(f"{day} ({share:.1%})" for day, share in high.items())
                    if high
                    else f"Quarantine share at most {threshold:.1%} on every day of {results.scope(days)}."
                ),
                {
                    **results.day_metadata(days),
                    "threshold": threshold,
                    "max_share": max((values["share"] for values in per_day.values()), default=0.0),
                    "days_above_threshold": len(high),
                    "by_day": dg.MetadataValue.json(per_day),
                },
                warn=True,
            )
        )
    return found

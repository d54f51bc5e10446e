"""Stage 3: watched segments -> watch intervals (SEMANTICS.md 7, last paragraph).

A watch interval is a maximal run of one session's watched segments whose
positions join up: each segment starts where the previous one ended, within
the position tolerance. Its watched_seconds is the sum of its segments, and
the segments themselves are kept (``segments``) so that unique seconds can be
the union of what was really watched: a within-tolerance gap between two
joined segments was never credited, so it must not count as unique either.

The runs are found inside each session's row of ``summarize_sessions``
(its ``watched_segments``, already in session order) with array functions:
no shuffle, no sort across rows, and linear in a session's segments.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from video_assets.settings import EngagementSettings
from video_assets.tables import project
from video_assets.transforms.sessions import SESSION_KEY

DERIVATIONS = ("continuous", "jump_adjusted", "switch_credit")


def _derivation(kinds: Column) -> Column:
    """How an interval's seconds were credited: a switch credit, else a jump rule, else plain play."""
    return (
        F.when(F.array_contains(kinds, "switch_credit"), "switch_credit")
        .when(F.array_contains(kinds, "forward_jump") | F.array_contains(kinds, "backward_jump"), "jump_adjusted")
        .otherwise("continuous")
    )


def _interval(run: Column) -> Column:
    """One interval from its run of segments: positions (content s), watched_seconds, wall span, kinds, segments."""

    def field(name: str) -> Column:
        return F.transform(run, lambda segment: segment[name])

    return F.struct(
        F.array_min(field("start_position_seconds")).alias("start_position_seconds"),
        F.array_max(field("end_position_seconds")).alias("end_position_seconds"),
        F.aggregate(run, F.lit(0.0), lambda total, segment: total + segment["watched_seconds"]).alias(
            "watched_seconds"
        ),
        F.array_min(field("wall_start_ts")).alias("wall_start_ts"),
        F.array_max(field("wall_end_ts")).alias("wall_end_ts"),
        F.size(run).cast("long").alias("segment_count"),
        F.array_distinct(field("kind")).alias("kinds"),
        F.array_sort(
            F.transform(
                run,
                lambda segment: F.struct(
                    segment["start_position_seconds"].alias("start"), segment["end_position_seconds"].alias("end")
                ),
            )
        ).alias("segments"),
    )


def watch_intervals(summaries: DataFrame, settings: EngagementSettings) -> DataFrame:
    """One row per watch interval: positions (content s), watched_seconds, wall span, derivation, segments.

    ``summaries`` is ``sessions.summarize_sessions``' output (one row per
    session with its ``watched_segments`` in session order).
    """
    tolerance = settings.position_tolerance_seconds
    segments = F.col("watched_segments")
    # A run starts at the session's first segment and wherever a segment starts further than the tolerance from
    # where the previous one ended: the 0-based indexes of those segments, in order.
    starts = F.filter(
        F.transform(
            segments,
            lambda segment, i: F.when(
                (i == 0)
                | (F.abs(segment["start_position_seconds"] - F.get(segments, i - 1)["end_position_seconds"]) > tolerance),
                i,
            ),
        ),
        lambda i: i.isNotNull(),
    )
    starts_column = F.col("_run_starts")
    runs = F.transform(
        starts_column,
        lambda first, k: F.slice(
            segments, first + 1, F.coalesce(F.get(starts_column, k + 1), F.size(segments)) - first
        ),
    )
    exploded = (
        summaries.withColumn("_run_starts", starts)
        .select("session_id", *SESSION_KEY, "session_date", F.posexplode(F.transform(runs, _interval)))
        .select(
            "session_id",
            *SESSION_KEY,
            "session_date",
            (F.col("pos") + 1).cast("long").alias("interval_index"),
            "col.*",
        )
    )
    return project(exploded.withColumn("derivation", _derivation(F.col("kinds"))), "watch_intervals")

"""Stage 3: watched segments -> watch intervals (SEMANTICS.md 7, last paragraph).

A watch interval is a maximal run of one session's watched segments whose
positions join up: each segment starts where the previous one ended, within
the position tolerance. Its watched_seconds is the sum of its segments, and
the segments themselves are kept (``segments``) so that unique seconds can be
the union of what was really watched: a within-tolerance gap between two
joined segments was never credited, so it must not count as unique either.

The runs are found inside each session's row of ``summarize_sessions``
(its ``watched_segments``, already in session order) with array functions,
then each run is exploded into its interval's row: no shuffle, no sort
across rows, and linear in a session's segments.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from video_assets.settings import EngagementSettings
from video_assets.tables import POSITION_RANGES, project
from video_assets.transforms.sessions import SESSION_KEY

DERIVATIONS = ("continuous", "jump_adjusted", "switch_credit")
# The contract's position ranges, every element present (as arrays_zip makes them).
_RANGES = T.ArrayType(POSITION_RANGES.elementType, containsNull=False)


def _derivation(kinds: Column) -> Column:
    """How an interval's seconds were credited: a switch credit, else a jump rule, else plain play."""
    return (
        F.when(F.array_contains(kinds, "switch_credit"), "switch_credit")
        .when(F.array_contains(kinds, "forward_jump") | F.array_contains(kinds, "backward_jump"), "jump_adjusted")
        .otherwise("continuous")
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
    starts = F.array_compact(
        F.transform(
            segments,
            lambda segment, i: F.when(
                (i == 0)
                | (F.abs(segment["start_position_seconds"] - F.get(segments, i - 1)["end_position_seconds"]) > tolerance),
                i,
            ),
        )
    )
    starts_column = F.col("_run_starts")
    runs = F.transform(
        starts_column,
        lambda first, k: F.slice(
            segments, first + 1, F.coalesce(F.get(starts_column, k + 1), F.size(segments)) - first
        ),
    )
    # Each run is exploded into its row before its figures are taken. A field of an array of structs
    # (run.kind) is then an array read in generated code, not a lambda called per segment: Spark evaluates
    # lambdas row by row without generated code (the 10M benchmark's 9.7M segments: 13 s -> 9 s).
    run = F.col("_run")
    exploded = (
        summaries.withColumn("_run_starts", starts)
        .select("session_id", *SESSION_KEY, "session_date", F.posexplode(runs).alias("_index", "_run"))
        .select(
            "session_id",
            *SESSION_KEY,
            "session_date",
            (F.col("_index") + 1).cast("long").alias("interval_index"),
            F.array_min(run["start_position_seconds"]).alias("start_position_seconds"),
            F.array_max(run["end_position_seconds"]).alias("end_position_seconds"),
            F.aggregate(run["watched_seconds"], F.lit(0.0), lambda total, seconds: total + seconds).alias(
                "watched_seconds"
            ),
            F.array_min(run["wall_start_ts"]).alias("wall_start_ts"),
            F.array_max(run["wall_end_ts"]).alias("wall_end_ts"),
            F.size(run).cast("long").alias("segment_count"),
            F.array_distinct(run["kind"]).alias("kinds"),
            # (start, end) pairs by position: the cast names the zipped fields. sort_array, as in sessions.py.
            F.sort_array(F.arrays_zip(run["start_position_seconds"], run["end_position_seconds"]).cast(_RANGES)).alias(
                "segments"
            ),
        )
    )
    return project(exploded.withColumn("derivation", _derivation(F.col("kinds"))), "watch_intervals")

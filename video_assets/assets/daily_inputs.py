"""The all-time step's inputs, read at Delta versions on which the two daily tables agree.

user_video_engagement reads user_video_metrics and watch_intervals, which
two different steps write. While another run sits between those steps (its
session step has replaced a day of watch_intervals, its metrics step has not
yet replaced that day of user_video_metrics), the tables hold two versions of
one day, and a lifetime row computed from them would break the contract
(unique seconds above total seconds). The step pins both tables' versions,
checks that they agree for the pairs it recomputes, and waits for the other
run when they do not.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
from pyspark.sql import DataFrame

from video_assets.assets.common import remove_abandoned_scratch
from video_assets.io.delta import DeltaWarehouse
from video_assets.io.scratch import scratch_rows
from video_assets.transforms import lifetime

METRICS, INTERVALS = "user_video_metrics", "watch_intervals"
PAIR_KEY = ["user_id", "video_id"]
# Seconds between re-reads; ~2.5 min in all, longer than another run's metrics step takes on a day.
WAITS_SECONDS = (5, 10, 20, 30, 30, 30, 30)


@dataclass(frozen=True)
class DailyInputs:
    """The pairs to recompute and their rows (all rows when ``pairs`` is None), at ``versions``."""

    metrics: DataFrame
    intervals: DataFrame
    pairs: DataFrame | None  # the (user_id, video_id) to recompute; None: all of them
    versions: dict[str, int | None]


@contextmanager
def agreeing_daily_inputs(
    context: dg.AssetExecutionContext,
    warehouse: DeltaWarehouse,
    pairs_of: Callable[[DataFrame], DataFrame | None],
    waits: tuple[float, ...] = WAITS_SECONDS,
) -> Iterator[DailyInputs]:
    """Both daily tables at pinned versions that agree on every pair of ``pairs_of(metrics)``, for a ``with`` body.

    Fails naming the pairs and versions when they still disagree after ``waits``
    (a run stopped between its session and metrics steps leaves them so). The
    pairs and their rows are computed once, into the step's scratch rows (read
    by the agreement query, the MERGE and the checks; removed when the body
    ends). All rows (``pairs_of`` gives None) are read at the pinned versions
    each time, which gives the same rows every time.
    """
    session = warehouse.spark.get_session()
    remove_abandoned_scratch(context, warehouse)
    with (
        scratch_rows(session, warehouse.location, "lifetime_pairs", context.run_id) as pair_rows,
        scratch_rows(session, warehouse.location, "lifetime_metrics", context.run_id) as metric_rows,
        scratch_rows(session, warehouse.location, "lifetime_intervals", context.run_id) as interval_rows,
    ):
        for attempt in range(len(waits) + 1):
            versions = {name: warehouse.current_version(name) for name in (METRICS, INTERVALS)}
            metrics = warehouse.read_range(METRICS, [], versions[METRICS])
            intervals = warehouse.read_range(INTERVALS, [], versions[INTERVALS])
            pairs = pairs_of(metrics)
            if pairs is not None:
                pair_rows.write(pairs)
                pairs = pair_rows.read()
                metric_rows.write(metrics.join(pairs, PAIR_KEY, "left_semi"))
                interval_rows.write(intervals.join(pairs, PAIR_KEY, "left_semi"))
                metrics, intervals = metric_rows.read(), interval_rows.read()
            sample = lifetime.disagreeing_pairs(metrics, intervals).limit(5).collect()
            if not sample:
                yield DailyInputs(metrics, intervals, pairs, versions)
                return
            found = "; ".join(
                f"({row['user_id']}, {row['video_id']}): {row['metrics_seconds']} s in {METRICS}, "
                f"{row['interval_seconds']} s in {INTERVALS}"
                for row in sample
            )
            at = f"{METRICS} version {versions[METRICS]}, {INTERVALS} version {versions[INTERVALS]}"
            if attempt == len(waits):
                raise dg.Failure(
                    description=(
                        f"user_video_engagement was not updated: {METRICS} and {INTERVALS} still disagree after "
                        f"{sum(waits):.0f} s of waiting ({at}), e.g. {found}. A run probably stopped between its "
                        f"video_sessions and user_video_metrics steps: rerun user_video_metrics for the days of "
                        f"those pairs (or the whole range of that run), then this asset."
                    ),
                    metadata={"versions": dg.MetadataValue.json(versions), "disagreeing_pairs": found},
                )
            context.log.warning(
                f"user_video_engagement: {METRICS} and {INTERVALS} disagree ({at}), e.g. {found}: another run is "
                f"probably between its session and metrics steps. Reading again in {waits[attempt]:.0f} s "
                f"({attempt + 1}/{len(waits)})."
            )
            time.sleep(waits[attempt])

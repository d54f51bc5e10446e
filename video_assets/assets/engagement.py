"""raw_video_events -> video_sessions + watch_intervals -> user_video_metrics, each checked in its own step."""

import dagster as dg
from pyspark.sql import functions as F

from video_assets.assets.common import (
    SPARK_KINDS,
    Output,
    StepLauncherParam,
    TableWrite,
    choose_query_execution,
    day_range,
    materialized,
    partition_days,
    remove_abandoned_scratch,
    timed_step,
    write_all_checked,
    write_checked,
)
from video_assets.checks import invariants
from video_assets.checks.in_step import Invariant
from video_assets.checks.results import (
    EVENTS_IN_SESSIONS,
    WATCH_SECONDS_MATCH,
    check_spec,
    contract_specs,
)
from video_assets.io.delta import DeltaWarehouse
from video_assets.io.scratch import scratch_rows
from video_assets.partitions import daily_partitions, previous_and_same_day
from video_assets.reporting import aggregates, asset_pictures
from video_assets.settings import TIERS, EngagementSettings
from video_assets.tables import column_schema
from video_assets.transforms import intervals, metrics, sessions

ENGAGEMENT_GROUP = "engagement"


@dg.multi_asset(
    outs={
        "video_sessions": dg.AssetOut(
            group_name=ENGAGEMENT_GROUP,
            metadata={"dagster/column_schema": column_schema("video_sessions")},
            kinds=SPARK_KINDS,
            description=(
                "One row per viewing session of a user on a video, owned by the UTC day it closes on "
                "(last event + session timeout). Span, event counts, watched seconds, jumps, ended_by, flags."
            ),
        ),
        "watch_intervals": dg.AssetOut(
            group_name=ENGAGEMENT_GROUP,
            metadata={"dagster/column_schema": column_schema("watch_intervals")},
            kinds=SPARK_KINDS,
            description=(
                "One row per watch interval: a maximal run of a session's watched segments whose positions "
                "join up. Positions in content seconds, watched_seconds, wall span, derivation, segments."
            ),
        ),
    },
    ins={
        "raw_video_events": dg.AssetIn(partition_mapping=previous_and_same_day),
        "video_catalog": dg.AssetIn(),
    },
    internal_asset_deps={
        "video_sessions": {dg.AssetKey("raw_video_events"), dg.AssetKey("video_catalog")},
        "watch_intervals": {dg.AssetKey("video_sessions")},
    },
    check_specs=[
        *contract_specs("video_sessions"),
        check_spec(
            EVENTS_IN_SESSIONS,
            "video_sessions",
            "Every event the step assigned to a session is counted in exactly that session: per session_id, "
            "the events the playback replay numbered are compared with event_count, and the session_date all "
            "its events were given with the table's.",
        ),
        *contract_specs("watch_intervals"),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="writes_video_sessions",
    # Both tables come from one pass of sessionization and playback replay: they are written together.
    can_subset=False,
)
def video_sessions(
    context: dg.AssetExecutionContext,
    raw_video_events,
    video_catalog,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Sessionize D-1..D events and keep the sessions that close on the run's days (SEMANTICS.md 6-7).

    The events are annotated (session, playback state, segment) and
    aggregated per session in one pass, with no shuffle after the one by
    user; the per-session rows (aggregates and watched segments) are written
    once to the step's scratch rows (``io/scratch.py``: no cache, which
    serverless compute refuses), and both tables and the events_in_sessions
    check are built from them.
    """
    choose_query_execution(context, warehouse)
    first_day, last_day = day_range(context)
    days = partition_days(context)
    overview = {f"ended_by:{name}": F.count_if(F.col("ended_by") == name) for name in sessions.ENDED_BY}
    overview["watched_seconds"] = F.sum("watched_seconds")
    session = warehouse.spark.get_session()
    remove_abandoned_scratch(context, warehouse)
    with (
        timed_step(context, "video_sessions, watch_intervals: sessionize, replay playback, write") as timing,
        scratch_rows(session, warehouse.location, "video_sessions_summaries", context.run_id) as scratch,
    ):
        with timed_step(context, "sessions: sessionize, replay playback, aggregate (one pass, to the scratch rows)"):
            annotated = sessions.annotate_events(raw_video_events, video_catalog, engagement, first_day, last_day)
            scratch.write(sessions.summarize_sessions(annotated))
        summaries = scratch.read()
        (session_write, session_checks), (interval_write, interval_checks) = write_all_checked(
            context,
            warehouse,
            engagement,
            days,
            [
                TableWrite(
                    "video_sessions",
                    # One file per day: the scratch rows come back in many splits (one or more per file the
                    # user shuffle wrote), and many small files a day would make every later read open them all.
                    sessions.video_sessions(summaries, engagement).repartition("session_date"),
                    invariant=Invariant(
                        EVENTS_IN_SESSIONS,
                        "events assigned = events counted, per session",
                        invariants.events_in_sessions(summaries),
                    ),
                    observe=overview,
                ),
                TableWrite(
                    "watch_intervals",
                    intervals.watch_intervals(summaries, engagement).repartition("session_date"),
                ),
            ],
        )
    observed = session_write.observed
    by_ended = {name: int(observed.get(f"ended_by:{name}") or 0) for name in sessions.ENDED_BY}
    watched_hours = round(float(observed.get("watched_seconds") or 0.0) / 3600, 2)
    context.log.info(
        f"{session_write.rows_written} sessions closing {first_day}..{last_day}, {watched_hours} watch hours, "
        f"by ended_by {by_ended}"
    )
    common = {"total_watch_hours": watched_hours, "compute_seconds": timing["seconds"]}
    yield from materialized(
        [
            Output("video_sessions", {**session_write.metadata, "sessions_by_ended_by": by_ended, **common},
                   session_checks),
            Output("watch_intervals", {**interval_write.metadata, **common}, interval_checks),
        ],
        days,
    )


@dg.asset(
    group_name=ENGAGEMENT_GROUP,
    kinds=SPARK_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="writes_user_video_metrics",
    metadata={"dagster/column_schema": column_schema("user_video_metrics")},
    check_specs=[
        *contract_specs("user_video_metrics"),
        check_spec(
            WATCH_SECONDS_MATCH,
            "user_video_metrics",
            "Per (day, user, video): sum of watch_intervals.watched_seconds = total_watch_seconds (tolerance 1e-6).",
            additional_deps=["watch_intervals"],
        ),
    ],
    description=(
        "One row per (metric_date, user, video) over that day's sessions: watch time, unique seconds, "
        "completion, sessions and replays, jumps, engagement score (0-100) and tier."
    ),
)
def user_video_metrics(
    context: dg.AssetExecutionContext,
    video_sessions,
    watch_intervals,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Section 8 metrics per user-video-day."""
    choose_query_execution(context, warehouse)
    days = partition_days(context)
    with timed_step(context, "user_video_metrics: aggregate, score, write") as timing:
        write, check_results = write_checked(
            context,
            warehouse,
            "user_video_metrics",
            metrics.user_video_metrics(video_sessions, watch_intervals, engagement),
            engagement,
            days,
            invariant=Invariant(
                WATCH_SECONDS_MATCH,
                "interval seconds = total_watch_seconds",
                invariants.watch_seconds_match(watch_intervals),
            ),
            observe={
                **{f"tier:{tier}": F.count_if(F.col("engagement_tier") == tier) for tier in TIERS},
                **aggregates.score_bin_counters(),
            },
        )
    tiers = {tier: int(write.observed.get(f"tier:{tier}") or 0) for tier in TIERS}
    context.log.info(f"user_video_metrics: {write.rows_written} user-video-days, by tier {tiers}")
    histogram = asset_pictures.score_histogram_picture(aggregates.score_bins_observed(write.observed), engagement)
    metadata = {
        **write.metadata,
        "pairs": write.rows_written,
        "pairs_by_tier": tiers,
        "score_histogram": histogram,
        "compute_seconds": timing["seconds"],
    }
    yield from materialized([Output("user_video_metrics", metadata, check_results)], days)

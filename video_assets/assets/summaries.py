"""The summaries: engagement_tier_summary, video_engagement_summary + video_platform_summary (daily, one step);
user_video_engagement + video_lifetime_summary (all time, one step)."""

from datetime import date

import dagster as dg

from video_assets.assets.common import (
    SPARK_KINDS,
    Output,
    StepLauncherParam,
    TableWrite,
    choose_query_execution,
    day_range,
    materialized,
    merge_checked,
    partition_days,
    timed_step,
    write_all_checked,
    write_checked,
)
from video_assets.assets.daily_inputs import agreeing_daily_inputs
from video_assets.checks import invariants
from video_assets.checks.in_step import Invariant
from video_assets.checks.results import (
    PAIR_COUNTS_MATCH,
    PLATFORM_SESSIONS_MATCH,
    VIEWERS_MATCH,
    check_spec,
    contract_specs,
)
from video_assets.dagster_internals import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)
from video_assets.io.delta import DeltaWarehouse
from video_assets.partitions import daily_partitions
from video_assets.reporting import aggregates, asset_pictures
from video_assets.settings import EngagementSettings
from video_assets.tables import column_schema
from video_assets.transforms import lifetime, platforms, summaries, video_lifetime

SUMMARY_GROUP = "summaries"
LIFETIME = "user_video_engagement"
VIDEO_LIFETIME = "video_lifetime_summary"
# Tags Dagster puts on a run of one partition or of a range (single-run backfill).
RANGE_TAGS = (ASSET_PARTITION_RANGE_START_TAG, ASSET_PARTITION_RANGE_END_TAG)


@dg.asset(
    group_name=SUMMARY_GROUP,
    kinds=SPARK_KINDS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="writes_engagement_tier_summary",
    metadata={"dagster/column_schema": column_schema("engagement_tier_summary")},
    check_specs=[
        *contract_specs("engagement_tier_summary"),
        check_spec(
            PAIR_COUNTS_MATCH,
            "engagement_tier_summary",
            "Per day, all four tiers present, and pair_count = user_video_metrics rows of that tier.",
            additional_deps=["user_video_metrics"],
        ),
    ],
    description=(
        "One row per (metric_date, engagement_tier), all four tiers every day (zeros included): pairs, "
        "users, videos, share of pairs, average score / watch seconds / completion, completion rate."
    ),
)
def engagement_tier_summary(
    context: dg.AssetExecutionContext,
    user_video_metrics,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    choose_query_execution(context, warehouse)
    first_day, last_day = day_range(context)
    days = partition_days(context)
    with timed_step(context, "engagement_tier_summary: aggregate, write") as timing:
        write, check_results = write_checked(
            context,
            warehouse,
            "engagement_tier_summary",
            summaries.engagement_tier_summary(user_video_metrics, first_day, last_day),
            engagement,
            days,
            invariant=Invariant(
                PAIR_COUNTS_MATCH,
                "pair_count = metrics rows per tier",
                invariants.tier_pairs_match(user_video_metrics, days),
            ),
            observe=aggregates.tier_mix_counters(days),
        )
    mix = aggregates.tier_mix_observed(write.observed, days)  # days x 4 rows, as the table holds them
    metadata = {**write.metadata, "compute_seconds": timing["seconds"], "tier_mix": asset_pictures.tier_mix_picture(mix)}
    yield from materialized([Output("engagement_tier_summary", metadata, check_results)], days)


VIDEO_SUMMARY, PLATFORM_SUMMARY = "video_engagement_summary", "video_platform_summary"


def _table_out(table: str, description: str, **options) -> dg.AssetOut:
    """One table of a summaries step that writes two: optional, so either can be materialized alone."""
    return dg.AssetOut(
        group_name=SUMMARY_GROUP,
        kinds=SPARK_KINDS,
        is_required=False,
        metadata={"dagster/column_schema": column_schema(table)},
        description=description,
        **options,
    )


@dg.multi_asset(
    outs={
        VIDEO_SUMMARY: _table_out(
            VIDEO_SUMMARY,
            (
                "One row per (metric_date, video): viewers, sessions, watch seconds, completion, viewers per "
                "tier, the audience retention curve (share of viewers covering each of N evenly spaced "
                "moments), engaged viewers, milestones reached (25/50/75/95 %), where viewers stop (furthest "
                "point), and retention relative to the day's videos of similar length."
            ),
        ),
        PLATFORM_SUMMARY: _table_out(
            PLATFORM_SUMMARY,
            (
                "One row per (metric_date, video, platform): sessions, distinct viewers, watch seconds, "
                "completed sessions and completion rate. A session's platform is its first event's non-empty "
                "platform (lower-cased), `unknown` when none has one. Its sessions are checked against "
                "video_engagement_summary's."
            ),
        ),
    },
    ins={"user_video_metrics": dg.AssetIn(), "watch_intervals": dg.AssetIn(), "video_sessions": dg.AssetIn()},
    internal_asset_deps={
        VIDEO_SUMMARY: {dg.AssetKey("user_video_metrics"), dg.AssetKey("watch_intervals")},
        PLATFORM_SUMMARY: {dg.AssetKey("video_sessions"), dg.AssetKey(VIDEO_SUMMARY)},
    },
    check_specs=[
        *contract_specs(VIDEO_SUMMARY),
        check_spec(
            VIEWERS_MATCH,
            VIDEO_SUMMARY,
            "Per (day, video): viewers = distinct users with a user_video_metrics row.",
            additional_deps=["user_video_metrics"],
        ),
        *contract_specs(PLATFORM_SUMMARY),
        check_spec(
            PLATFORM_SESSIONS_MATCH,
            PLATFORM_SUMMARY,
            "Per (day, video): sessions summed over the platforms = video_engagement_summary.sessions.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="writes_video_engagement_summary",
    # One step for both per-video tables: one launch, one check query for both (either can run alone).
    can_subset=True,
)
def video_engagement_summary(
    context: dg.AssetExecutionContext,
    user_video_metrics,
    watch_intervals,
    video_sessions,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Sections 9a/9c per video and 9d per (video, platform), for the run's days."""
    choose_query_execution(context, warehouse)
    days = partition_days(context)
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    if VIDEO_SUMMARY not in selected and warehouse.current_version(VIDEO_SUMMARY) is None:
        raise dg.Failure(
            description=(
                f"{PLATFORM_SUMMARY} is checked against {VIDEO_SUMMARY}, which does not exist yet: "
                f"materialize both (or {VIDEO_SUMMARY} first)."
            )
        )
    writes = []
    if VIDEO_SUMMARY in selected:
        writes.append(
            TableWrite(
                VIDEO_SUMMARY,
                summaries.video_engagement_summary(user_video_metrics, watch_intervals, engagement),
                invariant=Invariant(
                    VIEWERS_MATCH, "viewers = distinct users in metrics", invariants.viewers_match(user_video_metrics)
                ),
            )
        )
    if PLATFORM_SUMMARY in selected:
        writes.append(
            TableWrite(
                PLATFORM_SUMMARY,
                platforms.video_platform_summary(video_sessions),
                invariant=Invariant(
                    PLATFORM_SESSIONS_MATCH,
                    "sessions over the platforms = video_engagement_summary.sessions",
                    # Read when the check runs: after this step has written the video summary (if it does).
                    lambda: invariants.platform_sessions_match(warehouse.read_range(VIDEO_SUMMARY, days)),
                ),
            )
        )
    label = " and ".join(write.table for write in writes)
    with timed_step(context, f"{label}: aggregate, write") as timing:
        written = write_all_checked(context, warehouse, engagement, days, writes)
    outputs = []
    for write, (result, check_results) in zip(writes, written, strict=True):
        metadata = {**result.metadata, "compute_seconds": timing["seconds"]}
        if write.table == VIDEO_SUMMARY:
            top = aggregates.top_videos(warehouse.read_range(VIDEO_SUMMARY, days), asset_pictures.TOP_VIDEOS)
            metadata["retention_top_videos"] = asset_pictures.retention_picture(top)
        else:
            mix = aggregates.platform_mix(warehouse.read_range(PLATFORM_SUMMARY, days))
            metadata["platform_mix"] = asset_pictures.platform_mix_picture(mix)
        outputs.append(Output(write.table, metadata, check_results))
    yield from materialized(outputs, days)


def run_days(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """First and last day of the partitioned run this step is part of; None when the run names no days."""
    tags = context.run.tags
    if all(tag in tags for tag in RANGE_TAGS):
        return date.fromisoformat(tags[RANGE_TAGS[0]]), date.fromisoformat(tags[RANGE_TAGS[1]])
    if PARTITION_NAME_TAG in tags:
        day = date.fromisoformat(tags[PARTITION_NAME_TAG])
        return day, day
    return None


@dg.multi_asset(
    outs={
        LIFETIME: _table_out(
            LIFETIME,
            (
                "All-time, one row per (user, video): totals, unique seconds over all days, first/last watch, "
                "active days, replay, completed at least once, lifetime score and tier. A partitioned run "
                "merges only the pairs its days touched; a run on its own rebuilds it from the daily tables."
            ),
            automation_condition=dg.AutomationCondition.eager(),
        ),
        VIDEO_LIFETIME: _table_out(
            VIDEO_LIFETIME,
            (
                "All-time, one row per video, from user_video_engagement: viewers, watch seconds, completed "
                "and returning viewers, first and last watch, mean lifetime score. Each run recomputes the rows "
                "from user_video_engagement and MERGEs only the videos whose row changed."
            ),
            automation_condition=dg.AutomationCondition.eager(),
        ),
    },
    deps=["user_video_metrics", "watch_intervals"],
    internal_asset_deps={
        LIFETIME: {dg.AssetKey("user_video_metrics"), dg.AssetKey("watch_intervals")},
        VIDEO_LIFETIME: {dg.AssetKey(LIFETIME)},
    },
    check_specs=[*contract_specs(LIFETIME), *contract_specs(VIDEO_LIFETIME)],
    # Unpartitioned, but part of ranged runs (README's `dagster asset materialize … --partition-range …`).
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="writes_user_video_engagement",
    # One step (one launch) for both all-time tables; either can run alone.
    can_subset=True,
)
def user_video_engagement(
    context: dg.AssetExecutionContext,
    warehouse: DeltaWarehouse,
    engagement: EngagementSettings,
    step_launcher: StepLauncherParam,
):
    """Sections 9b (merged for the run's days) and 9e (the videos whose all-time row changed)."""
    choose_query_execution(context, warehouse)
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    if LIFETIME in selected:
        yield from _user_video_engagement(context, warehouse, engagement)
    if VIDEO_LIFETIME in selected:
        yield from _video_lifetime_summary(context, warehouse, engagement)


def _user_video_engagement(context: dg.AssetExecutionContext, warehouse: DeltaWarehouse, engagement: EngagementSettings):
    """Section 9b, incrementally: the pairs of the run's days are recomputed and MERGEd (docs/operating.md)."""
    days = run_days(context)
    version = warehouse.current_version(LIFETIME)
    exists = version is not None
    # Pinned: the pairs to recompute are read twice (agreement, then the MERGE) and must be the same both times.
    stored = warehouse.read_range(LIFETIME, [], version) if exists else None

    def pairs_of(metrics):
        if days is None or not exists:
            return None
        first, last = days
        return lifetime.touched_pairs(
            metrics.where(f"metric_date BETWEEN DATE'{first}' AND DATE'{last}'"), stored, first, last
        )

    with agreeing_daily_inputs(context, warehouse, pairs_of) as inputs:
        yield from _write_lifetime(context, warehouse, engagement, inputs, days, stored)


def _write_lifetime(context, warehouse: DeltaWarehouse, engagement: EngagementSettings, inputs, days, stored):
    """Rebuilds the all-time table from ``inputs`` (no days, or first build), or MERGEs the pairs of ``days``."""
    metrics, intervals, pairs = inputs.metrics, inputs.intervals, inputs.pairs
    if pairs is None:
        context.log.info(
            f"{LIFETIME}: full rebuild from the daily tables "
            f"({'no days named by the run' if days is None else 'first build'})."
        )
        with timed_step(context, f"{LIFETIME}: rebuild, write") as timing:
            write, check_results = write_checked(
                context, warehouse, LIFETIME, lifetime.user_video_engagement(metrics, intervals, engagement),
                engagement, [],
            )
            warehouse.enable_deletion_vectors(LIFETIME)
        metadata = {**write.metadata, "mode": "full rebuild"}
    else:
        first_day, last_day = days
        with timed_step(context, f"{LIFETIME}: merge the pairs of {first_day}..{last_day}") as timing:
            metadata, check_results = merge_checked(
                context, warehouse, LIFETIME, lifetime.recomputed_rows(metrics, intervals, pairs, engagement),
                ("user_id", "video_id"), engagement,
                shape=stored,
                merged_rows=lambda: warehouse.read_range(LIFETIME, []).join(pairs, ["user_id", "video_id"], "left_semi"),
            )
        metadata = {**metadata, "mode": "merge", "days": f"{first_day}..{last_day}"}
    metadata = {**metadata, "input_versions": inputs.versions, "compute_seconds": timing["seconds"]}
    yield from materialized([Output(LIFETIME, metadata, check_results)], [])


def _video_lifetime_summary(context: dg.AssetExecutionContext, warehouse: DeltaWarehouse, engagement: EngagementSettings):
    """Section 9e: the first build writes every video; later runs MERGE the videos whose row changed."""
    source_version = warehouse.current_version(LIFETIME)
    if source_version is None:
        raise dg.Failure(
            description=f"{VIDEO_LIFETIME} is derived from {LIFETIME}, which does not exist yet: materialize it first."
        )
    fresh = video_lifetime.video_lifetime_summary(warehouse.read_range(LIFETIME, [], source_version))
    stored_version = warehouse.current_version(VIDEO_LIFETIME)
    if stored_version is None:
        with timed_step(context, f"{VIDEO_LIFETIME}: first build, write") as timing:
            write, check_results = write_checked(context, warehouse, VIDEO_LIFETIME, fresh, engagement, [])
        metadata = {**write.metadata, "mode": "first build"}
    else:
        with timed_step(context, f"{VIDEO_LIFETIME}: merge the videos whose row changed") as timing:
            # Pinned: the stored rows the changes are computed against are those of one version.
            stored = warehouse.read_range(VIDEO_LIFETIME, [], stored_version)
            metadata, check_results = merge_checked(
                context, warehouse, VIDEO_LIFETIME, video_lifetime.changed_rows(fresh, stored),
                video_lifetime.KEY, engagement,
                shape=stored,
                merged_rows=lambda: warehouse.read_range(VIDEO_LIFETIME, []),  # one row per video: all of them
            )
        metadata = {**metadata, "mode": "merge of the changed videos"}
    metadata = {**metadata, "input_versions": {LIFETIME: source_version}, "compute_seconds": timing["seconds"]}
    yield from materialized([Output(VIDEO_LIFETIME, metadata, check_results)], [])

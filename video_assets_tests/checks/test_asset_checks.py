"""The checks through Dagster: wiring, partitions, severities, and blocking of downstream assets."""

from datetime import date, datetime, timedelta, timezone

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from video_assets.automation.freshness import DEADLINE_CRON_ENV, freshness_policy
from video_assets.assets.common import write_checked
from video_assets.checks.results import MAX_QUARANTINE_SHARE_ENV, contract_specs, max_quarantine_share
from video_assets.config import build_resources
from video_assets.io.delta import DeltaWarehouse
from video_assets.frames import literal_frame
from video_assets.io.spark import SparkResource
from video_assets.settings import EngagementSettings
from video_assets.partitions import daily_partitions
from video_assets_tests.builders import event, events_frame
from video_assets_tests.checks.landing_data import write_landing

DAY = "2025-01-15"
PREVIOUS_DAY = "2025-01-14"
WARN_ONLY = {("raw_video_events", "has_events"), ("raw_video_events_quarantine", "quarantine_share")}
PARTITIONED = {
    "raw_video_events", "raw_video_events_quarantine", "video_sessions", "watch_intervals", "user_video_metrics",
    "engagement_tier_summary", "video_engagement_summary", "video_platform_summary",
}
EXPECTED_CHECKS = {
    **{(table, name): True for table in ("video_catalog", "raw_video_events", "video_sessions", "watch_intervals",
                                         "user_video_metrics", "engagement_tier_summary", "video_engagement_summary",
                                         "video_platform_summary", "user_video_engagement", "video_lifetime_summary")
       for name in ("contract_schema", "contract_rules", "unique_key")},
    ("raw_video_events_quarantine", "contract_schema"): True,
    ("raw_video_events_quarantine", "contract_rules"): True,
    ("raw_video_events", "lines_reconcile"): True,
    ("video_sessions", "events_in_sessions"): True,
    ("user_video_metrics", "watch_seconds_match_intervals"): True,
    ("engagement_tier_summary", "pair_counts_match_metrics"): True,
    ("video_engagement_summary", "viewers_match_metrics"): True,
    ("video_platform_summary", "sessions_match_video_summary"): True,
    ("raw_video_events", "has_events"): False,
    ("raw_video_events_quarantine", "quarantine_share"): False,
    ("video_catalog", "catalog_rows_valid"): False,
    **{(table, "columns_backfilled"): False for table in PARTITIONED | {"user_video_engagement", "video_lifetime_summary"}},
}
# Evaluated by their own sensor from Dagster's event log, not by the asset steps (automation/freshness.py).
FRESHNESS_CHECKS = {(table, "freshness_check"): False for table in PARTITIONED}


@pytest.fixture
def folders(monkeypatch, landing_dir, warehouse_dir):
    monkeypatch.setenv("VIDEO_ASSETS_LANDING_DIR", str(landing_dir))
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(warehouse_dir))
    return landing_dir, warehouse_dir


def evaluations(result, day: str | None = None) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """The run's check results by (table, check): a range run's range-level ones, or those of ``day``."""
    found = {}
    for e in result.get_asset_check_evaluations():
        key = (e.asset_key.to_user_string(), e.check_name)
        if day is not None:
            if e.partition == day:
                found[key] = e
        elif key not in found or e.partition is None:  # a range run also records each day: keep the range's
            found[key] = e
    return found


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def metadata(evaluation, name):
    return evaluation.metadata[name].value


# ---------------------------------------------------------------- definitions (no Spark)


def test_definitions_carry_every_check_with_its_blocking_flag_and_partitions():
    from video_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    specs = {(key.asset_key.to_user_string(), key.name): graph.get(key) for key in graph.asset_check_keys}
    assert {key: node.blocking for key, node in specs.items()} == {**EXPECTED_CHECKS, **FRESHNESS_CHECKS}
    for assets_def in defs.assets:
        for spec in assets_def.check_specs:
            partitioned = spec.asset_key.to_user_string() in PARTITIONED
            assert spec.partitions_def == (daily_partitions if partitioned else None), spec.key


def test_definitions_attach_the_freshness_policy_to_every_partitioned_asset():
    from video_assets.definitions import defs

    policies = {spec.key.to_user_string(): spec.freshness_policy for a in defs.assets for spec in a.specs}
    assert {name for name, policy in policies.items() if policy is not None} == PARTITIONED
    policy = policies["user_video_metrics"]
    assert (policy.deadline_cron, policy.timezone, policy.lower_bound_delta.total_seconds()) == ("0 6 * * *", "UTC", 6 * 3600)


def test_the_deadline_is_configurable(monkeypatch):
    monkeypatch.setenv(DEADLINE_CRON_ENV, "30 7 * * *")
    policy = freshness_policy()
    assert policy.deadline_cron == "30 7 * * *" and policy.lower_bound_delta.total_seconds() == 7.5 * 3600
    monkeypatch.setenv(DEADLINE_CRON_ENV, "not a cron")
    with pytest.raises(ValueError, match=DEADLINE_CRON_ENV):
        freshness_policy()


def test_the_daily_schedule_is_stopped_and_runs_yesterday_for_the_whole_graph():
    from video_assets.definitions import defs

    schedule = defs.get_schedule_def("daily_engagement_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "video_engagement_job"
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 1 * * *", "UTC")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2025, 1, 16, 1, 0, tzinfo=timezone.utc)
        )
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [DAY]
    job = defs.resolve_job_def("video_engagement_job")
    assert len(job.asset_layer.asset_graph.asset_check_keys) == len(EXPECTED_CHECKS)


def latest_due_partition(now: datetime) -> str:
    """The day the partition freshness check expects at ``now``: the day before the latest 06:00 UTC deadline."""
    deadline = now.replace(hour=6, minute=0, second=0, microsecond=0)
    if now < deadline:
        deadline -= timedelta(days=1)
    return (deadline - timedelta(days=1)).date().isoformat()


def test_the_partition_freshness_check_wants_the_latest_due_partition_not_any_partition():
    from video_assets.definitions import defs, freshness_checks

    due = latest_due_partition(datetime.now(timezone.utc))
    earlier = (date.fromisoformat(due) - timedelta(days=30)).isoformat()
    check_key = dg.AssetCheckKey(dg.AssetKey("user_video_metrics"), "freshness_check")

    def verdict(instance):
        result = dg.materialize(
            [*defs.assets, *freshness_checks],
            selection=dg.AssetSelection.checks(check_key),
            resources=build_resources(),
            instance=instance,
            raise_on_error=False,
        )
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    with dg.instance_for_test() as instance:
        # A backfill of an old day, just now: the policy would call the asset fresh; the check does not.
        instance.report_runless_asset_event(dg.AssetMaterialization("user_video_metrics", partition=earlier))
        stale = verdict(instance)
        assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
        instance.report_runless_asset_event(dg.AssetMaterialization("user_video_metrics", partition=due))
        assert verdict(instance).passed
    sensor = defs.get_sensor_def("freshness_checks_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_quarantine_threshold_reads_a_share_or_a_percent(monkeypatch):
    assert max_quarantine_share() == 0.05
    monkeypatch.setenv(MAX_QUARANTINE_SHARE_ENV, "2%")
    assert max_quarantine_share() == 0.02
    monkeypatch.setenv(MAX_QUARANTINE_SHARE_ENV, "0.1")
    assert max_quarantine_share() == 0.1
    monkeypatch.setenv(MAX_QUARANTINE_SHARE_ENV, "7")
    with pytest.raises(ValueError, match=MAX_QUARANTINE_SHARE_ENV):
        max_quarantine_share()


# ---------------------------------------------------------------- runs (real Spark, small landing)


@pytest.mark.slow
def test_whole_graph_day_passes_every_error_check_and_a_warn_does_not_block(spark, folders, monkeypatch):
    """One partition run of every asset; each step evaluates its own checks, recorded against the day.

    The landing has a viewer who starts at 23:55 the day before: their session closes on DAY and needs the
    raw events of DAY-1, which the session step reads through its lookback.
    """
    from video_assets.definitions import defs

    landing_dir, warehouse_dir = folders
    write_landing(landing_dir, [PREVIOUS_DAY, DAY], users=6)
    monkeypatch.setenv(MAX_QUARANTINE_SHARE_ENV, "0.001")  # our landing has ~2% bad lines: the WARN must fire
    instance = dg.DagsterInstance.ephemeral()
    previous = dg.materialize(
        [defs.get_assets_def("raw_video_events")],
        partition_key=PREVIOUS_DAY,
        resources=build_resources(),
        instance=instance,
        raise_on_error=False,
    )
    assert previous.success
    result = dg.materialize(defs.assets, partition_key=DAY, resources=build_resources(), instance=instance, raise_on_error=False)
    assert result.success
    found = evaluations(result)
    assert set(found) == set(EXPECTED_CHECKS)
    # Checks run inside the asset steps: no step of the run is a check op.
    assert {e.step_key for e in result.all_events if e.step_key} <= {
        a.node_def.name for a in defs.assets
    }
    failed = {key for key, e in found.items() if not e.passed}
    assert failed == {("raw_video_events_quarantine", "quarantine_share")}
    share = found[("raw_video_events_quarantine", "quarantine_share")]
    assert share.severity == dg.AssetCheckSeverity.WARN
    assert metadata(share, "days_above_threshold") == 1
    # A WARN never blocks: every asset of the graph materialized.
    assert materialized(result) == {key.to_user_string() for a in defs.assets for key in a.keys}

    for (table, name), evaluation in found.items():
        assert evaluation.partition == (DAY if table in PARTITIONED else None), (table, name)
    rules = found[("user_video_metrics", "contract_rules")]
    assert metadata(rules, "failing_rows") == 0 and metadata(rules, "rows_checked") > 0
    assert metadata(rules, "days") == DAY
    reconcile = metadata(found[("raw_video_events", "lines_reconcile")], "by_day")[DAY]
    assert reconcile["unaccounted"] == 0 and reconcile["lines_read"] == reconcile["valid"] + reconcile["quarantined"] + reconcile["duplicates"]
    assert reconcile["duplicates"] > 0 and reconcile["quarantined"] > 0
    night_owl = spark.read.format("delta").load(str(warehouse_dir / "video_sessions")).where("user_id = 'night_owl'")
    assert [(r["first_event_ts"].isoformat(), r["event_count"]) for r in night_owl.collect()] == [
        ("2025-01-14T23:55:00", 4)
    ]
    events = found[("video_sessions", "events_in_sessions")]
    assert events.passed and metadata(events, "by_day")[DAY]["events_assigned"] > 0
    # The session step's two tables are checked by one query: its seconds are said once, shared.
    written = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert written["video_sessions"]["checks_evaluated_with"].value == "watch_intervals"
    assert written["watch_intervals"]["checks_evaluated_with"].value == "video_sessions"
    assert written["video_sessions"]["check_seconds"] == written["watch_intervals"]["check_seconds"]
    assert "checks_evaluated_with" not in written["user_video_metrics"]


def broken_raw_stage(day_rows):
    """A stand-in for the raw stage, with the real checks, that writes a duplicate event key and a null user."""

    @dg.multi_asset(
        outs={"raw_video_events": dg.AssetOut(), "raw_video_events_quarantine": dg.AssetOut()},
        check_specs=[*contract_specs("raw_video_events"), *contract_specs("raw_video_events_quarantine")],
        partitions_def=daily_partitions,
        can_subset=False,
    )
    def raw_video_events(
        context: dg.AssetExecutionContext, spark: SparkResource, warehouse: DeltaWarehouse, engagement: EngagementSettings
    ):
        session = spark.get_session()
        tables = {
            "raw_video_events": events_frame(session, day_rows),
            "raw_video_events_quarantine": literal_frame(
                session,
                [], "partition_date date, reason string, raw_line string, raw_bytes binary, source_file string"
            ),
        }
        for table, frame in tables.items():
            write, found = write_checked(context, warehouse, table, frame, engagement, [DAY])
            yield dg.MaterializeResult(asset_key=table, metadata=write.metadata, check_results=found)

    return raw_video_events


def test_a_blocking_failure_stops_the_downstream_assets_of_the_run(spark, folders):
    from video_assets.definitions import defs

    landing_dir, _ = folders
    write_landing(landing_dir, [DAY], users=1)  # the catalog; the raw stage below ignores the landing
    rows = [
        event("u1", "video_001", "2025-01-15 10:00:00", "play", 0, event_id="dup"),
        event("u1", "video_001", "2025-01-15 10:00:10", "pause", 10, event_id="dup"),
        event("u2", "video_001", "2025-01-15 11:00:00", "play", 0, event_id="ok"),
    ]
    rows[2] = rows[2][:4] + (None,) + rows[2][5:]  # user_id null
    downstream = [
        defs.get_assets_def(name)
        for name in ("video_catalog", "video_sessions", "user_video_metrics", "engagement_tier_summary",
                     "video_engagement_summary", "user_video_engagement")
    ]
    result = dg.materialize(
        [broken_raw_stage(rows), *downstream],
        partition_key=DAY,
        resources=build_resources(),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    found = evaluations(result)
    key = found[("raw_video_events", "unique_key")]
    assert not key.passed and key.blocking and key.partition == DAY
    assert (metadata(key, "duplicate_key_rows"), metadata(key, "duplicated_keys")) == (2, 1)
    assert metadata(key, "sample_duplicate_keys") == [{"event_date": DAY, "event_key": "id:dup", "copies": 2}]
    rules = found[("raw_video_events", "contract_rules")]
    assert metadata(rules, "failing_rows_by_rule") == {"user_id is not null": 1}
    assert metadata(rules, "failing_rows_by_day") == {DAY: {"user_id is not null": 1}}
    assert found[("video_catalog", "unique_key")].passed
    # Nothing downstream of raw_video_events ran: the run stopped at the failed blocking checks.
    assert materialized(result) == {"raw_video_events", "raw_video_events_quarantine", "video_catalog"}
    assert ("video_sessions", "contract_rules") not in found


def test_a_range_run_names_its_days_in_the_metadata_and_warns_on_an_empty_day(spark, folders):
    """A single-run backfill of two days: one result per check for the range, per-day counts in the metadata."""
    from video_assets.definitions import defs

    landing_dir, _ = folders
    write_landing(landing_dir, [DAY], users=2)  # 2025-01-16 has no landing folder
    result = dg.materialize(
        [defs.get_assets_def("raw_video_events")],
        tags={ASSET_PARTITION_RANGE_START_TAG: DAY, ASSET_PARTITION_RANGE_END_TAG: "2025-01-16"},
        resources=build_resources(),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success  # the empty day is a WARN
    found = evaluations(result)
    assert {e.partition for e in found.values()} == {None}
    assert all(metadata(e, "days") == f"{DAY}, 2025-01-16" for e in found.values())
    has_events = found[("raw_video_events", "has_events")]
    assert not has_events.passed and has_events.severity == dg.AssetCheckSeverity.WARN
    assert metadata(has_events, "days_without_events") == 1
    assert metadata(has_events, "events_by_day")["2025-01-16"] == 0
    reconcile = metadata(found[("raw_video_events", "lines_reconcile")], "by_day")
    assert reconcile["2025-01-16"]["lines_read"] == 0 and reconcile[DAY]["unaccounted"] == 0
    assert found[("raw_video_events", "lines_reconcile")].passed
    # Each day also gets its own verdict, so the UI's partition view shows both days as checked.
    first, empty = evaluations(result, DAY), evaluations(result, "2025-01-16")
    assert set(first) == set(empty) == set(found)
    assert first[("raw_video_events", "has_events")].passed
    assert not empty[("raw_video_events", "has_events")].passed
    assert all(e.passed for key, e in first.items())
    assert {key for key, e in empty.items() if not e.passed} == {("raw_video_events", "has_events")}

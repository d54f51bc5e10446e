"""The tables' contract (pandera structure + row rules + key), evaluated directly on small frames."""

from functools import reduce

import pytest
from pyspark.sql import functions as F

from video_assets.checks.evaluation import evaluate_table, validate_structure
from video_assets.checks.schemas import SCHEMAS, table_rules
from video_assets.settings import EngagementSettings
from video_assets.tables import TABLES
from video_assets.transforms.events import QUARANTINE_REASONS

SETTINGS = EngagementSettings()
UNIQUE_LE_TOTAL = "unique_watch_seconds <= total_watch_seconds"
TIER_MATCHES = "engagement_tier matches engagement_score"
PETER = "user_id = 'peter'"


def one_row_changed(frame, condition: str, **changes):
    """The frame with the given columns replaced on the row(s) matching the SQL condition."""
    hit = F.expr(condition)
    return frame.withColumns(
        {name: F.when(hit, F.lit(value).cast(frame.schema[name].dataType)).otherwise(F.col(name)) for name, value in changes.items()}
    )


def peter(metrics):
    return metrics.where(PETER)


def test_every_table_of_the_contract_has_a_schema():
    assert set(SCHEMAS) == set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_transforms_output_keeps_the_contract(good_tables, table):
    """Drift guard: what the transforms produce today matches the schemas, passes every rule, has a unique key."""
    report = evaluate_table(good_tables[table], table, SETTINGS)
    assert report.schema.errors == []
    assert report.rules.rows > 0
    assert report.rules.failures == {}, report.rules.samples
    assert report.rules.not_evaluated == []
    assert report.key is None or report.key.duplicate_rows == 0


def test_a_null_key_is_counted_by_its_not_null_rule_and_not_as_a_duplicate(good_tables):
    metrics = good_tables["user_video_metrics"]
    broken = one_row_changed(metrics, PETER, user_id=None)
    report = evaluate_table(broken, "user_video_metrics", SETTINGS)
    assert report.rules.failures == {"user_id is not null": 1}
    assert report.rules.failing_rows == 1
    assert report.rules.samples["user_id is not null"][0]["video_id"] == "video_001"
    assert report.key.duplicate_rows == 0


@pytest.mark.parametrize("with_rules", [True, False], ids=["with the rules", "the key alone"])
def test_a_duplicate_key_is_counted_with_every_copy(good_tables, with_rules):
    metrics = good_tables["user_video_metrics"]
    broken = metrics.unionByName(peter(metrics))
    report = evaluate_table(broken, "user_video_metrics", SETTINGS, with_rules=with_rules)
    assert report.key.duplicate_rows == 2
    assert report.key.duplicated_keys == 1
    assert report.key.sample == [
        {"metric_date": "2025-01-15", "user_id": "peter", "video_id": "video_001", "copies": 2}
    ]
    assert report.rules.failures == {}


def test_keys_that_share_a_hash_are_not_duplicates(good_tables, monkeypatch):
    """Copies are counted by a 64-bit hash of the key first: when every key hashes alike, the exact recount decides."""
    from video_assets.checks import evaluation

    monkeypatch.setattr(evaluation, "_key_hash", lambda key_columns: F.lit(7).cast("bigint"))
    metrics = good_tables["user_video_metrics"]
    assert metrics.count() > 1
    assert evaluate_table(metrics, "user_video_metrics", SETTINGS).key.duplicate_rows == 0
    broken = evaluate_table(metrics.unionByName(peter(metrics)), "user_video_metrics", SETTINGS).key
    assert (broken.duplicate_rows, broken.duplicated_keys) == (2, 1)
    assert broken.sample == [{"metric_date": "2025-01-15", "user_id": "peter", "video_id": "video_001", "copies": 2}]


def test_unique_above_total_fails_beyond_the_tolerance_only(good_tables):
    metrics = good_tables["user_video_metrics"]
    total = peter(metrics).first()["total_watch_seconds"]
    far = one_row_changed(metrics, PETER, unique_watch_seconds=total + 1, rewatched_seconds=-1.0)
    near = one_row_changed(metrics, PETER, unique_watch_seconds=total + 1e-7, rewatched_seconds=-1e-7)
    report = evaluate_table(far, "user_video_metrics", SETTINGS)
    assert report.rules.failures == {UNIQUE_LE_TOTAL: 1, "rewatched_seconds >= -1e-06": 1}
    assert report.rules.failing_rows == 1
    sample = report.rules.samples[UNIQUE_LE_TOTAL][0]
    assert (sample["user_id"], sample["unique_watch_seconds"], sample["total_watch_seconds"]) == ("peter", total + 1, total)
    assert evaluate_table(near, "user_video_metrics", SETTINGS).rules.failures == {}


def test_a_tier_that_does_not_match_the_score_fails(good_tables):
    metrics = good_tables["user_video_metrics"]
    assert peter(metrics).first()["engagement_score"] == 35.7
    broken = one_row_changed(metrics, PETER, engagement_tier="High")
    report = evaluate_table(broken, "user_video_metrics", SETTINGS)
    assert report.rules.failures == {TIER_MATCHES: 1}
    assert report.rules.samples[TIER_MATCHES] == [
        {
            "metric_date": "2025-01-15",
            "user_id": "peter",
            "video_id": "video_001",
            "engagement_tier": "High",
            "engagement_score": 35.7,
        }
    ]


def test_the_tier_rule_uses_the_configured_thresholds(good_tables):
    """Peter's 35.7 is Low under the default thresholds, Minimal when Low starts at 40."""
    stricter = EngagementSettings(tier_low_min_score=40.0, tier_medium_min_score=60.0, tier_high_min_score=80.0)
    report = evaluate_table(peter(good_tables["user_video_metrics"]), "user_video_metrics", stricter)
    assert report.rules.failures == {TIER_MATCHES: 1}


def test_ranges_and_allowed_values_count_each_offending_row(good_tables):
    metrics = good_tables["user_video_metrics"]
    broken = one_row_changed(
        metrics, PETER, completion_percentage=100.5, engagement_score=-1.0, duration_source="guessed"
    )
    broken = one_row_changed(broken, "user_id = 'bob' AND video_id = 'video_001'", watch_percentage=-3.0)
    failures = evaluate_table(broken, "user_video_metrics", SETTINGS).rules.failures
    assert failures["completion_percentage in [0, 100]"] == 1
    assert failures["engagement_score in [0, 100]"] == 1
    assert failures["duration_source in (catalog, inferred, player)"] == 1
    assert failures["watch_percentage >= 0"] == 1
    assert failures[TIER_MATCHES] == 1  # a score of -1 is Minimal, the row still says Low


def test_a_nan_or_infinite_duration_or_percentage_breaks_the_finite_rule(good_tables):
    metrics = good_tables["user_video_metrics"]
    broken = one_row_changed(metrics, PETER, video_duration_seconds=float("nan"))
    broken = one_row_changed(broken, "user_id = 'bob' AND video_id = 'video_001'", watch_percentage=float("inf"))
    failures = evaluate_table(broken, "user_video_metrics", SETTINGS).rules.failures
    assert failures["video_duration_seconds is finite"] == 1
    assert failures["watch_percentage is finite"] == 1
    assert evaluate_table(metrics, "user_video_metrics", SETTINGS).rules.passed


def test_failures_are_broken_down_by_day(good_tables):
    sessions = good_tables["video_sessions"]
    assert {row["session_date"].isoformat() for row in sessions.select("session_date").distinct().collect()} == {
        "2025-01-14",
        "2025-01-15",
    }
    broken = sessions.withColumn("ended_by", F.lit("timeout"))
    report = evaluate_table(broken, "video_sessions", SETTINGS)
    rule = "ended_by in (browser_close, end_event, pause, video_switch)"
    assert report.rules.failures == {rule: report.rules.rows}
    assert set(report.rules.failures_by_day) == {"2025-01-14", "2025-01-15"}
    assert sum(day[rule] for day in report.rules.failures_by_day.values()) == report.rules.rows


def test_every_quarantine_reason_keeps_the_contract(good_tables):
    assert QUARANTINE_REASONS[:2] == ("unreadable_file", "outside_landing_zone")
    one_row = good_tables["raw_video_events_quarantine"].limit(1)
    every_reason = reduce(
        lambda a, b: a.unionByName(b), [one_row.withColumn("reason", F.lit(reason)) for reason in QUARANTINE_REASONS]
    )
    report = evaluate_table(every_reason, "raw_video_events_quarantine", SETTINGS)
    assert (report.rules.rows, report.rules.failures) == (len(QUARANTINE_REASONS), {})


def test_quarantine_reasons_and_event_names_must_be_known(good_tables):
    quarantine = good_tables["raw_video_events_quarantine"].withColumn("reason", F.lit("cosmic_ray"))
    report = evaluate_table(quarantine, "raw_video_events_quarantine", SETTINGS)
    assert list(report.rules.failures.values()) == [report.rules.rows]
    assert report.key is None  # the quarantine has no key: two identical bad lines are two records
    events = one_row_changed(good_tables["raw_video_events"], "event_id = 'e2'", event_name="video_rewind")
    assert list(evaluate_table(events, "raw_video_events", SETTINGS).rules.failures.values()) == [1]


def test_schema_errors_name_the_column_and_skip_the_rules_that_need_it(good_tables):
    metrics = good_tables["user_video_metrics"]
    broken = (
        metrics.drop("unique_watch_seconds")
        .withColumn("session_count", F.col("session_count").cast("int"))
        .withColumn("surprise", F.lit(1))
    )
    schema = validate_structure(broken, "user_video_metrics")
    reasons = {(e["reason"], e["column"]) for e in schema.errors}
    assert ("COLUMN_NOT_IN_DATAFRAME", "unique_watch_seconds") in reasons
    assert ("WRONG_DATATYPE", "session_count") in reasons
    assert any(e["reason"] == "COLUMN_NOT_IN_SCHEMA" and "surprise" in e["error"] for e in schema.errors)
    report = evaluate_table(broken, "user_video_metrics", SETTINGS)
    assert UNIQUE_LE_TOTAL in report.rules.not_evaluated
    assert "replay_count = session_count - 1" in report.rules.not_evaluated
    assert not report.rules.passed
    assert report.rules.failures == {}


def test_every_rule_has_a_distinct_name():
    for table in TABLES:
        names = [rule.name for rule in table_rules(table, SETTINGS)]
        assert len(names) == len(set(names)), table


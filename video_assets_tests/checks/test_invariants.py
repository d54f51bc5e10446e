"""Cross-asset invariants on small frames: they hold on the transforms' output and count what breaks them."""

from pyspark.sql import functions as F

from video_assets.checks import invariants
from video_assets.checks.evaluation import evaluate_table
from video_assets.checks.raw_stage import RawCounts, quarantine_shares, reconcile_lines
from video_assets.settings import EngagementSettings
from video_assets_tests.good_tables import DAY

SETTINGS = EngagementSettings()
DAYS = ["2025-01-14", "2025-01-15"]


def reference_of(good_tables, table):
    """The table's invariant built from the good upstream tables."""
    if table == "video_sessions":
        return invariants.events_in_sessions(good_tables["session_summaries"])
    if table == "user_video_metrics":
        return invariants.watch_seconds_match(good_tables["watch_intervals"])
    if table == "engagement_tier_summary":
        return invariants.tier_pairs_match(good_tables["user_video_metrics"], DAYS)
    return invariants.viewers_match(good_tables["user_video_metrics"])


def comparison(good_tables, table, frame=None):
    frame = good_tables[table] if frame is None else frame
    return evaluate_table(frame, table, SETTINGS, reference=reference_of(good_tables, table)).reference


def test_every_invariant_holds_on_the_transforms_output(good_tables):
    for table in ("video_sessions", "user_video_metrics", "engagement_tier_summary", "video_engagement_summary"):
        result = comparison(good_tables, table)
        assert result.evaluated and result.failing_rows == 0, (table, result.sample)
        assert set(result.by_day) == set(DAYS), table


def test_events_in_sessions_counts_a_session_that_lost_an_event(good_tables):
    sessions = good_tables["video_sessions"]
    broken = sessions.withColumn(
        "event_count", F.when(F.col("user_id") == "peter", F.col("event_count") - 1).otherwise(F.col("event_count"))
    )
    result = comparison(good_tables, "video_sessions", broken)
    assert result.failing_rows == 1
    day = result.by_day["2025-01-15"]
    assert day["events_assigned"] - day["events_in_sessions"] == 1
    assert result.sample[0]["events_assigned"] == 6 and result.sample[0]["event_count"] == 5


def test_events_in_sessions_counts_a_missing_and_an_extra_session(good_tables):
    sessions = good_tables["video_sessions"]
    missing = sessions.where("user_id != 'peter'")
    assert comparison(good_tables, "video_sessions", missing).failing_rows == 1
    extra = sessions.unionByName(
        sessions.where("user_id = 'peter'").withColumn("session_id", F.lit("not-a-session"))
    )
    result = comparison(good_tables, "video_sessions", extra)
    assert result.failing_rows == 1
    assert result.sample[0]["session_id"] == "not-a-session"


def test_events_in_sessions_fails_a_session_numbered_otherwise_or_whose_events_disagree_on_its_day(good_tables):
    """The expected side is the replay's numbering and the latest day of the session's events, not event_count."""
    summaries = good_tables["session_summaries"]
    peter = F.col("user_id") == "peter"

    def failing(column, changed):
        broken = summaries.withColumn(column, F.when(peter, changed).otherwise(F.col(column)))
        reference = invariants.events_in_sessions(broken)
        return evaluate_table(good_tables["video_sessions"], "video_sessions", SETTINGS, reference=reference).reference

    renumbered = failing("numbered_events", F.col("numbered_events") + 1)
    assert renumbered.failing_rows == 1
    assert (renumbered.sample[0]["events_assigned"], renumbered.sample[0]["event_count"]) == (7, 6)
    next_day = failing("latest_session_date", F.date_add("latest_session_date", 1))
    assert next_day.failing_rows == 1
    assert str(next_day.sample[0]["assigned_session_date"]) == "2025-01-16"


def test_watch_seconds_must_match_the_intervals_per_row(good_tables):
    metrics = good_tables["user_video_metrics"]
    shifted = metrics.withColumn(
        "total_watch_seconds",
        F.when(F.col("user_id") == "peter", F.col("total_watch_seconds") + 0.5).otherwise(F.col("total_watch_seconds")),
    )
    result = comparison(good_tables, "user_video_metrics", shifted)
    assert result.failing_rows == 1
    assert result.by_day["2025-01-15"]["total_watch_seconds"] - result.by_day["2025-01-15"]["interval_seconds"] == 0.5
    noise = metrics.withColumn("total_watch_seconds", F.col("total_watch_seconds") + 1e-9)
    assert comparison(good_tables, "user_video_metrics", noise).failing_rows == 0


def test_tier_pair_counts_must_match_the_metrics_and_cover_every_tier(good_tables):
    summary = good_tables["engagement_tier_summary"]
    wrong = summary.withColumn(
        "pair_count",
        F.when((F.col("metric_date") == DAY) & (F.col("engagement_tier") == "Low"), F.col("pair_count") + 2).otherwise(
            F.col("pair_count")
        ),
    )
    result = comparison(good_tables, "engagement_tier_summary", wrong)
    assert result.failing_rows == 1
    assert result.by_day[DAY]["pair_count"] - result.by_day[DAY]["metric_pairs"] == 2
    without_a_tier = summary.where("NOT (metric_date = DATE'2025-01-14' AND engagement_tier = 'High')")
    result = comparison(good_tables, "engagement_tier_summary", without_a_tier)
    assert result.failing_rows == 1
    assert result.sample[0]["engagement_tier"] == "High"


def test_viewers_must_be_the_distinct_users_of_the_metrics(good_tables):
    summary = good_tables["video_engagement_summary"]
    wrong = summary.withColumn("viewers", F.col("viewers") + F.when(F.col("video_id") == "video_002", 1).otherwise(0))
    result = comparison(good_tables, "video_engagement_summary", wrong)
    rows = summary.where("video_id = 'video_002'").count()
    assert result.failing_rows == rows
    assert all(row["video_id"] == "video_002" for row in result.sample)


def test_an_invariant_on_a_table_without_its_key_columns_is_not_evaluated(good_tables):
    result = comparison(good_tables, "video_engagement_summary", good_tables["video_engagement_summary"].drop("video_id"))
    assert not result.evaluated and not result.passed


def raw_counts(lines, quarantined, candidates, valid, written=None):
    return RawCounts(
        lines={DAY: lines}, quarantined={DAY: quarantined}, candidates={DAY: candidates}, valid={DAY: valid},
        rows_written=written or {"raw_video_events": valid, "raw_video_events_quarantine": quarantined},
    )


def test_reconciliation_adds_up_the_parse_the_writes_and_the_commits():
    # LANDING_LINES: 6 lines, 2 quarantined, 4 candidates of which 1 duplicate, 3 valid.
    good = reconcile_lines(raw_counts(6, 2, 4, 3), [DAY])
    assert good.passed
    assert good.by_day[DAY] == {"lines_read": 6, "valid": 3, "quarantined": 2, "duplicates": 1, "unaccounted": 0}
    # One clean row more written than the parse counted (a row from elsewhere): unaccounted -1.
    grew = reconcile_lines(raw_counts(6, 2, 5, 4), [DAY])
    assert grew.failing_rows == 1 and grew.by_day[DAY]["unaccounted"] == -1
    # The commit wrote fewer clean rows than the pass counted.
    lost = reconcile_lines(raw_counts(6, 2, 4, 3, {"raw_video_events": 2, "raw_video_events_quarantine": 2}), [DAY])
    assert lost.failing_rows == 1 and lost.sample == [{
        "observed_valid": 3, "observed_quarantined": 2, "written_raw_video_events": 2,
        "written_raw_video_events_quarantine": 2,
    }]


def test_a_day_without_landing_files_reconciles_to_zero():
    counts = RawCounts(lines={}, quarantined={}, candidates={}, valid={}, rows_written={})
    result = reconcile_lines(counts, ["2025-01-16"])
    assert result.passed and result.by_day["2025-01-16"]["lines_read"] == 0


def test_quarantine_shares_per_day():
    counts = RawCounts(
        lines={}, quarantined={DAY: 5, "2025-01-16": 2}, candidates={}, valid={DAY: 95}, rows_written={}
    )
    shares = quarantine_shares(counts, [DAY, "2025-01-16", "2025-01-17"])
    assert shares == {
        DAY: {"valid": 95, "quarantined": 5, "share": 0.05},
        "2025-01-16": {"valid": 0, "quarantined": 2, "share": 1.0},
        "2025-01-17": {"valid": 0, "quarantined": 0, "share": 0.0},
    }

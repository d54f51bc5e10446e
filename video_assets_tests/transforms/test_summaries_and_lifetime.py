"""Unique-seconds union, tier and video summaries (SEMANTICS.md 8-9), the lifetime rollups (9b, 9e)."""

import pytest

from video_assets.frames import literal_frame
from video_assets.settings import EngagementSettings
from video_assets.transforms import lifetime, metrics, video_lifetime
from video_assets_tests.builders import F, day, event, rows_of, run_engagement, ts, watch


def test_union_of_nested_and_overlapping_ranges(spark):
    ranges = literal_frame(
        spark,
        [("a", 0.0, 100.0), ("a", 10.0, 20.0), ("a", 50.0, 60.0), ("b", 0.0, 10.0), ("b", 20.0, 30.0),
         ("b", 25.0, 40.0), ("b", 40.0, 41.0)],
        "user_id string, start double, end double",
    )
    unique = {r["user_id"]: r["unique_watch_seconds"] for r in rows_of(metrics.union_length(ranges, ["user_id"]))}
    assert unique == {"a": 100.0, "b": 31.0}


def test_a_displayed_mean_does_not_depend_on_the_order_floats_were_added_in(spark):
    # The mean of 44.21 and 44.22 is 44.215: summed in one order it comes out a hair below, in another
    # a hair above (as a range run and day-by-day runs did).
    noisy = literal_frame(spark, [(44.214999999999996,), (44.215000000000003,), (0.12345,)], "value double")
    shown = [r["shown"] for r in rows_of(noisy.select(metrics.round_display(noisy["value"], 2).alias("shown")))]
    assert shown == [44.22, 44.22, 0.12]
    plain = [r["plain"] for r in rows_of(noisy.select(F.round(noisy["value"], 2).alias("plain")))]
    assert plain[:2] == [44.21, 44.22], "the noise this guards against moves a plain rounding"


def test_tier_thresholds_at_their_boundaries(spark):
    settings = EngagementSettings()
    scores = literal_frame(spark, [(s,) for s in (70.0, 69.9, 40.0, 39.9, 20.0, 19.9, 0.0, 100.0)], "score double")
    tiers = [r["tier"] for r in rows_of(scores.select(metrics.engagement_tier(scores["score"], settings).alias("tier")))]
    assert tiers == ["High", "Medium", "Medium", "Low", "Low", "Minimal", "Minimal", "High"]


@pytest.fixture(scope="module")
def two_days(spark):
    """Day 1: ann watches 0-60 of a 180 s video and 0-120 of v300; bob watches all of v300.
    Day 2: ann watches all 180 s of the first video."""
    rows = (
        watch("ann", "v180", "2025-01-15", "10:00:00", 0, 60)
        + watch("ann", "v300", "2025-01-15", "11:00:00", 0, 120)
        + watch("bob", "v300", "2025-01-15", "11:00:00", 0, 300)
        + watch("ann", "v180", "2025-01-16", "10:00:00", 0, 180)
    )
    return run_engagement(spark, rows, {"v180": 180, "v300": 300}, day("2025-01-15"), day("2025-01-17"))


def test_tier_summary_has_all_four_tiers_every_day_with_zeros(two_days):
    rows = rows_of(two_days["engagement_tier_summary"], ["metric_date"])
    assert len(rows) == 12  # 3 days x 4 tiers, the empty third day included
    empty_day = [r for r in rows if r["metric_date"] == day("2025-01-17")]
    assert {r["engagement_tier"] for r in empty_day} == {"High", "Medium", "Low", "Minimal"}
    assert all(r["pair_count"] == 0 and r["share_of_pairs"] == 0.0 for r in empty_day)
    first_day = {r["engagement_tier"]: r for r in rows if r["metric_date"] == day("2025-01-15")}
    assert sum(r["pair_count"] for r in first_day.values()) == 3
    assert sum(r["share_of_pairs"] for r in first_day.values()) == pytest.approx(1.0)


def test_video_summary_counts_viewers_and_draws_the_retention_curve(two_days):
    [v300] = rows_of(
        two_days["video_engagement_summary"].where("video_id = 'v300' and metric_date = '2025-01-15'")
    )
    assert (v300["viewers"], v300["sessions"], v300["total_watch_seconds"]) == (2, 2, 420.0)
    assert v300["avg_watch_seconds"] == 210.0
    assert v300["completion_rate"] == 0.5  # bob completed, ann did not
    # Moments 7.5, 22.5, ... 292.5 s: ann covers up to 120 s (k = 0..7), bob all 20.
    assert v300["retention_curve"] == [1.0] * 8 + [0.5] * 12


def test_lifetime_row_over_two_days(two_days):
    [ann] = rows_of(two_days["user_video_engagement"].where("user_id = 'ann' and video_id = 'v180'"))
    assert (ann["total_watch_seconds"], ann["unique_watch_seconds"], ann["rewatched_seconds"]) == (240.0, 180.0, 60.0)
    assert (ann["active_days"], ann["session_count"], ann["is_replay"]) == (2, 2, True)
    assert ann["completed_at_least_once"] is True and ann["completion_count"] == 1
    assert ann["completion_percentage"] == 100.0
    # 100 * (0.45 * 1 + 0.35 * 1 + 0.10 * 2/3 + 0.10 * 60/180) = 90.0
    assert (ann["engagement_score"], ann["engagement_tier"]) == (90.0, "High")
    assert ann["first_metric_date"] == day("2025-01-15") and ann["last_metric_date"] == day("2025-01-16")


def test_lifetime_totals_equal_the_sum_of_daily_totals(two_days):
    lifetime = sum(r["total_watch_seconds"] for r in rows_of(two_days["user_video_engagement"]))
    daily = sum(r["total_watch_seconds"] for r in rows_of(two_days["user_video_metrics"]))
    assert lifetime == daily == 660.0


def test_lifetime_positions_are_clipped_to_the_latest_duration(spark):
    """The player reports 200 s on the first day and 190 s on the second.

    Day 1's window holds only 200s (duration 200); day 2's window is D-1..D, so its
    median is 195. The lifetime row takes the latest, 195, and clips day 1's
    200 s position to it."""

    def reported(user, date, clock, name, position, duration):
        return event(user, "uncatalogued", f"{date} {clock}", name, position, duration=duration)

    rows = [
        reported("dee", "2025-01-15", "10:00:00", "play", 0, 200),
        reported("dee", "2025-01-15", "10:03:20", "end", 200, 200),
        reported("dee", "2025-01-16", "10:00:00", "play", 0, 190),
        reported("dee", "2025-01-16", "10:03:10", "end", 190, 190),
    ]
    out = run_engagement(spark, rows, {}, day("2025-01-15"), day("2025-01-16"))
    [dee] = rows_of(out["user_video_engagement"])
    assert (dee["video_duration_seconds"], dee["duration_source"]) == (195.0, "player")
    assert (dee["max_position_seconds"], dee["unique_watch_seconds"], dee["total_watch_seconds"]) == (195.0, 195.0, 390.0)
    assert dee["completion_percentage"] == 100.0


def test_pairs_whose_daily_tables_disagree_are_named(two_days):
    """Day 2 of watch_intervals rewritten without ann's interval, metrics not yet: (ann, v180) is torn."""
    metrics, intervals = two_days["user_video_metrics"], two_days["watch_intervals"]
    assert rows_of(lifetime.disagreeing_pairs(metrics, intervals)) == []
    torn = intervals.where("NOT (user_id = 'ann' AND video_id = 'v180' AND session_date = '2025-01-16')")
    [ann] = rows_of(lifetime.disagreeing_pairs(metrics, torn))
    assert (ann["user_id"], ann["video_id"], ann["metrics_seconds"], ann["interval_seconds"]) == ("ann", "v180", 240.0, 60.0)
    [only_metrics] = rows_of(lifetime.disagreeing_pairs(metrics, intervals.where("user_id <> 'bob'")))
    assert (only_metrics["user_id"], only_metrics["metrics_seconds"], only_metrics["interval_seconds"]) == ("bob", 300.0, None)


def test_video_lifetime_rows_sum_up_the_all_time_pairs_of_each_video(two_days):
    """SEMANTICS.md 9e over the two days: ann on v180 on both days; ann and bob on v300 on the first."""
    rows = {r["video_id"]: r for r in rows_of(two_days["video_lifetime_summary"])}
    v180, v300 = rows["v180"], rows["v300"]
    counts = ("viewers", "total_watch_seconds", "completed_viewers", "completion_rate", "returning_viewers")
    assert tuple(v180[c] for c in counts) == (1, 240.0, 1, 1.0, 1)  # 60 + 180 s, completed on day 2, two days
    assert tuple(v300[c] for c in counts) == (2, 420.0, 1, 0.5, 0)  # 120 + 300 s, bob completed
    assert (v180["first_watch_ts"], v180["last_watch_ts"]) == (ts("2025-01-15 10:00:00"), ts("2025-01-16 10:03:00"))
    assert (v300["first_watch_ts"], v300["last_watch_ts"]) == (ts("2025-01-15 11:00:00"), ts("2025-01-15 11:05:00"))
    assert (v180["first_metric_date"], v180["last_metric_date"]) == (day("2025-01-15"), day("2025-01-16"))
    assert v180["avg_engagement_score"] == 90.0
    # ann 100·(0.45·0.4 + 0.35·0.4 + 0.10·1/3) = 35.3, bob 100·(0.45 + 0.35 + 0.10·1/3) = 83.3: mean 59.3
    assert v300["avg_engagement_score"] == 59.3
    assert v300["video_title"] == "Title of v300"


def test_a_run_merges_only_the_videos_whose_row_changed(two_days):
    fresh = two_days["video_lifetime_summary"]
    assert rows_of(video_lifetime.changed_rows(fresh, fresh)) == []  # a rerun changes nothing
    # As a run stopped after user_video_engagement's MERGE leaves it: v180 as of day 1 only, v300 right (but for
    # float noise of another summation order), and v999, whose pairs are gone since.
    stored = (
        fresh.where("video_id = 'v180'").withColumn("total_watch_seconds", F.lit(60.0))
        .unionByName(fresh.where("video_id = 'v300'").withColumn("total_watch_seconds", F.lit(420.0 + 1e-9)))
        .unionByName(fresh.where("video_id = 'v300'").withColumn("video_id", F.lit("v999")))
    )
    changed = {r["video_id"]: r for r in rows_of(video_lifetime.changed_rows(fresh, stored))}
    assert sorted(changed) == ["v180", "v999"]
    assert (changed["v180"]["_gone"], changed["v180"]["total_watch_seconds"]) == (False, 240.0)
    assert (changed["v999"]["_gone"], changed["v999"]["viewers"]) == (True, None)

"""SEMANTICS.md 9c (audience columns of video_engagement_summary) and 9d (platforms), worked out by hand.

One day, 2025-01-15, default parameters (engaged at 30 s, completed at 90 %).

m200 (200 s; milestones at 50, 100, 150, 190 s) has four viewers:
  u1 watches it all [0, 200]                       furthest 1.00  (bucket 19)
  u2 watches [0, 40], skips to 150, watches to 170 furthest 0.85  (bucket 17); covers 150 but not 50 or 100
  u3 watches [0, 100]                              furthest 0.50  (bucket 10); [0, 100) does not cover 100
  u4 watches [0, 20]                               furthest 0.10  (bucket 2); 20 s: not engaged
m100 (100 s): u5 watches [0, 30]: 30 s, engaged by exactly the threshold.
m250 (250 s): u6 watches it all.
l400 (400 s): u7 watches [0, 200];  l600 (600 s): u8 watches [0, 60].
s20 (20 s): u9 watches all 20 s: engaged only by completing it.
p40 (40 s): five sessions on four platforms (section 9d), below.
"""

import pytest

from video_assets.checks import invariants
from video_assets.checks.evaluation import evaluate_table
from video_assets.settings import EngagementSettings
from video_assets.transforms import summaries
from video_assets_tests.builders import day, event, rows_of, run_engagement, watch

DAY = "2025-01-15"
DURATIONS = {"m200": 200, "m100": 100, "m250": 250, "l400": 400, "l600": 600, "s20": 20, "p40": 40}
NBSP = "\u00a0"


def skipper():
    """u2: plays 0-40, pauses, seeks to 150 while paused, resumes there and plays to 170."""
    return [
        event("u2", "m200", f"{DAY} 10:00:00", "play", 0),
        event("u2", "m200", f"{DAY} 10:00:40", "pause", 40),
        event("u2", "m200", f"{DAY} 10:00:50", "seek", 150),
        event("u2", "m200", f"{DAY} 10:01:00", "resume", 150),
        event("u2", "m200", f"{DAY} 10:01:20", "pause", 170),
    ]


def platform_sessions():
    """p40: alice twice on the web (her first session's first event names no platform), bob on iOS after an
    all-whitespace platform, carol on none, dave on ' TV' with a no-break space."""
    return [
        event("alice", "p40", f"{DAY} 09:00:00", "play", 0),
        event("alice", "p40", f"{DAY} 09:00:20", "heartbeat", 20, platform=" Web "),
        event("alice", "p40", f"{DAY} 09:00:30", "pause", 30, platform="web"),
        *watch("alice", "p40", DAY, "11:00:00", 0, 40, end_name="end", platform="WEB"),
        event("bob", "p40", f"{DAY} 09:00:00", "play", 0, platform=NBSP),
        event("bob", "p40", f"{DAY} 09:00:10", "pause", 10, platform="iOS"),
        *watch("carol", "p40", DAY, "09:00:00", 0, 5),
        *watch("dave", "p40", DAY, "09:00:00", 0, 40, end_name="end", platform=f"  TV{NBSP}"),
    ]


@pytest.fixture(scope="module")
def audience(spark):
    rows = [
        *watch("u1", "m200", DAY, "10:00:00", 0, 200, end_name="end"),
        *skipper(),
        *watch("u3", "m200", DAY, "10:00:00", 0, 100),
        *watch("u4", "m200", DAY, "10:00:00", 0, 20),
        *watch("u5", "m100", DAY, "10:00:00", 0, 30),
        *watch("u6", "m250", DAY, "10:00:00", 0, 250, end_name="end"),
        *watch("u7", "l400", DAY, "10:00:00", 0, 200),
        *watch("u8", "l600", DAY, "10:00:00", 0, 60),
        *watch("u9", "s20", DAY, "12:00:00", 0, 20, end_name="end"),
        *platform_sessions(),
    ]
    return run_engagement(spark, rows, DURATIONS, day(DAY))


@pytest.fixture(scope="module")
def by_video(audience):
    return {row["video_id"]: row for row in rows_of(audience["video_engagement_summary"])}


def shares_at(points: dict[int, float]) -> list[float]:
    return [points.get(k, 0.0) for k in range(20)]


def test_engaged_viewers_watched_the_threshold_or_completed(audience, by_video):
    m200 = by_video["m200"]
    assert (m200["viewers"], m200["engaged_viewers"], m200["engaged_rate"]) == (4, 3, 0.75)  # u4's 20 s is not
    assert (by_video["m100"]["engaged_viewers"], by_video["m100"]["engaged_rate"]) == (1, 1.0)  # 30 s >= 30 s
    [u9] = rows_of(audience["user_video_metrics"].where("user_id = 'u9'"))
    assert (u9["total_watch_seconds"], u9["completed"]) == (20.0, True)
    assert (by_video["s20"]["engaged_viewers"], by_video["s20"]["engaged_rate"]) == (1, 1.0)  # by completing it

    stricter = EngagementSettings(engaged_watch_seconds=31)
    again = summaries.video_engagement_summary(audience["user_video_metrics"], audience["watch_intervals"], stricter)
    engaged = {row["video_id"]: row["engaged_viewers"] for row in rows_of(again)}
    assert (engaged["m100"], engaged["m200"], engaged["s20"]) == (0, 3, 1)


def test_a_milestone_is_reached_only_by_watching_across_it(audience, by_video):
    def reached(video):
        return [by_video[video][f"reached_{p}_share"] for p in (25, 50, 75, 95)]

    # m200 at 50, 100, 150, 190 s: u1 covers all four; u3's [0, 100) covers 50 but not 100; u2 skipped from 40
    # to 150, so covers 150 (an interval covers its start) and neither 50 nor 100.
    assert reached("m200") == [0.5, 0.25, 0.5, 0.25]
    [u2] = rows_of(audience["user_video_metrics"].where("user_id = 'u2'"))
    assert u2["max_position_seconds"] == 170.0  # past 50 % of the video, though 50 % was never reached
    assert reached("l400") == [1.0, 0.0, 0.0, 0.0]  # [0, 200) ends just before 50 % = 200 s
    assert reached("m100") == [1.0, 0.0, 0.0, 0.0]  # [0, 30) covers 25 s
    assert reached("s20") == [1.0, 1.0, 1.0, 1.0]  # 95 % = 19 s < 20 s
    assert reached("m250") == [1.0, 1.0, 1.0, 1.0]


def test_furthest_point_shares_put_each_viewer_in_the_twentieth_where_they_stopped(by_video):
    # 20 s / 200 s = 0.10 -> bucket 2; 100 / 200 = 0.50 is the edge that opens bucket 10; 170 / 200 = 0.85 ->
    # bucket 17; the value 1 is in bucket 19.
    assert by_video["m200"]["furthest_point_shares"] == shares_at({2: 0.25, 10: 0.25, 17: 0.25, 19: 0.25})
    assert by_video["m100"]["furthest_point_shares"] == shares_at({6: 1.0})  # 30 / 100
    assert by_video["s20"]["furthest_point_shares"] == shares_at({19: 1.0})
    assert by_video["l600"]["furthest_point_shares"] == shares_at({2: 1.0})  # 60 / 600
    for video, row in by_video.items():
        assert sum(row["furthest_point_shares"]) == pytest.approx(1.0), video


def test_median_furthest_percentage_is_the_mean_of_the_two_middle_values_for_an_even_count(by_video):
    assert by_video["m200"]["median_furthest_percentage"] == 67.5  # 0.10, 0.50, 0.85, 1.00 -> (0.50 + 0.85) / 2
    assert by_video["l400"]["median_furthest_percentage"] == 50.0
    assert by_video["m100"]["median_furthest_percentage"] == 30.0
    assert by_video["s20"]["median_furthest_percentage"] == 100.0


def test_relative_retention_compares_a_video_with_the_median_of_its_duration_band(by_video):
    # [60, 300) s holds three videos. Mean unique % per viewer: m200 (100 + 30 + 50 + 10) / 4 = 47.5, m100 30,
    # m250 100; the band's median is 47.5.
    assert by_video["m200"]["relative_retention"] == 1.0
    assert by_video["m100"]["relative_retention"] == 0.6316  # 30 / 47.5
    assert by_video["m250"]["relative_retention"] == 2.1053  # 100 / 47.5
    # [300, 1200) s holds two videos, [0, 60) s two (s20, p40): too few to compare.
    assert [by_video[v]["relative_retention"] for v in ("l400", "l600", "s20", "p40")] == [None] * 4


def test_a_sessions_platform_is_its_first_non_empty_one_trimmed_and_lower_cased(audience):
    sessions = rows_of(audience["video_sessions"].where("video_id = 'p40'"), ["user_id", "first_event_ts"])
    assert [(s["user_id"], s["platform"], s["normalized_platform"]) for s in sessions] == [
        ("alice", " Web ", "web"),  # her first event has none: the next one's, as sent (these events skip the raw stage)
        ("alice", "WEB", "web"),
        ("bob", NBSP, "ios"),  # a no-break space alone is no platform
        ("carol", None, "unknown"),
        ("dave", f"  TV{NBSP}", "tv"),
    ]


def test_platform_summary_counts_sessions_viewers_watch_and_completions_per_platform(audience, by_video):
    rows = rows_of(audience["video_platform_summary"].where("video_id = 'p40'"), ["platform"])
    assert [
        (r["platform"], r["sessions"], r["viewers"], r["total_watch_seconds"], r["completed_sessions"], r["completion_rate"])
        for r in rows
    ] == [
        ("ios", 1, 1, 10.0, 0, 0.0),
        ("tv", 1, 1, 40.0, 1, 1.0),
        ("unknown", 1, 1, 5.0, 0, 0.0),
        ("web", 2, 1, 70.0, 1, 0.5),  # alice: 30 s, then all 40 s
    ]
    assert sum(r["sessions"] for r in rows) == by_video["p40"]["sessions"] == 5
    [m200] = rows_of(audience["video_platform_summary"].where("video_id = 'm200'"))
    assert (m200["platform"], m200["sessions"], m200["viewers"]) == ("unknown", 4, 4)


def test_the_audience_columns_keep_the_contract_and_the_platforms_add_up_to_the_video_summary(audience):
    settings = EngagementSettings()
    summary = audience["video_engagement_summary"]
    report = evaluate_table(summary, "video_engagement_summary", settings, with_key=False)
    assert report.rules.failures == {} and report.rules.rows == 7
    platforms = audience["video_platform_summary"]
    holds = evaluate_table(
        platforms, "video_platform_summary", settings, reference=invariants.platform_sessions_match(summary)
    )
    assert holds.rules.failures == {} and holds.key.duplicate_rows == 0
    assert holds.reference.failing_rows == 0
    assert holds.reference.by_day[DAY] == {"failing_rows": 0, "platform_sessions": 14, "summary_sessions": 14}

    one_more = summary.selectExpr("*", "IF(video_id = 'p40', sessions + 1, sessions) AS _sessions").drop("sessions")
    broken = evaluate_table(
        platforms, "video_platform_summary", settings,
        reference=invariants.platform_sessions_match(one_more.withColumnRenamed("_sessions", "sessions")),
        with_rules=False, with_key=False,
    )
    assert broken.reference.failing_rows == 4  # every platform row of p40
    assert broken.reference.by_day[DAY]["summary_sessions"] == 15

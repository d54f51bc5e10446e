"""Aggregates: the few numbers the charts and the report show, on tables small enough to work out by hand."""

from datetime import date

import pytest

from video_assets.frames import literal_frame
from video_assets.io.spark import observed
from video_assets.reporting import aggregates

DAY1, DAY2, DAY3, DAY4 = date(2025, 1, 15), date(2025, 1, 16), date(2025, 1, 17), date(2025, 1, 18)
VIDEO_SUMMARY_SCHEMA = (
    "metric_date date, video_id string, video_title string, viewers bigint, total_watch_seconds double, "
    "completion_rate double, retention_curve array<double>, engaged_rate double, reached_25_share double, "
    "reached_50_share double, reached_75_share double, reached_95_share double, furthest_point_shares array<double>"
)


@pytest.fixture(scope="module")
def video_summary(spark):
    return literal_frame(
        spark,
        [
            # v1's title only on its second day; its two days weigh 2 and 6 viewers.
            (DAY1, "v1", None, 2, 3600.0, 1.0, [1.0, 0.5, 0.5, 0.0], 1.0, 1.0, 0.5, 0.5, 0.0, [0.0, 0.5, 0.0, 0.5]),
            (DAY2, "v1", "Intro", 6, 7200.0, 0.5, [1.0, 1.0, 0.5, 0.5], 0.5, 1.0, 1.0, 0.5, 0.5, [0.0, 0.5, 0.0, 0.5]),
            (DAY1, "v2", None, 3, 1800.0, 0.0, [0.6667, 0.3333, 0.0, 0.0], 0.0, 0.6667, 0.3333, 0.0, 0.0,
             [0.3333, 0.6667, 0.0, 0.0]),
            # A day written before the audience columns existed: null in them.
            (DAY2, "v3", "Outro", 3, 900.0, 0.3333, [1.0, 1.0, 1.0, 0.3333], None, None, None, None, None, None),
        ],
        VIDEO_SUMMARY_SCHEMA,
    )


def test_top_videos_weights_days_by_their_viewers(video_summary):
    top = aggregates.top_videos(video_summary, limit=5)
    assert [video["video_id"] for video in top] == ["v1", "v2", "v3"]  # 8 viewers, then 3 and 3 by video_id
    assert top[0] == {
        "video_id": "v1",
        "title": "Intro",
        "viewers": 8,
        "watch_hours": 3.0,  # (3600 + 7200) s
        "completion_rate": 0.625,  # (2·1.0 + 6·0.5) / 8, not the plain mean 0.75
        "retention_curve": [1.0, 0.875, 0.5, 0.375],  # (2·0.5 + 6·1.0) / 8 = 0.875; (0 + 6·0.5) / 8 = 0.375
        "engaged_rate": 0.625,  # weighted as the completion rate
        "reached_shares": [1.0, 0.875, 0.5, 0.375],  # (2·0.5 + 6·1.0) / 8; 0.5 both days; (0 + 6·0.5) / 8
        "furthest_point_shares": [0.0, 0.5, 0.0, 0.5],
    }
    assert top[1] == {
        "video_id": "v2",
        "title": "v2",  # no title on any day: the video_id
        "viewers": 3,
        "watch_hours": 0.5,
        "completion_rate": 0.0,
        "retention_curve": [0.6667, 0.3333, 0.0, 0.0],
        "engaged_rate": 0.0,
        "reached_shares": [0.6667, 0.3333, 0.0, 0.0],
        "furthest_point_shares": [0.3333, 0.6667, 0.0, 0.0],
    }
    assert top[2]["title"] == "Outro" and top[2]["watch_hours"] == 0.25
    # No day of v3 has the audience columns: none is made up.
    assert (top[2]["engaged_rate"], top[2]["reached_shares"], top[2]["furthest_point_shares"]) == (None, None, None)


def test_platforms_of_the_top_videos_add_up_their_days(spark):
    rows = [
        (DAY1, "v1", "web", 2, 2, 3600.0, 1), (DAY2, "v1", "web", 4, 3, 3600.0, 2),
        (DAY1, "v1", "tv", 1, 1, 1800.0, 1), (DAY1, "v2", "ios", 5, 4, 900.0, 0), (DAY1, "v9", "web", 9, 9, 9.0, 9),
    ]
    platforms = literal_frame(
        spark, rows, "metric_date date, video_id string, platform string, sessions bigint, viewers bigint, "
        "total_watch_seconds double, completed_sessions bigint",
    )
    found = aggregates.platforms_of(platforms, ["v2", "v1"])
    assert [(r["video_id"], r["platform"], r["sessions"], r["viewers"], r["watch_hours"], r["completion_rate"])
            for r in found] == [
        ("v2", "ios", 5, 4, 0.25, 0.0),
        ("v1", "web", 6, 5, 2.0, 0.5),  # 3 of 6 sessions completed; viewers are viewer-days
        ("v1", "tv", 1, 1, 0.5, 1.0),
    ]
    assert [(r["platform"], r["sessions"]) for r in aggregates.platform_mix(platforms)] == [
        ("web", 15), ("ios", 5), ("tv", 1),
    ]


def test_top_videos_keeps_the_limit(video_summary):
    assert [video["video_id"] for video in aggregates.top_videos(video_summary, limit=2)] == ["v1", "v2"]


def test_top_videos_without_a_title_column_uses_the_video_id(video_summary):
    top = aggregates.top_videos(video_summary.drop("video_title"), limit=1)
    assert top[0]["title"] == "v1" and top[0]["viewers"] == 8


def test_tier_mix_orders_days_then_tiers_high_first(spark):
    rows = [(DAY2, "Minimal", 1), (DAY1, "Low", 2), (DAY1, "High", 5), (DAY1, "Minimal", 0), (DAY1, "Medium", 3),
            (DAY2, "High", 0), (DAY2, "Low", 4), (DAY2, "Medium", 7)]
    frame = literal_frame(spark, rows, "metric_date date, engagement_tier string, pair_count bigint")
    assert aggregates.tier_mix(frame) == [
        (DAY1, "High", 5), (DAY1, "Medium", 3), (DAY1, "Low", 2), (DAY1, "Minimal", 0),
        (DAY2, "High", 0), (DAY2, "Medium", 7), (DAY2, "Low", 4), (DAY2, "Minimal", 1),
    ]


def test_tier_mix_observed_while_the_rows_go_by_equals_the_query(spark):
    rows = [(DAY1, "Low", 2), (DAY1, "High", 5), (DAY1, "Minimal", 0), (DAY1, "Medium", 3),
            (DAY2, "High", 0), (DAY2, "Low", 4), (DAY2, "Medium", 7), (DAY2, "Minimal", 1)]
    frame = literal_frame(spark, rows, "metric_date date, engagement_tier string, pair_count bigint")
    days = [DAY1.isoformat(), DAY2.isoformat()]
    counted, observation = observed(frame, aggregates.tier_mix_counters(days))
    counted.write.format("noop").mode("overwrite").save()
    assert aggregates.tier_mix_observed(observation.get, days) == aggregates.tier_mix(frame)
    assert aggregates.tier_mix_observed(observation.get, days)[4:6] == [(DAY2, "High", 0), (DAY2, "Medium", 7)]


def test_score_histogram_counts_every_bin_and_puts_100_in_the_last(spark):
    scores = [0.0, 4.9, 5.0, 69.9, 70.0, 99.9, 100.0, None]
    frame = literal_frame(spark, [(score,) for score in scores], "engagement_score double")
    expected = [0] * 20
    expected[0], expected[1], expected[13], expected[14], expected[19] = 2, 1, 1, 1, 2
    assert aggregates.score_histogram(frame) == [(5.0 * index, count) for index, count in enumerate(expected)]

    by_three = aggregates.score_histogram(frame, bin_width=3)
    assert len(by_three) == 34 and by_three[-1] == (99.0, 2)  # [99, 102) holds 99.9 and 100
    assert sum(count for _, count in by_three) == 7


def test_headline_by_day_joins_engagement_and_quarantine_by_day(spark):
    metrics = literal_frame(
        spark,
        [
            (DAY1, "u1", "v1", 600.0, True),
            (DAY1, "u1", "v2", 1200.0, False),
            (DAY1, "u2", "v1", 1800.0, True),
            (DAY2, "u3", "v1", 900.0, False),
        ],
        "metric_date date, user_id string, video_id string, total_watch_seconds double, completed boolean",
    )
    events = literal_frame(spark, [(DAY1,)] * 6 + [(DAY2,)] * 3 + [(DAY3,)], "event_date date")
    quarantine = literal_frame(
        spark,
        [(DAY1, "bad_position"), (DAY1, "malformed_record"), (DAY4, "bad_timestamp")],
        "partition_date date, reason string",
    )
    assert aggregates.headline_by_day(metrics, events, quarantine) == [
        {"day": DAY1, "viewers": 2, "pairs": 3, "watch_hours": 1.0, "completion_rate": 0.6667,
         "valid_events": 6, "quarantined": 2, "quarantine_share": 0.25},
        {"day": DAY2, "viewers": 1, "pairs": 1, "watch_hours": 0.25, "completion_rate": 0.0,
         "valid_events": 3, "quarantined": 0, "quarantine_share": 0.0},
        {"day": DAY3, "viewers": 0, "pairs": 0, "watch_hours": 0.0, "completion_rate": None,
         "valid_events": 1, "quarantined": 0, "quarantine_share": 0.0},
        {"day": DAY4, "viewers": 0, "pairs": 0, "watch_hours": 0.0, "completion_rate": None,
         "valid_events": 0, "quarantined": 1, "quarantine_share": 1.0},
    ]

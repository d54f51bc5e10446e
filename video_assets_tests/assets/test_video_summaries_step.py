"""The per-video summaries' one step: both tables in one step with one check query, or either alone.

The daily tables it reads are written by hand for one day: ann watches 60 s of v180 on the web, bob all of
v300 on a phone ("  iOS " as the player wrote it). video_platform_summary alone is checked against the
stored video summary, and refused, naming it, while there is none.
"""

import pytest

from video_assets_tests.assets.small_landing import snapshot
from video_assets_tests.builders import day, rows_of, run_engagement, watch
from video_assets_tests.dagster_runs import materialize, use_folders

DAY = "2025-01-15"
VIDEOS = {"v180": 180, "v300": 300}
EVENTS = [
    *watch("ann", "v180", DAY, "10:00:00", 0, 60, platform="web"),
    *watch("bob", "v300", DAY, "11:00:00", 0, 300, end_name="end", platform="  iOS "),
]
SUMMARIES = ["video_engagement_summary", "video_platform_summary"]


def failure_texts(result) -> list[str]:
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            texts.append(f"{data.error.message if data.error else ''} "
                         f"{data.user_failure_data.description if data.user_failure_data else ''}")
    return texts


def materialized(result) -> list[str]:
    return sorted(event.asset_key.to_user_string() for event in result.get_asset_materialization_events())


def checks_passed(result, table: str) -> dict[str, bool]:
    return {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key.to_user_string() == table
    }


@pytest.mark.slow
def test_both_summaries_are_one_step_and_the_platform_summary_alone_checks_against_the_stored_one(
    spark, landing_dir, warehouse_dir, monkeypatch
):
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    tables = run_engagement(spark, EVENTS, VIDEOS, day(DAY))
    for name in ("video_sessions", "watch_intervals", "user_video_metrics"):
        tables[name].write.format("delta").save(str(warehouse_dir / name))

    refused = materialize(["video_platform_summary"], DAY)
    assert not refused.success
    [text] = failure_texts(refused)
    assert "video_engagement_summary, which does not exist yet" in text
    assert not (warehouse_dir / "video_platform_summary").exists()

    both = materialize(SUMMARIES, DAY)
    assert both.success
    assert {event.step_key for event in both.all_events if event.is_step_success} == {"video_engagement_summary"}
    assert materialized(both) == SUMMARIES
    assert checks_passed(both, "video_platform_summary")["sessions_match_video_summary"] is True
    platforms = snapshot(spark, warehouse_dir, "video_platform_summary")
    assert [(r["video_id"], r["platform"], r["sessions"]) for r in platforms] == [("v180", "web", 1), ("v300", "ios", 1)]
    assert snapshot(spark, warehouse_dir, "video_engagement_summary") == rows_of(
        tables["video_engagement_summary"], ["metric_date", "video_id"]
    )

    alone = materialize(["video_platform_summary"], DAY)
    assert alone.success
    assert materialized(alone) == ["video_platform_summary"]
    assert checks_passed(alone, "video_platform_summary")["sessions_match_video_summary"] is True
    assert snapshot(spark, warehouse_dir, "video_platform_summary") == platforms

"""video_lifetime_summary's step through Dagster: first build, a run killed after user_video_engagement's MERGE, a rerun.

user_video_engagement is written by hand in two states: after day 1 (ann 60 s of v180, bob all of v300, zed
on v999), and after days 1 and 2 as a later run leaves it (ann's second day on v180; day 1 rerun without zed's
events, so his pair is gone). The video table must follow with only the videos whose row changed written.
"""

import pytest

from video_assets.transforms import video_lifetime
from video_assets_tests.assets.small_landing import snapshot
from video_assets_tests.builders import day, rows_of, run_engagement, watch
from video_assets_tests.dagster_runs import materialize, use_folders

DAY1, DAY2 = "2025-01-15", "2025-01-16"
VIDEOS = {"v180": 180, "v300": 300, "v999": 60}
FIRST_DAY = [
    *watch("ann", "v180", DAY1, "10:00:00", 0, 60),
    *watch("bob", "v300", DAY1, "11:00:00", 0, 300, end_name="end"),
]
ZED = watch("zed", "v999", DAY1, "12:00:00", 0, 30)
SECOND_DAY = watch("ann", "v180", DAY2, "10:00:00", 0, 180, end_name="end")


def all_time_pairs(spark, rows, last_day):
    return run_engagement(spark, rows, VIDEOS, day(DAY1), day(last_day))["user_video_engagement"]


def put_all_time_pairs(frame, warehouse_dir):
    frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
        str(warehouse_dir / "user_video_engagement")
    )


def run_video_step():
    result = materialize(["video_lifetime_summary"])
    assert result.success
    [written] = [e.materialization.metadata for e in result.get_asset_materialization_events()]
    return {name: value.value for name, value in written.items()}


@pytest.mark.slow
def test_a_killed_run_is_caught_up_by_the_next_and_a_rerun_writes_nothing(spark, landing_dir, warehouse_dir, monkeypatch):
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    put_all_time_pairs(all_time_pairs(spark, [*FIRST_DAY, *ZED], DAY1), warehouse_dir)
    first = run_video_step()
    assert (first["mode"], first["rows_written"]) == ("first build", 3)

    # A later run merged user_video_engagement (day 2, and day 1 again without zed) and was killed before the
    # video step: the next run of the step, whatever its days, brings the table up to date.
    later = all_time_pairs(spark, [*FIRST_DAY, *SECOND_DAY], DAY2)
    put_all_time_pairs(later, warehouse_dir)
    caught_up = run_video_step()
    assert caught_up["mode"] == "merge of the changed videos"
    assert {k: caught_up["merge_metrics"].get(k, 0) for k in ("numTargetRowsUpdated", "numTargetRowsInserted",
            "numTargetRowsDeleted")} == {"numTargetRowsUpdated": 1, "numTargetRowsInserted": 0, "numTargetRowsDeleted": 1}
    stored = {r["video_id"]: r for r in snapshot(spark, warehouse_dir, "video_lifetime_summary")}
    assert stored == {r["video_id"]: r for r in rows_of(video_lifetime.video_lifetime_summary(later))}
    assert (stored["v180"]["total_watch_seconds"], stored["v180"]["returning_viewers"]) == (240.0, 1)
    assert sorted(stored) == ["v180", "v300"]

    # A rerun: the same rows, nothing written.
    again = run_video_step()
    assert again["rows_written"] == 0
    assert {r["video_id"]: r for r in snapshot(spark, warehouse_dir, "video_lifetime_summary")} == stored

"""The raw stage through Dagster: real Spark, real Delta, a landing zone of the test's own."""

import json
import logging
import shutil

import dagster as dg

import pytest
from pyspark.sql import functions as F

from video_assets_tests.builders import rows_of
from video_assets_tests.dagster_runs import materialize, read_table, use_folders
from video_assets_tests.observation_guard import refuse_analysis_of_observed_frames

DAYS = ("2024-01-15", "2024-01-16", "2024-01-17")
RAW = ["raw_video_events", "raw_video_events_quarantine"]  # one step writes both, always together


def write_day(landing_dir, day, lines, name="part-0.jsonl"):
    folder = landing_dir / "events" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def viewer_line(day, clock, user, name, position, event_id=None):
    record = {"timestamp": f"{day}T{clock}Z", "userId": user, "videoId": "v1", "eventName": name, "currentTime": position}
    if event_id:
        record["eventId"] = event_id
    return json.dumps(record)


def _write_landing(landing_dir):
    (landing_dir / "videos").mkdir(parents=True)
    (landing_dir / "videos" / "videos.csv").write_text("video_id,title,duration_seconds\nv1,First,300\n")
    for index, day in enumerate(DAYS):
        write_day(
            landing_dir,
            day,
            [
                viewer_line(day, "10:00:00", "ann", "play", 0, f"{day}-1"),
                viewer_line(day, "10:00:30", "ann", "pause", 30, f"{day}-2"),
                viewer_line(day, "10:00:30", "ann", "pause", 30, f"{day}-2"),  # duplicate
                "{broken",
                viewer_line(day, "11:00:00", "bob", "play", index),
            ],
        )


@pytest.fixture(scope="module")
def materialized_once(tmp_path_factory, spark):
    """The landing and the catalog + raw tables of all DAYS after one run, kept pristine for every test here."""
    root = tmp_path_factory.mktemp("raw_assets")
    _write_landing(root / "landing")
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_folders(monkeypatch, root / "landing", root / "warehouse")
        assert materialize(["video_catalog", *RAW], DAYS[0], DAYS[-1]).success
    for name in ("landing", "warehouse"):
        shutil.copytree(root / name, root / f"pristine-{name}")
    return root


@pytest.fixture
def warehouse_dir(materialized_once):
    return materialized_once / "warehouse"


@pytest.fixture
def landing(materialized_once, warehouse_dir, monkeypatch):
    """The module's landing and tables as the one run left them, restored at the paths that run used (the
    tables name their source files)."""
    landing_dir = materialized_once / "landing"
    for name, target in (("pristine-landing", landing_dir), ("pristine-warehouse", warehouse_dir)):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(materialized_once / name, target)
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    return landing_dir


def table_rows(spark, warehouse_dir, name, order):
    return rows_of(read_table(spark, warehouse_dir, name), order)


def test_single_day_materialization_writes_clean_events_and_quarantine(spark, landing, tmp_path, monkeypatch):
    # No observed frame is asked for its schema before its write: on Spark Connect 4.0 the parse pass's counts
    # then never arrived and lines_reconcile failed for exactly the bad lines (observation_guard).
    refuse_analysis_of_observed_frames(monkeypatch)
    fresh = tmp_path / "fresh-warehouse"  # not the module's tables: this run alone writes what is read below
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(fresh))
    result = materialize(["video_catalog", "raw_video_events", "raw_video_events_quarantine"], "2024-01-15")
    assert result.success
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}["lines_reconcile"] is True
    clean = table_rows(spark, fresh, "raw_video_events", ["event_ts"])
    assert [(r["user_id"], r["event_name"], r["event_date"].isoformat()) for r in clean] == [
        ("ann", "video_play", "2024-01-15"),
        ("ann", "video_pause", "2024-01-15"),
        ("bob", "video_play", "2024-01-15"),
    ]
    [bad] = table_rows(spark, fresh, "raw_video_events_quarantine", ["raw_line"])
    assert (bad["reason"], bad["raw_line"]) == ("malformed_record", "{broken")
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    raw = metadata["raw_video_events"]
    assert (raw["lines_read"].value, raw["valid_events"].value, raw["duplicates_dropped"].value) == (5, 3, 1)
    assert raw["quarantined"].value == 1 and raw["rows_written"].value == 3
    assert metadata["raw_video_events_quarantine"]["quarantined_by_reason"].value["malformed_record"] == 1
    # The lines were parsed once into the step's scratch rows, removed when the step ended.
    assert sorted(p.name for p in fresh.iterdir()) == ["raw_video_events", "raw_video_events_quarantine", "video_catalog"]



def test_range_rerun_is_identical_and_rewriting_a_day_touches_only_that_day(spark, landing, warehouse_dir):
    first = table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"])
    assert len(first) == 9

    assert materialize(RAW, DAYS[0], DAYS[-1]).success
    assert table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"]) == first

    write_day(landing, DAYS[1], [viewer_line(DAYS[1], "12:00:00", "cat", "play", 0, "late-1")], name="late.jsonl")
    assert materialize(RAW, DAYS[1]).success
    after = table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"])
    by_day = lambda rows, d: [r for r in rows if r["event_date"].isoformat() == d]  # noqa: E731
    assert by_day(after, DAYS[0]) == by_day(first, DAYS[0])
    assert by_day(after, DAYS[2]) == by_day(first, DAYS[2])
    assert len(by_day(after, DAYS[1])) == len(by_day(first, DAYS[1])) + 1


def test_day_without_landing_folder_is_an_empty_partition_with_a_warning(spark, landing, warehouse_dir):
    # Both tables hold rows of other days (the module's run).
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(RAW, "2024-02-01", instance=instance)
    assert result.success  # the lines_reconcile check (ERROR) passed
    # Writing nothing over nothing makes no Delta commit: the latest commit (the module run's) is not this write's.
    written = {
        e.asset_key.to_user_string(): e.materialization.metadata["rows_written"].value
        for e in result.get_asset_materialization_events()
    }
    assert written == {"raw_video_events": 0, "raw_video_events_quarantine": 0}
    table = read_table(spark, warehouse_dir, "raw_video_events")
    assert table.where(F.col("event_date") == "2024-02-01").count() == 0
    warnings = [
        entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING
    ]
    assert any("No landing files for 2024-02-01" in message for message in warnings)


def failure_messages(result) -> str:
    return "\n".join(
        event.event_specific_data.error.message for event in result.all_events if event.is_step_failure
    )


def test_a_missing_landing_location_fails_before_writing_and_names_the_setting(spark, landing, warehouse_dir, monkeypatch):
    before = {name: table_rows(spark, warehouse_dir, name, None) for name in ("video_catalog", *RAW)}
    monkeypatch.setenv("VIDEO_ASSETS_LANDING_DIR", str(landing / "typo"))

    result = materialize(["video_catalog", *RAW], DAYS[0])
    assert not result.success
    message = failure_messages(result)
    assert f"landing location {landing / 'typo'} does not exist" in message
    assert "VIDEO_ASSETS_LANDING_DIR" in message and "Nothing was written" in message
    assert {name: table_rows(spark, warehouse_dir, name, None) for name in before} == before


def test_a_day_with_rows_is_not_replaced_by_nothing_without_the_opt_in(spark, landing, warehouse_dir, monkeypatch):
    before = table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"])
    for path in (landing / "events" / f"date={DAYS[1]}").iterdir():
        path.unlink()

    refused = materialize(RAW, DAYS[0], DAYS[1])
    assert not refused.success
    message = failure_messages(refused)
    assert f"refusing to replace {DAYS[1]} with zero rows (no landing files)" in message
    assert "allow_empty_overwrite" in message
    assert table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"]) == before

    (landing / "events" / f"date={DAYS[1]}" / "blank.jsonl").write_bytes(b"\n   \r\n\t\n\xef\xbb\xbf\n")
    refused = materialize(RAW, DAYS[0], DAYS[1])
    assert not refused.success
    assert f"refusing to replace {DAYS[1]} with zero rows (its landing files hold no records)" in (
        failure_messages(refused)
    )
    assert table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"]) == before

    monkeypatch.setenv("VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE", "1")
    assert materialize(RAW, DAYS[0], DAYS[1]).success
    after = table_rows(spark, warehouse_dir, "raw_video_events", ["event_key"])
    assert after == [r for r in before if r["event_date"].isoformat() != DAYS[1]]


def test_a_catalog_that_holds_videos_is_not_emptied_by_a_missing_file(spark, landing, warehouse_dir):
    (landing / "videos" / "videos.csv").unlink()
    result = materialize(["video_catalog"])
    assert not result.success
    assert "refusing to replace the videos it holds with nothing (no catalog at" in failure_messages(result)
    assert [r["video_id"] for r in table_rows(spark, warehouse_dir, "video_catalog", None)] == ["v1"]

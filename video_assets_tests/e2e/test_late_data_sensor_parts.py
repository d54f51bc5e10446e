"""The late-data sensor's pieces that need no Dagster instance: fingerprints, cursor, day ranges, settings."""

import json
import os

import dagster as dg
import pytest

from video_assets.automation import late_data
from video_assets.io.paths import local_path
from video_assets.sources import event_files

pytestmark = pytest.mark.e2e


def _write(path, text="{}\n", mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def test_fingerprint_follows_names_sizes_and_times_of_data_files_only(tmp_path):
    events = tmp_path / "events"
    day = "2024-01-15"
    assert event_files.day_listing(events, day) == (event_files.NO_FILES, None)

    _write(events / f"date={day}" / "part-0.jsonl", mtime=1_700_000_000)
    first, newest = event_files.day_listing(events, day)
    assert newest == 1_700_000_000
    assert len(first) == 16

    # Hidden files, markers and unknown suffixes are not what the raw stage reads.
    _write(events / f"date={day}" / ".part-1.jsonl.tmp")
    _write(events / f"date={day}" / "_SUCCESS")
    _write(events / f"date={day}" / "notes.txt")
    assert event_files.day_listing(events, day)[0] == first

    _write(events / f"date={day}" / "part-0.jsonl", "{}\n{}\n", mtime=1_700_000_000)  # grew
    grown = event_files.day_listing(events, day)[0]
    assert grown != first
    _write(events / f"date={day}" / "part-0.jsonl", "{}\n{}\n", mtime=1_700_000_100)  # touched
    assert event_files.day_listing(events, day)[0] != grown
    _write(events / f"date={day}" / "part-1.jsonl.gz", "x")  # added
    assert event_files.day_listing(events, day)[1] > 1_700_000_100


def test_cursor_round_trips_compactly_and_starts_afresh_when_unreadable():
    days = {"2024-01-16": "-", "2024-01-15": "0c861cde636e490e"}
    cursor = event_files.write_cursor(days)
    assert cursor == '{"v":1,"days":{"2024-01-15":"0c861cde636e490e","2024-01-16":"-"}}'
    assert event_files.read_cursor(cursor) == days
    for unreadable in (None, "", "not json", "[]", json.dumps({"v": 0, "days": days})):
        assert event_files.read_cursor(unreadable) == {}
    # About 32 bytes a day: some 12 KB for a year of days.
    year = {f"2024-{m:02d}-{d:02d}": "0c861cde636e490e" for m in range(1, 13) for d in range(1, 29)}
    assert len(event_files.write_cursor(year)) < 33 * len(year)


def test_days_are_described_as_ranges():
    assert late_data.describe_days(["2024-01-17", "2024-01-15", "2024-01-16", "2024-02-01"]) == (
        "2024-01-15..2024-01-17,2024-02-01"
    )
    assert late_data.describe_days([]) == ""


def test_only_local_landing_zones_are_listed(tmp_path):
    assert local_path(str(tmp_path)) == tmp_path
    assert local_path(f"file://{tmp_path}") == tmp_path
    assert local_path(f"file:{tmp_path}") == tmp_path
    for remote in ("dbfs:/mnt/landing", "s3://bucket/landing", "abfss://c@a.dfs.core.windows.net/x"):
        assert local_path(remote) is None


def test_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(late_data.INTERVAL_ENV, raising=False)
    assert late_data.interval_seconds() == 300
    monkeypatch.setenv(late_data.INTERVAL_ENV, "45")
    assert late_data.interval_seconds() == 45
    for bad in ("soon", "0"):
        monkeypatch.setenv(late_data.INTERVAL_ENV, bad)
        with pytest.raises(ValueError, match=late_data.INTERVAL_ENV):
            late_data.interval_seconds()


def test_sensor_is_registered_off_by_default_and_targets_raw_and_downstream():
    from video_assets.definitions import defs

    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def(late_data.SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.minimum_interval_seconds == late_data.interval_seconds()
    selected = sensor.asset_selection.resolve(repository.asset_graph)
    assert {late_data.RAW_EVENTS, late_data.RAW_QUARANTINE} <= selected
    assert dg.AssetKey("video_catalog") not in selected


def test_a_remote_landing_zone_is_skipped_with_a_reason():
    from video_assets.definitions import defs
    from video_assets.sources.landing_zone import LandingZone

    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, definitions=defs, resources={"landing": LandingZone(location="dbfs:/mnt/landing")}
        )
        result = late_data.late_data_sensor.evaluate_tick(context)
    assert not result.run_requests
    assert "not a local folder" in result.skip_message

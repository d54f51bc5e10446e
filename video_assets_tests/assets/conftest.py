"""The landing and warehouse folders of the whole-graph tests."""

import pytest

from video_assets_tests.assets.small_landing import DAYS, record, write_day
from video_assets_tests.dagster_runs import use_folders


@pytest.fixture
def landing(landing_dir, warehouse_dir, monkeypatch):
    use_folders(monkeypatch, landing_dir, warehouse_dir)
    (landing_dir / "videos" / "videos.csv").write_text("video_id,title,duration_seconds\nv180,Short,180\nv300,Long,300\n")
    write_day(landing_dir, DAYS[0], [
        record(DAYS[0], "10:00:00", "ann", "v180", "play", 0),
        record(DAYS[0], "10:01:00", "ann", "v180", "pause", 60),
        record(DAYS[0], "12:00:00", "bob", "v300", "play", 0),
        record(DAYS[0], "12:05:00", "bob", "v300", "end", 300),
        record(DAYS[0], "23:50:00", "cy", "v300", "play", 0),
    ])
    write_day(landing_dir, DAYS[1], [
        record(DAYS[1], "00:05:00", "cy", "v300", "pause", 600),
        record(DAYS[1], "10:00:00", "ann", "v180", "play", 0),
        record(DAYS[1], "10:03:00", "ann", "v180", "end", 180),
    ])
    return landing_dir

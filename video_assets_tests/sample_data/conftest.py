"""The shared sample: one small landing zone generated once for the whole folder."""

import pytest

from video_assets.sample_data import generate_landing
from video_assets_tests.sample_data.landing_files import event_files, parse_good_event, read_lines


@pytest.fixture(scope="package")
def sample(tmp_path_factory):
    """Three days, one per format, with generous noise so that shares can be measured on a small sample."""
    landing = tmp_path_factory.mktemp("sample") / "landing"
    stats = generate_landing(
        landing,
        days=3,
        users=60,
        videos=20,
        seed=11,
        formats=("jsonl", "jsonl.gz", "parquet"),
        bad_line_share=0.01,
        duplicate_share=0.01,
        processes=1,
    )
    lines = {path: read_lines(path) for path in event_files(landing)}
    good = {path: [parse_good_event(line) for line in file_lines] for path, file_lines in lines.items()}
    return landing, stats, lines, good

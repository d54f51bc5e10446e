"""generate_landing and the CLI: layout, determinism whatever the process count, volume, arguments.

Checked against SEMANTICS.md section 1: one file per UTC day in the folder of
that date, every good line in the folder of its own UTC date.
"""

import pytest

import video_assets.sample_data.days as sample_days
from video_assets.sample_data import cli, generate_landing
from video_assets_tests.sample_data.landing_files import event_files, folder_date, landing_bytes


# ---------------------------------------------------------------------------
# Layout and determinism
# ---------------------------------------------------------------------------


def test_layout_one_file_per_day_in_the_rotated_formats(sample):
    landing, stats, lines, _ = sample
    names = [f"{folder_date(p)}/{p.name}" for p in event_files(landing)]
    assert names == [
        "2024-01-15/part-00000.jsonl",
        "2024-01-16/part-00000.jsonl.gz",
        "2024-01-17/part-00000.parquet",
    ]
    assert stats["days"] == ["2024-01-15", "2024-01-16", "2024-01-17"]
    assert stats["files"] == 3
    assert stats["lines"] == sum(len(file_lines) for file_lines in lines.values())
    assert stats["lines"] == stats["events"] + stats["bad_lines"] + stats["duplicates"]
    assert not list(landing.rglob("_*")), "no temporary files are left behind"


def test_same_arguments_give_identical_bytes_whatever_the_process_count(tmp_path):
    arguments = dict(days=3, users=25, videos=12, seed=3, formats=("jsonl", "jsonl.gz", "parquet"))
    first = generate_landing(tmp_path / "a", processes=1, **arguments)
    second = generate_landing(tmp_path / "b", processes=2, **arguments)
    assert landing_bytes(tmp_path / "a") == landing_bytes(tmp_path / "b")
    assert {k: v for k, v in first.items() if k != "seconds"} == {k: v for k, v in second.items() if k != "seconds"}
    other_seed = generate_landing(tmp_path / "c", processes=1, **{**arguments, "seed": 4})
    assert landing_bytes(tmp_path / "c") != landing_bytes(tmp_path / "a")
    assert other_seed["events"] > 0


def test_rewriting_a_day_in_another_format_replaces_the_old_file(tmp_path):
    generate_landing(tmp_path, days=1, users=5, videos=8, formats=("jsonl",))
    generate_landing(tmp_path, days=1, users=5, videos=8, formats=("parquet",))
    assert [p.name for p in event_files(tmp_path)] == ["part-00000.parquet"]


# ---------------------------------------------------------------------------
# Every good event in the folder of its own UTC date
# ---------------------------------------------------------------------------


def test_every_good_line_is_in_the_folder_of_its_utc_date(sample):
    _, stats, _, good = sample
    checked = 0
    for path, events in good.items():
        for event in events:
            if event is not None:
                assert event["instant"].date().isoformat() == folder_date(path), event["record"]
                checked += 1
    assert checked == stats["events"] + stats["duplicates"]


# ---------------------------------------------------------------------------
# Volume
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", [3_000, 25_000])
def test_target_events_is_met_within_ten_percent(tmp_path, target):
    stats = generate_landing(tmp_path, days=2, users=1, target_events=target, processes=1)
    assert abs(stats["events"] - target) <= 0.1 * target


def test_target_events_beyond_the_calibration_sample_is_extrapolated(tmp_path, monkeypatch):
    monkeypatch.setattr(sample_days, "CALIBRATION_VIEWERS", 200)
    stats = generate_landing(tmp_path, days=2, target_events=100_000, processes=1)
    assert stats["users"] > 200
    assert abs(stats["events"] - 100_000) <= 0.1 * 100_000


# ---------------------------------------------------------------------------
# CLI and arguments
# ---------------------------------------------------------------------------


def test_cli_writes_the_landing_zone_and_prints_one_line(tmp_path, capsys):
    out = tmp_path / "landing"
    code = cli(["--days", "2", "--users", "8", "--videos", "6", "--seed", "9", "--start-date", "2024-03-01",
                "--out", str(out), "--formats", "jsonl,jsonl.gz"])
    assert code == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "events" in printed[0]
    assert [p.relative_to(out / "events").as_posix() for p in event_files(out)] == [
        "date=2024-03-01/part-00000.jsonl",
        "date=2024-03-02/part-00000.jsonl.gz",
    ]
    assert (out / "videos" / "videos.csv").exists()


def test_cli_target_events(tmp_path, capsys):
    assert cli(["--days", "1", "--target-events", "2000", "--out", str(tmp_path)]) == 0
    count = int(capsys.readouterr().out.split()[1].replace(",", ""))
    assert abs(count - 2000) <= 200


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="formats"):
        generate_landing(tmp_path, days=1, users=1, formats=("csv",))

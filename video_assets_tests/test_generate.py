"""The sample-data generator: layout, determinism, noise shares and the viewer behaviours it simulates.

These tests read the generated files with plain Python (json, gzip, pyarrow),
independently of the Spark pipeline, and check them against SEMANTICS.md
sections 1-2: every good line belongs in the folder of its UTC date, the bad
and duplicate lines come in the asked shares, and the catalog has its columns.
"""

import csv
import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from video_assets import generate
from video_assets.generate import cli, generate_landing
from video_assets.transforms.events import CANONICAL_EVENT_ALIASES

# The contract's alias table, as the raw stage uses it.
KNOWN_EVENT_NAMES = CANONICAL_EVENT_ALIASES


def name_key(name: str) -> str:
    return " ".join(re.sub(r"[\s_\-]+", " ", name.lower()).split())


CANONICAL_BY_ALIAS = {name_key(a): c for c, aliases in KNOWN_EVENT_NAMES.items() for a in (c, *aliases)}


def field(record: dict, camel: str, snake: str):
    value = record.get(camel)
    return value if value is not None else record.get(snake)


def utc_instant(timestamp) -> datetime:
    """Epoch milliseconds (a number or a string of digits) or ISO-8601 with an offset, as a UTC datetime."""
    if isinstance(timestamp, (int, float)) or (isinstance(timestamp, str) and timestamp.isdigit()):
        return datetime.fromtimestamp(int(timestamp) / 1000, timezone.utc)
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(timezone.utc)


def parse_good_event(line: str) -> dict | None:
    """The event of a line the pipeline would accept (SEMANTICS.md 2), or None for a line it would quarantine."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    user = field(record, "userId", "user_id")
    video = field(record, "videoId", "video_id")
    raw_name = field(record, "eventName", "event_name")
    position = field(record, "currentTime", "current_time")
    if not user or not video or not raw_name or record.get("timestamp") in (None, ""):
        return None
    try:
        instant = utc_instant(record["timestamp"])
    except ValueError:
        return None
    if not isinstance(position, (int, float)) or position < 0:
        return None
    name = CANONICAL_BY_ALIAS.get(name_key(raw_name))
    if name is None:
        return None
    return {
        "record": record,
        "instant": instant,
        "user": user,
        "video": video,
        "name": name,
        "position": float(position),
        "from_position": field(record, "fromPosition", "from_position"),
        "duration": field(record, "videoDuration", "video_duration"),
        "event_id": field(record, "eventId", "event_id"),
    }


def event_files(landing: Path) -> list[Path]:
    return sorted(p for p in (landing / "events").glob("date=*/*") if not p.name.startswith(("_", ".")))


def read_lines(path: Path) -> list[str]:
    """The file's records as JSON text (Parquet rows become JSON objects without their null fields)."""
    if path.name.endswith(".parquet"):
        return [json.dumps({k: v for k, v in row.items() if v is not None}) for row in pq.read_table(path).to_pylist()]
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def folder_date(path: Path) -> str:
    return path.parent.name.removeprefix("date=")


def landing_bytes(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
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


def good_events(sample) -> list[dict]:
    """Every accepted event once (exact duplicate lines removed)."""
    _, _, lines, good = sample
    seen, events = set(), []
    for path, file_lines in lines.items():
        for line, event in zip(file_lines, good[path]):
            if event is not None and line not in seen:
                seen.add(line)
                events.append(event)
    return events


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


def test_offset_timestamps_exist_and_their_local_date_can_differ_from_the_utc_date(tmp_path):
    generate_landing(tmp_path, days=2, users=150, videos=12, seed=5, bad_line_share=0, duplicate_share=0)
    plus_two = []
    for path in event_files(tmp_path):
        for line in read_lines(path):
            event = parse_good_event(line)
            timestamp = event["record"]["timestamp"]
            if isinstance(timestamp, str) and timestamp.endswith("+02:00"):
                plus_two.append((timestamp[:10], folder_date(path)))
    assert len(plus_two) > 100
    assert any(local != utc for local, utc in plus_two), "a +02:00 evening event whose local date is the next day"


def test_timestamp_styles_are_mixed(sample):
    timestamps = [event["record"]["timestamp"] for event in good_events(sample)]
    assert any(isinstance(t, int) or (isinstance(t, str) and t.isdigit()) for t in timestamps), "epoch ms"
    assert any(isinstance(t, str) and t.endswith("Z") for t in timestamps)
    assert any(isinstance(t, str) and re.search(r"[+-]\d\d:\d\d$", t) for t in timestamps)


# ---------------------------------------------------------------------------
# Catalog and durations
# ---------------------------------------------------------------------------


def test_catalog_has_the_columns_and_leaves_some_videos_out(sample):
    landing, *_ = sample
    with open(landing / "videos" / "videos.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["video_id", "title", "duration_seconds", "category", "published_at"]
    assert rows and all(60 <= float(row["duration_seconds"]) <= 3600 for row in rows)
    assert all(row["title"] and row["category"] and row["published_at"].endswith("Z") for row in rows)

    events = good_events(sample)
    catalogued = {row["video_id"] for row in rows}
    watched = {event["video"] for event in events}
    uncatalogued = watched - catalogued
    reported = {video for video in uncatalogued if any(e["duration"] for e in events if e["video"] == video)}
    assert reported, "a video absent from the catalog whose duration the players report (median fallback)"
    assert uncatalogued - reported, "a video absent from the catalog and never reported (inferred duration)"


def test_player_durations_are_on_most_events_and_sometimes_differ_slightly_from_the_catalog(sample):
    landing, *_ = sample
    with open(landing / "videos" / "videos.csv", newline="", encoding="utf-8") as handle:
        catalog = {row["video_id"]: float(row["duration_seconds"]) for row in csv.DictReader(handle)}
    events = good_events(sample)
    with_duration = [e for e in events if e["duration"] is not None]
    assert len(with_duration) > 0.6 * len(events)
    differences = [abs(e["duration"] - catalog[e["video"]]) for e in with_duration if e["video"] in catalog]
    assert any(d == 0 for d in differences) and any(0 < d < 1.5 for d in differences)
    assert max(differences) < 1.5


# ---------------------------------------------------------------------------
# Noise: bad lines and duplicates
# ---------------------------------------------------------------------------


def test_bad_lines_and_duplicates_come_in_the_asked_shares(sample):
    _, stats, lines, good = sample
    bad = duplicates = text_events = 0
    for path, file_lines in lines.items():
        seen = set()
        for line, event in zip(file_lines, good[path]):
            if event is None:
                bad += 1
                assert not path.name.endswith(".parquet"), "bad lines only in text formats"
            elif line in seen:
                duplicates += 1
            else:
                seen.add(line)
                text_events += not path.name.endswith(".parquet")
    assert bad == stats["bad_lines"]
    assert duplicates == stats["duplicates"]
    assert 0.006 < bad / text_events < 0.014
    assert 0.006 < duplicates / stats["events"] < 0.014


def test_every_kind_of_bad_line_occurs(tmp_path):
    generate_landing(tmp_path, days=1, users=40, videos=10, bad_line_share=0.05, duplicate_share=0)
    kinds = Counter()
    for line in read_lines(event_files(tmp_path)[0]):
        if parse_good_event(line) is not None:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            kinds["malformed_record"] += 1
            continue
        if not field(record, "userId", "user_id"):
            kinds["missing_user_id"] += 1
        elif (field(record, "currentTime", "current_time") or 0) < 0:
            kinds["bad_position"] += 1
        elif name_key(field(record, "eventName", "event_name")) not in CANONICAL_BY_ALIAS:
            kinds["unknown_event_name"] += 1
        else:
            kinds["bad_timestamp"] += 1
    assert set(kinds) == {"malformed_record", "missing_user_id", "bad_position", "unknown_event_name", "bad_timestamp"}


def test_duplicates_are_exact_and_events_without_event_id_are_unique_by_content(sample):
    events = good_events(sample)
    ids = [e["event_id"] for e in events if e["event_id"]]
    assert len(ids) == len(set(ids))
    without_id = [(e["user"], e["video"], e["name"], e["instant"], e["position"]) for e in events if not e["event_id"]]
    assert without_id and len(without_id) == len(set(without_id))
    assert len(ids) > len(without_id), "eventId is present on most events"


def test_no_noise_when_shares_are_zero(tmp_path):
    stats = generate_landing(tmp_path, days=1, users=10, videos=8, bad_line_share=0, duplicate_share=0)
    assert stats["bad_lines"] == stats["duplicates"] == 0
    assert stats["lines"] == stats["events"] > 0


# ---------------------------------------------------------------------------
# Volume
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", [3_000, 25_000])
def test_target_events_is_met_within_ten_percent(tmp_path, target):
    stats = generate_landing(tmp_path, days=2, users=1, target_events=target, processes=1)
    assert abs(stats["events"] - target) <= 0.1 * target


def test_target_events_beyond_the_calibration_sample_is_extrapolated(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "CALIBRATION_VIEWERS", 200)
    stats = generate_landing(tmp_path, days=2, target_events=100_000, processes=1)
    assert stats["users"] > 200
    assert abs(stats["events"] - 100_000) <= 0.1 * 100_000


# ---------------------------------------------------------------------------
# Formats and spellings
# ---------------------------------------------------------------------------


def test_all_formats_are_readable(sample):
    landing, *_ = sample
    paths = {p.name: p for p in event_files(landing)}
    with gzip.open(paths["part-00000.jsonl.gz"], "rt", encoding="utf-8") as handle:
        first = json.loads(handle.readline())
    assert "timestamp" in first
    table = pq.read_table(paths["part-00000.parquet"])
    assert table.num_rows > 0
    assert table.column_names == [
        "eventId", "timestamp", "userId", "videoId", "eventName", "currentTime", "videoDuration",
        "fromPosition", "sessionId", "deviceId", "platform",
    ]
    assert str(table.schema.field("currentTime").type) == "double"


def test_camel_case_and_snake_case_field_names_are_both_present(sample):
    _, _, lines, _ = sample
    text_lines = [line for path, file_lines in lines.items() if not path.name.endswith(".parquet") for line in file_lines]
    camel = sum('"userId"' in line for line in text_lines)
    snake = sum('"user_id"' in line for line in text_lines)
    assert camel > snake > 0
    assert any('"currentTime"' in line for line in text_lines) and any('"current_time"' in line for line in text_lines)


def test_event_names_are_spelled_with_several_aliases(sample):
    raw_names = Counter(field(e["record"], "eventName", "event_name") for e in good_events(sample))
    for alias in ("play", "Video Playback Paused", "video_heartbeat", "progress", "seeked", "ended"):
        assert alias in raw_names, alias
    assert len(raw_names) > 12


# ---------------------------------------------------------------------------
# Simulated viewer behaviour
# ---------------------------------------------------------------------------


def events_by_user(sample) -> dict[str, list[dict]]:
    order = {"video_heartbeat": 0, "video_pause": 1, "video_end": 2, "video_seek": 3, "video_resume": 4, "video_play": 5}
    users = defaultdict(list)
    for event in good_events(sample):
        users[event["user"]].append(event)
    for events in users.values():
        events.sort(key=lambda e: (e["instant"], order[e["name"]], e["position"]))
    return users


def test_viewers_replay_switch_close_and_cross_midnight(sample):
    _, stats, _, _ = sample
    behaviour = stats["behaviour"]
    for key in ("sittings", "views", "replays", "switches", "browser_closes", "pause_exits", "completed_views",
                "midnight_crossings", "forward_seeks", "backward_seeks", "pauses"):
        assert behaviour.get(key, 0) > 0, key

    replays = switches = crossings = 0
    for events in events_by_user(sample).values():
        for previous, current in zip(events, events[1:]):
            gap = (current["instant"] - previous["instant"]).total_seconds()
            same_video = previous["video"] == current["video"]
            if same_video and previous["name"] == "video_end" and current["name"] == "video_play" and current["position"] == 0:
                replays += 1
            if not same_video and previous["name"] == "video_heartbeat" and current["name"] == "video_play" and gap < 20:
                switches += 1
            if same_video and previous["instant"].date() != current["instant"].date() and gap < 1800:
                crossings += 1
    assert replays > 0 and switches > 0 and crossings > 0


def test_heartbeats_every_ten_seconds_at_the_playback_rate(sample):
    steps = Counter()
    for events in events_by_user(sample).values():
        for previous, current in zip(events, events[1:]):
            if current["name"] == "video_heartbeat" and previous["video"] == current["video"]:
                wall = (current["instant"] - previous["instant"]).total_seconds()
                if previous["name"] in ("video_play", "video_resume", "video_heartbeat"):
                    assert 9.9 <= wall <= 10.1
                    steps[round((current["position"] - previous["position"]) / wall, 2)] += 1
    assert steps[1.0] > 0.7 * sum(steps.values())
    assert steps[1.5] > 0 and steps[2.0] > 0
    assert max(steps) <= 2.0


def test_seeks_go_both_ways_with_and_without_from_position(sample):
    seeks = [e for e in good_events(sample) if e["name"] == "video_seek"]
    with_origin = [s for s in seeks if s["from_position"] is not None]
    assert with_origin and len(with_origin) < len(seeks)
    assert any(s["position"] > s["from_position"] for s in with_origin)
    assert any(s["position"] < s["from_position"] for s in with_origin)


def test_pauses_are_followed_by_resumes_and_ends_are_at_the_duration(sample):
    names = Counter()
    for events in events_by_user(sample).values():
        for previous, current in zip(events, events[1:]):
            if previous["name"] == "video_pause" and previous["video"] == current["video"]:
                names[current["name"]] += 1
    assert names["video_resume"] > 0
    for event in good_events(sample):
        if event["name"] == "video_end" and event["duration"] is not None:
            assert event["position"] == pytest.approx(event["duration"], abs=0.001)


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

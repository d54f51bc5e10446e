"""How players spell events: timestamps, field-name cases, event-name aliases, formats, bad lines, duplicates.

The bad and duplicate lines must come in the asked shares (SEMANTICS.md
section 2), and every player's event names must be aliases of the contract.
"""

import gzip
import json
import re
from collections import Counter

import pyarrow.parquet as pq

from video_assets.sample_data import generate_landing
from video_assets.sample_data.formats import UNKNOWN_EVENT_NAMES
from video_assets.sample_data.players import END, HEARTBEAT, PAUSE, PLAY, PLAYER_SDKS, RESUME, SEEK
from video_assets.transforms.events import EVENT_NAMES
from video_assets_tests.sample_data.landing_files import (
    CANONICAL_BY_ALIAS,
    event_files,
    field,
    folder_date,
    good_events,
    name_key,
    parse_good_event,
    read_lines,
)


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


def test_event_kinds_are_positions_in_the_contracts_event_names():
    assert EVENT_NAMES[PLAY] == "video_play"
    assert EVENT_NAMES[PAUSE] == "video_pause"
    assert EVENT_NAMES[RESUME] == "video_resume"
    assert EVENT_NAMES[SEEK] == "video_seek"
    assert EVENT_NAMES[HEARTBEAT] == "video_heartbeat"
    assert EVENT_NAMES[END] == "video_end"


def test_every_player_spells_each_event_kind_with_an_alias_of_that_kind():
    for sdk in PLAYER_SDKS:
        assert [CANONICAL_BY_ALIAS.get(name_key(name)) for name in sdk.event_names] == list(EVENT_NAMES), sdk.platform
    roku = next(sdk for sdk in PLAYER_SDKS if sdk.platform == "roku")
    assert CANONICAL_BY_ALIAS[name_key(roku.event_names[END])] == "video_end"  # "video-completed"
    assert not [name for name in UNKNOWN_EVENT_NAMES if name_key(name) in CANONICAL_BY_ALIAS]

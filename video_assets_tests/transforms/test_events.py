"""Stage 1 (SEMANTICS.md 1-2): parsing, aliases, quarantine reasons, duplicates, reconciliation."""

import gzip
import hashlib
import json
import math
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from video_assets.sources.event_files import read_landing_lines
from video_assets.sources.file_listing import list_day_files
from video_assets.frames import literal_frame
from video_assets.transforms import events
from video_assets_tests.builders import rows_of

DAY = "2024-01-15"


def line(**fields):
    base = {"eventId": None, "timestamp": "2024-01-15T10:00:00Z", "userId": "u", "videoId": "v",
            "eventName": "play", "currentTime": 0}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None})


def classify(spark, lines, day=DAY):
    frame = literal_frame(
        spark,
        [(date.fromisoformat(day), f"landing/events/date={day}/part.jsonl", text) for text in lines],
        "partition_date date, source_file string, raw_line string",
    )
    return events.classify_lines(frame).cache()


QUARANTINE_CASES = {
    "malformed_record": ["{not json", "[1, 2]"],
    "missing_timestamp": [line(timestamp=None), line(timestamp="")],
    "missing_user_id": [line(userId=None), line(userId=" NULL ")],
    "missing_video_id": [line(videoId="  "), line(videoId="nUlL")],
    "missing_event_name": [line(eventName=None)],
    "missing_current_time": [line(currentTime=None)],
    "bad_timestamp": [line(timestamp="yesterday at noon")],
    "bad_position": [line(currentTime=-1), line(currentTime="abc")],
    "unknown_event_name": [line(eventName="dance")],
    "wrong_partition": [line(timestamp="2024-01-16T00:00:01Z"), line(timestamp="2024-01-15T01:00:00+02:00")],
}


@pytest.mark.parametrize("reason", sorted(QUARANTINE_CASES))
def test_each_quarantine_reason_keeps_the_original_line(spark, reason):
    bad_lines = QUARANTINE_CASES[reason]
    quarantined = rows_of(events.quarantined_records(classify(spark, bad_lines)), ["raw_line"])
    assert [q["reason"] for q in quarantined] == [reason] * len(bad_lines)
    assert sorted(q["raw_line"] for q in quarantined) == sorted(bad_lines)
    assert {q["partition_date"] for q in quarantined} == {date(2024, 1, 15)}
    assert {q["source_file"] for q in quarantined} == {f"landing/events/date={DAY}/part.jsonl"}


def test_aliases_and_both_naming_styles(spark):
    names = {
        "Video Playback Started": "video_play", "PAUSED": "video_pause", "video-playback-resumed": "video_resume",
        "seeked": "video_seek", "timeupdate": "video_heartbeat", "video_content_completed": "video_end",
        "video_heartbeat": "video_heartbeat",
    }
    camel = [line(eventId=f"c{i}", eventName=name) for i, name in enumerate(names)]
    snake = [
        json.dumps({"event_id": "s1", "timestamp": "2024-01-15T10:00:00Z", "user_id": "u2", "video_id": "v2",
                    "event_name": "Video Playback Paused", "current_time": 12.5, "video_duration": 300,
                    "from_position": 3})
    ]
    clean = {r["event_id"]: r for r in rows_of(events.clean_events(classify(spark, camel + snake)))}
    assert {clean[f"c{i}"]["event_name"] for i in range(len(names))} == set(names.values())
    for i, raw_name in enumerate(names):
        assert clean[f"c{i}"]["event_name"] == names[raw_name]
    s = clean["s1"]
    assert (s["user_id"], s["video_id"], s["event_name"], s["position_seconds"]) == ("u2", "v2", "video_pause", 12.5)
    assert (s["reported_duration_seconds"], s["from_position_seconds"]) == (300.0, 3.0)


def test_epoch_milliseconds_and_offsets_become_utc(spark):
    lines = [
        line(eventId="ms", timestamp=1705312800000),  # 2024-01-15T10:00:00Z
        line(eventId="offset", timestamp="2024-01-15T02:30:00+02:00"),  # 00:30 UTC, still the 15th
        line(eventId="late", timestamp="2024-01-15T23:30:00-02:00"),  # 01:30 UTC on the 16th
    ]
    classified = classify(spark, lines)
    clean = {r["event_id"]: r for r in rows_of(events.clean_events(classified))}
    assert clean["ms"]["event_ts"] == datetime(2024, 1, 15, 10, 0)
    assert clean["offset"]["event_ts"] == datetime(2024, 1, 15, 0, 30)
    [late] = rows_of(events.quarantined_records(classified))
    assert late["reason"] == "wrong_partition"


def test_duplicates_by_event_id_and_by_content(spark):
    same_id = [line(eventId="a", currentTime=1), line(eventId="a", currentTime=2)]
    same_content = [line(currentTime=5), line(currentTime=5), line(currentTime=5, eventName="Play")]
    different = [line(currentTime=6)]
    classified = classify(spark, same_id + same_content + different)
    counts = {r["status"]: r["count"] for r in rows_of(events.status_counts(classified))}
    assert counts == {"valid": 3, "duplicate": 3}
    kept = rows_of(events.clean_events(classified), ["event_key"])
    assert sorted(r["position_seconds"] for r in kept) == [1.0, 5.0, 6.0]


def test_content_keys_are_the_hash_of_user_video_name_time_and_position(spark):
    # Copies are matched on the columns themselves; only the kept row gets the key, worked out here by hand.
    [kept] = rows_of(events.clean_events(classify(spark, [line(currentTime=5), line(currentTime=5)])))
    micros = 1705312800 * 1_000_000  # 2024-01-15T10:00:00Z
    content = "\u0001".join(["1", "u", "1", "v", "video_play", str(micros), "5.0"])
    assert kept["event_key"] == "content:" + hashlib.sha256(content.encode()).hexdigest()
    [with_id] = rows_of(events.clean_events(classify(spark, [line(eventId="e-1")])))
    assert with_id["event_key"] == "id:e-1"


def test_user_and_video_ids_holding_the_separator_are_different_events(spark):
    # ("a␁b", "c") and ("a", "b␁c") joined by ␁ give one text: the keys' length prefixes keep them apart.
    lines = [line(userId="a\u0001b", videoId="c"), line(userId="a", videoId="b\u0001c")]
    kept = rows_of(events.clean_events(classify(spark, lines)))
    assert sorted(r["user_id"] for r in kept) == ["a", "a\u0001b"]
    assert len({r["event_key"] for r in kept}) == 2


def test_a_position_of_minus_zero_is_position_zero_and_a_copy_of_it(spark):
    lines = [line(currentTime=0), json.dumps({**json.loads(line()), "currentTime": -0.0})]
    assert '"currentTime": -0.0' in lines[1]
    classified = classify(spark, lines)
    counts = {r["status"]: r["count"] for r in rows_of(events.status_counts(classified))}
    assert counts == {"valid": 1, "duplicate": 1}
    [kept] = rows_of(events.clean_events(classified))
    assert math.copysign(1.0, kept["position_seconds"]) == 1.0


def test_of_copies_of_one_event_id_the_earliest_is_kept(spark):
    # The earlier copy is kept; of copies at the same time, the one at the smaller position (by line text, b's
    # "Play" copy would have been kept: upper case sorts first).
    later = line(eventId="a", eventName="Play", timestamp="2024-01-15T10:00:05Z", currentTime=1)
    earlier = line(eventId="a", eventName="play", timestamp="2024-01-15T10:00:01Z", currentTime=9)
    same_time_further = line(eventId="b", eventName="Play", currentTime=5)
    same_time_nearer = line(eventId="b", eventName="play", currentTime=3)
    lines = [later, earlier, same_time_further, same_time_nearer]
    kept = rows_of(events.clean_events(classify(spark, lines)), ["event_id"])
    assert [(r["event_id"], r["position_seconds"], r["raw_event_name"]) for r in kept] == [
        ("a", 9.0, "play"), ("b", 3.0, "play")
    ]
    assert set(events.COPY_ORDER) == set(events.RAW_EVENT_COLUMNS) - {"event_key", "event_date"}


def test_reconciliation_lines_equal_valid_plus_quarantined_plus_duplicates(spark):
    lines = [line(eventId="x"), line(eventId="x"), "garbage", line(eventName="dance"), line(eventId="y")]
    classified = classify(spark, lines)
    valid = events.clean_events(classified).count()
    quarantined = events.quarantined_records(classified).count()
    duplicates = {r["status"]: r["count"] for r in rows_of(events.status_counts(classified))}[events.DUPLICATE]
    assert (valid, quarantined, duplicates) == (2, 2, 1)
    assert valid + quarantined + duplicates == len(lines)


def test_reads_jsonl_gzip_and_parquet_and_skips_blank_lines(spark, landing_dir):
    folder = landing_dir / "events" / f"date={DAY}"
    folder.mkdir()
    (folder / "a.jsonl").write_text(line(eventId="j") + "\n\n   \n")
    with gzip.open(folder / "b.jsonl.gz", "wt") as handle:
        handle.write(line(eventId="g") + "\n")
    pq.write_table(
        pa.table({"eventId": ["p"], "timestamp": [1705312800000], "userId": ["u"], "videoId": ["v"],
                  "eventName": ["pause"], "currentTime": [4.0]}),
        folder / "c.parquet",
    )
    (folder / "_SUCCESS").write_text("")
    files = list_day_files(spark, str(landing_dir), DAY)
    assert (len(files.text_files), len(files.parquet_files)) == (2, 1)
    classified = events.classify_lines(read_landing_lines(spark, [files]))
    clean = {r["event_id"]: r for r in rows_of(events.clean_events(classified))}
    assert sorted(clean) == ["g", "j", "p"]
    assert clean["p"]["event_name"] == "video_pause" and clean["p"]["position_seconds"] == 4.0
    assert clean["g"]["source_file"].endswith("b.jsonl.gz")


def test_missing_day_folder_reads_as_no_lines(spark, landing_dir):
    files = list_day_files(spark, str(landing_dir), "2024-02-01")
    assert files.is_empty
    assert read_landing_lines(spark, [files]).count() == 0


GOOD = line(eventId="g")
NOT_ONE_OBJECT = {
    "trailing garbage": GOOD + " garbage",
    "two objects": GOOD + line(eventId="second"),
    "two objects with a comma": GOOD + ", " + line(eventId="second"),
    "a closing bracket after the object": GOOD + "] [",
    "a closing brace after the object": GOOD + "}",
    "single quotes": GOOD.replace('"', "'"),
    "a key twice, the last one boolean": GOOD[:-1] + ', "userId": true}',
    "NaN": line(currentTime=0).replace('"currentTime": 0', '"currentTime": NaN'),
    "a leading zero": line(currentTime=0).replace('"currentTime": 0', '"currentTime": 07'),
    "a trailing comma": GOOD[:-1] + ", }",
    "a comment": GOOD[:-1] + " /* from the player */}",
    "userId object": line(userId={"id": "u"}),
    "videoId array": line(videoId=["v"]),
    "eventName boolean": line(eventName=True),
    "snake_case twin boolean": line(user_id=False),
    "eventId object": line(eventId={}),
    "sessionId array": line(sessionId=[]),
    "deviceId boolean": line(deviceId=True),
    "platform object": line(platform={"os": "ios"}),
    "JSON null": "null",
    "a closing bracket first": "]",
    "an empty array then an object": "]," + GOOD,
}


def test_a_line_that_is_not_exactly_one_json_object_is_malformed(spark):
    classified = classify(spark, list(NOT_ONE_OBJECT.values()))
    reasons = {r["raw_line"]: r["reason"] for r in rows_of(events.quarantined_records(classified))}
    assert {name: reasons.get(text) for name, text in NOT_ONE_OBJECT.items()} == {
        name: "malformed_record" for name in NOT_ONE_OBJECT
    }
    assert events.clean_events(classified).count() == 0


def test_one_object_is_valid_whatever_its_values_look_like(spark):
    lines = {
        "number id": line(eventId="n", userId=123),
        "string true": line(eventId="t", userId="true"),
        "four letters that do not spell null": line(eventId="none", userId="none"),
        "string like an object": line(eventId="o", userId="{not an object"),
        "nested lookalike key":
            GOOD[:-1].replace('"g"', '"nest"') + ', "extra": {"userId": true, "list": [1, {"a": []}]}}',
        "byte-order mark first": "\ufeff" + line(eventId="bom"),
        "JSON whitespace around and a bare CR between tokens": " \t" + line(eventId="ws").replace(", ", ",\r ") + " \t",
        "boolean in a field that is not an id": line(eventId="dur", videoDuration=True),
        "a key twice: the last one counts": line(eventId="twice", userId=True)[:-1] + ', "userId": "last"}',
    }
    classified = classify(spark, list(lines.values()))
    assert rows_of(events.quarantined_records(classified)) == []
    clean = {r["event_id"]: r for r in rows_of(events.clean_events(classified))}
    assert sorted(clean) == ["bom", "dur", "n", "nest", "none", "o", "t", "twice", "ws"]
    assert clean["none"]["user_id"] == "none"
    assert (clean["n"]["user_id"], clean["t"]["user_id"], clean["o"]["user_id"]) == ("123", "true", "{not an object")
    assert clean["twice"]["user_id"] == "last"
    assert clean["dur"]["reported_duration_seconds"] is None


def test_a_timestamp_json_number_is_epoch_milliseconds_with_fractions(spark):
    cases = {
        "fraction": line(eventId="fraction", timestamp=1705312800000.5),  # 10:00:00.0005Z
        "whole": line(eventId="whole", timestamp=1705312800000),
        "exponent": line(eventId="exponent").replace('"2024-01-15T10:00:00Z"', "1.7053128000015E12"),
        "digits string": line(eventId="digits string", timestamp="1705312800000.25"),
        "ISO string": line(eventId="ISO string", timestamp="2024-01-15T10:00:00.5+00:00"),
    }
    not_epoch = line(eventId="exponent string", timestamp="1.7053128E12")  # a string: digits or ISO only
    classified = classify(spark, [*cases.values(), not_epoch])
    clean = {r["event_id"]: r["event_ts"] for r in rows_of(events.clean_events(classified))}
    assert clean == {
        "fraction": datetime(2024, 1, 15, 10, 0, 0, 500),
        "whole": datetime(2024, 1, 15, 10, 0),
        "exponent": datetime(2024, 1, 15, 10, 0, 0, 1500),  # 1705312800001.5 ms
        "digits string": datetime(2024, 1, 15, 10, 0, 0, 250),
        "ISO string": datetime(2024, 1, 15, 10, 0, 0, 500000),
    }
    [rejected] = rows_of(events.quarantined_records(classified))
    assert (rejected["raw_line"], rejected["reason"]) == (not_epoch, "bad_timestamp")


def test_a_read_error_row_is_unreadable_file_before_any_other_reason(spark):
    frame = literal_frame(
        spark,
        [
            (date(2024, 1, 15), "f/date=2024-01-15/a.jsonl.gz", "cannot read gzip file a.jsonl.gz: EOF", None,
             "cannot read gzip file a.jsonl.gz: EOF"),
            (date(2024, 1, 15), "f/date=2024-01-15/b.jsonl", line(eventId="b"), None, None),
            (date(2024, 1, 15), "f/date=2024-01-15/c.jsonl", OUTSIDE, None, OUTSIDE),
        ],
        events.LINE_SCHEMA,
    )
    classified = events.classify_lines(frame)
    unreadable, outside = rows_of(events.quarantined_records(classified), ["source_file"])
    assert unreadable == {
        "partition_date": date(2024, 1, 15), "reason": "unreadable_file",
        "raw_line": "cannot read gzip file a.jsonl.gz: EOF", "raw_bytes": None,
        "source_file": "f/date=2024-01-15/a.jsonl.gz",
    }
    assert (outside["reason"], outside["raw_line"]) == ("outside_landing_zone", OUTSIDE)
    assert [r["event_id"] for r in rows_of(events.clean_events(classified))] == ["b"]


OUTSIDE = "outside_landing_zone: c.jsonl resolves outside the landing zone; not read"


def _executed_plan(frame) -> str:
    return frame._jdf.queryExecution().executedPlan().toString()


def _exchanges(frame) -> int:
    return _executed_plan(frame).count("Exchange ")


def test_the_quarantine_needs_no_shuffle_and_the_clean_events_one_shuffle_and_one_sort(spark):
    classified = events.classify_lines(
        literal_frame(
            spark,
            [(date(2024, 1, 15), "f", GOOD)], "partition_date date, source_file string, raw_line string"
        )
    )
    assert _exchanges(classified) == 0
    assert _exchanges(events.quarantined_records(classified)) == 0
    clean_plan = _executed_plan(events.clean_events(classified))
    assert clean_plan.count("Exchange ") == 1
    # No per-group limit before the shuffle (it would sort every candidate once more).
    assert "WindowGroupLimit" not in clean_plan
    assert clean_plan.count("Sort [") == 1

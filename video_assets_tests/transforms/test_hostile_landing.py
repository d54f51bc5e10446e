"""Stage 1 on hostile landing files (SEMANTICS.md 1-2): exact bytes on disk -> reason codes and reconciliation.

Every test writes its day folder byte by byte, runs the raw stage's own
functions (list_day_files -> read_landing_lines -> classify_lines ->
clean_events / quarantined_records) and checks, per day, that
lines read = valid + quarantined + duplicates.
"""

import gzip
import json
import random
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from video_assets.sources.event_files import day_has_records, read_landing_lines
from video_assets.sources.file_listing import list_day_files
from video_assets.transforms import events
from video_assets_tests.builders import rows_of

DAY = "2024-01-15"
# Unicode's White_Space property, plus U+FEFF (a byte-order mark): what makes a line blank.
WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def event(event_id, **fields) -> str:
    record = {"eventId": event_id, "timestamp": f"{DAY}T10:00:00Z", "userId": "u", "videoId": "v",
              "eventName": "play", "currentTime": 1}
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not None})


def day_folder(landing_dir, day=DAY):
    folder = landing_dir / "events" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_day(spark, landing_dir, day=DAY):
    files = list_day_files(spark, str(landing_dir), day)
    classified = events.classify_lines(read_landing_lines(spark, [files])).cache()
    return files, classified


def reconciliation(classified) -> dict:
    """Per day: lines read (rows classified), valid, quarantined, duplicates; asserts they add up."""
    lines = Counter(
        {r["partition_date"].isoformat(): r["count"] for r in rows_of(classified.groupBy("partition_date").count())}
    )
    valid = Counter(
        {r["event_date"].isoformat(): r["count"]
         for r in rows_of(events.clean_events(classified).groupBy("event_date").count())}
    )
    quarantined = Counter(
        {r["partition_date"].isoformat(): r["count"]
         for r in rows_of(events.quarantined_records(classified).groupBy("partition_date").count())}
    )
    duplicates = Counter(
        {r["partition_date"].isoformat(): r["count"]
         for r in rows_of(events.status_counts(classified)) if r["status"] == events.DUPLICATE}
    )
    result = {}
    for day in lines:
        assert lines[day] == valid[day] + quarantined[day] + duplicates[day], day
        result[day] = {"lines": lines[day], "valid": valid[day], "quarantined": quarantined[day],
                       "duplicates": duplicates[day]}
    return result


def quarantine(classified) -> list[dict]:
    return rows_of(events.quarantined_records(classified), ["source_file", "raw_line"])


def clean_ids(classified) -> list[str]:
    return sorted(r["event_id"] for r in rows_of(events.clean_events(classified)))


def test_a_line_ends_at_a_newline_only(spark, landing_dir):
    two_on_one_line = event("a") + "\r" + event("b")
    (day_folder(landing_dir) / "part.jsonl").write_bytes(
        (event("crlf") + "\r\n"
         + event("cr-inside").replace(", ", ",\r ") + "\n"  # \r between JSON tokens is whitespace
         + two_on_one_line + "\n"
         + event("no-final-newline")).encode()
    )
    _, classified = read_day(spark, landing_dir)
    assert reconciliation(classified) == {DAY: {"lines": 4, "valid": 3, "quarantined": 1, "duplicates": 0}}
    assert clean_ids(classified) == ["cr-inside", "crlf", "no-final-newline"]
    [rejected] = quarantine(classified)
    assert (rejected["reason"], rejected["raw_line"], rejected["raw_bytes"]) == (
        "malformed_record", two_on_one_line, None
    )
    raw_lines = {r["event_id"]: r["raw_line"] for r in rows_of(classified.where("reason is null"))}
    assert raw_lines["crlf"] == event("crlf")
    assert raw_lines["cr-inside"] == event("cr-inside").replace(", ", ",\r ")


def test_lines_of_only_unicode_whitespace_are_not_records(spark, landing_dir):
    blanks = ["", " ", "\t", "\u00a0", "\u2003", "\ufeff", "\u3000\u2028 ", "\r", "\x85", "\ufeff \u00a0"]
    zero_width_space = "\u200b"  # a format character, not whitespace: a record, and not JSON
    text = "\n".join([*blanks[:5], event("kept"), *blanks[5:], zero_width_space]) + "\n"
    (day_folder(landing_dir) / "part.jsonl").write_bytes(text.encode())
    _, classified = read_day(spark, landing_dir)
    assert reconciliation(classified) == {DAY: {"lines": 2, "valid": 1, "quarantined": 1, "duplicates": 0}}
    assert clean_ids(classified) == ["kept"]
    [rejected] = quarantine(classified)
    assert (rejected["reason"], rejected["raw_line"]) == ("malformed_record", zero_width_space)


def test_invalid_utf8_is_malformed_valid_text_in_the_quarantine_and_the_bytes_kept(spark, landing_dir):
    bom_and_noise = b"\xff\xfe"
    latin1_in_a_value = event("latin1", userId="PLACEHOLDER").encode().replace(b"PLACEHOLDER", b"Ren\xe9")
    encoded_surrogate = b"\xed\xa0\x80"
    accented_but_valid = event("accent", eventName="lecture lancée")
    (day_folder(landing_dir) / "part.jsonl").write_bytes(
        bom_and_noise + b"\n" + latin1_in_a_value + b"\r\n" + encoded_surrogate + b"\n"
        + accented_but_valid.encode() + b"\n" + event("fine").encode() + b"\n"
    )
    _, classified = read_day(spark, landing_dir)
    assert reconciliation(classified) == {DAY: {"lines": 5, "valid": 1, "quarantined": 4, "duplicates": 0}}
    rejected = {r["raw_bytes"] or r["raw_line"].encode(): r for r in quarantine(classified)}
    assert set(rejected) == {bom_and_noise, latin1_in_a_value, encoded_surrogate, accented_but_valid.encode()}
    assert rejected[bom_and_noise]["raw_line"] == "\ufffd\ufffd"
    assert rejected[latin1_in_a_value]["raw_line"] == latin1_in_a_value.decode("utf-8", "replace")
    assert set(rejected[encoded_surrogate]["raw_line"]) == {"\ufffd"}
    assert {r["reason"] for key, r in rejected.items() if key != accented_but_valid.encode()} == {"malformed_record"}
    # Valid UTF-8 keeps no copy of its bytes, and is judged on its content.
    accent = rejected[accented_but_valid.encode()]
    assert (accent["reason"], accent["raw_line"], accent["raw_bytes"]) == (
        "unknown_event_name", accented_but_valid, None
    )
    assert clean_ids(classified) == ["fine"]


def test_only_jsonl_jsonl_gz_and_parquet_are_read_in_any_letter_case(spark, landing_dir):
    folder = day_folder(landing_dir)
    (folder / "a.JSONL").write_text(event("a") + "\n")
    (folder / "b.Jsonl.Gz").write_bytes(gzip.compress((event("b") + "\n").encode()))
    pq.write_table(pa.table({"eventId": ["c"], "timestamp": [f"{DAY}T10:00:00Z"], "userId": ["u"], "videoId": ["v"],
                             "eventName": ["play"], "currentTime": [1.0]}), folder / "c.PARQUET")
    skipped = ["d.json", "e.json.gz", "f.txt", "g.csv", "h.json.bz2"]
    for name in skipped:
        (folder / name).write_text(event(name) + "\n")
    for hidden in ["_SUCCESS", ".part.jsonl.crc", ".hidden.jsonl", "_temporary.jsonl"]:
        (folder / hidden).write_text(event(hidden) + "\n")

    files, classified = read_day(spark, landing_dir)
    names = lambda paths: [p.rsplit("/", 1)[-1] for p in paths]  # noqa: E731
    assert names(files.text_files) == ["a.JSONL", "b.Jsonl.Gz"]
    assert names(files.parquet_files) == ["c.PARQUET"]
    assert names(files.skipped_files) == skipped
    assert reconciliation(classified) == {DAY: {"lines": 3, "valid": 3, "quarantined": 0, "duplicates": 0}}
    assert clean_ids(classified) == ["a", "b", "c"]


def test_a_truncated_or_fake_gzip_is_one_unreadable_record_and_the_rest_of_the_day_is_read(spark, landing_dir):
    folder = day_folder(landing_dir)
    (folder / "good one.jsonl").write_text(event("g1") + "\n" + event("g2") + "\n")
    (folder / "whole.jsonl.gz").write_bytes(gzip.compress((event("w") + "\n").encode()))
    full = gzip.compress("".join(event(f"cut{i}") + "\n" for i in range(300)).encode())
    (folder / "cut half.jsonl.gz").write_bytes(full[: len(full) // 2])
    (folder / "fake.jsonl.gz").write_text(event("fake") + "\n")

    _, classified = read_day(spark, landing_dir)
    assert reconciliation(classified) == {DAY: {"lines": 5, "valid": 3, "quarantined": 2, "duplicates": 0}}
    assert clean_ids(classified) == ["g1", "g2", "w"]
    cut, fake = quarantine(classified)
    assert {cut["reason"], fake["reason"]} == {"unreadable_file"}
    # Named as Spark names the files it reads (%20), so one file has one spelling everywhere.
    assert cut["source_file"].endswith(f"date={DAY}/cut%20half.jsonl.gz")
    assert fake["source_file"].endswith(f"date={DAY}/fake.jsonl.gz")
    assert cut["raw_line"].startswith("cannot read gzip file cut half.jsonl.gz: ") and "EOF" in cut["raw_line"]
    assert fake["raw_line"].startswith("cannot read gzip file fake.jsonl.gz: ") and "gzip" in fake["raw_line"][40:]
    assert (cut["raw_bytes"], fake["raw_bytes"]) == (None, None)
    sources = {r["source_file"] for r in rows_of(events.clean_events(classified))}
    assert any(s.endswith("good%20one.jsonl") for s in sources)


def test_a_corrupt_or_unreadable_parquet_is_one_unreadable_record(spark, landing_dir):
    folder = day_folder(landing_dir)
    fields = {"timestamp": [f"{DAY}T10:00:00Z"] * 2, "userId": ["u", "u"], "videoId": ["v", "v"],
              "eventName": ["play", "pause"], "currentTime": [1.0, 2.0]}
    pq.write_table(pa.table({"eventId": ["p1", "p2"], **fields}), folder / "ok.parquet")
    (folder / "random.parquet").write_bytes(bytes(random.Random(7).randrange(256) for _ in range(2048)))
    (folder / "empty.parquet").write_bytes(b"")
    # Nanosecond timestamps: a Parquet type Spark does not read.
    one_row = {k: v[:1] for k, v in fields.items()}
    pq.write_table(pa.table({"eventId": ["n"], "at": pa.array([1], pa.timestamp("ns")), **one_row}),
                   folder / "nanos.parquet")
    # Two columns that are one name to a case-insensitive reader.
    pq.write_table(pa.table({"eventId": ["t"], "userid": ["x"], **one_row}), folder / "twice.parquet")

    _, classified = read_day(spark, landing_dir)
    assert reconciliation(classified) == {DAY: {"lines": 6, "valid": 2, "quarantined": 4, "duplicates": 0}}
    assert clean_ids(classified) == ["p1", "p2"]
    rejected = {r["source_file"].rsplit("/", 1)[-1]: r for r in quarantine(classified)}
    assert sorted(rejected) == ["empty.parquet", "nanos.parquet", "random.parquet", "twice.parquet"]
    for name, record in rejected.items():
        assert record["reason"] == "unreadable_file"
        assert record["raw_line"].startswith(f"cannot read Parquet file {name}: ")
    assert "NANOS" in rejected["nanos.parquet"]["raw_line"]


def test_parquet_files_of_one_day_may_give_a_column_different_types(spark, landing_dir):
    folder = day_folder(landing_dir)
    common = {"userId": ["u"], "videoId": ["v"], "eventName": ["play"]}
    pq.write_table(pa.table({"eventId": ["ints"], "timestamp": [1705312800000], "currentTime": [4], **common}),
                   folder / "a.parquet")
    pq.write_table(
        pa.table({"eventId": ["texts"], "timestamp": [f"{DAY}T11:00:00Z"], "currentTime": ["12.5"], **common}),
        folder / "b.parquet",
    )
    _, classified = read_day(spark, landing_dir)
    assert reconciliation(classified) == {DAY: {"lines": 2, "valid": 2, "quarantined": 0, "duplicates": 0}}
    clean = {r["event_id"]: r["position_seconds"] for r in rows_of(events.clean_events(classified))}
    assert clean == {"ints": 4.0, "texts": 12.5}


# ---------------------------------------------------------------- seeded fuzz


def _hostile_line(rng: random.Random) -> bytes:
    """One line's bytes (no terminator): valid, duplicate, blank or broken in one of many ways."""
    kind = rng.randrange(16)
    event_id = f"e{rng.randrange(60)}"  # a small pool: duplicates happen
    if kind <= 3:
        return event(event_id, currentTime=rng.randrange(100)).encode()
    if kind == 4:  # duplicates by content (no eventId)
        return event(None, currentTime=rng.randrange(5)).encode()
    if kind == 5:  # blank
        return "".join(rng.choice(sorted(WHITESPACE - {"\n"})) for _ in range(rng.randrange(4))).encode()
    if kind == 6:  # random bytes, often invalid UTF-8
        return bytes(rng.choice([b for b in range(256) if b != 0x0A]) for _ in range(rng.randrange(1, 30)))
    if kind == 7:
        return event(event_id).encode() + rng.choice([b" x", b"}", b"]", b"{}", b",1", b"\r" + event("z").encode()])
    if kind == 8:
        key = rng.choice(["userId", "eventName", "videoId", "deviceId"])
        return event(event_id, **{key: rng.choice([{}, [], True])}).encode()
    if kind == 9:
        return event(event_id, **rng.choice([{"timestamp": None}, {"userId": ""}, {"videoId": " "}, {"eventName": None},
                                             {"currentTime": None}, {"timestamp": "noon"}, {"currentTime": -3},
                                             {"eventName": "dance"}, {"timestamp": "2024-01-16T00:00:01Z"}])).encode()
    if kind == 10:  # invalid UTF-8 inside a valid-looking event
        return event(event_id, userId="@@").encode().replace(b"@@", bytes([rng.choice([0x80, 0xC3, 0xE9, 0xFF])]))
    if kind == 11:
        return event(event_id, timestamp=1705312800000 + rng.random() * 1000).encode()
    if kind == 12:  # deep nesting
        return (b'{"a":' * 3000) + b"1" + (b"}" * 3000)
    if kind == 13:  # a long line
        return event(event_id, platform="x" * 50_000).encode()
    if kind == 14:  # NUL and other controls
        return event(event_id).encode().replace(b'"u"', b'"u\x00\x1c"')
    return event(event_id).replace(", ", rng.choice([",\r ", ",\t", ", \u00a0"])).encode()


def _non_blank_lines(data: bytes) -> int:
    """Lines of a text file's bytes as the contract defines them, counted without Spark."""
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()  # the file ends with a newline: nothing after it
    count = 0
    for piece in pieces:
        text = piece.removesuffix(b"\r").decode("utf-8", "replace")
        count += any(ch not in WHITESPACE for ch in text)
    return count


@pytest.mark.parametrize("seed", [11, 2024])
def test_seeded_hostile_day_reconciles_and_its_quarantine_reads_back_without_spark(spark, landing_dir, tmp_path, seed):
    from deltalake import DeltaTable

    rng = random.Random(seed)
    folder = day_folder(landing_dir)
    expected_lines = 0
    invalid_utf8 = set()

    def text_bytes(count: int) -> bytes:
        lines = [_hostile_line(rng) for _ in range(count)]
        for piece in lines:
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:
                invalid_utf8.add(piece)
        ends = [rng.choice([b"\n", b"\n", b"\r\n"]) for _ in lines]
        if rng.random() < 0.5:
            ends[-1] = b""  # no newline at the end of the file
        return b"".join(line + end for line, end in zip(lines, ends, strict=True))

    for name in ["a.jsonl", "b.JSONL", "c.jsonl"]:
        data = text_bytes(rng.randrange(80, 140))
        (folder / name).write_bytes(data)
        expected_lines += _non_blank_lines(data)
    data = text_bytes(60)
    (folder / "d.jsonl.gz").write_bytes(gzip.compress(data))
    expected_lines += _non_blank_lines(data)
    whole = gzip.compress(text_bytes(200))
    (folder / "e.jsonl.gz").write_bytes(whole[: rng.randrange(20, len(whole) - 20)])
    (folder / "f.parquet").write_bytes(bytes(rng.randrange(256) for _ in range(500)))
    expected_lines += 2  # one record per unreadable file
    rows = 25
    pq.write_table(
        pa.table({"eventId": [f"e{rng.randrange(60)}" for _ in range(rows)], "timestamp": [1705312800000] * rows,
                  "userId": [rng.choice(["u", "", None]) for _ in range(rows)], "videoId": ["v"] * rows,
                  "eventName": [rng.choice(["play", "dance", "Video Playback Paused"]) for _ in range(rows)],
                  "currentTime": [rng.choice([1.5, -1.0, None]) for _ in range(rows)]}),
        folder / "g.parquet",
    )
    expected_lines += rows
    (folder / "h.txt").write_bytes(text_bytes(10))  # skipped, not counted

    files, classified = read_day(spark, landing_dir)
    assert [p.rsplit("/", 1)[-1] for p in files.skipped_files] == ["h.txt"]
    counts = reconciliation(classified)[DAY]
    assert counts["lines"] == expected_lines
    assert counts["valid"] + counts["quarantined"] + counts["duplicates"] == expected_lines
    assert counts["valid"] > 0 and counts["duplicates"] > 0

    table_path = str(tmp_path / "quarantine")
    events.quarantined_records(classified).write.format("delta").save(table_path)
    table = DeltaTable(table_path).to_pyarrow_table()
    assert table.num_rows == counts["quarantined"]
    raw_line = table.column("raw_line").combine_chunks()
    raw_line.validate(full=True)  # raises on invalid UTF-8
    assert all(isinstance(text, str) for text in raw_line.to_pylist())
    reasons = Counter(table.column("reason").to_pylist())
    assert reasons["unreadable_file"] == 2
    assert set(reasons) <= set(events.QUARANTINE_REASONS)
    kept_bytes = {value for value in table.column("raw_bytes").to_pylist() if value is not None}
    assert kept_bytes and kept_bytes <= invalid_utf8 | {piece.removesuffix(b"\r") for piece in invalid_utf8}


BLANK = b"\n   \r\n\t\n\xef\xbb\xbf\n"


@pytest.mark.parametrize(
    ("files", "has_records"),
    [
        ({"blank.jsonl": BLANK, "blank.jsonl.gz": gzip.compress(BLANK)}, False),
        ({"blank.jsonl": BLANK, "one.jsonl.gz": gzip.compress(BLANK + b"{not json\n")}, True),
        ({"cut.jsonl.gz": gzip.compress(BLANK * 2000)[:-20]}, True),  # unreadable: itself a record
        ({"no_rows.parquet": "no rows"}, False),
        ({"blank.jsonl": BLANK, "rows.parquet": "one row"}, True),
        ({"random.parquet": bytes(random.Random(3).randrange(256) for _ in range(512))}, True),
        ({"blank.jsonl": BLANK, "empty.jsonl.gz": b""}, True),  # a 0-byte gzip is unreadable: a record
    ],
    ids=["blank text and gzip", "one line after blanks", "truncated gzip", "parquet without rows",
         "parquet with a row", "corrupt parquet", "0-byte gzip"],
)
def test_a_day_has_records_exactly_when_its_landing_lines_are_not_empty(spark, landing_dir, files, has_records):
    """The raw stage's look before refusing to empty a day agrees with what the stage itself would read."""
    folder = day_folder(landing_dir)
    for name, content in files.items():
        if content == "no rows":
            pq.write_table(pa.table({"eventId": pa.array([], pa.string())}), folder / name)
        elif content == "one row":
            pq.write_table(pa.table({"eventId": ["p1"]}), folder / name)
        else:
            (folder / name).write_bytes(content)
    day = list_day_files(spark, str(landing_dir), DAY)
    assert day_has_records(spark, day) is has_records
    assert (read_landing_lines(spark, [day]).count() > 0) is has_records


def _records(classified) -> list[tuple]:
    return sorted(
        (r["source_file"].rsplit("/", 1)[-1], r["reason"], r["raw_line"])
        for r in rows_of(events.quarantined_records(classified))
    )


def test_symlinks_resolving_outside_the_landing_zone_are_records_of_their_path_never_their_content(
    spark, landing_dir, tmp_path
):
    """Issue 39: a link to /etc/passwd copied its lines into the quarantine's raw_line."""
    secret = tmp_path / "outside" / "secret.jsonl"
    secret.parent.mkdir()
    secret.write_text(event("stolen") + "\nroot:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "outside" / "folder.jsonl").mkdir()
    (tmp_path / "outside" / "folder.jsonl" / "part.jsonl").write_text(event("stolen-too") + "\n")
    inside = landing_dir / "archive" / "kept.jsonl"
    inside.parent.mkdir()
    inside.write_text(event("linked-inside") + "\n")
    folder = day_folder(landing_dir)
    (folder / "a.jsonl").write_text(event("plain") + "\n")
    (folder / "events.jsonl").symlink_to(secret)
    (folder / "linked.jsonl").symlink_to(inside)
    (folder / "notes.txt").symlink_to(secret)  # not a data file's name: still never read, still recorded
    (folder / "folder.jsonl").symlink_to(tmp_path / "outside" / "folder.jsonl")

    files, classified = read_day(spark, landing_dir)
    assert [p.rsplit("/", 1)[-1] for p in files.outside_files] == ["events.jsonl", "folder.jsonl", "notes.txt"]
    assert files.folder_files == () and files.skipped_files == ()
    assert clean_ids(classified) == ["linked-inside", "plain"]
    assert _records(classified) == [
        ("events.jsonl", "outside_landing_zone",
         "outside_landing_zone: events.jsonl resolves outside the landing zone; not read"),
        ("folder.jsonl", "outside_landing_zone",
         "outside_landing_zone: folder.jsonl resolves outside the landing zone; not read"),
        ("notes.txt", "outside_landing_zone",
         "outside_landing_zone: notes.txt resolves outside the landing zone; not read"),
    ]
    assert reconciliation(classified) == {DAY: {"lines": 5, "valid": 2, "quarantined": 3, "duplicates": 0}}


def test_a_day_folder_linked_outside_the_landing_zone_is_not_read(spark, landing_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.jsonl").write_text(event("from-elsewhere") + "\n")
    (landing_dir / "events" / f"date={DAY}").symlink_to(elsewhere)
    files, classified = read_day(spark, landing_dir)
    assert (files.text_files, [p.rsplit("/", 1)[-1] for p in files.outside_files]) == ((), ["a.jsonl"])
    assert [(name, reason) for name, reason, _ in _records(classified)] == [("a.jsonl", "outside_landing_zone")]
    assert clean_ids(classified) == []


def test_a_folder_named_like_a_data_file_and_a_0_byte_gzip_are_unreadable_files(spark, landing_dir):
    folder = day_folder(landing_dir)
    (folder / "x.jsonl").mkdir()
    (folder / "x.jsonl" / "inner.jsonl").write_text(event("inner") + "\n")
    (folder / "empty.jsonl").mkdir()
    (folder / "zero.jsonl.gz").write_bytes(b"")
    (folder / "ok.jsonl.gz").write_bytes(gzip.compress((event("ok") + "\n").encode()))
    files, classified = read_day(spark, landing_dir)
    assert [p.rsplit("/", 1)[-1] for p in files.folder_files] == ["empty.jsonl", "x.jsonl"]
    assert clean_ids(classified) == ["ok"]
    assert _records(classified) == [
        ("empty.jsonl", "unreadable_file", "cannot read empty.jsonl: it is a folder, not a file"),
        ("x.jsonl", "unreadable_file", "cannot read x.jsonl: it is a folder, not a file"),
        ("zero.jsonl.gz", "unreadable_file", "cannot read gzip file zero.jsonl.gz: the file is empty (0 bytes)"),
    ]
    assert reconciliation(classified)[DAY] == {"lines": 4, "valid": 1, "quarantined": 3, "duplicates": 0}

"""The landing zone's event files as an event source: <landing>/events/date=YYYY-MM-DD/*.jsonl|.jsonl.gz|.parquet.

Reading: every non-blank line of a day's files becomes a landing line (a
Parquet row its JSON text), and every file that cannot be read one line of
its own with the error (quarantined as ``unreadable_file``), so that lines
read = clean + quarantined + duplicates holds per day.

Changes (for the late-data sensor): a day's folder is fingerprinted from its
listing alone (names, sizes, modification times; no file is opened) and
compared with the fingerprint the sensor saw last time, kept per day in its
cursor. A day with no remembered fingerprint (the sensor was just switched
on, or the day was just materialized) counts as changed when one of its files
is newer than the start of the run that last materialized it. Only a landing
zone on this machine can be listed from the daemon.
"""

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import reduce
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from video_assets.frames import literal_frame
from video_assets.io.paths import local_path, readable_path, same_file
from video_assets.io.spark import spark_errors
from video_assets.sources.file_listing import (
    DayFiles,
    events_dir,
    is_landing_data_file,
    list_day_files,
    require_location,
)
from video_assets.sources.interface import CURSOR_VERSION, Changes, EventSource, EventsRead, Materializations, RunLog
from video_assets.transforms.events import LINE_SCHEMA, OUTSIDE_LANDING_ZONE

_BLANK_LINE = r"^[\p{IsWhite_Space}\x{FEFF}]*$"
_ERROR_TEXT_LIMIT = 300
NO_FILES = "-"  # fingerprint of a day whose folder is missing or holds no data file


class LandingFiles(EventSource):
    """The event files of a landing zone. ``location_source`` names the setting, for error messages."""

    def __init__(self, location: str, location_source: str):
        self.location = location
        self.location_source = location_source

    @property
    def name(self) -> str:
        return f"the landing zone {self.location}"

    def read_days(
        self, spark, days: list[str], log: RunLog, days_held: Callable[[list[str]], set[str]]
    ) -> EventsRead:
        day_files = [list_day_files(spark, self.location, day) for day in days]
        if any(files.is_empty for files in day_files):
            require_location(spark, self.location, self.location_source)  # a missing root lists as empty days
        skipped = [path for files in day_files for path in files.skipped_files]
        for path in skipped:
            log.warning(f"Not read (not .jsonl, .jsonl.gz or .parquet): {path}")
        for files in day_files:
            for path in files.folder_files:
                log.warning(f"Not read (a folder named like a data file; quarantined as unreadable_file): {path}")
            for path in files.outside_files:
                log.warning(
                    f"Not read (resolves outside the landing zone {self.location}; quarantined as "
                    f"{OUTSIDE_LANDING_ZONE}, its path only): {path}"
                )
        empty_days = [files.day for files in day_files if files.is_empty]
        for day in empty_days:
            log.warning(f"No landing files for {day} in {events_dir(self.location, day)}.")
        # A day whose files hold only blank lines would be replaced by nothing too; it is looked at only when
        # the table holds rows for it (a rerun), so a first load costs no extra read.
        held = days_held([files.day for files in day_files if not files.is_empty])
        recordless = [files.day for files in day_files if files.day in held and not day_has_records(spark, files)]
        for day in recordless:
            log.warning(f"The landing files of {day} hold no records (blank lines only).")
        file_count = sum(len(f.text_files) + len(f.parquet_files) for f in day_files)
        log.info(f"Reading {file_count} landing file(s) for {days[0]}..{days[-1]}")
        metadata = {
            "landing_files": file_count,
            "skipped_files": len(skipped),
            "outside_landing_zone_entries": sum(len(files.outside_files) for files in day_files),
        }
        if skipped:
            metadata["skipped_file_names"] = skipped[:50]
        return EventsRead(
            lines=read_landing_lines(spark, day_files),
            not_to_empty=[("no landing files", empty_days), ("its landing files hold no records", recordless)],
            metadata=metadata,
        )

    def changed_days(
        self, cursor: str | None, materialized_days: Iterable[str], history: Materializations
    ) -> Changes | str:
        root = local_path(self.location)
        if root is None:
            return f"The landing zone {self.location} is not a local folder; this sensor lists local folders only."
        events_root = root / "events"
        changed, fingerprints = find_changed_days(history, events_root, materialized_days, read_cursor(cursor))
        return Changes(changed, write_cursor(fingerprints), f"the landing zone {events_root}")


# ---------------------------------------------------------------- what changed


def _data_files(folder: Path) -> list[os.DirEntry]:
    """The files the raw stage would read: data suffixes, hidden (./_) names skipped."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [entry for entry in entries if entry.is_file() and is_landing_data_file(entry.name)]


def day_listing(events_root: Path, day: str) -> tuple[str, float | None]:
    """(fingerprint, newest modification time) of one day's landing folder, from its listing only."""
    files = _data_files(events_root / f"date={day}")
    if not files:
        return NO_FILES, None
    stats = sorted((entry.name, entry.stat()) for entry in files)
    listing = [[name, stat.st_size, stat.st_mtime_ns] for name, stat in stats]
    digest = hashlib.blake2b(json.dumps(listing, separators=(",", ":")).encode(), digest_size=8).hexdigest()
    return digest, max(stat.st_mtime for _, stat in stats)


def read_cursor(cursor: str | None) -> dict[str, str]:
    """Last fingerprint per day; an unreadable or older cursor (or a table source's) starts afresh."""
    if not cursor:
        return {}
    try:
        payload = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        return {}
    days = payload.get("days", {})
    return {str(day): str(value) for day, value in days.items()} if isinstance(days, dict) else {}


def write_cursor(fingerprints: Mapping[str, str]) -> str:
    return json.dumps({"v": CURSOR_VERSION, "days": dict(sorted(fingerprints.items()))}, separators=(",", ":"))


def find_changed_days(
    history: Materializations, events_root: Path, materialized_days: Iterable[str], previous: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """(changed days, fingerprints to remember) for the materialized days."""
    fingerprints: dict[str, str] = {}
    changed: list[str] = []
    unseen: dict[str, float | None] = {}
    for day in sorted(materialized_days):
        fingerprint, newest = day_listing(events_root, day)
        fingerprints[day] = fingerprint
        if day not in previous:
            unseen[day] = newest
        elif previous[day] != fingerprint:
            changed.append(day)
    candidates = [day for day, newest in unseen.items() if newest is not None]
    starts = history.run_starts(candidates) if candidates else {}
    for day in candidates:
        if day in starts and unseen[day] > starts[day]:
            changed.append(day)
    return sorted(changed), fingerprints


# ---------------------------------------------------------------- reading


def _is_gzip(path: str) -> bool:
    return path.lower().endswith(".gz")


def _file_name(path: str) -> str:
    return readable_path(path).rsplit("/", 1)[-1]


def _error_text(error: Exception) -> str:
    """The innermost Java cause of a failed read, on one short line."""
    java = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    if java is not None:
        while java.getCause() is not None:
            java = java.getCause()
        text = java.toString()
    else:
        text = str(error)
    first_line = " ".join(text.split("\n", 1)[0].split())
    return first_line[:_ERROR_TEXT_LIMIT]


def _unreadable_gzip_files(spark: SparkSession, paths: list[str]) -> dict[str, str]:
    """The gzip files that cannot be decompressed to their end, with the error of each.

    A truncated gzip is only visible at its end, so the probe decompresses
    every .gz file once more than the real read does: one Spark job over all
    of them (one task per file, gzip is not splittable), and, only when that
    job fails, one small job per file to tell which. Plain .jsonl files are
    never probed. A 0-byte .gz file is not gzip at all (a gzip stream has a
    header even when it holds nothing), though Spark reads it as no lines:
    the probe's first job asks for the files' sizes (their content unread).
    """
    unreadable = {
        path: f"cannot read gzip file {_file_name(path)}: the file is empty (0 bytes)"
        for path in _empty_files(spark, paths)
    }
    decompressed = [path for path in paths if path not in unreadable]
    if not decompressed:
        return unreadable
    try:
        spark.read.option("lineSep", "\n").text([readable_path(path) for path in decompressed]).count()
        return unreadable
    except spark_errors():
        pass
    for path in decompressed:
        try:
            spark.read.option("lineSep", "\n").text(readable_path(path)).count()
        except spark_errors() as error:
            unreadable[path] = f"cannot read gzip file {_file_name(path)}: {_error_text(error)}"
    return unreadable


def _empty_files(spark: SparkSession, paths: list[str]) -> list[str]:
    """The files of ``paths`` that have 0 bytes: one job over the files' names, their content never read.

    A file scan gives no row for a 0-byte file (it has no split), so those are the listed files without one.
    """
    if not paths:
        return []
    scanned = spark.read.format("binaryFile").load([readable_path(path) for path in paths]).select("path")
    non_empty = {same_file(row["path"]) for row in scanned.collect()}
    return [path for path in paths if same_file(path) not in non_empty]


def _parquet_file_json(spark: SparkSession, path: str, day: str) -> DataFrame:
    """One Parquet file's rows as (partition_date, source_file, JSON text). Reading its schema reads its footer only."""
    frame = spark.read.parquet(readable_path(path))
    frame.schema  # noqa: B018 - resolves now, on Spark Connect too: a corrupt footer fails here, not in the write
    return frame.select(
        _day_literal(day), F.col("_metadata.file_path").alias("source_file"), F.to_json(F.struct("*")).alias("_text")
    )


def _day_literal(day: str) -> Column:
    # The day the files were listed for: their folder's date, not worked out again from each line's file path.
    return F.lit(date.fromisoformat(day)).alias("partition_date")


def _text_source(spark: SparkSession, paths: list[str]) -> DataFrame:
    """(partition_date, source_file, _text): every non-blank line of the text files, split on \\n only.

    partition_date is the date of the file's folder (``date=YYYY-MM-DD``), which Spark's partition discovery
    attaches to each file's rows: one value per file, not a path taken apart per line, and one scan (and one
    compiled reader) for all the days.
    """
    by_root: dict[str, list[str]] = {}
    for path in paths:
        by_root.setdefault(path.rsplit("/", 2)[0], []).append(readable_path(path))  # <root>/date=<day>/<file>
    reads = [
        spark.read.schema("value string, date date").option("basePath", readable_path(root))
        .option("lineSep", "\n").text(files)
        for root, files in by_root.items()
    ]
    lines = reduce(DataFrame.unionByName, reads).select(
        F.col("date").alias("partition_date"), F.col("_metadata.file_path").alias("source_file"),
        F.col("value").alias("_text"),
    )
    # A line that starts with "{" (nearly all) is not blank: no regular expression, no UTF-8 validation, nor the
    # line as a Java string. Invalid bytes are not white space, so validating the rest first changes no answer.
    return lines.where(F.startswith("_text", F.lit("{")) | ~F.make_valid_utf8("_text").rlike(_BLANK_LINE))


def _lines_from_text(frame: DataFrame) -> DataFrame:
    """(partition_date, source_file, _text) -> the line columns; ``_text`` holds the line's bytes as read."""
    original = F.col("_text").cast("binary")
    # A line ends at \n; the \r of a \r\n ending is not part of it (a \r elsewhere is).
    line_bytes = F.when(
        F.endswith(F.col("_text"), F.lit("\r")), F.substring(original, F.lit(1), F.octet_length(original) - 1)
    ).otherwise(original)
    text = line_bytes.cast("string")
    return frame.select(
        "partition_date",
        "source_file",
        F.make_valid_utf8(text).alias("raw_line"),
        F.when(~F.is_valid_utf8(text), line_bytes).alias("raw_bytes"),
        F.lit(None).cast("string").alias("read_error"),
    )


def day_has_records(spark: SparkSession, files: DayFiles) -> bool:
    """Whether the day's landing files hold at least one record (a non-blank line, a row or an unreadable file).

    Reads until the first record: the first split of a normal day, with no
    gzip probe (a file that fails to read is itself a record, unreadable_file).
    False for files of blank lines only, the case the raw stage must not let
    replace a day that holds rows. An entry that is never read (outside the
    landing zone, a folder) and a 0-byte .gz file are records themselves.
    """
    if files.outside_files or files.folder_files:
        return True
    try:
        if files.text_files and _text_source(spark, list(files.text_files)).take(1):
            return True
        if any(spark.read.parquet(readable_path(path)).take(1) for path in files.parquet_files):
            return True
    except spark_errors():
        return True
    return bool(_empty_files(spark, [path for path in files.text_files if _is_gzip(path)]))


def read_landing_lines(spark: SparkSession, days: list[DayFiles]) -> DataFrame:
    """One row per non-blank landing line, plus one row per landing file that cannot be read.

    Columns (LINE_COLUMNS): partition_date (the folder's date), source_file (as
    Spark names it), raw_line (the line as valid UTF-8: invalid bytes become
    U+FFFD), raw_bytes (the line's exact bytes when they differ from raw_line,
    else null) and read_error (null, or for an unreadable file a one-line
    error text, repeated in raw_line).

    Text files are split on \\n only. A Parquet row becomes its JSON text, so
    both formats share one parser and the quarantine can always show the
    original record; each Parquet file is read on its own, so two files of a
    day may give a column different types.

    Eager work done here, before the returned frame is used: each Parquet
    file's footer is read (one small Spark job per file), and gzip files are
    probed (see ``_unreadable_gzip_files``). A file that fails either becomes
    a read_error row instead of lines; the rest of the day is read normally.
    """
    text_files = [f for day in days for f in day.text_files]
    unreadable = _unreadable_gzip_files(spark, [f for f in text_files if _is_gzip(f)])
    for day in days:
        for path in day.folder_files:
            unreadable[path] = f"cannot read {_file_name(path)}: it is a folder, not a file"
        for path in day.outside_files:
            unreadable[path] = f"{OUTSIDE_LANDING_ZONE}: {_file_name(path)} resolves outside the landing zone; not read"
    sources = []
    readable_text = [f for f in text_files if f not in unreadable]
    if readable_text:
        sources.append(_text_source(spark, readable_text))
    for day in days:
        for path in day.parquet_files:
            try:
                sources.append(_parquet_file_json(spark, path, day.day))
            except spark_errors() as error:
                unreadable[path] = f"cannot read Parquet file {_file_name(path)}: {_error_text(error)}"

    frames = []
    if sources:
        frames.append(_lines_from_text(reduce(DataFrame.unionByName, sources)))
    day_of = {
        f: day.day
        for day in days
        for f in (*day.text_files, *day.parquet_files, *day.folder_files, *day.outside_files)
    }
    failed = [(day_of[path], path, error) for path, error in unreadable.items()]
    if failed:
        frames.append(
            literal_frame(spark, failed, "day string, source_file string, read_error string").select(
                F.to_date("day").alias("partition_date"),
                "source_file",
                F.col("read_error").alias("raw_line"),
                F.lit(None).cast("binary").alias("raw_bytes"),
                "read_error",
            )
        )
    if not frames:
        return literal_frame(spark, [], LINE_SCHEMA)
    return reduce(DataFrame.unionByName, frames)

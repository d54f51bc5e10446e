"""Listing the landing zone's files: which of a day's files are read, and which are refused.

    <landing>/events/date=YYYY-MM-DD/*.jsonl | *.jsonl.gz | *.parquet   (suffix in any letter case)
    <landing>/videos/videos.csv

Listing goes through Spark's own file listing (``io.paths``), so the same code
lists a local folder, a Unity Catalog volume, DBFS or cloud storage from
wherever Spark runs. On this machine's own file system, the entries that a
listing through Spark would follow out of the landing zone are found too.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from video_assets.io.paths import list_files, local_path, path_exists, readable_path

# Lower case; a file name matches whatever its letter case (``A.JSONL`` is read).
TEXT_SUFFIXES = (".jsonl", ".jsonl.gz")
PARQUET_SUFFIXES = (".parquet",)


def is_hidden(name: str) -> bool:
    """``.``/``_``-prefixed names (``_SUCCESS``, ``.crc``): ignored silently, as Spark does."""
    return name.startswith((".", "_"))


def is_landing_data_file(name: str) -> bool:
    """True for a file name the raw stage reads: not hidden, and .jsonl, .jsonl.gz or .parquet in any case."""
    return not is_hidden(name) and name.lower().endswith(TEXT_SUFFIXES + PARQUET_SUFFIXES)


@dataclass(frozen=True)
class DayFiles:
    """The landing files of one event date, by format.

    ``text_files`` and ``parquet_files`` are named as Spark's
    ``_metadata.file_path`` names them (URI-encoded; ``readable_path`` gives
    what a reader takes). ``skipped_files``: files of the folder that are not
    read because their suffix is not .jsonl, .jsonl.gz or .parquet (e.g.
    .json, .txt, .csv), as plain paths; hidden files are not listed anywhere.
    ``outside_files``: data files that are symbolic links resolving outside
    the landing root (never read; each becomes an ``outside_landing_zone``
    record). ``folder_files``: folders named like a data file (``x.jsonl/``),
    not read (each becomes an ``unreadable_file`` record). Both as plain paths.
    """

    day: str
    text_files: tuple[str, ...]
    parquet_files: tuple[str, ...]
    skipped_files: tuple[str, ...] = ()
    outside_files: tuple[str, ...] = ()
    folder_files: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """No file to read and no entry to quarantine."""
        return not (self.text_files or self.parquet_files or self.outside_files or self.folder_files)


def events_dir(location: str, day: str) -> str:
    """The folder of one event date's files: <landing>/events/date=YYYY-MM-DD."""
    return f"{location.rstrip('/')}/events/date={day}"


def catalog_path(location: str) -> str:
    """The catalog file: <landing>/videos/videos.csv."""
    return f"{location.rstrip('/')}/videos/videos.csv"


def require_location(spark, location: str, location_source: str) -> None:
    """Fails when the landing root does not exist: a wrong path must never become 'no data' (SEMANTICS.md 2).

    Asked when the landing looks empty (a day without files, no catalog): then it tells why.
    """
    if not path_exists(spark, location):
        raise dg.Failure(
            description=(
                f"The landing location {location} does not exist (set by {location_source}). "
                "Nothing was written. Point it at the folder that holds events/date=YYYY-MM-DD/ and "
                "videos/videos.csv, then run again."
            ),
            metadata={"landing_location": location, "set_by": location_source},
        )


def list_day_files(spark, location: str, day: str) -> DayFiles:
    """Files landed for one event date, by format; other suffixes go to ``skipped_files``.

    On a file system this process sees (a local landing zone), an entry of
    the day's folder whose real path lies outside the landing root (a
    symbolic link to ``/etc/passwd`` or to a folder elsewhere, or every entry
    of a day folder that is such a link) is not read but listed in
    ``outside_files``, and a folder named like a data file in ``folder_files``.
    Object stores and Unity Catalog volumes have no symbolic links.
    """
    folder = events_dir(location, day)
    files = [f for f in list_files(spark, folder) if not is_hidden(f.rsplit("/", 1)[-1])]
    outside, folders = _local_entries_not_read(location, folder)
    files = [f for f in files if str(local_path(readable_path(f))) not in outside]
    return DayFiles(
        day=day,
        text_files=tuple(f for f in files if f.lower().endswith(TEXT_SUFFIXES)),
        parquet_files=tuple(f for f in files if f.lower().endswith(PARQUET_SUFFIXES)),
        skipped_files=tuple(
            readable_path(f) for f in files if not f.lower().endswith(TEXT_SUFFIXES + PARQUET_SUFFIXES)
        ),
        outside_files=outside,
        folder_files=folders,
    )


def _local_entries_not_read(location: str, directory: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entries of ``directory`` resolving outside ``location``, folders named like a data file), as plain paths.

    Both empty unless the landing root is a folder of this machine's file system.
    """
    root, folder = local_path(location), local_path(directory)
    if root is None or folder is None or not root.is_dir():
        return (), ()
    real_root = Path(os.path.realpath(root))
    try:
        entries = sorted((e for e in os.scandir(folder) if not is_hidden(e.name)), key=lambda e: e.name)
    except OSError:
        return (), ()
    outside = tuple(
        f"{folder}/{e.name}" for e in entries if not Path(os.path.realpath(e.path)).is_relative_to(real_root)
    )
    folders = tuple(
        f"{folder}/{e.name}"
        for e in entries
        if f"{folder}/{e.name}" not in outside and is_landing_data_file(e.name) and e.is_dir()
    )
    return outside, folders

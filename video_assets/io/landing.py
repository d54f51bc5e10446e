"""The landing zone: where raw player events and the catalog arrive.

    <landing>/events/date=YYYY-MM-DD/*.jsonl | *.jsonl.gz | *.parquet   (suffix in any letter case)
    <landing>/videos/videos.csv

Listing goes through Spark's own file listing (the files a reader would read),
so the same code lists a local folder, a Unity Catalog volume, DBFS or cloud
storage from wherever Spark runs, on a classic or a Spark Connect session.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
from pydantic import Field

from video_assets.io.spark import spark_errors

# Lower case; a file name matches whatever its letter case (``A.JSONL`` is read).
TEXT_SUFFIXES = (".jsonl", ".jsonl.gz")
PARQUET_SUFFIXES = (".parquet",)


def is_hidden(name: str) -> bool:
    """``.``/``_``-prefixed names (``_SUCCESS``, ``.crc``): ignored silently, as Spark does."""
    return name.startswith((".", "_"))


def is_landing_data_file(name: str) -> bool:
    """True for a file name the raw stage reads: not hidden, and .jsonl, .jsonl.gz or .parquet in any case."""
    return not is_hidden(name) and name.lower().endswith(TEXT_SUFFIXES + PARQUET_SUFFIXES)


class LandingZone(dg.ConfigurableResource):
    """Location of the landing zone (a folder or URI)."""

    location: str = Field(description="Root of the landing zone: events/date=YYYY-MM-DD/ and videos/videos.csv.")
    location_source: str = Field(
        default="the landing resource's config (landing.location)",
        description="Where `location` was set (an environment variable or a YAML key), named in error messages.",
    )
    events_table: str | None = Field(
        default=None,
        description=(
            "Read raw events from this existing Delta table instead of events/date=*/ files: a catalog name "
            "(catalog.schema.table) or a Delta path. Only ever read."
        ),
    )
    events_time_column: str = Field(
        default="timestamp", description="The events table's event-time column (TIMESTAMP); a row's day is its UTC date."
    )
    videos_table: str | None = Field(
        default=None, description="Read the video catalog from this table instead of videos/videos.csv."
    )

    def require_location(self, spark) -> None:
        """Fails when the landing root does not exist: a wrong path must never become 'no data' (SEMANTICS.md 2).

        Asked when the landing looks empty (a day without files, no catalog): then it tells why.
        """
        if not path_exists(spark, self.location):
            raise dg.Failure(
                description=(
                    f"The landing location {self.location} does not exist (set by {self.location_source}). "
                    "Nothing was written. Point it at the folder that holds events/date=YYYY-MM-DD/ and "
                    "videos/videos.csv, then run again."
                ),
                metadata={"landing_location": self.location, "set_by": self.location_source},
            )

    def events_dir(self, day: str) -> str:
        return f"{self.location.rstrip('/')}/events/date={day}"

    def catalog_path(self) -> str:
        return f"{self.location.rstrip('/')}/videos/videos.csv"


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


def _spark_spelling(listed: str) -> str:
    """A listed file as Spark's ``_metadata.file_path`` names it (``file:///x`` -> ``file:/x``; still URI-encoded)."""
    return re.sub(r"^([A-Za-z][\w+.-]*):///", r"\1:/", listed)


def readable_path(spark_path: str) -> str:
    """The path to hand a Spark reader for a file named as ``_metadata.file_path`` names it (URI-decoded)."""
    return unquote(spark_path)


def same_file(path: str) -> str:
    """One spelling of a file however Spark named it (``file:///x``, ``file:/x``, URI-encoded or not)."""
    return unquote(_spark_spelling(path))


def _is_missing_path(error: Exception) -> bool:
    condition = getattr(error, "getCondition", lambda: None)()
    return condition == "PATH_NOT_FOUND" or "PATH_NOT_FOUND" in str(error)


def _list_files(spark, directory: str) -> list[str]:
    """The files directly in ``directory``, named as Spark's ``_metadata.file_path`` names them; [] when none.

    Spark's own listing of what a reader of ``directory/*`` would read:
    hidden files (``.``/``_``) are left out as Spark leaves them out, a
    missing or empty folder is no file, and any other error (no access, an
    unknown scheme) is raised. No Spark job runs for it.
    """
    pattern = f"{directory.rstrip('/')}/*"
    try:
        # The pattern twice: Spark looks for a streaming sink's metadata only under a single path, and logs a
        # warning with a stack trace when that path is a glob matching nothing (every day without files).
        listed = set(spark.read.format("text").load([pattern, pattern]).inputFiles())
    except spark_errors() as error:
        if _is_missing_path(error):
            return []
        raise
    folder = directory.rstrip("/").rsplit("/", 1)[-1]
    # A subfolder matched by the glob would be listed with its files: only the folder's own files count.
    return sorted(
        path for path in map(_spark_spelling, listed) if readable_path(path).rsplit("/", 2)[-2] == folder
    )


def path_exists(spark, path: str) -> bool:
    """Whether a file or folder exists where Spark runs.

    A folder is listed with everything under it (Spark lists what a reader
    would read): cheap for a file, and asked of the landing root only when a
    day has no files or the catalog is missing, to tell "no data" from "wrong
    location".
    """
    try:
        # Every file under the path, as files (no partition discovery over the folder's layout); the path
        # twice for the reason _list_files gives.
        spark.read.format("text").option("recursiveFileLookup", "true").load([path, path]).inputFiles()
    except spark_errors() as error:
        if _is_missing_path(error):
            return False
        raise
    return True


def list_day_files(spark, landing: LandingZone, day: str) -> DayFiles:
    """Files landed for one event date, by format; other suffixes go to ``skipped_files``.

    On a file system this process sees (a local landing zone), an entry of
    the day's folder whose real path lies outside the landing root (a
    symbolic link to ``/etc/passwd`` or to a folder elsewhere, or every entry
    of a day folder that is such a link) is not read but listed in
    ``outside_files``, and a folder named like a data file in ``folder_files``.
    Object stores and Unity Catalog volumes have no symbolic links.
    """
    files = [f for f in _list_files(spark, landing.events_dir(day)) if not is_hidden(f.rsplit("/", 1)[-1])]
    outside, folders = _local_entries_not_read(landing.location, landing.events_dir(day))
    files = [f for f in files if _local_file(readable_path(f)) not in outside]
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


def _is_local(location: str) -> bool:
    """A plain path or a ``file:`` URI; not ``s3://``, ``dbfs:/`` and the like."""
    return location.lower().startswith("file:") or not ("://" in location or ":" in location.split("/")[0])


def _local_file(path: str) -> str:
    """A plain path for a ``file:`` URI; other text as it is."""
    return unquote(urlparse(path).path) if path.lower().startswith("file:") else path


def _local_entries_not_read(location: str, directory: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entries of ``directory`` resolving outside ``location``, folders named like a data file), as plain paths.

    Both empty unless the landing root is a folder of this machine's file system.
    """
    if not _is_local(location):
        return (), ()
    root, folder = _local_file(location), _local_file(directory).rstrip("/")
    if not os.path.isdir(root):
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

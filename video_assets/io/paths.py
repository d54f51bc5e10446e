"""Files as Spark sees them: whether a path exists, how Spark spells a file, and which paths are this machine's.

Listing goes through Spark's own file listing (what a reader would read), so
the same code works on a local folder, a Unity Catalog volume, DBFS or cloud
storage, on a classic or a Spark Connect session. No Spark job runs for it.
"""

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from video_assets.io.spark import spark_errors


def spark_spelling(listed: str) -> str:
    """A listed file as Spark's ``_metadata.file_path`` names it (``file:///x`` -> ``file:/x``; still URI-encoded)."""
    return re.sub(r"^([A-Za-z][\w+.-]*):///", r"\1:/", listed)


def readable_path(spark_path: str) -> str:
    """The path to hand a Spark reader for a file named as ``_metadata.file_path`` names it (URI-decoded)."""
    return unquote(spark_path)


def same_file(path: str) -> str:
    """One spelling of a file however Spark named it (``file:///x``, ``file:/x``, URI-encoded or not)."""
    return unquote(spark_spelling(path))


def local_path(text: str) -> Path | None:
    """The local path a plain path or a ``file:`` URI names (absolute); None for another file system's URI
    (``s3://``, ``dbfs:/``, ``abfss://``...)."""
    if text.lower().startswith("file:"):
        return Path(unquote(urlparse(text).path)).absolute()
    if "://" in text or ":" in text.split("/")[0]:
        return None
    return Path(text).expanduser().absolute()


def is_missing_path(error: Exception) -> bool:
    condition = getattr(error, "getCondition", lambda: None)()
    return condition == "PATH_NOT_FOUND" or "PATH_NOT_FOUND" in str(error)


def list_files(spark, directory: str) -> list[str]:
    """The files directly in ``directory``, named as Spark's ``_metadata.file_path`` names them; [] when none.

    Spark's own listing of what a reader of ``directory/*`` would read:
    hidden files (``.``/``_``) are left out as Spark leaves them out, a
    missing or empty folder is no file, and any other error (no access, an
    unknown scheme) is raised.
    """
    pattern = f"{directory.rstrip('/')}/*"
    try:
        # The pattern twice: Spark looks for a streaming sink's metadata only under a single path, and logs a
        # warning with a stack trace when that path is a glob matching nothing (every day without files).
        listed = set(spark.read.format("text").load([pattern, pattern]).inputFiles())
    except spark_errors() as error:
        if is_missing_path(error):
            return []
        raise
    folder = directory.rstrip("/").rsplit("/", 1)[-1]
    # A subfolder matched by the glob would be listed with its files: only the folder's own files count.
    return sorted(
        path for path in map(spark_spelling, listed) if readable_path(path).rsplit("/", 2)[-2] == folder
    )


def path_exists(spark, path: str) -> bool:
    """Whether a file or folder exists where Spark runs.

    A folder is listed with everything under it (Spark lists what a reader
    would read): cheap for a file; ask it of a large folder only when the
    answer matters (an empty-looking landing zone, to tell "no data" from
    "wrong location").
    """
    try:
        # Every file under the path, as files (no partition discovery over the folder's layout); the path
        # twice for the reason list_files gives.
        spark.read.format("text").option("recursiveFileLookup", "true").load([path, path]).inputFiles()
    except spark_errors() as error:
        if is_missing_path(error):
            return False
        raise
    return True

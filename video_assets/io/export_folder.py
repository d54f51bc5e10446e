"""The folder an export writes: only ever a new one, an empty one, or an earlier export left as it was written.

An export replaces its folder's content, so the folder must be one that
nothing but an earlier export of this command ever wrote. Every export leaves
a marker beside its files, ``_video_assets_export`` (a leading ``_``: Spark,
pandas and pyarrow skip it when they read the folder), listing the files it
wrote. A folder is taken as an earlier export only when that marker is there
and the folder holds no file the marker does not list; file names mean
nothing (a ``part-of-my-thesis.docx`` is not Spark's).

A local folder (a plain path or a ``file:`` URI) is written beside itself,
under a hidden name, and swapped in once complete: the earlier export stays
whole until then, and a failed export leaves the folder as it was. A folder
of another file system (``s3://``, ``abfss://``, ``dbfs:/``) is seen only
through Spark, which cannot rename: there the export goes in place, and only
into a folder that does not exist yet or holds an earlier export.
"""

import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from video_assets.io.paths import local_path

MARKER = "_video_assets_export"
OUT_OPTION = "--out"


class ExportError(RuntimeError):
    """The table cannot be exported as asked (missing table, occupied folder); the message says what to do."""


def export_target(spark, out: str | Path):
    """Where an export goes, checked before anything is written: a ``LocalExportFolder`` or a ``RemoteExportFolder``.

    Raises :class:`ExportError` naming the folder and the option that chooses another when it is a file, a
    symbolic link, or holds anything but an earlier export.
    """
    text = str(out)
    local = local_path(text)
    if local is not None:
        return LocalExportFolder.checked(local)
    return RemoteExportFolder.checked(spark, text)


def _occupied(folder: str, held: list[str]) -> ExportError:
    shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
    return ExportError(
        f"{OUT_OPTION} {folder} is not empty and is not an earlier export of this command (it holds {shown}): "
        f"an export never replaces what it did not write. Choose a new or empty folder with {OUT_OPTION}."
    )


def _marker_text(info: dict, files: list[str]) -> str:
    return json.dumps({**info, "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": files})


class LocalExportFolder:
    """A folder of this machine's file system: written beside itself and swapped in."""

    def __init__(self, path: Path):
        self.folder = path
        self.path = str(path)

    @classmethod
    def checked(cls, path: Path) -> "LocalExportFolder":
        if path.is_symlink():
            raise ExportError(
                f"{OUT_OPTION} {path} is a symbolic link: give the folder itself ({OUT_OPTION} {path.resolve()}) "
                "or a new folder"
            )
        if path.exists() and not path.is_dir():
            raise ExportError(f"{OUT_OPTION} {path} is a file; give a folder (the export writes several files into it)")
        folder = cls(path)
        folder._require_replaceable()
        return folder

    def _require_replaceable(self) -> None:
        """Refuses a folder holding anything its marker does not list (everything, when it has no marker)."""
        if not self.folder.is_dir():
            return
        held = _files_under(self.folder)
        if not held:
            return
        listed = set(_listed_files(self.folder / MARKER))
        others = sorted(name for name in held if name != MARKER and name not in listed)
        if MARKER not in held or others:
            raise _occupied(self.path, others or held)

    def write(self, spark, write: Callable[[str], None], info: dict) -> None:  # noqa: ARG002 - one signature for both
        """``write(path)`` fills a fresh hidden folder beside this one, which then replaces it."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        staging = self.folder.parent / f".{self.folder.name}.export-{uuid.uuid4().hex[:12]}"
        try:
            write(str(staging))
            (staging / MARKER).write_text(_marker_text(info, sorted(_files_under(staging))))
            self._require_replaceable()  # again: the folder may have changed while Spark wrote
            if self.folder.is_dir():
                replaced = self.folder.parent / f".{self.folder.name}.replaced-{uuid.uuid4().hex[:12]}"
                self.folder.rename(replaced)
                staging.rename(self.folder)
                shutil.rmtree(replaced)
            else:
                staging.rename(self.folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _files_under(folder: Path) -> list[str]:
    """Every file and symbolic link under ``folder``, as paths relative to it; empty folders count as their name."""
    found = []
    for root, folders, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        found += [(base / name).as_posix() for name in files]
        found += [(base / name).as_posix() for name in folders if (Path(root) / name).is_symlink()]
        if root != str(folder) and not folders and not files:
            found.append(base.as_posix() + "/")
    return sorted(found)


def _listed_files(marker: Path) -> list[str]:
    try:
        return list(json.loads(marker.read_text()).get("files", []))
    except (OSError, ValueError, AttributeError):
        return []


class RemoteExportFolder:
    """A folder of a file system seen only through Spark: written in place, never over what it did not write."""

    def __init__(self, uri: str):
        self.path = uri

    @classmethod
    def checked(cls, spark, uri: str) -> "RemoteExportFolder":
        from video_assets.io.paths import path_exists  # noqa: PLC0415
        from video_assets.io.spark import spark_errors  # noqa: PLC0415

        folder = cls(uri)
        if not path_exists(spark, uri):
            return folder
        marker = f"{uri.rstrip('/')}/{MARKER}"
        try:
            text = "\n".join(row.value for row in spark.read.text(marker).collect())
            listed = set(json.loads(text).get("files", []))
        except (*spark_errors(), ValueError, AttributeError):
            # Spark does not list hidden files: a folder without the marker may hold anything. Refused.
            raise _occupied(uri, ["files that are not an export of this command"]) from None
        held = _spark_listing(spark, uri)
        others = sorted(name for name in held if name not in listed and not name.startswith(MARKER))
        if others:
            raise _occupied(uri, others)
        return folder

    def write(self, spark, write: Callable[[str], None], info: dict) -> None:
        from video_assets.frames import literal_frame  # noqa: PLC0415

        write(self.path)
        files = sorted(_spark_listing(spark, self.path))
        marker = literal_frame(spark, [(_marker_text(info, files),)], "value string").coalesce(1)
        marker.write.mode("overwrite").text(f"{self.path.rstrip('/')}/{MARKER}")


def _spark_listing(spark, uri: str) -> list[str]:
    """The files Spark lists under ``uri`` (hidden ones left out, as Spark leaves them), relative to it."""
    root = uri.rstrip("/")
    listed = spark.read.format("text").option("recursiveFileLookup", "true").load([root, root]).inputFiles()
    prefix = urlparse(root).path.rstrip("/") + "/"
    return sorted({unquote(urlparse(path).path).removeprefix(unquote(prefix)) for path in listed})

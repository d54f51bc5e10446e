"""The landing zone's files: one event file per UTC day (JSON lines, gzip or Parquet) and videos.csv."""

from __future__ import annotations

import csv
import gzip
from datetime import date
from pathlib import Path

from video_assets.sample_data.formats import PARQUET_COLUMNS, number_text
from video_assets.sample_data.world import Video

EVENT_FILE_STEM = "part-00000"
FORMAT_SUFFIXES = {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet"}


def parse_formats(formats) -> tuple[str, ...]:
    """Formats as a tuple, from a tuple/list or a comma-separated string; unknown ones are an error."""
    if isinstance(formats, str):
        formats = [part.strip() for part in formats.split(",") if part.strip()]
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMAT_SUFFIXES]
    if not formats or unknown:
        raise ValueError(f"formats must be among {', '.join(FORMAT_SUFFIXES)}; got {formats!r}")
    return formats


PARQUET_ROW_GROUP_ROWS = 250_000


class TextEventFile:
    """Buffered JSON-lines output, optionally gzip-compressed (with mtime 0, so bytes are reproducible)."""

    def __init__(self, path: Path, compressed: bool):
        self._raw = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        self._stream = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=6) if compressed else self._raw
        self._pending: list[str] = []

    def add(self, lines: list[str]) -> None:
        self._pending.extend(lines)
        if len(self._pending) >= 20_000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._stream.write(("\n".join(self._pending) + "\n").encode("utf-8"))
            self._pending = []

    def close(self) -> None:
        self.flush()
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()


class ParquetEventFile:
    """Parquet output with one row per event, written in row groups."""

    def __init__(self, path: Path):
        import pyarrow as pa  # noqa: PLC0415 - only needed for parquet days
        import pyarrow.parquet as pq  # noqa: PLC0415

        self._pa = pa
        self._schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in PARQUET_COLUMNS])
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="snappy")
        self._rows: list[tuple] = []

    def add(self, rows: list[tuple]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= PARQUET_ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        columns = list(zip(*self._rows))
        arrays = [self._pa.array(list(values), type=field.type) for values, field in zip(columns, self._schema)]
        self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self._schema))
        self._rows = []

    def close(self) -> None:
        self.flush()
        self._writer.close()


def day_folder(out_dir: str | Path, day_ordinal: int) -> Path:
    return Path(out_dir) / "events" / f"date={date.fromordinal(day_ordinal).isoformat()}"


def open_event_file(folder: Path, file_format: str):
    """(writer, temporary path, final path); a previous run's file of this day, in any format, is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in FORMAT_SUFFIXES.values():
        (folder / f"{EVENT_FILE_STEM}{suffix}").unlink(missing_ok=True)
    final_path = folder / f"{EVENT_FILE_STEM}{FORMAT_SUFFIXES[file_format]}"
    temporary_path = folder / f"_{final_path.name}.tmp"  # readers skip "_" files until it is complete
    if file_format == "parquet":
        return ParquetEventFile(temporary_path), temporary_path, final_path
    return TextEventFile(temporary_path, compressed=file_format == "jsonl.gz"), temporary_path, final_path


def write_catalog(out_dir: str | Path, videos: tuple[Video, ...]) -> Path:
    """videos/videos.csv with the catalogued videos only (video_id,title,duration_seconds,category,published_at)."""
    path = Path(out_dir) / "videos" / "videos.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("video_id", "title", "duration_seconds", "category", "published_at"))
        for video in videos:
            if video.in_catalog:
                writer.writerow(
                    (video.video_id, video.title, number_text(video.duration_seconds), video.category, video.published_at)
                )
    return path

"""The landing zone: where raw player events and the catalog arrive.

    <landing>/events/date=YYYY-MM-DD/*.jsonl | *.jsonl.gz | *.parquet
    <landing>/videos/videos.csv

Listing goes through Spark's Hadoop FileSystem, so the same code lists a local
folder, DBFS or cloud storage from wherever Spark runs.
"""

from dataclasses import dataclass

import dagster as dg
from pydantic import Field

TEXT_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)


class LandingZone(dg.ConfigurableResource):
    """Location of the landing zone (a folder or URI)."""

    location: str = Field(description="Root of the landing zone: events/date=YYYY-MM-DD/ and videos/videos.csv.")

    def events_dir(self, day: str) -> str:
        return f"{self.location.rstrip('/')}/events/date={day}"

    def catalog_path(self) -> str:
        return f"{self.location.rstrip('/')}/videos/videos.csv"


@dataclass(frozen=True)
class DayFiles:
    """The landing files of one event date, by format."""

    day: str
    text_files: tuple[str, ...]
    parquet_files: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.text_files or self.parquet_files)


def _hadoop_list(spark, directory: str) -> list[str]:
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(directory)
    filesystem = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not filesystem.exists(path):
        return []
    return sorted(
        status.getPath().toString() for status in filesystem.listStatus(path) if status.isFile()
    )


def path_exists(spark, path: str) -> bool:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return bool(hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path))


def list_day_files(spark, landing: LandingZone, day: str) -> DayFiles:
    """Files landed for one event date; hidden files (``.``/``_`` prefixed) are skipped as Spark does."""
    files = [f for f in _hadoop_list(spark, landing.events_dir(day)) if not f.rsplit("/", 1)[-1].startswith((".", "_"))]
    return DayFiles(
        day=day,
        text_files=tuple(f for f in files if f.endswith(TEXT_SUFFIXES)),
        parquet_files=tuple(f for f in files if f.endswith(PARQUET_SUFFIXES)),
    )

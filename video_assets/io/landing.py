"""The landing zone: where raw player events and the catalog arrive.

    <landing>/events/date=YYYY-MM-DD/*.jsonl | *.jsonl.gz | *.parquet   (suffix in any letter case)
    <landing>/videos/videos.csv

Listing goes through Spark's Hadoop FileSystem, so the same code lists a local
folder, DBFS or cloud storage from wherever Spark runs.
"""

from dataclasses import dataclass

import dagster as dg
from pydantic import Field

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

    def require_location(self, spark) -> None:
        """Fails when the landing root does not exist: a wrong path must never become 'no data' (SEMANTICS.md 2)."""
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

    ``skipped_files``: files of the folder that are not read because their
    suffix is not .jsonl, .jsonl.gz or .parquet (e.g. .json, .txt, .csv);
    hidden files are not listed anywhere.
    """

    day: str
    text_files: tuple[str, ...]
    parquet_files: tuple[str, ...]
    skipped_files: tuple[str, ...] = ()

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
    """Files landed for one event date, by format; other suffixes go to ``skipped_files``."""
    files = [f for f in _hadoop_list(spark, landing.events_dir(day)) if not is_hidden(f.rsplit("/", 1)[-1])]
    return DayFiles(
        day=day,
        text_files=tuple(f for f in files if f.lower().endswith(TEXT_SUFFIXES)),
        parquet_files=tuple(f for f in files if f.lower().endswith(PARQUET_SUFFIXES)),
        skipped_files=tuple(f for f in files if not f.lower().endswith(TEXT_SUFFIXES + PARQUET_SUFFIXES)),
    )

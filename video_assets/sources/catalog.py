"""Catalog sources: the landing zone's ``videos/videos.csv``, or an existing videos table.

Both are validated by the same rules (``transforms.catalog``); only the
reading differs. A landing zone without a catalog file is a catalog of no
video (durations then come from the players, SEMANTICS.md 5), said in the log.
"""

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import dagster as dg

from video_assets.io.paths import path_exists
from video_assets.sources.file_listing import catalog_path, require_location
from video_assets.sources.interface import CatalogRead, CatalogSource, RunLog
from video_assets.sources.source_table import SourceTable
from video_assets.transforms import catalog


class CatalogFile(CatalogSource):
    """``<landing>/videos/videos.csv``; ``location_source`` names the landing setting, for error messages."""

    def __init__(self, location: str, location_source: str):
        self.location = location
        self.location_source = location_source

    @property
    def name(self) -> str:
        return catalog_path(self.location)

    def read(self, spark, log: RunLog) -> CatalogRead:
        path = self.name
        if not path_exists(spark, path):
            require_location(spark, self.location, self.location_source)
            log.warning(
                f"No catalog at {path}. Durations will come from the players' videoDuration or, failing that, "
                "the largest position seen (flag duration_inferred)."
            )
            return CatalogRead(catalog.empty_catalog(spark), None, f"no catalog at {path}", {"source": path})
        try:
            loaded = load_catalog_file(spark, path)
        except catalog.CatalogHeaderError as error:
            raise dg.Failure(description=f"{error} Nothing was written.", metadata={"source": path}) from error
        return CatalogRead(loaded.videos, loaded.counts, f"{path} has no valid video row", {"source": path})


class CatalogTable(CatalogSource):
    """A videos table, read at its current version. ``setting`` names where it was configured."""

    def __init__(self, table: str, setting: str):
        self.table = SourceTable(table, setting)

    @property
    def name(self) -> str:
        return self.table.name

    def read(self, spark, log: RunLog) -> CatalogRead:
        source = self.table
        version = source.current_version(spark)
        try:
            loaded = catalog.load_catalog_table(source.read(spark, version), source.name)
        except catalog.CatalogHeaderError as error:
            raise source.failure(f"cannot be read as the video catalog: {error}") from error
        metadata = {"source": source.name}
        if version is not None:
            metadata["source_table_version"] = version
        return CatalogRead(loaded.videos, loaded.counts, f"{source.name} has no valid video row", metadata)


def load_catalog_file(spark: SparkSession, csv_path: str) -> catalog.CatalogFile:
    """A catalog CSV file, validated (``transforms.catalog.load_catalog``)."""
    return catalog.load_catalog(numbered_lines(spark, csv_path), csv_path)


def numbered_lines(spark: SparkSession, csv_path: str) -> DataFrame:
    """line_number (1-based) and raw_line (UTF-8, invalid bytes replaced) for each line of the file.

    The whole file is one text value (the catalog is small), so line numbers
    are exact and independent of how Spark would split the file.
    """
    text = spark.read.text(csv_path, wholetext=True)
    without_bom = F.regexp_replace("value", "^\uFEFF", "")
    numbered = text.select(F.posexplode(F.split(without_bom, r"\r?\n")).alias("index", "raw_line"))
    return numbered.select((F.col("index") + 1).alias("line_number"), "raw_line")

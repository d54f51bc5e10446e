"""An existing table the raw stage reads instead of landing files: the events, or the video catalog.

A source table is named either by a catalog name (``catalog.schema.table`` on
Databricks, ``schema.table`` in the local metastore) or by a Delta path
(a folder, ``/Volumes/...``, ``s3://...``). It is only ever read: every
access here is a SELECT or DESCRIBE, on a classic session and on Spark
Connect alike.

A Delta source is read at one version, the newest when the step starts
(``DESCRIBE HISTORY``): what the step reads is then one snapshot even when
the tracking pipeline appends meanwhile, and the version is recorded in the
materialization (``source_table_version``) for the late-data sensor. A
source that is not Delta (a view, a Parquet table) is read as it is, with no
version.
"""

from dataclasses import dataclass

import dagster as dg

from video_assets.io.spark import spark_errors
from video_assets.sql_names import TableReference, parse_table_reference

# What Spark answers when the table is missing, or is not a Delta table (no history to read).
_MISSING = ("TABLE_OR_VIEW_NOT_FOUND", "PATH_NOT_FOUND", "DELTA_PATH_DOES_NOT_EXIST", "DELTA_TABLE_NOT_FOUND",
            "DELTA_MISSING_DELTA_TABLE", "DELTA_EMPTY_DIRECTORY")
_NOT_DELTA = ("DELTA_TABLE_ONLY_OPERATION", "DELTA_ONLY_OPERATION", "EXPECT_TABLE_NOT_VIEW", "is not a Delta table",
              "DESCRIBE HISTORY is only supported for Delta tables", "UNSUPPORTED_FEATURE")


class SourceTableError(dg.Failure):
    """A source table is missing or not usable; the description says which setting names it and what to do."""


@dataclass(frozen=True)
class SourceTable:
    """One configured source table. ``setting`` names where it was configured, for error messages."""

    name: str
    setting: str

    @property
    def reference(self) -> TableReference:
        """The configured name parsed (the configuration has refused any value that is not a name)."""
        try:
            return parse_table_reference(self.name)
        except ValueError as error:
            raise self.failure(f"is not a usable name: {error}") from None

    @property
    def is_path(self) -> bool:
        return self.reference.is_path

    @property
    def sql_name(self) -> str:
        """The table as SQL names it, every part quoted: ```c`.`s`.`t```, or ``delta.`<path>```."""
        return self.reference.sql

    def current_version(self, spark) -> int | None:
        """The newest Delta version, or None for a table that is not Delta. Fails clearly when it is missing."""
        try:
            row = spark.sql(f"DESCRIBE HISTORY {self.sql_name} LIMIT 1").first()
        except spark_errors() as error:
            text = str(error)
            if any(code in text for code in _MISSING):
                raise self.failure("does not exist (or this user cannot see it)") from error
            if any(code in text for code in _NOT_DELTA):
                return None
            raise
        if row is None:
            raise self.failure("has no commit")
        return int(row["version"])

    def read(self, spark, version: int | None):
        """The table's rows at ``version`` (None: as it is now); lazy, but resolved: fails clearly when missing."""
        try:
            if version is not None:
                frame = spark.sql(f"SELECT * FROM {self.sql_name} VERSION AS OF {int(version)}")
            elif self.is_path:
                frame = spark.read.format("delta").load(self.reference.path)
            else:
                frame = spark.table(self.sql_name)
            frame.schema  # noqa: B018 - resolves the table now, on Spark Connect too
        except spark_errors() as error:
            if any(code in str(error) for code in _MISSING):
                raise self.failure("does not exist (or this user cannot see it)") from error
            raise
        return frame

    def failure(self, problem: str, **metadata) -> SourceTableError:
        return SourceTableError(
            description=(
                f"The source table {self.name} (set by {self.setting}) {problem}. Nothing was written. "
                "Point the setting at the table the tracking pipeline writes (docs/from-a-notebook.md), or unset "
                "it to read the landing zone's files."
            ),
            metadata={"source_table": self.name, "set_by": self.setting, **metadata},
        )


def describe_type(data_type) -> str:
    """A Spark type as SQL spells it (``TIMESTAMP``, ``STRUCT<a: INT>``), for error messages."""
    return data_type.simpleString().upper()

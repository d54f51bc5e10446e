"""`video-assets export`: a table's current rows as plain Parquet or CSV files, for readers without Delta.

Every table is a Delta table. The daily tables are also read by delta-rs
(the ``deltalake`` package: pandas, polars' ``read_delta``), but
``user_video_engagement`` is not: it has deletion vectors (they let its
MERGE mark changed rows instead of rewriting files), and delta-rs refuses a
table with that reader feature. Spark's Delta reader applies them; this
module writes what it reads as plain files that pandas, pyarrow, polars or
DuckDB open without any Delta support (docs/reading-tables.md).

The export is a copy of the table's current version (optionally some days
of a daily table): it does not follow later runs; export again after them.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from video_assets.io.export_folder import ExportError, export_target
from video_assets.tables import TABLES, table_spec

FORMATS = ("parquet", "csv")
# Files per export: a few Parquet files keep the write parallel; one CSV file opens as it is.
MAX_FILES = {"parquet": 8, "csv": 1}
# Parquet's standard timestamp type, marked as UTC instants (pandas reads tz-aware UTC times), instead of
# Spark's default INT96 (deprecated, read as times without a zone).
_PARQUET_TIMESTAMPS = ("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: ``rows`` rows of ``table`` as ``file_format`` files in the folder ``path``."""

    table: str
    path: str
    file_format: str
    rows: int
    days: str


def check_request(
    table: str, file_format: str = "parquet", first_day: date | None = None, last_day: date | None = None
) -> None:
    """Raises ``ValueError`` naming the bad input: an unknown table or format, days of an all-time table,
    or --from after --to. Needs no Spark, so the command refuses before starting it."""
    if table not in TABLES:
        raise ValueError(f"unknown table '{table}'; the tables are: {', '.join(TABLES)}")
    if file_format not in FORMATS:
        raise ValueError(f"unknown format '{file_format}'; choose one of: {', '.join(FORMATS)}")
    column = table_spec(table).partition_column
    if (first_day or last_day) and column is None:
        raise ValueError(
            f"{table} is not partitioned by day (one row per key, all time): --from/--to do not apply; "
            "export it whole, without them"
        )
    if first_day and last_day and first_day > last_day:
        raise ValueError(f"--from {first_day} is after --to {last_day}")


def default_export_dir(table: str) -> Path:
    """``data/export/<table>`` under the project, next to ``data/warehouse`` and ``data/reports``."""
    from video_assets.config import PROJECT_ROOT  # noqa: PLC0415

    return PROJECT_ROOT / "data" / "export" / table


def export_table(
    spark,
    warehouse,
    table: str,
    out: str | Path | None = None,
    file_format: str = "parquet",
    first_day: date | None = None,
    last_day: date | None = None,
) -> ExportResult:
    """Writes the current rows of ``table`` (of ``warehouse``, a ``DeltaWarehouse``) as plain files into ``out``.

    ``first_day`` / ``last_day`` (inclusive, each optional) keep the days of a
    daily table on its date column. ``out`` (default
    :func:`default_export_dir`) must be new, an empty folder, or a previous
    export left as this command wrote it (its marker file lists every file it
    wrote, and the folder holds nothing else); anything else is refused before
    Spark starts writing. A local folder (a plain path or a ``file:`` URI) is
    written beside itself and swapped in, so the previous export stays whole
    until the new one is complete; a URI of another file system (``s3://``,
    ``/Volumes`` through a remote session) is written in place.

    Parquet keeps the table's types (timestamps as UTC instants). CSV has a
    header row, RFC 4180 quoting, ISO dates and times in UTC (``...Z``), the
    array columns as JSON text and binary columns in base64. The row count is
    counted as the rows are written (no second read, nothing collected).
    Raises ``ValueError`` for a bad request (:func:`check_request`) and
    :class:`ExportError` when the table does not exist or ``out`` is occupied.
    """
    from pyspark.sql import functions as F  # noqa: PLC0415 - only where Spark runs

    from video_assets.io.spark import observed  # noqa: PLC0415

    check_request(table, file_format, first_day, last_day)
    location = warehouse.table(table)
    if not location.exists(spark):
        raise ExportError(
            f"{table} does not exist at {location.name}: materialize it first (`video-assets run --from D "
            "--to D`, or the Dagster UI), or point VIDEO_ASSETS_WAREHOUSE_DIR at the warehouse that holds it"
        )
    target = export_target(spark, out if out is not None else default_export_dir(table))
    frame = location.read(spark)
    column = table_spec(table).partition_column
    if first_day:
        frame = frame.where(F.col(column) >= F.lit(first_day.isoformat()).cast("date"))
    if last_day:
        frame = frame.where(F.col(column) <= F.lit(last_day.isoformat()).cast("date"))
    if file_format == "csv":
        frame = frame.select(*[_as_csv_text(field) for field in frame.schema.fields])
    frame, rows = observed(frame, {"rows": F.count(F.lit(1))})
    days = "all days" if column else "all rows"
    if first_day or last_day:
        days = f"{column} {first_day or '…'}..{last_day or '…'}"

    def write(path: str) -> None:
        writer = frame.coalesce(MAX_FILES[file_format]).write.mode("overwrite")
        if file_format == "csv":
            writer.option("header", "true").option("escape", '"').csv(path)
            return
        key, value = _PARQUET_TIMESTAMPS
        before = spark.conf.get(key)
        spark.conf.set(key, value)
        try:
            writer.parquet(path)
        finally:
            spark.conf.set(key, before)

    target.write(spark, write, {"table": table, "format": file_format, "days": days})
    return ExportResult(table, target.path, file_format, int(rows.get["rows"]), days)


def _as_csv_text(field):
    """A column as CSV can hold it: arrays, structs and maps as JSON text, binary as base64, the rest as it is."""
    from pyspark.sql import functions as F  # noqa: PLC0415
    from pyspark.sql import types as T  # noqa: PLC0415

    if isinstance(field.dataType, T.ArrayType | T.StructType | T.MapType):
        return F.to_json(F.col(field.name)).alias(field.name)
    if isinstance(field.dataType, T.BinaryType):
        return F.base64(F.col(field.name)).alias(field.name)
    return F.col(field.name)

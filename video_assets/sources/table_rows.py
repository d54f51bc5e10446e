"""Rows of an existing events table -> the landing-line frame the raw stage classifies (SEMANTICS.md 1-2).

A table row becomes the JSON text of its recognized columns (the field
spellings a landing line may use, ``events.FIELD_SPELLINGS``), so that a row goes
through exactly the parse, cleaning, quarantine and de-duplication a landing
line goes through: a row the contract rejects is quarantined with its reason
and that JSON text. Columns the contract does not know are not read.

The event time is the configured column (``timestamp`` by default), written
as the ``timestamp`` field; a row's day is the UTC date of that time (a
TIMESTAMP_NTZ is taken as UTC, as an ISO time without offset in a file is).
A run over days D1..Dn reads only the rows whose time falls in
[D1 00:00 UTC, Dn+1 00:00 UTC): a range filter on the column itself, which
Delta's data skipping and a date partition column generated from it can use.
"""

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from video_assets.sources.source_table import describe_type
from video_assets.transforms.events import FIELD_SPELLINGS, LINE_COLUMNS

TIME_FIELD = "timestamp"
# What a column may hold, by what the contract reads from it.
_TEXT_TYPES = (T.StringType, T.CharType, T.VarcharType, T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_NUMBER_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.DecimalType,
                 T.StringType, T.CharType, T.VarcharType)
_TIME_TYPES = (T.TimestampType, T.TimestampNTZType)
_NUMBER_OUTPUTS = ("current_time", "video_duration", "from_position")
_EXPECTED = {
    "text": "a STRING (or an integer)",
    "number": "a number (DOUBLE, FLOAT, DECIMAL, an integer) or a STRING holding one",
    "time": "a TIMESTAMP (or TIMESTAMP_NTZ, taken as UTC)",
}
# Times in the JSON text to the microsecond (Spark's default stops at the millisecond).
_JSON_OPTIONS = {
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "timestampNTZFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSS",
}


class SourceSchemaError(ValueError):
    """The source table's schema cannot feed the raw stage: a column is missing or has a type it cannot read."""


def _field_kinds(time_column: str) -> dict[str, str]:
    """JSON field name -> kind ("text", "number") for every spelling, without the time field."""
    kinds = {}
    for output, camel, snake in FIELD_SPELLINGS:
        if output == TIME_FIELD:
            continue
        for key in (camel, snake):
            kinds[key] = "number" if output in _NUMBER_OUTPUTS else "text"
    return {key: kind for key, kind in kinds.items() if key.lower() != time_column.lower()}


def recognized_columns(schema: T.StructType, time_column: str, source: str) -> dict[str, str]:
    """JSON field name -> the table's column for every column the contract reads, the time column first.

    Column names match case-insensitively (a metastore may lower-case them).
    Raises SourceSchemaError naming the column and the type found when the
    time column is missing or a recognized column has a type the contract
    cannot read; other columns are ignored.
    """
    by_lower = {item.name.lower(): item for item in schema.fields}
    time_field = by_lower.get(time_column.lower())
    if time_field is None:
        raise SourceSchemaError(
            f"{source} has no column {time_column!r} for the event time (its columns: "
            f"{', '.join(item.name for item in schema.fields)}). Set landing.events_time_column "
            "(or VIDEO_ASSETS_EVENTS_TIME_COLUMN) to the column that holds it."
        )
    problems = []
    if not isinstance(time_field.dataType, _TIME_TYPES):
        problems.append((time_field, "time"))
    columns = {TIME_FIELD: time_field.name}
    for key, kind in _field_kinds(time_column).items():
        found = by_lower.get(key.lower())
        if found is None:
            continue
        if not isinstance(found.dataType, _NUMBER_TYPES if kind == "number" else _TEXT_TYPES):
            problems.append((found, kind))
        columns[key] = found.name
    if problems:
        raise SourceSchemaError(
            f"{source}: "
            + "; ".join(
                f"column {item.name!r} is {describe_type(item.dataType)}, expected {_EXPECTED[kind]}"
                for item, kind in problems
            )
            + ". Cast it in a view over the table, or point the setting at a table with these types."
        )
    return columns


def day_range(time: Column, time_type: T.DataType, days: list[str]) -> Column:
    """True for a time on one of ``days`` (consecutive YYYY-MM-DD) in UTC: one range the data skipping can use."""
    start = min(days)
    end = (date.fromisoformat(max(days)) + timedelta(days=1)).isoformat()
    if isinstance(time_type, T.TimestampNTZType):
        return (time >= F.expr(f"TIMESTAMP_NTZ'{start} 00:00:00'")) & (time < F.expr(f"TIMESTAMP_NTZ'{end} 00:00:00'"))
    return (time >= F.expr(f"TIMESTAMP'{start} 00:00:00+00:00'")) & (time < F.expr(f"TIMESTAMP'{end} 00:00:00+00:00'"))


def rows_by_day(table: DataFrame, columns: dict[str, str], days: list[str]) -> DataFrame:
    """(day, rows) for each of ``days`` that has rows, plus (null, rows) for rows without an event time.

    Reads only the time column. Rows without a time belong to no day: they
    are never read as events, and this count is how a run reports them.
    """
    time = F.col(columns[TIME_FIELD])
    in_days = day_range(time, table.schema[columns[TIME_FIELD]].dataType, days)
    return table.where(in_days | time.isNull()).groupBy(F.to_date(time).alias("day")).agg(
        F.count(F.lit(1)).alias("rows")
    )


def rows_as_lines(table: DataFrame, columns: dict[str, str], source: str, days: list[str]) -> DataFrame:
    """The table's rows of ``days`` as landing lines (events.LINE_COLUMNS), ready for ``classify_lines``.

    partition_date is the row's UTC date, source_file the table's name, and
    raw_line the JSON text of the recognized columns (null values left out,
    as a missing field). One row per table row: nothing is filtered but the
    days.
    """
    time = F.col(columns[TIME_FIELD])
    in_days = day_range(time, table.schema[columns[TIME_FIELD]].dataType, days)
    record = F.struct(*[F.col(column).alias(key) for key, column in columns.items()])
    return table.where(in_days).select(
        F.to_date(time).alias("partition_date"),
        F.lit(source).alias("source_file"),
        F.to_json(record, _JSON_OPTIONS).alias("raw_line"),
        F.lit(None).cast("binary").alias("raw_bytes"),
        F.lit(None).cast("string").alias("read_error"),
    ).select(*LINE_COLUMNS)

"""The video catalog: ``<landing>/videos/videos.csv`` -> one row per video (SEMANTICS.md 1 and 5).

The file is ``video_id,title,duration_seconds[,category,published_at]`` with a
header line. Its header names the columns: video_id, title and
duration_seconds are required, category and published_at optional, names are
matched case-insensitively in any order, and any other column is ignored.

Every non-blank line after the header is a *row read* and gets exactly one
outcome, so that rows read = videos + duplicate rows + rejected holds by
construction:

* ``video``: the row that represents its video_id in the table;
* ``duplicate_row``: another well-formed row of a video_id already
  represented (the row with a usable duration wins, then the first title);
* a rejection reason (:data:`REJECTION_REASONS`), first that applies:
  ``comment_line`` (the line starts with ``#``), ``bad_quoting`` (not a
  CSV record: an unterminated quote, a quote inside an unquoted value, text
  after a closing quote), ``wrong_field_count`` (a CSV record with more or
  fewer values than the header, e.g. an unquoted ``1,234``),
  ``missing_video_id`` (empty video_id).

A record is one line: a quoted value cannot span lines, so an unterminated
quote spoils its own line and never the rest of the file. The lines are
checked with Spark expressions rather than Spark's CSV reader, which accepts
a quote inside an unquoted value, reads a ``#`` line with two commas as a
video and, in multi-line mode, lets one unterminated quote swallow every
following row.
"""

from dataclasses import dataclass, field
from functools import cached_property

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from video_assets.frames import literal_frame
from video_assets.tables import column_names, ddl_schema, project

CATALOG_COLUMNS = column_names("video_catalog")
REQUIRED_COLUMNS = ("video_id", "title", "duration_seconds")
EXPECTED_HEADER = "video_id,title,duration_seconds[,category,published_at]"

REJECTION_REASONS = ("comment_line", "bad_quoting", "wrong_field_count", "missing_video_id")
VIDEO, DUPLICATE_ROW = "video", "duplicate_row"
MAX_REJECTED_SAMPLES = 5
_SAMPLE_CHARS = 200

# One CSV value: a quoted value (quotes doubled inside, spaces or tabs allowed
# around it) or an unquoted value without commas or quotes.
_VALUE = r'[ \t]*"[^"]*(?:""[^"]*)*"[ \t]*|[^,"]*'
_RECORD = rf"^(?:{_VALUE})(?:,(?:{_VALUE}))*$"
# Applied to "," + line so that every match, even of an empty value, is non-empty.
_COMMA_AND_VALUE = rf",({_VALUE})"
_QUOTED = r'^[ \t]*"((?s).*)"[ \t]*$'
_BLANK = r"(?U)^\s*$"
_COMMENT = r"(?U)^\s*#"
_EDGE_WHITESPACE = r"(?U)^\s+|\s+$"
# A plain decimal number; the double cast alone would also accept "NaN",
# "Infinity", "300d" and hexadecimal "0x1p3".
_DECIMAL = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def empty_catalog(spark: SparkSession) -> DataFrame:
    return literal_frame(spark, [], ddl_schema("video_catalog"))


class CatalogHeaderError(ValueError):
    """The catalog file has no usable header line; nothing in it can be read."""


@dataclass(frozen=True)
class CatalogCounts:
    """What became of the catalog file's rows (for the materialization's metadata and checks).

    rows_read = videos + duplicate_rows + rejected. ``without_duration`` counts
    videos (rows of the table) whose duration_seconds is null.
    ``rejected_samples`` holds the first rejected lines (at most 5), each as
    ``line <n> (<reason>): <text>``, the text cut at 200 characters.
    """

    rows_read: int
    videos: int
    duplicate_rows: int
    rejected: int
    rejected_by_reason: dict[str, int]
    without_duration: int
    rejected_samples: tuple[str, ...]
    ignored_columns: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "videos": self.videos,
            "duplicate_rows": self.duplicate_rows,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "without_duration": self.without_duration,
            "rejected_samples": list(self.rejected_samples),
            "ignored_columns": list(self.ignored_columns),
        }


@dataclass(frozen=True)
class CatalogFile:
    """One read of the catalog file: the video table and, on demand, its counts.

    ``videos`` is lazy (nothing runs until it is written); ``counts`` runs one
    small Spark query the first time it is used and keeps the result.
    """

    source: str
    outcomes: DataFrame  # one row per row read: its fields, line_number, raw_line and outcome
    ignored_columns: tuple[str, ...]

    @property
    def videos(self) -> DataFrame:
        return project(self.outcomes.where(F.col("outcome") == VIDEO), "video_catalog")

    @cached_property
    def counts(self) -> CatalogCounts:
        return _count_outcomes(self.outcomes, self.ignored_columns)


def load_catalog(lines: DataFrame, source: str) -> CatalogFile:
    """The catalog from the numbered lines of a CSV file (``line_number``, 1-based, and ``raw_line``);
    raises :class:`CatalogHeaderError` when its header is unusable.

    Runs one small Spark query now (to read the header line); the rows are
    read when ``videos`` is written or ``counts`` is asked for.
    """
    header_line_number, columns = _read_header(lines, source)
    positions = {name: columns.index(name) for name in CATALOG_COLUMNS if name in columns}
    ignored = tuple(name for name in columns if name not in CATALOG_COLUMNS)

    rows = lines.where((F.col("line_number") > header_line_number) & ~F.col("raw_line").rlike(_BLANK))
    fields = rows.select("line_number", "raw_line", _split_values(F.col("raw_line")).alias("values"))
    typed = fields.select(
        "line_number",
        "raw_line",
        _rejection_reason(len(columns), positions["video_id"]).alias("rejection_reason"),
        _value(positions, "video_id").alias("video_id"),
        _value(positions, "title").alias("title"),
        _positive_finite_number(_value(positions, "duration_seconds")).alias("duration_seconds"),
        _value(positions, "category").alias("category"),
        F.try_to_timestamp(_value(positions, "published_at")).alias("published_at"),
    )
    return CatalogFile(source=source, outcomes=_with_outcomes(typed), ignored_columns=ignored)


# A catalog table's columns: the table's column (any letter case) for each catalog column, in preference order.
TABLE_SPELLINGS = {
    "video_id": ("video_id", "videoId"),
    "title": ("title",),
    "duration_seconds": ("duration_seconds", "durationSeconds", "duration"),
    "category": ("category",),
    "published_at": ("published_at", "publishedAt"),
}
_TABLE_TYPES = {
    "video_id": (T.StringType, T.CharType, T.VarcharType, T.ByteType, T.ShortType, T.IntegerType, T.LongType),
    "title": (T.StringType, T.CharType, T.VarcharType),
    "duration_seconds": (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
                         T.DecimalType, T.StringType, T.CharType, T.VarcharType),
    "category": (T.StringType, T.CharType, T.VarcharType),
    "published_at": (T.TimestampType, T.TimestampNTZType, T.DateType, T.StringType, T.CharType, T.VarcharType),
}


def catalog_table_columns(schema: T.StructType, source: str) -> dict[str, str]:
    """Catalog column -> the table's column; raises CatalogHeaderError for a missing video id or a wrong type."""
    by_lower = {item.name.lower(): item for item in schema.fields}
    found, problems = {}, []
    for column, spellings in TABLE_SPELLINGS.items():
        match = next((by_lower[name.lower()] for name in spellings if name.lower() in by_lower), None)
        if match is None:
            continue
        if not isinstance(match.dataType, _TABLE_TYPES[column]):
            problems.append(f"column {match.name!r} is {match.dataType.simpleString().upper()}")
        found[column] = match.name
    if "video_id" not in found:
        problems.append("no videoId or video_id column")
    if problems:
        raise CatalogHeaderError(
            f"Catalog table {source}: {'; '.join(problems)} (expected videoId/video_id as text, duration/"
            "duration_seconds as a number of seconds, title, category as text, published_at as a time)."
        )
    return found


def load_catalog_table(table: DataFrame, source: str) -> CatalogFile:
    """The catalog from an existing table (a row read per table row), validated as the file's rows are.

    The same rules as for the file: an empty video id is rejected
    (``missing_video_id``; the CSV-only reasons never apply), a duration that
    is not a finite number > 0 is null, one row per video id (the row with a
    duration wins, then the first title). raw_line holds the row as JSON text
    and line_number its place in that text's order, for the rejected samples.
    """
    columns = catalog_table_columns(table.schema, source)

    def text(column: str) -> Column:
        if column not in columns:
            return F.lit(None).cast("string")
        value = F.trim(F.col(columns[column]).cast("string"))
        return F.when(value != "", value)

    if "duration_seconds" not in columns:
        number = F.lit(None).cast("double")
    elif isinstance(table.schema[columns["duration_seconds"]].dataType, T.StringType):
        number = F.when(text("duration_seconds").rlike(_DECIMAL), text("duration_seconds").try_cast("double"))
    else:
        number = F.col(columns["duration_seconds"]).cast("double")
    published = F.col(columns["published_at"]) if "published_at" in columns else F.lit(None)
    if "published_at" in columns and isinstance(table.schema[columns["published_at"]].dataType, T.StringType):
        published = F.try_to_timestamp(text("published_at"))
    raw_line = F.to_json(F.struct(*[F.col(name).alias(column) for column, name in columns.items()]))
    typed = table.select(
        raw_line.alias("raw_line"),
        F.when(text("video_id").isNull(), F.lit("missing_video_id")).alias("rejection_reason"),
        text("video_id").alias("video_id"),
        text("title").alias("title"),
        F.when((number > 0) & (number < float("inf")) & ~F.isnan(number), number).alias("duration_seconds"),
        text("category").alias("category"),
        published.cast("timestamp").alias("published_at"),
    ).withColumn("line_number", F.row_number().over(Window.orderBy("raw_line")))
    ignored = tuple(item.name for item in table.schema.fields if item.name not in columns.values())
    return CatalogFile(source=source, outcomes=_with_outcomes(typed), ignored_columns=ignored)


def _with_outcomes(typed: DataFrame) -> DataFrame:
    """Adds ``outcome`` (video, duplicate_row or the rejection reason) to the typed rows; drops the reason."""
    # Ranked within rejected rows too (partition by reason), where the rank is unused.
    preference = Window.partitionBy("rejection_reason", "video_id").orderBy(
        F.col("duration_seconds").isNull(),
        F.col("title").asc_nulls_last(),
        F.col("duration_seconds"),
        F.col("line_number"),
    )
    return typed.withColumn(
        "outcome",
        F.when(F.col("rejection_reason").isNotNull(), F.col("rejection_reason"))
        .when(F.row_number().over(preference) == 1, F.lit(VIDEO))
        .otherwise(F.lit(DUPLICATE_ROW)),
    ).drop("rejection_reason")


def _read_header(lines: DataFrame, source: str) -> tuple[int, list[str]]:
    """The first non-blank line's number and its column names (lower case, trimmed, unquoted)."""
    first = (
        lines.where(~F.col("raw_line").rlike(_BLANK))
        .orderBy("line_number")
        .limit(1)
        .select(
            "line_number",
            "raw_line",
            F.col("raw_line").rlike(_RECORD).alias("is_record"),
            F.transform(_split_values(F.col("raw_line")), F.lower).alias("names"),
        )
        .collect()
    )
    expected = f"expected the header {EXPECTED_HEADER}"
    if not first:
        raise CatalogHeaderError(f"Catalog {source} has no header line ({expected}).")
    header = first[0]
    if not header["is_record"]:
        raise CatalogHeaderError(
            f"Catalog {source}: the header line {header['raw_line']!r} is not a CSV record ({expected})."
        )
    names = list(header["names"])
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if missing or repeated:
        problem = f"lacks {', '.join(missing)}" if missing else f"repeats {', '.join(repeated)}"
        raise CatalogHeaderError(f"Catalog {source}: the header {header['raw_line']!r} {problem} ({expected}).")
    return header["line_number"], names


def _split_values(line: Column) -> Column:
    """The line's values, unquoted and trimmed (meaningful only for a line that is a CSV record)."""
    raw_values = F.regexp_extract_all(F.concat(F.lit(","), line), F.lit(_COMMA_AND_VALUE), F.lit(1))

    def unquote(value: Column) -> Column:
        inner = F.regexp_replace(F.regexp_extract(value, _QUOTED, 1), '""', '"')
        return F.regexp_replace(F.when(value.rlike(_QUOTED), inner).otherwise(value), _EDGE_WHITESPACE, "")

    return F.transform(raw_values, unquote)


def _value(positions: dict[str, int], column: str) -> Column:
    """The column's value in this row; null when empty or when the header has no such column."""
    if column not in positions:
        return F.lit(None).cast("string")
    value = F.get(F.col("values"), positions[column])
    return F.when(value != "", value)


def _rejection_reason(field_count: int, video_id_position: int) -> Column:
    video_id = F.get(F.col("values"), video_id_position)
    line = F.col("raw_line")
    return (
        F.when(line.rlike(_COMMENT), F.lit("comment_line"))
        .when(~line.rlike(_RECORD), F.lit("bad_quoting"))
        .when(F.size("values") != field_count, F.lit("wrong_field_count"))
        .when(video_id.isNull() | (video_id == ""), F.lit("missing_video_id"))
    )


def _positive_finite_number(text: Column) -> Column:
    """The number in seconds when ``text`` is a decimal number that is finite and > 0, else null."""
    number = F.when(text.rlike(_DECIMAL), text.try_cast("double"))
    return F.when((number > 0) & (number < float("inf")) & ~F.isnan(number), number)


def _count_outcomes(outcomes: DataFrame, ignored_columns: tuple[str, ...]) -> CatalogCounts:
    """One Spark query: rows per outcome and the first rejected lines (a handful of rows collected)."""
    per_outcome = outcomes.groupBy("outcome").agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_if(F.col("duration_seconds").isNull()).alias("without_duration"),
        F.lit(None).cast("int").alias("line_number"),
        F.lit(None).cast("string").alias("raw_line"),
    )
    samples = (
        outcomes.where(F.col("outcome").isin(*REJECTION_REASONS))
        .orderBy("line_number")
        .limit(MAX_REJECTED_SAMPLES)
        .select(
            "outcome",
            F.lit(None).cast("long").alias("rows"),
            F.lit(None).cast("long").alias("without_duration"),
            "line_number",
            F.substring("raw_line", 1, _SAMPLE_CHARS).alias("raw_line"),
        )
    )
    rows = per_outcome.unionByName(samples).collect()
    totals = {row["outcome"]: row for row in rows if row["rows"] is not None}
    by_reason = {reason: int(totals[reason]["rows"]) if reason in totals else 0 for reason in REJECTION_REASONS}
    video_row = totals.get(VIDEO)
    sample_rows = sorted((row for row in rows if row["rows"] is None), key=lambda row: row["line_number"])
    return CatalogCounts(
        rows_read=sum(int(row["rows"]) for row in totals.values()),
        videos=int(video_row["rows"]) if video_row else 0,
        duplicate_rows=int(totals[DUPLICATE_ROW]["rows"]) if DUPLICATE_ROW in totals else 0,
        rejected=sum(by_reason.values()),
        rejected_by_reason=by_reason,
        without_duration=int(video_row["without_duration"]) if video_row else 0,
        rejected_samples=tuple(
            f"line {row['line_number']} ({row['outcome']}): {row['raw_line']}" for row in sample_rows
        ),
        ignored_columns=ignored_columns,
    )

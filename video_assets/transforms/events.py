"""Stage 1: landing lines -> clean, de-duplicated events + quarantine (SEMANTICS.md 1-2).

Every non-blank landing line gets exactly one ``status``: ``valid``,
``duplicate`` or a quarantine reason code, so that
lines read = valid + quarantined + duplicates holds by construction.
"""

from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from video_assets.io.landing import DayFiles

CANONICAL_EVENT_ALIASES: dict[str, tuple[str, ...]] = {
    "video_play": ("play", "start", "started", "video_start", "video_started", "video playback started"),
    "video_pause": ("pause", "paused", "video playback paused", "video playback interrupted"),
    "video_resume": ("resume", "resumed", "video playback resumed"),
    "video_seek": ("seek", "seeked", "video playback seek completed"),
    "video_heartbeat": ("heartbeat", "ping", "progress", "timeupdate", "video content playing"),
    "video_end": (
        "end", "ended", "complete", "completed", "video_ended", "video_complete", "video_completed",
        "video playback completed", "video content completed",
    ),
}
EVENT_NAMES = tuple(CANONICAL_EVENT_ALIASES)

QUARANTINE_REASONS = (
    "malformed_record",
    "missing_timestamp",
    "missing_user_id",
    "missing_video_id",
    "missing_event_name",
    "missing_current_time",
    "bad_timestamp",
    "bad_position",
    "unknown_event_name",
    "wrong_partition",
)
VALID, DUPLICATE = "valid", "duplicate"

# (output column, camelCase field, snake_case field)
_FIELDS = (
    ("event_id", "eventId", "event_id"),
    ("timestamp", "timestamp", "timestamp"),
    ("user_id", "userId", "user_id"),
    ("video_id", "videoId", "video_id"),
    ("event_name", "eventName", "event_name"),
    ("current_time", "currentTime", "current_time"),
    ("video_duration", "videoDuration", "video_duration"),
    ("from_position", "fromPosition", "from_position"),
    ("player_session_id", "sessionId", "session_id"),
    ("device_id", "deviceId", "device_id"),
    ("platform", "platform", "platform"),
)
_CORRUPT = "_corrupt_record"
# Every field is read as text: numbers keep their JSON spelling, so a bad value is
# quarantined with a reason instead of failing the parse of the whole line.
RAW_LINE_SCHEMA = T.StructType(
    [T.StructField(name, T.StringType()) for name in sorted({f for _, *pair in _FIELDS for f in pair})]
    + [T.StructField(_CORRUPT, T.StringType())]
)

RAW_EVENT_COLUMNS = (
    "event_key", "event_id", "event_ts", "event_date", "user_id", "video_id", "event_name",
    "position_seconds", "reported_duration_seconds", "from_position_seconds",
    "player_session_id", "device_id", "platform", "raw_event_name", "source_file",
)
QUARANTINE_COLUMNS = ("partition_date", "reason", "raw_line", "source_file")


def normalize_event_name_key(name: Column) -> Column:
    """Case-insensitive, with spaces, underscores and hyphens equivalent."""
    return F.trim(F.regexp_replace(F.lower(name), r"[\s_\-]+", " "))


def _alias_key(alias: str) -> str:
    return " ".join(alias.lower().replace("_", " ").replace("-", " ").split())


def canonical_event_name(name: Column) -> Column:
    """The canonical name for a raw event name, or null when it is unknown."""
    pairs = {}
    for canonical, aliases in CANONICAL_EVENT_ALIASES.items():
        for alias in (canonical, *aliases):
            pairs[_alias_key(alias)] = canonical
    mapping = F.create_map(*[F.lit(x) for pair in sorted(pairs.items()) for x in pair])
    return F.try_element_at(mapping, normalize_event_name_key(name))


def read_landing_lines(spark: SparkSession, days: list[DayFiles]) -> DataFrame:
    """One row per non-blank landing line: partition_date, source_file, raw_line.

    Parquet rows become their JSON text, so both formats share one parser and
    the quarantine can always show the original record.
    """
    frames = []
    text_files = [f for day in days for f in day.text_files]
    parquet_files = [f for day in days for f in day.parquet_files]
    if text_files:
        frames.append(
            spark.read.text(text_files).select(
                F.col("_metadata.file_path").alias("source_file"), F.col("value").alias("raw_line")
            )
        )
    if parquet_files:
        parquet = spark.read.option("mergeSchema", "true").parquet(*parquet_files)
        frames.append(
            parquet.select(
                F.col("_metadata.file_path").alias("source_file"),
                F.to_json(F.struct(*[F.col(c) for c in parquet.columns])).alias("raw_line"),
            )
        )
    if not frames:
        return spark.createDataFrame(
            [], "partition_date date, source_file string, raw_line string"
        )
    lines = reduce(DataFrame.unionByName, frames)
    return lines.where(F.trim(F.col("raw_line")) != "").select(
        F.to_date(F.regexp_extract("source_file", r"date=(\d{4}-\d{2}-\d{2})", 1)).alias("partition_date"),
        "source_file",
        "raw_line",
    )


def _text(value: Column) -> Column:
    """Null for missing, blank or JSON-null values."""
    trimmed = F.trim(value)
    return F.when((trimmed == "") | (F.lower(trimmed) == "null"), None).otherwise(trimmed)


def _number(value: Column) -> Column:
    number = value.try_cast("double")
    return F.when(F.isnan(number) | (F.abs(number) == float("inf")), None).otherwise(number)


def parse_timestamp(text: Column) -> Column:
    """Epoch milliseconds (digits) or ISO-8601; an ISO string without offset is taken as UTC."""
    is_epoch_ms = text.rlike(r"^-?\d+(\.\d+)?$")
    epoch = F.timestamp_micros((text.try_cast("double") * 1000).try_cast("long"))
    return F.when(is_epoch_ms, epoch).otherwise(F.try_to_timestamp(text))


def classify_lines(lines: DataFrame) -> DataFrame:
    """Parse every landing line and give it a ``status`` (valid, duplicate or a quarantine reason).

    Returns the raw-event columns for parseable records plus partition_date,
    source_file, raw_line and status.
    """
    record = F.from_json("raw_line", RAW_LINE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT})
    parsed = lines.withColumn("record", record)

    def field(camel: str, snake: str) -> Column:
        return _text(F.coalesce(F.col(f"record.{camel}"), F.col(f"record.{snake}")))

    for output, camel, snake in _FIELDS:
        parsed = parsed.withColumn(f"_{output}", field(camel, snake))

    position = _number(F.col("_current_time"))
    duration = _number(F.col("_video_duration"))
    from_position = _number(F.col("_from_position"))
    event_ts = parse_timestamp(F.col("_timestamp"))
    event_name = canonical_event_name(F.col("_event_name"))
    parsed = parsed.select(
        "partition_date",
        "source_file",
        "raw_line",
        F.col("_event_id").alias("event_id"),
        event_ts.alias("event_ts"),
        F.to_date(event_ts).alias("event_date"),
        F.col("_user_id").alias("user_id"),
        F.col("_video_id").alias("video_id"),
        event_name.alias("event_name"),
        F.col("_event_name").alias("raw_event_name"),
        position.alias("position_seconds"),
        # Optional numbers: a value that is not a positive / non-negative number is dropped, not fatal.
        F.when(duration > 0, duration).alias("reported_duration_seconds"),
        F.when(from_position >= 0, from_position).alias("from_position_seconds"),
        F.col("_player_session_id").alias("player_session_id"),
        F.col("_device_id").alias("device_id"),
        F.col("_platform").alias("platform"),
        F.col("_timestamp").alias("_timestamp_text"),
        F.col("_current_time").alias("_position_text"),
        (F.col("record").isNull() | F.col(f"record.{_CORRUPT}").isNotNull()).alias("_malformed"),
    )

    reason = (
        F.when(F.col("_malformed"), "malformed_record")
        .when(F.col("_timestamp_text").isNull(), "missing_timestamp")
        .when(F.col("user_id").isNull(), "missing_user_id")
        .when(F.col("video_id").isNull(), "missing_video_id")
        .when(F.col("raw_event_name").isNull(), "missing_event_name")
        .when(F.col("_position_text").isNull(), "missing_current_time")
        .when(F.col("event_ts").isNull(), "bad_timestamp")
        .when(F.col("position_seconds").isNull() | (F.col("position_seconds") < 0), "bad_position")
        .when(F.col("event_name").isNull(), "unknown_event_name")
        .when(F.col("event_date") != F.col("partition_date"), "wrong_partition")
    )
    parsed = parsed.withColumn("_reason", reason)

    # Same eventId when present; otherwise same (user, video, canonical name, timestamp, position).
    event_key = F.when(F.col("event_id").isNotNull(), F.concat(F.lit("id:"), F.col("event_id"))).otherwise(
        F.concat(
            F.lit("content:"),
            F.sha2(
                F.concat_ws(
                    "\u0001",
                    "user_id",
                    "video_id",
                    "event_name",
                    F.unix_micros("event_ts").cast("string"),
                    F.col("position_seconds").cast("string"),
                ),
                256,
            ),
        )
    )
    first_copy = Window.partitionBy("partition_date", "_event_key").orderBy("source_file", "raw_line")
    copy_number = F.when(F.col("_reason").isNull(), F.row_number().over(first_copy))
    classified = parsed.withColumn("_event_key", F.when(F.col("_reason").isNull(), event_key)).withColumn(
        "_copy", copy_number
    )
    status = F.coalesce(F.col("_reason"), F.when(F.col("_copy") == 1, F.lit(VALID)).otherwise(F.lit(DUPLICATE)))
    return classified.withColumn("status", status).withColumnRenamed("_event_key", "event_key")


def clean_events(classified: DataFrame) -> DataFrame:
    """raw_video_events: one row per valid, de-duplicated event (columns: RAW_EVENT_COLUMNS)."""
    return classified.where(F.col("status") == VALID).select(*RAW_EVENT_COLUMNS)


def quarantined_records(classified: DataFrame) -> DataFrame:
    """raw_video_events_quarantine: one row per rejected record, with the original line."""
    return classified.where(~F.col("status").isin(VALID, DUPLICATE)).select(
        "partition_date", F.col("status").alias("reason"), "raw_line", "source_file"
    )


def status_counts(classified: DataFrame) -> DataFrame:
    """Lines per (partition_date, status): the reconciliation of a run, a handful of rows."""
    return classified.groupBy("partition_date", "status").count()

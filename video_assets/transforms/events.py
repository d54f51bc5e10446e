"""Stage 1: landing lines -> clean, de-duplicated events + quarantine (SEMANTICS.md 1-2).

An event source (``video_assets.sources``) gives one row per record in
LINE_COLUMNS (plus one row per file that cannot be read); ``classify_lines`` gives every row
its parsed event columns and a ``reason`` (a quarantine reason code, or null
for a candidate event) without any shuffle. From that one lazy frame:

* ``quarantined_records``: the rows with a reason (no shuffle);
* ``clean_events``: the candidates, de-duplicated (one shuffle).

So lines read (+1 per unreadable file) = clean + quarantined + duplicates holds
by construction, per partition_date.
"""

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from video_assets.sql_names import string_literal
from video_assets.tables import column_names

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

# In precedence order: a record gets the first reason that applies.
QUARANTINE_REASONS = (
    "unreadable_file",
    "outside_landing_zone",
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
# A landing entry that resolves outside the landing root: its record holds its path (in read_error and
# raw_line, after this prefix), never its content.
OUTSIDE_LANDING_ZONE = "outside_landing_zone"

# (output column, camelCase field, snake_case field)
FIELD_SPELLINGS = (
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
# Identifiers and names: an object, array or boolean there makes the whole line malformed_record.
_ID_AND_NAME_OUTPUTS = ("event_id", "user_id", "video_id", "event_name", "player_session_id", "device_id", "platform")
_JSON_KEYS = sorted({key for _, *pair in FIELD_SPELLINGS for key in pair})
_ID_AND_NAME_KEYS = sorted({key for output, *pair in FIELD_SPELLINGS if output in _ID_AND_NAME_OUTPUTS for key in pair})
# Every field read as text (a number keeps its JSON spelling, an object becomes its JSON text): a
# bad value is then quarantined with a reason instead of failing the parse of the whole line.
_TEXTS_SCHEMA = T.StructType([T.StructField(key, T.StringType()) for key in _JSON_KEYS])
# JSON as RFC 8259 writes it: Spark's JSON reader otherwise accepts 'single quotes' and NaN.
_STRICT_JSON = {
    "allowSingleQuotes": "false",
    "allowNonNumericNumbers": "false",
    "allowNumericLeadingZeros": "false",
    "allowComments": "false",
    "allowUnquotedFieldNames": "false",
    "allowUnquotedControlChars": "false",
    "allowBackslashEscapingAnyCharacter": "false",
}
# The id / name values as VARIANT, which keeps their JSON type.
_ID_AND_NAME_TYPE = "struct<" + ", ".join(f"`{key}`: variant" for key in _ID_AND_NAME_KEYS) + ">"
_JSON_NUMBER_TYPES = "^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)"

LINE_COLUMNS = ("partition_date", "source_file", "raw_line", "raw_bytes", "read_error")
LINE_SCHEMA = "partition_date date, source_file string, raw_line string, raw_bytes binary, read_error string"
RAW_EVENT_COLUMNS = column_names("raw_video_events")
QUARANTINE_COLUMNS = column_names("raw_video_events_quarantine")

# Unicode White_Space plus U+FEFF (a byte-order mark): a line of only these is blank, not a record.
_BOM = "\ufeff"


def normalize_event_name_key(name: Column) -> Column:
    """Case-insensitive, with spaces, underscores and hyphens equivalent."""
    return F.trim(F.regexp_replace(F.lower(name), r"[\s_\-]+", " "))


def _alias_key(alias: str) -> str:
    return " ".join(alias.lower().replace("_", " ").replace("-", " ").split())


def canonical_event_name(name: Column) -> Column:
    """The canonical name for a raw event name, or null when it is unknown."""
    as_written, normalized = {}, {}
    for canonical, aliases in CANONICAL_EVENT_ALIASES.items():
        for alias in (canonical, *aliases):
            as_written[alias] = canonical
            normalized[_alias_key(alias)] = canonical
    # A name spelled exactly as listed (nearly every event) is looked up as it is; only the rest is
    # lower-cased and its separators normalized (a regular expression per name).
    return F.coalesce(
        F.try_element_at(_literal_map(as_written), name),
        F.try_element_at(_literal_map(normalized), normalize_event_name_key(name)),
    )


def _literal_map(pairs: dict[str, str]) -> Column:
    # One SQL expression: built from a literal per string, the two alias maps cost several calls into
    # Spark per string (canonical_event_name: 633 Py4J round trips, now 49).
    quoted = (string_literal(x) for pair in sorted(pairs.items()) for x in pair)
    return F.expr(f"map({', '.join(quoted)})")


# ---------------------------------------------------------------- parsing


def _text(value: Column) -> Column:
    """Null for missing, blank or JSON-null values."""
    trimmed = F.trim(value)
    # The length test first: lower-casing every value of every line costs more than the whole null test.
    spells_null = (F.octet_length(trimmed) == 4) & (F.lower(trimmed) == "null")
    return F.when((trimmed == "") | spells_null, None).otherwise(trimmed)


def _number(value: Column) -> Column:
    number = value.try_cast("double")
    # + 0.0 turns -0.0 into 0.0: "-0" is the position 0, stored and matched as such (docs/semantics-decisions.md).
    return F.when(F.isnan(number) | (F.abs(number) == float("inf")), None).otherwise(number + F.lit(0.0))


def _epoch_milliseconds(milliseconds: Column) -> Column:
    """Epoch milliseconds (a double; fractions below a microsecond are cut) as a timestamp."""
    return F.timestamp_micros((milliseconds * 1000).try_cast("long"))


def parse_timestamp(text: Column, json_number: Column | None = None) -> Column:
    """The event time from the timestamp field; an ISO-8601 string without offset is taken as UTC.

    ``json_number``: the value when the field is a JSON number (epoch
    milliseconds, fractions allowed), else null. A string of digits
    (``"1705312800000"``, ``"1705312800000.5"``) is epoch milliseconds too.
    """
    is_epoch_ms = text.rlike(r"^-?\d+(\.\d+)?$")
    milliseconds = text.try_cast("double")
    if json_number is not None:
        is_epoch_ms = json_number.isNotNull() | is_epoch_ms
        milliseconds = F.coalesce(json_number, milliseconds)
    return F.when(is_epoch_ms, _epoch_milliseconds(milliseconds)).otherwise(F.try_to_timestamp(text))


def _parse_line(lines: DataFrame, json_text: Column) -> DataFrame:
    """Adds ``_texts`` (the line's object as _TEXTS_SCHEMA) and ``_single_object``.

    ``_single_object`` is True when the line is exactly one JSON object. A
    JSON reader stops after the first value and ignores what follows, so the
    line is read inside ``[ ... ]``: trailing content then either breaks the
    parse, adds a second element (``{..},{..}``), or starts with ``]``. That
    last case (``{..}] junk``) is caught by a second read inside
    ``{"k": ... }``, done only for lines that contain a ``]``. One value that
    starts with ``{`` is an object. Reading is strict (_STRICT_JSON).
    """
    records = F.from_json(
        F.concat(F.lit("["), json_text, F.lit("\n]")), T.ArrayType(_TEXTS_SCHEMA), _STRICT_JSON
    )
    # Nearly every line starts with "{"; only the others are matched against a pattern (spaces first).
    an_object = F.when(F.startswith(json_text, F.lit("{")), F.lit(True)).otherwise(json_text.rlike(r"^[ \t\r]*\{"))
    nothing_after_a_closing_bracket = F.when(
        F.contains(json_text, F.lit("]")),
        F.from_json(F.concat(F.lit('{"k":'), json_text, F.lit("\n}")), "k string", _STRICT_JSON)["k"].isNotNull(),
    ).otherwise(F.lit(True))
    return (
        lines.withColumn("_records", records)
        .withColumn(
            "_single_object",
            F.coalesce(F.size("_records") == 1, F.lit(False)) & an_object & nothing_after_a_closing_bracket,
        )
        .withColumn("_texts", F.get("_records", 0))  # null, not an error, for [] (a line "]...")
        .drop("_records")
    )


def _container_or_boolean(texts: Column, json_text: Column) -> Column:
    """True when an id / name value is a JSON object, array or boolean.

    As text such a value starts with { or [ or is true / false; only for such
    a line is the JSON type read, from the line parsed again as VARIANT: one
    schema string for all the id / name values, "OBJECT<deviceId: STRING,
    eventId: VOID, ...>", which past its opening "OBJECT<" names OBJECT,
    ARRAY or BOOLEAN only when one of the values is one (no key name contains
    those words). When VARIANT cannot tell (it refuses a key given twice),
    the line counts as malformed.
    """
    looks_like_one = reduce(
        Column.__or__,
        [
            F.startswith(texts[key], F.lit("{"))
            | F.startswith(texts[key], F.lit("["))
            | texts[key].isin("true", "false")
            for key in _ID_AND_NAME_KEYS
        ],
    )
    values = F.try_variant_get(F.try_parse_json(json_text), "$", _ID_AND_NAME_TYPE)
    types = F.schema_of_variant(F.to_variant_object(values))
    return F.coalesce(looks_like_one, F.lit(False)) & F.coalesce(
        F.substr(types, F.lit(8)).rlike("OBJECT|ARRAY|BOOLEAN"), F.lit(True)
    )


def _timestamp_number(text: Column, json_text: Column) -> Column:
    """The timestamp as a double when it is a JSON number, else null.

    Only a number in exponent form needs its JSON type read (from_json spells
    1705312800000.5 as ``1.7053128000005E12``, and a string "1.7E12" is not a
    timestamp): plain digits are epoch milliseconds, number or string.
    """
    value = F.variant_get(F.try_parse_json(json_text), "$.timestamp", "variant")
    is_number = F.schema_of_variant(value).rlike(_JSON_NUMBER_TYPES)
    in_exponent_form = F.contains(text, F.lit("E")) | F.contains(text, F.lit("e"))
    return F.when(in_exponent_form, F.when(is_number, text.try_cast("double")))


def _with_line_columns(lines: DataFrame) -> DataFrame:
    """Hand-built frames (tests) may leave out the optional raw_bytes / read_error columns."""
    if "raw_bytes" not in lines.columns:
        lines = lines.withColumn("raw_bytes", F.lit(None).cast("binary"))
    if "read_error" not in lines.columns:
        lines = lines.withColumn("read_error", F.lit(None).cast("string"))
    return lines


def classify_lines(lines: DataFrame) -> DataFrame:
    """Parse every landing line and give it a ``reason``: a quarantine reason code, or null for a candidate.

    Input: LINE_COLUMNS (raw_bytes and read_error may be absent). Output: the
    raw-event columns but event_key, plus partition_date, source_file,
    raw_line, raw_bytes and reason. No shuffle: duplicates are found later, in
    ``clean_events``, which also gives the kept rows their event_key.
    """
    lines = _with_line_columns(lines)
    raw_line = F.col("raw_line")
    # RFC 8259 lets a parser ignore a byte-order mark; one left at the start of a line is ignored.
    json_text = F.when(F.startswith(raw_line, F.lit(_BOM)), F.substr(raw_line, F.lit(2))).otherwise(raw_line)
    parsed = _parse_line(lines, json_text)

    malformed = (
        F.col("raw_bytes").isNotNull()
        | ~F.col("_single_object")
        | F.coalesce(_container_or_boolean(F.col("_texts"), json_text), F.lit(False))
    )
    parsed = parsed.select(
        *LINE_COLUMNS,
        malformed.alias("_malformed"),
        _timestamp_number(F.col("_texts")["timestamp"], json_text).alias("_timestamp_number"),
        *[
            _text(F.coalesce(F.col("_texts")[camel], F.col("_texts")[snake])).alias(f"_{output}")
            for output, camel, snake in FIELD_SPELLINGS
        ],
    )

    position = _number(F.col("_current_time"))
    duration = _number(F.col("_video_duration"))
    from_position = _number(F.col("_from_position"))
    parsed = parsed.select(
        "partition_date",
        "source_file",
        "raw_line",
        "raw_bytes",
        "read_error",
        "_malformed",
        F.col("_event_id").alias("event_id"),
        parse_timestamp(F.col("_timestamp"), F.col("_timestamp_number")).alias("event_ts"),
        F.col("_user_id").alias("user_id"),
        F.col("_video_id").alias("video_id"),
        canonical_event_name(F.col("_event_name")).alias("event_name"),
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
    ).withColumn("event_date", F.to_date("event_ts"))

    reason = (
        F.when(F.startswith("read_error", F.lit(f"{OUTSIDE_LANDING_ZONE}:")), OUTSIDE_LANDING_ZONE)
        .when(F.col("read_error").isNotNull(), "unreadable_file")
        .when(F.col("_malformed"), "malformed_record")
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
    return (
        parsed.withColumn("reason", reason)
        .drop("_timestamp_text", "_position_text", "_malformed", "read_error")
    )


# ---------------------------------------------------------------- outputs


# Which copy of a key is kept: the first by source file, then by event time, then by every other column the
# table keeps. Copies equal in all of them give the same row whichever is kept; the line text (as many bytes as
# the rest of the row) stays out of the shuffle (1M events: the de-duplication 3.2-4.1 s -> 2.5-2.7 s).
COPY_ORDER = (
    "source_file", "event_ts", "position_seconds", "event_name", "user_id", "video_id", "reported_duration_seconds",
    "from_position_seconds", "player_session_id", "device_id", "platform", "raw_event_name", "event_id",
)


# What makes two candidates copies of one event (SEMANTICS.md 2): the same eventId when present; otherwise the
# same (user, video, canonical name, timestamp, position). An event with an eventId never matches one without.
_CONTENT_COLUMNS = ("user_id", "video_id", "event_name", "event_ts", "position_seconds")


def copy_identity() -> list[Column]:
    """The columns equal for every copy of one event (within a partition date), and for no two different events."""
    no_event_id = F.col("event_id").isNull()
    return [F.col("event_id"), *[F.when(no_event_id, F.col(c)).alias(c) for c in _CONTENT_COLUMNS]]


def event_key() -> Column:
    """The stored key of a kept event: ``id:<eventId>``, or ``content:<SHA-256 of its content, hex>``.

    The content is hashed as ``len(user)␁user␁len(video)␁video␁name␁timestamp µs␁position`` (␁ = U+0001):
    the lengths keep two different (user, video) pairs from giving one text, whatever characters they hold.
    """
    content = F.concat_ws(
        "\u0001",
        F.length("user_id").cast("string"),
        "user_id",
        F.length("video_id").cast("string"),
        "video_id",
        "event_name",
        F.unix_micros("event_ts").cast("string"),
        F.col("position_seconds").cast("string"),
    )
    return F.when(F.col("event_id").isNotNull(), F.concat(F.lit("id:"), F.col("event_id"))).otherwise(
        F.concat(F.lit("content:"), F.sha2(content, 256))
    )


def clean_events(classified: DataFrame) -> DataFrame:
    """raw_video_events: one row per candidate event and partition_date (columns: RAW_EVENT_COLUMNS).

    Of several copies the first by COPY_ORDER is kept. One shuffle, one sort.
    Copies are matched on their columns (``copy_identity``), and only the
    kept rows get their 72-character ``event_key``: carried through the
    shuffle it made up most of its bytes (10M events: docs/performance.md).
    """
    # By event_date, the table's partition column, which a candidate shares with its partition_date: the rows then
    # leave the window in the order the partitioned write needs, which would otherwise sort them once more.
    copies_in_order = Window.partitionBy("event_date", *copy_identity()).orderBy(*COPY_ORDER)
    # The first copy is the one with no copy before it. Not `row_number() == 1`: Spark turns that filter into a
    # per-group limit applied before the shuffle as well, which sorts every row once more for keys that almost
    # never repeat (10M events: the clean write 59-69 s -> 52-57 s, docs/performance.md).
    return (
        classified.where(F.col("reason").isNull())
        .withColumn("_earlier_copy", F.lag(F.lit(True)).over(copies_in_order))
        .where(F.col("_earlier_copy").isNull())
        .withColumn("event_key", event_key())
        .select(*RAW_EVENT_COLUMNS)
    )


def quarantined_records(classified: DataFrame) -> DataFrame:
    """raw_video_events_quarantine: one row per rejected record, with the original line. No shuffle."""
    return classified.where(F.col("reason").isNotNull()).select(*QUARANTINE_COLUMNS)


def status_counts(classified: DataFrame) -> DataFrame:
    """Lines per (partition_date, status): ``valid``, ``duplicate`` or a reason code; a handful of rows.

    For checks and tests (it shuffles): the pipeline counts on its way instead.
    """
    quarantined = (
        classified.where(F.col("reason").isNotNull())
        .groupBy("partition_date", F.col("reason").alias("status"))
        .agg(F.count(F.lit(1)).alias("count"))
    )
    copies = (
        classified.where(F.col("reason").isNull())
        .groupBy("partition_date", *copy_identity())
        .agg(F.count(F.lit(1)).alias("copies"))
    )
    valid = copies.groupBy("partition_date").agg(F.lit(VALID).alias("status"), F.count(F.lit(1)).alias("count"))
    duplicates = (
        copies.where(F.col("copies") > 1)
        .groupBy("partition_date")
        .agg(F.lit(DUPLICATE).alias("status"), F.sum(F.col("copies") - 1).alias("count"))
    )
    return quarantined.unionByName(valid).unionByName(duplicates)

"""Stage 2: clean events -> sessions, with the playback state of every event (SEMANTICS.md 3, 5, 6, 7).

The heart of the stage is ``annotate_events``: one row per event of the
sessions that close inside the run's days, carrying its session, the
playback state it found and left, the watched segment that ends at it, and
the jumps it makes. ``video_sessions`` aggregates those rows per session;
``intervals.watch_intervals`` joins their segments into runs.

Everything is a window over one user's events, so the whole stage needs a
single shuffle by user_id.
"""

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window, WindowSpec

from video_assets.settings import EngagementSettings
from video_assets.sql_names import quote_identifier, string_literal
from video_assets.tables import project

PLAY, PAUSE, RESUME, SEEK, HEARTBEAT, END = (
    "video_play", "video_pause", "video_resume", "video_seek", "video_heartbeat", "video_end",
)
# Section 3: progress is reported before playback stops, and stops before it starts again.
TIE_ORDER = {HEARTBEAT: 0, PAUSE: 1, END: 2, SEEK: 3, RESUME: 4, PLAY: 5}
STARTS_PLAYBACK = (PLAY, RESUME, HEARTBEAT)

SESSION_KEY = ("user_id", "video_id", "session_seq")
ENDED_BY = ("end_event", "pause", "video_switch", "browser_close")
SESSION_FLAGS = (
    "session_truncated", "implicit_resume", "browser_close", "position_beyond_duration", "duration_inferred",
)
DURATION_SOURCES = ("catalog", "player", "inferred")
# A session's platform when none of its events carries one (SEMANTICS.md 9d).
UNKNOWN_PLATFORM = "unknown"
# Unicode White_Space (what the raw stage counts as blank), trimmed from a platform's ends.
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# A watched segment (section 7): positions in content seconds, its wall span in UTC.
SEGMENT_FIELDS = (
    "kind", "start_position_seconds", "end_position_seconds", "watched_seconds", "wall_start_ts", "wall_end_ts",
)


def _tie_rank(name: Column) -> Column:
    rank = F.lit(None)
    for event_name, position in TIE_ORDER.items():
        rank = F.when(name == event_name, position).otherwise(rank)
    return rank


def event_order() -> list[Column]:
    """Section 3 order: timestamp, tie rank of the name, position, eventId; event_key makes it total."""
    return [
        F.col("event_ts"),
        F.col("_tie_rank"),
        F.col("position_seconds"),
        F.col("event_id").asc_nulls_last(),
        F.col("event_key"),
    ]


def user_video_order() -> WindowSpec:
    """A user's events on one video in section 3 order. assign_sessions and annotate_events both use it, so the
    second finds the rows already sorted for it."""
    return Window.partitionBy("user_id", "video_id").orderBy(*event_order())


def seconds_between(earlier: Column, later: Column) -> Column:
    """Wall seconds from one timestamp to another, to the microsecond."""
    return (F.unix_micros(later) - F.unix_micros(earlier)) / 1_000_000


def plus_seconds(moment: Column, seconds: float) -> Column:
    return F.timestamp_micros(F.unix_micros(moment) + F.lit(int(round(seconds * 1_000_000))))


def _session_id(user_id: Column, video_id: Column, session_start_ts: Column) -> Column:
    """A session's id: 32 hex characters of the SHA-256 of ``len(user)|user|video|first event time (µs)``.

    The user's length keeps ("a|b", "c") and ("a", "b|c") apart: ids such as ``auth0|123`` hold the separator.
    """
    first_ts = F.date_format(session_start_ts, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")
    text = F.concat_ws("|", F.length(user_id).cast("string"), user_id, video_id, first_ts)
    return F.substring(F.sha2(text, 256), 1, 32)


def ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator, 0 when the denominator is 0 (an inferred duration of 0 s)."""
    return F.when(denominator > 0, numerator / denominator).otherwise(F.lit(0.0))


def resolve_durations(events: DataFrame, catalog: DataFrame, first_day: date, last_day: date) -> DataFrame:
    """Section 5, per (video_id, session_date): duration in seconds and where it came from.

    Partition D's window is events of D-1 and D, so each event speaks for the
    days it can belong to: its own date and the next one. Catalog first, then
    the median player-reported duration in the window, then the largest
    position seen there (``inferred``).
    """
    in_window = events.select(
        "video_id",
        "reported_duration_seconds",
        "position_seconds",
        F.explode(F.array(F.col("event_date"), F.date_add("event_date", 1))).alias("session_date"),
    ).where(F.col("session_date").between(F.lit(first_day), F.lit(last_day)))
    seen = in_window.groupBy("video_id", "session_date").agg(
        F.median("reported_duration_seconds").alias("player_duration"),
        F.max("position_seconds").alias("largest_position"),
    )
    listed = catalog.select("video_id", F.col("duration_seconds").alias("catalog_duration"), F.col("title"))
    resolved = seen.join(listed, "video_id", "left")
    return resolved.select(
        "video_id",
        "session_date",
        F.coalesce("catalog_duration", "player_duration", "largest_position").alias("video_duration_seconds"),
        F.when(F.col("catalog_duration").isNotNull(), "catalog")
        .when(F.col("player_duration").isNotNull(), "player")
        .otherwise("inferred")
        .alias("duration_source"),
        F.col("title").alias("video_title"),
    )


def assign_sessions(events: DataFrame, settings: EngagementSettings, first_day: date, last_day: date) -> DataFrame:
    """Events of the sessions that close on first_day..last_day, each with its session (section 6).

    A new session starts at a user-video's first event, after a gap longer
    than the timeout, or at a play right after an end (a replay). A session
    closes at its last event + timeout and belongs to that UTC date. Events
    earlier than the day before the session's date are cut, exactly as a
    single-day run (which reads only D-1 and D) would never see them; so a
    range run and day-by-day runs give the same sessions.

    Besides its session (``session_seq``, ``session_date``, ``window_start``),
    each event carries what ``annotate_events`` needs of its neighbours in
    (user, video) order: ``_previous_ts`` and ``_previous_position_seconds``
    (of the event before it, whatever its session), ``_event_number`` (its
    1-based place among the user-video's events), ``_first_in_session``
    (the first event kept of its session) and ``is_last`` (its session's last
    event).
    """
    timeout = settings.session_timeout_seconds
    # One shuffle by user serves every window below: (user) and (user, video) are both clustered by a hash of
    # user_id. Two sorts: by (user, time) for the user's next event on any video, then by (user, video, time),
    # which every later window of the stage shares, sessions included (a session is a run of a user-video's
    # events in that order, so no window needs to partition by it).
    ordered = events.repartition("user_id").withColumn("_tie_rank", _tie_rank(F.col("event_name")))
    by_user = Window.partitionBy("user_id").orderBy(*event_order())
    by_user_video = user_video_order()

    # Each select below is one pass over the sorted rows: every window in it reads only columns made before
    # it. The next event decides both whether this one ends its session and whether the next one starts one,
    # so the session boundaries need no window over a window.
    with_neighbours = ordered.select(
        "*",
        # The user's next event on any video decides between a video switch and a browser close.
        F.lead("event_ts").over(by_user).alias("next_user_event_ts"),
        F.lead("video_id").over(by_user).alias("next_user_video_id"),
    ).select(
        "*",
        F.lag("event_ts").over(by_user_video).alias("_previous_ts"),
        F.lag("event_name").over(by_user_video).alias("_previous_name"),
        F.lag("position_seconds").over(by_user_video).alias("_previous_position_seconds"),
        F.lead("event_ts").over(by_user_video).alias("_next_ts"),
        F.lead("event_name").over(by_user_video).alias("_next_name"),
        F.row_number().over(by_user_video).alias("_event_number"),
    )

    def opens_after(previous_ts: Column, previous_name: Column, ts: Column, name: Column) -> Column:
        """Whether an event (ts, name) right after the user-video's event (previous_ts, previous_name) starts a
        session; when either is missing (no event before, or none after), the run of events breaks there."""
        return (
            previous_ts.isNull()
            | ts.isNull()
            | (seconds_between(previous_ts, ts) > timeout)
            | ((name == PLAY) & (previous_name == END))
        )

    event_ts, event_name = F.col("event_ts"), F.col("event_name")
    starts_session = opens_after(F.col("_previous_ts"), F.col("_previous_name"), event_ts, event_name)
    next_starts_session = opens_after(event_ts, event_name, F.col("_next_ts"), F.col("_next_name"))
    bounded = with_neighbours.select(
        "*", starts_session.alias("_starts_session"), next_starts_session.alias("is_last")
    )
    # A session's last event is the one before the next start; its time is the session's latest.
    sequenced = bounded.select(
        "*",
        F.sum(F.col("_starts_session").cast("int")).over(by_user_video.rowsBetween(Window.unboundedPreceding, 0))
        .alias("session_seq"),
        F.first(F.when(F.col("is_last"), event_ts), True)
        .over(by_user_video.rowsBetween(0, Window.unboundedFollowing))
        .alias("_last_ts"),
    )
    closes_at = plus_seconds(F.col("_last_ts"), timeout)
    dated = sequenced.withColumn("session_date", F.to_date(closes_at)).withColumn(
        "window_start", F.to_timestamp(F.date_sub("session_date", 1))
    )
    kept = dated.where(
        F.col("session_date").between(F.lit(first_day), F.lit(last_day)) & (event_ts >= F.col("window_start"))
    )
    # The events kept of a session are its events from window_start on: the first of them starts the session,
    # or follows an event that was cut.
    first_kept = F.col("_starts_session") | (F.col("_previous_ts") < F.col("window_start"))
    return kept.withColumn("_first_in_session", first_kept).drop(
        "_previous_name", "_next_ts", "_next_name", "_starts_session", "_last_ts"
    )


def _segment(kind: Column, start: Column, end: Column, wall_start: Column, wall_end: Column) -> Column:
    return F.struct(
        kind.alias("kind"),
        start.alias("start_position_seconds"),
        end.alias("end_position_seconds"),
        (end - start).alias("watched_seconds"),
        wall_start.alias("wall_start_ts"),
        wall_end.alias("wall_end_ts"),
    )


def annotate_events(
    events: DataFrame, catalog: DataFrame, settings: EngagementSettings, first_day: date, last_day: date
) -> DataFrame:
    """Every event of the run's sessions with its playback state, segment and jumps (section 7).

    Positions are clipped to [0, duration]. Per event: ``playing_before`` /
    ``playing_after`` (the state it found and left), ``segment`` (what was
    watched between the previous event and this one, or null), ``switch_segment``
    (the video-switch credit after a session's last event, or null),
    ``segment_jump`` and ``event_jump`` (jump distances in seconds, or null).
    """
    tolerance = settings.position_tolerance_seconds
    rate = settings.max_playback_rate
    timeout = settings.session_timeout_seconds

    sessions = assign_sessions(events, settings, first_day, last_day)
    durations = resolve_durations(events, catalog, first_day, last_day)
    frame = sessions.join(F.broadcast(durations), ["video_id", "session_date"], "left")

    duration = F.col("video_duration_seconds")
    # The order assign_sessions left the rows in (the broadcast join keeps it): no window here sorts again.
    by_user_video = user_video_order()
    up_to_here = by_user_video.rowsBetween(Window.unboundedPreceding, 0)
    first_in_session = F.col("_first_in_session")

    def clip(position: Column) -> Column:
        # least/greatest skip nulls; an absent position must stay absent.
        return F.when(position.isNotNull(), F.least(F.greatest(position, F.lit(0.0)), duration))

    def when_not_first(value: Column) -> Column:
        """The value, at every event of its session but the first (null there)."""
        return F.when(~first_in_session, value)

    def plays(state: Column) -> Column:
        """Whether a state (the session and name of a non-seek event, or null) is this session's and playing."""
        return F.coalesce(
            F.when(state["seq"] == F.col("session_seq"), state["name"].isin(*STARTS_PLAYBACK)), F.lit(False)
        )

    # A seek keeps the state it found, so the state after an event is set by the last non-seek event of the
    # session so far (carried with its session, so that another session's state never leaks in); the state an
    # event found, by the last one before it. One pass: every window here reads only assign_sessions' columns.
    state = F.struct(F.col("session_seq").alias("seq"), F.col("event_name").alias("name"))
    last_state = F.last(F.when(F.col("event_name") != SEEK, state), ignorenulls=True)
    of_first_in_session = F.when(first_in_session, F.struct(F.col("event_ts"), F.col("_event_number")))
    frame = frame.select(
        "*",
        clip(F.col("position_seconds")).alias("position"),
        (F.col("position_seconds") > duration + tolerance).alias("beyond_duration"),
        last_state.over(up_to_here).alias("_state"),
        last_state.over(by_user_video.rowsBetween(Window.unboundedPreceding, -1)).alias("_state_before"),
        F.max(of_first_in_session).over(up_to_here).alias("_session_first"),
    )
    session_start_ts = F.col("_session_first.event_ts")
    frame = frame.select(
        "*",
        session_start_ts.alias("session_start_ts"),
        (session_start_ts < plus_seconds(F.col("window_start"), timeout)).alias("session_truncated"),
        (F.col("_event_number") - F.col("_session_first._event_number") + 1).alias("event_index"),
        plays(F.col("_state")).alias("playing_after"),
        # Within a session the event before is the one before in (user, video) order, and the same video and
        # session date give it the same duration.
        (~first_in_session & plays(F.col("_state_before"))).alias("playing_before"),
        when_not_first(clip(F.col("_previous_position_seconds"))).alias("previous_position"),
        when_not_first(F.col("_previous_ts")).alias("previous_ts"),
    )

    wall = seconds_between(F.col("previous_ts"), F.col("event_ts"))
    previous = F.col("previous_position")
    position = F.col("position")
    is_seek = F.col("event_name") == SEEK
    closing = F.when(
        is_seek, F.coalesce(clip(F.col("from_position_seconds")), F.least(previous + wall, duration))
    ).otherwise(position)
    moved = closing - previous
    continuous_limit = rate * wall + tolerance
    segment_kind = (
        F.when(~F.col("playing_before") | first_in_session, None)
        .when((moved >= 0) & (moved <= continuous_limit), "continuous")
        .when(moved > continuous_limit, "forward_jump")
        .when(moved < -tolerance, "backward_jump")
    )
    frame = frame.withColumn("_closing", closing).withColumn("_moved", moved).withColumn("_wall", wall)
    frame = frame.withColumn("_kind", segment_kind)
    kind, closing, moved, wall = F.col("_kind"), F.col("_closing"), F.col("_moved"), F.col("_wall")

    segment_start = F.when(kind == "backward_jump", F.greatest(F.lit(0.0), closing - wall)).otherwise(previous)
    segment_end = F.when(kind == "forward_jump", F.least(previous + wall, duration)).otherwise(closing)
    segment = F.when(
        kind.isNotNull(),
        _segment(kind, segment_start, segment_end, F.col("previous_ts"), F.col("event_ts")),
    )

    switch_wall = seconds_between(F.col("event_ts"), F.col("next_user_event_ts"))
    is_switch = (
        F.col("is_last")
        & F.col("playing_after")
        & F.col("next_user_event_ts").isNotNull()
        & (switch_wall <= timeout)
        & (F.col("next_user_video_id") != F.col("video_id"))
    )
    switch_segment = F.when(
        is_switch,
        _segment(
            F.lit("switch_credit"),
            position,
            F.least(position + switch_wall, duration),
            F.col("event_ts"),
            F.col("next_user_event_ts"),
        ),
    )
    segment_jump = F.when(kind == "forward_jump", moved - wall).when(kind == "backward_jump", moved)
    finds_paused_elsewhere = (
        F.col("event_name").isin(*STARTS_PLAYBACK)
        & ~F.col("playing_before")
        & (F.abs(position - previous) > tolerance)
    )
    event_jump = (
        F.when(first_in_session, None)
        .when(is_seek & F.col("playing_before"), position - closing)
        .when(is_seek, position - previous)
        .when(finds_paused_elsewhere, position - previous)
    )
    ended_by = F.when(~F.col("is_last"), None).when(F.col("event_name") == END, "end_event").when(
        F.col("playing_after"), F.when(is_switch, "video_switch").otherwise("browser_close")
    ).otherwise("pause")

    return frame.select(
        *SESSION_KEY,
        "session_date",
        "session_start_ts",
        "session_truncated",
        "event_index",
        "event_ts",
        "event_name",
        "event_key",
        "position",
        "beyond_duration",
        "playing_before",
        "playing_after",
        "is_last",
        "video_duration_seconds",
        "duration_source",
        "video_title",
        "player_session_id",
        "device_id",
        "platform",
        segment.alias("segment"),
        switch_segment.alias("switch_segment"),
        segment_jump.alias("segment_jump"),
        event_jump.alias("event_jump"),
        ((F.col("event_name") == HEARTBEAT) & ~F.col("playing_before")).alias("implicit_resume"),
        ended_by.alias("ended_by"),
    )


def _count_of(name: str) -> Column:
    return F.count(F.when(F.col("event_name") == name, 1))


def _of_first_event_with(column: str) -> Column:
    """The value of the session's first event (by event_index) that has one, null when none has.

    Not ``first(ignorenulls)``: that takes the first row to reach the aggregate, which after a shuffle is
    any row (min_by skips the rows whose ordering is null).
    """
    return F.min_by(column, F.when(F.col(column).isNotNull(), F.col("event_index")))


def trimmed_of_whitespace(column: str) -> Column:
    """The column's text without the Unicode whitespace at its ends.

    SQL's ``TRIM(BOTH … FROM …)``: Spark 4.2 deprecates the two-argument ``trim``/``btrim`` functions for it.
    """
    return F.expr(f"TRIM(BOTH {string_literal(WHITESPACE)} FROM {quote_identifier(column)})")


def normalized_platform(column: str) -> Column:
    """An event's platform trimmed of whitespace and lower-cased; null when nothing is left."""
    trimmed = F.lower(trimmed_of_whitespace(column))
    return F.when(trimmed != "", trimmed)


def _platform_of_first_event_with_one() -> Column:
    """Section 9d: the platform of the session's first event that carries a non-empty one, else ``unknown``."""
    platform = normalized_platform("platform")
    return F.coalesce(F.min_by(platform, F.when(platform.isNotNull(), F.col("event_index"))), F.lit(UNKNOWN_PLATFORM))


def _watched_segment(segment: str, sub_order: int) -> Column:
    """An event's segment of one column (segment or switch_segment) with its order, if it watched something.

    segment_order = 2 * event_index + sub_order: an event's own segment comes before the switch credit after it.
    """
    return F.when(
        F.col(f"{segment}.watched_seconds") > 0,
        F.struct(
            (F.col("event_index") * 2 + sub_order).alias("segment_order"),
            *[F.col(f"{segment}.{field}").alias(field) for field in SEGMENT_FIELDS],
        ),
    )


def summarize_sessions(annotated: DataFrame) -> DataFrame:
    """One row per session: the aggregates of its events and its watched segments, in session order.

    This is the one aggregation of the stage: ``video_sessions`` finishes its
    rows and ``intervals.watch_intervals`` joins its ``watched_segments``
    (array of segment_order, kind, positions in content s, watched_seconds,
    wall span; only segments that watched something). ``numbered_events``
    (the highest event_index the replay gave) and ``latest_session_date``
    are for the events_in_sessions check: they must equal event_count and
    session_date. ``annotated`` arrives clustered by user, so grouping it
    needs no shuffle; each session's ``session_id`` is hashed here, once per
    session rather than once per event.
    """
    watched = F.coalesce(F.col("segment.watched_seconds"), F.lit(0.0)) + F.coalesce(
        F.col("switch_segment.watched_seconds"), F.lit(0.0)
    )
    jumps = (F.col("segment_jump"), F.col("event_jump"))
    # greatest() skips nulls: an event without a jump adds 0 seconds.
    forward = sum((F.greatest(jump, F.lit(0.0)) for jump in jumps), F.lit(0.0))
    backward = sum((F.greatest(-jump, F.lit(0.0)) for jump in jumps), F.lit(0.0))
    jump_count = sum((jump.isNotNull().cast("long") for jump in jumps), F.lit(0))
    # The watched segments are made in the projection before the aggregate, which is compiled; each is read
    # twice below, so the optimizer keeps them there rather than in the aggregate's row-by-row updates.
    own, switch = F.col("_own_segment"), F.col("_switch_segment")
    with_segments = annotated.select(
        "*",
        _watched_segment("segment", 0).alias("_own_segment"),
        _watched_segment("switch_segment", 1).alias("_switch_segment"),
    )
    summaries = with_segments.groupBy(*SESSION_KEY).agg(
        F.min("session_date").alias("session_date"),
        F.max("session_date").alias("latest_session_date"),
        F.max("event_index").alias("numbered_events"),
        F.min("event_ts").alias("first_event_ts"),
        F.max("event_ts").alias("last_event_ts"),
        F.count(F.lit(1)).alias("event_count"),
        _count_of(PLAY).alias("play_count"),
        _count_of(PAUSE).alias("pause_count"),
        _count_of(RESUME).alias("resume_count"),
        _count_of(SEEK).alias("seek_event_count"),
        _count_of(HEARTBEAT).alias("heartbeat_count"),
        _count_of(END).alias("end_count"),
        F.min_by("position", "event_index").alias("start_position_seconds"),
        F.max_by("position", "event_index").alias("end_position_seconds"),
        F.sum(watched).alias("watched_seconds"),
        # The furthest position a watched segment reached.
        F.coalesce(
            F.max(F.greatest(own["end_position_seconds"], switch["end_position_seconds"])), F.lit(0.0)
        ).alias("max_position_seconds"),
        F.sum(jump_count).alias("jump_count"),
        F.sum(forward).alias("skipped_forward_seconds"),
        F.sum(backward).alias("skipped_backward_seconds"),
        F.max_by("ended_by", "event_index").alias("ended_by"),
        F.first("session_truncated").alias("session_truncated"),
        F.max(F.col("implicit_resume").cast("int")).alias("_implicit_resume"),
        F.max(F.col("beyond_duration").cast("int")).alias("_beyond_duration"),
        F.first("video_duration_seconds").alias("video_duration_seconds"),
        F.first("duration_source").alias("duration_source"),
        F.first("video_title", ignorenulls=True).alias("video_title"),
        *[_of_first_event_with(column).alias(column) for column in ("player_session_id", "device_id", "platform")],
        _platform_of_first_event_with_one().alias("normalized_platform"),
        F.collect_list(own).alias("_own_segments"),
        F.collect_list(switch).alias("_switch_segments"),
    )
    # Sorted by segment_order, the struct's first field, unique within a session. sort_array, not array_sort:
    # array_sort compares through a lambda, evaluated without generated code; no element is null, so both agree.
    in_order = F.sort_array(F.concat("_own_segments", "_switch_segments"))
    return summaries.select(
        _session_id(F.col("user_id"), F.col("video_id"), F.col("first_event_ts")).alias("session_id"),
        "*",
        in_order.alias("watched_segments"),
    ).drop("_own_segments", "_switch_segments")


def video_sessions(summaries: DataFrame, settings: EngagementSettings) -> DataFrame:
    """One row per session: span, event counts, watched seconds, jumps, how it ended, quality flags.

    ``summaries`` is ``summarize_sessions``' output. Seconds are wall seconds
    for *_ts spans and content seconds for positions and watched_seconds.
    jump_count counts section-7 jumps (the metrics' seek_count);
    skipped_*_seconds add their distances (backward as a positive number).
    """
    flags = F.array_sort(
        F.array_compact(
            F.array(
                F.when(F.col("session_truncated"), F.lit("session_truncated")),
                F.when(F.col("_implicit_resume") == 1, F.lit("implicit_resume")),
                F.when(F.col("ended_by") == "browser_close", F.lit("browser_close")),
                F.when(F.col("_beyond_duration") == 1, F.lit("position_beyond_duration")),
                F.when(F.col("duration_source") == "inferred", F.lit("duration_inferred")),
            )
        )
    )
    completion = F.least(F.lit(100.0), 100 * ratio(F.col("max_position_seconds"), F.col("video_duration_seconds")))
    finished = summaries.withColumns(
        {
            "wall_seconds": seconds_between(F.col("first_event_ts"), F.col("last_event_ts")),
            "closed_at": plus_seconds(F.col("last_event_ts"), settings.session_timeout_seconds),
            "reached_completion": completion >= settings.completion_threshold_percent,
            "quality_flags": flags,
        }
    )
    return project(finished, "video_sessions")

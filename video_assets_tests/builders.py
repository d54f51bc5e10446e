"""Small, readable inputs for transform tests: events as (time, name, position) tuples."""

from datetime import date, datetime, timezone

from pyspark.sql import functions as F

from video_assets.frames import literal_frame
from video_assets.settings import EngagementSettings
from video_assets.transforms import intervals, lifetime, metrics, platforms, sessions, summaries, video_lifetime

EVENT_SCHEMA = (
    "event_key string, event_id string, event_ts timestamp, event_date date, user_id string, video_id string, "
    "event_name string, position_seconds double, reported_duration_seconds double, from_position_seconds double, "
    "player_session_id string, device_id string, platform string, raw_event_name string, source_file string"
)
SHORT_NAMES = {
    "play": "video_play", "pause": "video_pause", "resume": "video_resume", "seek": "video_seek",
    "heartbeat": "video_heartbeat", "end": "video_end",
}


def ts(text: str) -> datetime:
    """'2025-01-15 10:00:00' (UTC) as a naive datetime in UTC, as Spark returns it here."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).replace(tzinfo=None)


def event(user, video, when, name, position, *, duration=None, from_position=None, event_id=None, platform=None):
    """One clean event row. `when` is 'YYYY-MM-DD HH:MM:SS[.ffffff]' UTC; `name` short or canonical."""
    moment = ts(when)
    canonical = SHORT_NAMES.get(name, name)
    key = f"id:{event_id}" if event_id else f"content:{user}|{video}|{canonical}|{when}|{position}"
    return (
        key, event_id, moment, moment.date(), user, video, canonical, float(position),
        None if duration is None else float(duration), None if from_position is None else float(from_position),
        None, None, platform, name, "test",
    )


def watch(user, video, date, start_clock, start, end, *, end_name="pause", platform=None):
    """A play at `start` and a pause (or `end_name`) at `end`, `end - start` seconds later: [start, end] watched."""
    hours, minutes, seconds = (int(x) for x in start_clock.split(":"))
    stop = hours * 3600 + minutes * 60 + seconds + int(end - start)
    stop_clock = f"{stop // 3600:02d}:{stop % 3600 // 60:02d}:{stop % 60:02d}"
    return [
        event(user, video, f"{date} {start_clock}", "play", start, platform=platform),
        event(user, video, f"{date} {stop_clock}", end_name, end, platform=platform),
    ]


def events_frame(spark, rows):
    return literal_frame(spark, rows, EVENT_SCHEMA)


def catalog_frame(spark, videos: dict[str, float | None]):
    return literal_frame(
        spark,
        [(video_id, f"Title of {video_id}", None if d is None else float(d), None, None) for video_id, d in videos.items()],
        "video_id string, title string, duration_seconds double, category string, published_at timestamp",
    )


def run_engagement(spark, rows, videos, first_day: date, last_day: date | None = None, settings=None):
    """Every daily stage over the given events; returns a dict of DataFrames by table name."""
    settings = settings or EngagementSettings()
    last_day = last_day or first_day
    annotated = sessions.annotate_events(
        events_frame(spark, rows), catalog_frame(spark, videos), settings, first_day, last_day
    ).cache()
    session_summaries = sessions.summarize_sessions(annotated).cache()
    session_table = sessions.video_sessions(session_summaries, settings)
    interval_table = intervals.watch_intervals(session_summaries, settings)
    metric_table = metrics.user_video_metrics(session_table, interval_table, settings)
    engagement_table = lifetime.user_video_engagement(metric_table, interval_table, settings)
    return {
        "annotated": annotated,
        "session_summaries": session_summaries,
        "video_sessions": session_table,
        "watch_intervals": interval_table,
        "user_video_metrics": metric_table,
        "engagement_tier_summary": summaries.engagement_tier_summary(metric_table, first_day, last_day),
        "video_engagement_summary": summaries.video_engagement_summary(metric_table, interval_table, settings),
        "video_platform_summary": platforms.video_platform_summary(session_table),
        "user_video_engagement": engagement_table,
        "video_lifetime_summary": video_lifetime.video_lifetime_summary(engagement_table),
    }


def rows_of(frame, order_by=None):
    """Test helper: the frame's rows as dicts (tests only; never in the data path)."""
    if order_by:
        frame = frame.orderBy(*order_by)
    return [row.asDict(recursive=True) for row in frame.collect()]


def day(text: str) -> date:
    return date.fromisoformat(text)


__all__ = ["F", "catalog_frame", "day", "event", "events_frame", "rows_of", "run_engagement", "ts", "watch"]

"""`video-assets report`: one self-contained HTML file of the engagement tables over a range of days.

Two halves: ``load_report_data`` reads the Delta tables and reduces them to
a few small aggregates (``ReportData``); ``render_html`` turns those into
the page, charts inline as data URIs, CSS inline, nothing fetched from
anywhere, so the file can be mailed or opened offline.
"""

import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from video_assets.reporting import charts

REQUIRED_TABLES = (
    "raw_video_events",
    "raw_video_events_quarantine",
    "user_video_metrics",
    "engagement_tier_summary",
    "video_engagement_summary",
)
# Shown when present (a warehouse written before it existed has none): the platforms of the top videos.
PLATFORM_TABLE = "video_platform_summary"
TOP_VIDEOS = 5
NO_VALUE = "—"
MILESTONES = (25, 50, 75, 95)
MAX_PLATFORM_COLUMNS = 6
OTHER_PLATFORMS = "other"


class ReportError(RuntimeError):
    """The report cannot be made from the warehouse as it is; the message says what to do."""


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, already small: see ``video_assets.reporting.aggregates`` for each number."""

    first_day: date
    last_day: date
    headline: list[dict]
    top_videos: list[dict]
    tier_mix: list[tuple]
    score_bins: list[tuple[float, int]]
    thresholds: dict[str, float]
    source: str = ""
    # Per (top video, platform), from video_platform_summary; None when the warehouse has no such table yet.
    platforms: list[dict] | None = None


def default_report_path(first_day: date, last_day: date) -> Path:
    from video_assets.config import PROJECT_ROOT  # noqa: PLC0415

    return PROJECT_ROOT / "data" / "reports" / f"engagement-{first_day.isoformat()}_{last_day.isoformat()}.html"


# --- reading (Spark) ---------------------------------------------------------------------------------


def _table_range(warehouse, spark) -> tuple[date, date] | None:
    from pyspark.sql import functions as F  # noqa: PLC0415

    row = warehouse.table("engagement_tier_summary").read(spark).agg(
        F.min("metric_date").alias("first"), F.max("metric_date").alias("last")
    ).first()
    return None if row["first"] is None else (row["first"], row["last"])


def load_report_data(
    warehouse, spark, first_day: date | None, last_day: date | None, thresholds: dict[str, float]
) -> ReportData:
    """Reads the five tables the report needs, each filtered to [first_day, last_day] by its date column.

    A missing bound is the first / last metric_date of engagement_tier_summary.
    Raises ReportError naming any missing table, or when the range holds no day.
    """
    from pyspark.sql import functions as F  # noqa: PLC0415

    from video_assets.reporting import aggregates  # noqa: PLC0415
    from video_assets.tables import table_spec  # noqa: PLC0415

    missing = [name for name in REQUIRED_TABLES if not warehouse.table(name).exists(spark)]
    if missing:
        raise ReportError(
            f"The report needs the table(s) {', '.join(missing)}, not found in the warehouse {warehouse.location}. "
            "Run `bash scripts/demo.sh` (sample data through the whole graph), or materialize those assets "
            "(in the Dagster UI, or `video-assets demo`), then run `video-assets report` again."
        )
    if first_day is None or last_day is None:
        present = _table_range(warehouse, spark)
        if present is None:
            raise ReportError("engagement_tier_summary has no rows yet: materialize the graph for some days first.")
        first_day, last_day = first_day or present[0], last_day or present[1]
    if first_day > last_day:
        raise ReportError(f"The range is empty: --from {first_day} is after --to {last_day}.")

    def read(name: str):
        column = table_spec(name).partition_column
        return warehouse.table(name).read(spark).where(F.col(column).between(F.lit(first_day), F.lit(last_day)))

    tiers = aggregates.tier_mix(read("engagement_tier_summary"))
    top = aggregates.top_videos(read("video_engagement_summary"), limit=TOP_VIDEOS)
    platforms = None
    if warehouse.table(PLATFORM_TABLE).exists(spark):
        platforms = aggregates.platforms_of(read(PLATFORM_TABLE), [video["video_id"] for video in top])
    if not tiers:
        raise ReportError(
            f"No engagement_tier_summary rows from {first_day} to {last_day}: "
            "choose days that have been materialized (omit --from/--to for all of them)."
        )
    return ReportData(
        first_day=first_day,
        last_day=last_day,
        headline=aggregates.headline_by_day(
            read("user_video_metrics"), read("raw_video_events"), read("raw_video_events_quarantine")
        ),
        top_videos=top,
        tier_mix=tiers,
        score_bins=aggregates.score_histogram(read("user_video_metrics")),
        thresholds=thresholds,
        source=str(warehouse.location),
        platforms=platforms,
    )


def write_report(first_day: date | None, last_day: date | None, out: Path | None) -> Path:
    """Reads the tables of the current environment, writes the page, returns its absolute path."""
    from video_assets.config import build_resources  # noqa: PLC0415

    resources = build_resources()
    thresholds = charts.tier_thresholds(resources["engagement"])
    data = load_report_data(resources["warehouse"], resources["spark"].get_session(), first_day, last_day, thresholds)
    path = (out or default_report_path(data.first_day, data.last_day)).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(data), encoding="utf-8")
    return path


# --- rendering (pure) --------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.subtitle, .note { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.6rem 0; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e5e5e5; }
th { text-align: left; background: #f5f5f5; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
"""


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def _count(value) -> str:
    return NO_VALUE if value is None else f"{int(value):,}"


def _hours(value) -> str:
    return NO_VALUE if value is None else f"{float(value):,.2f}"


def _percent(share) -> str:
    return NO_VALUE if share is None else f"{100 * float(share):.1f}%"


def _table(headers: list[str], rows: list[list[tuple[str, bool]]]) -> str:
    """An HTML table; each cell is (already formatted text, is_number)."""
    head = "".join(f"<th>{_text(header)}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="number">{_text(text)}</td>' if number else f"<td>{_text(text)}</td>"
                         for text, number in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(png: bytes, alt: str) -> str:
    return f'<img src="{charts.png_data_uri(png)}" alt="{_text(alt)}">'


def _headline_section(data: ReportData) -> str:
    rows = [
        [
            (str(day["day"]), False),
            (_count(day["viewers"]), True),
            (_hours(day["watch_hours"]), True),
            (_percent(day["completion_rate"]), True),
            (_count(day["valid_events"]), True),
            (_count(day["quarantined"]), True),
            (_percent(day["quarantine_share"]), True),
        ]
        for day in data.headline
    ]
    table = _table(
        ["Day (UTC)", "Viewers", "Watch hours", "Completion rate", "Valid events", "Quarantined", "Quarantine share"],
        rows,
    )
    return (
        "<h2>Headline numbers per day</h2>"
        + table
        + '<p class="note">Viewers: distinct users who watched that day. Watch hours: time watched, replays included. '
        "Completion rate: share of (user, video) pairs that reached the completion threshold. Engagement is counted "
        "on the day a session closes (last event + timeout). Quarantine share: rejected records / (valid events + "
        "rejected records) of the day's landing folder; duplicates are in neither.</p>"
    )


def _reached(video: dict) -> str:
    shares = video.get("reached_shares")
    return " / ".join(f"{100 * float(share):.0f}%" for share in shares) if shares else NO_VALUE


def _top_videos_section(data: ReportData) -> str:
    videos = data.top_videos
    curves = [
        (video["title"], video["retention_curve"], video.get("furthest_point_shares") or []) for video in videos
    ]
    funnel = [(video["title"], video.get("reached_shares") or [0.0] * len(MILESTONES)) for video in videos]
    rows = [
        [
            (str(rank), True),
            (video["title"], False),
            (video["video_id"], False),
            (_count(video["viewers"]), True),
            (_hours(video["watch_hours"]), True),
            (_percent(video["completion_rate"]), True),
            (_percent(video.get("engaged_rate")), True),
            (_reached(video), True),
        ]
        for rank, video in enumerate(videos, start=1)
    ]
    table = _table(
        ["#", "Video", "video_id", "Viewer-days", "Watch hours", "Completion rate", "Engaged",
         "Reached 25 / 50 / 75 / 95 %"],
        rows,
    )
    return (
        f"<h2>Top {len(videos)} videos by viewers</h2>"
        + _image(charts.retention_and_stop_points_chart(curves), "Audience retention and where viewers stop")
        + _image(charts.milestone_funnel_chart(funnel, MILESTONES), "Milestone funnel of the top videos")
        + table
        + '<p class="note">Retention: share of the viewers still watching at each point of the video. Where viewers '
        "stop: share of the viewers whose furthest point falls in each twentieth of the video. Milestones: share of "
        "the viewers whose watching covered 25, 50, 75 and 95 % of the video (skipping past a point does not reach "
        "it). Engaged: watched at least engaged_watch_seconds (30 s unless configured otherwise), or completed. "
        "Every share weights the days by their viewers; viewer-days: a user who watched on two days counts "
        "twice.</p>"
    )


def _platform_columns(rows: list[dict]) -> list[str]:
    """The platforms to show as columns, most sessions first; past MAX_PLATFORM_COLUMNS the rest are "other"."""
    sessions: dict[str, int] = {}
    for row in rows:
        sessions[row["platform"]] = sessions.get(row["platform"], 0) + int(row["sessions"])
    ranked = sorted(sessions, key=lambda platform: (-sessions[platform], platform))
    if len(ranked) <= MAX_PLATFORM_COLUMNS:
        return ranked
    return [*ranked[: MAX_PLATFORM_COLUMNS - 1], OTHER_PLATFORMS]


def _platforms_section(data: ReportData) -> str:
    title = "<h2>Platforms of the top videos</h2>"
    if data.platforms is None:
        return (
            title + '<p class="note">No video_platform_summary table in this warehouse yet: materialize it to see '
            "the platforms.</p>"
        )
    columns = _platform_columns(data.platforms)
    counts: dict[tuple[str, str], list[int]] = {}  # (video, column) -> [sessions, completed sessions]
    for row in data.platforms:
        column = row["platform"] if row["platform"] in columns else OTHER_PLATFORMS
        cell = counts.setdefault((row["video_id"], column), [0, 0])
        cell[0] += int(row["sessions"])
        cell[1] += int(row["completed_sessions"])

    def shown(cell: list[int] | None) -> str:
        return NO_VALUE if cell is None else f"{cell[0]:,} · {_percent(cell[1] / cell[0] if cell[0] else None)}"

    rows = [
        [(video["title"], False), *[(shown(counts.get((video["video_id"], column))), True) for column in columns]]
        for video in data.top_videos
    ]
    return (
        title
        + _table(["Video", *columns], rows)
        + '<p class="note">Each cell: the video\'s sessions on the platform over the days · the share of those '
        "sessions that reached the completion threshold on their own. A session counts on the platform of its "
        "first event that names one (lower-cased; <i>unknown</i> when none does).</p>"
    )


def render_html(data: ReportData) -> str:
    """The whole page for the given aggregates; no Spark, no file, no network."""
    span = f"{data.first_day.isoformat()} to {data.last_day.isoformat()}"
    thresholds = ", ".join(f"{tier} ≥ {minimum:g}" for tier, minimum in data.thresholds.items())
    sections = [
        _headline_section(data),
        _top_videos_section(data),
        _platforms_section(data),
        "<h2>Engagement tier mix</h2>"
        + _image(charts.tier_mix_chart(data.tier_mix), "Engagement tier mix per day")
        + f'<p class="note">(user, video) pairs of each day by engagement tier ({_text(thresholds)}, else Minimal).</p>',
        "<h2>Engagement score distribution</h2>"
        + _image(charts.score_histogram_chart(data.score_bins, data.thresholds), "Histogram of engagement scores")
        + '<p class="note">Engagement score of each (user, video) pair of each day, 0-100.</p>',
    ]
    source = f'<p class="note">Source: {_text(data.source)}</p>' if data.source else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>Video engagement {_text(span)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Video engagement, {_text(span)}</h1><p class=\"subtitle\">UTC days, both included</p>"
        + "".join(sections)
        + source
        + "</body></html>\n"
    )

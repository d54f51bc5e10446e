"""Charts of the engagement tables as small PNG images, and markdown to show them in the Dagster UI.

Every function takes a handful of Python values (never a DataFrame) and
returns PNG bytes. Figures are drawn with ``matplotlib.figure.Figure`` on the
Agg canvas: no pyplot, no display, no global state, so the charts can be
drawn inside an asset run. Fonts, sizes and colours are fixed and the PNG
carries no software/time stamp, so the same input always gives the same bytes.
"""

import base64
import math
from collections.abc import Iterable, Sequence
from datetime import date
from io import BytesIO

from video_assets.settings import TIERS

DPI = 100
TIER_COLOURS = {"High": "#1b7837", "Medium": "#7fbf7b", "Low": "#f1a340", "Minimal": "#b0b0b0"}
# Ten distinguishable line colours (the "tab10" palette), then the cycle repeats with dashes.
LINE_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
LABEL_SIZE, TICK_SIZE, TITLE_SIZE, LEGEND_SIZE = 8, 7, 9, 7
MAX_LEGEND_LABEL = 30


def _figure(width_inches: float, height_inches: float, right: float):
    """A white figure with one axes, leaving the space right of `right` (figure fraction) for a legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - matplotlib only when drawing
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(width_inches, height_inches), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.09, right=right, top=0.88, bottom=0.17)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=TICK_SIZE)
    axes.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _png(figure) -> bytes:
    """The figure as a 256-colour PNG: a third of the size of full colour, the same to the eye for flat charts.

    Pillow (a matplotlib dependency) writes the file, with no software name or
    time in it, so equal figures give equal bytes.
    """
    from PIL import Image  # noqa: PLC0415

    canvas = figure.canvas
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), bytes(canvas.buffer_rgba()), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _no_data(axes, message: str = "No data in this range") -> None:
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center", fontsize=LABEL_SIZE,
              color="#666666")


def _short(label: str) -> str:
    return label if len(label) <= MAX_LEGEND_LABEL else label[: MAX_LEGEND_LABEL - 1] + "…"


def _percent_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def retention_chart(curves: list[tuple[str, list[float]]]) -> bytes:
    """Audience retention, one line per video: the share of viewers (%) still watching at each point.

    Each curve is (title, shares); share k (0-1) is drawn at position
    (k + 0.5) / N of the video, as a percent of its duration.
    """
    figure, axes = _figure(7.0, 3.2, right=0.70)
    for index, (title, shares) in enumerate(curves):
        buckets = len(shares)
        positions = [100.0 * (k + 0.5) / buckets for k in range(buckets)]
        axes.plot(
            positions,
            shares,
            color=LINE_COLOURS[index % len(LINE_COLOURS)],
            linestyle="-" if index < len(LINE_COLOURS) else "--",
            linewidth=1.4,
            label=_short(title),
        )
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 1.02)
    axes.set_xticks(range(0, 101, 10))
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0f}%")
    _percent_axis(axes.yaxis)
    axes.set_xlabel("Position in the video (% of its duration)", fontsize=LABEL_SIZE)
    axes.set_ylabel("Viewers watching (%)", fontsize=LABEL_SIZE)
    axes.set_title("Audience retention: share of viewers at each point of the video", fontsize=TITLE_SIZE)
    if curves:
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=LEGEND_SIZE, frameon=False, title="Video",
                    title_fontsize=LEGEND_SIZE)
    else:
        _no_data(axes)
    return _png(figure)


def _line_style(index: int) -> dict:
    return {
        "color": LINE_COLOURS[index % len(LINE_COLOURS)],
        "linestyle": "-" if index < len(LINE_COLOURS) else "--",
        "linewidth": 1.4,
    }


def _share_of_video_axes(axes, ylabel: str, title: str, top: float) -> None:
    axes.set_xlim(0, 100)
    axes.set_ylim(0, top)
    axes.set_xticks(range(0, 101, 20))
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0f}%")
    _percent_axis(axes.yaxis)
    axes.set_xlabel("Position in the video (% of its duration)", fontsize=LABEL_SIZE)
    axes.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    axes.set_title(title, fontsize=TITLE_SIZE)


def retention_and_stop_points_chart(videos: list[tuple[str, list[float], list[float]]]) -> bytes:
    """Two panels side by side, one line per video in the same colour on both.

    Left, audience retention: the share of viewers watching at each point
    (as ``retention_chart``). Right, where viewers stop: the share of viewers
    whose furthest point lies in each of the N equal parts of the video
    (``furthest_point_shares``), drawn as steps over the part it covers.
    Each video is (title, retention shares, furthest-point shares).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(10.0, 3.3), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.065, right=0.77, top=0.86, bottom=0.17, wspace=0.28)
    retention, stops = figure.subplots(1, 2)
    tallest_stop = 0.0
    for index, (title, curve, furthest) in enumerate(videos):
        style = _line_style(index)
        buckets = len(curve)
        retention.plot([100.0 * (k + 0.5) / buckets for k in range(buckets)], curve, label=_short(title), **style)
        parts = len(furthest)
        if parts:
            edges = [100.0 * k / parts for k in range(parts + 1)]
            stops.stairs(furthest, edges, **style)
            tallest_stop = max(tallest_stop, *furthest)
    for axes in (retention, stops):
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(labelsize=TICK_SIZE)
        axes.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        axes.set_axisbelow(True)
    _share_of_video_axes(retention, "Viewers watching (%)", "Audience retention", 1.02)
    _share_of_video_axes(stops, "Viewers who stopped there (%)", "Where viewers stop (furthest point)",
                         min(1.02, max(0.1, tallest_stop * 1.15)))
    if videos:
        handles, labels = retention.get_legend_handles_labels()
        figure.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.78, 0.86), fontsize=LEGEND_SIZE,
                      frameon=False, title="Video", title_fontsize=LEGEND_SIZE)
    else:
        _no_data(retention)
        _no_data(stops)
    return _png(figure)


def milestone_funnel_chart(videos: list[tuple[str, list[float]]], milestones: Sequence[int] = (25, 50, 75, 95)) -> bytes:
    """Milestone funnel: per milestone (25/50/75/95 % of the video), one bar per video, the share of viewers who reached it.

    Each video is (title, shares in the order of ``milestones``), in the colours of the line charts.
    """
    figure, axes = _figure(7.0, 3.0, right=0.70)
    count = max(len(videos), 1)
    width = 0.8 / count
    for index, (title, shares) in enumerate(videos):
        positions = [group - 0.4 + width * (index + 0.5) for group in range(len(milestones))]
        axes.bar(positions, shares, width=width, color=LINE_COLOURS[index % len(LINE_COLOURS)], label=_short(title),
                 edgecolor="white", linewidth=0.4)
    axes.set_xticks(range(len(milestones)), [f"{percent}%" for percent in milestones])
    axes.set_xlim(-0.6, len(milestones) - 0.4)
    axes.set_ylim(0, 1.02)
    _percent_axis(axes.yaxis)
    axes.set_xlabel("Milestone (% of the video's duration)", fontsize=LABEL_SIZE)
    axes.set_ylabel("Viewers who reached it (%)", fontsize=LABEL_SIZE)
    axes.set_title("Milestone funnel: share of viewers whose watching covered each point", fontsize=TITLE_SIZE)
    if videos:
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=LEGEND_SIZE, frameon=False, title="Video",
                    title_fontsize=LEGEND_SIZE)
    else:
        _no_data(axes)
    return _png(figure)


def _day_label(day: date | str) -> str:
    try:
        return (day if isinstance(day, date) else date.fromisoformat(str(day))).strftime("%b %d")
    except ValueError:
        return str(day)


def tier_mix_chart(rows: list[tuple[date | str, str, int]], tiers: Sequence[str] = TIERS) -> bytes:
    """Per day, a bar of the day's (user, video) pairs stacked by engagement tier (High on top).

    rows are (metric_date, engagement_tier, pair_count); a missing
    (day, tier) counts as 0. A tier outside `tiers` is an error.
    """
    unknown = sorted({tier for _, tier, _ in rows} - set(tiers))
    if unknown:
        raise ValueError(f"tier_mix_chart: tiers {unknown} are not among {list(tiers)}")
    days = sorted({day for day, _, _ in rows}, key=str)
    counts = {(day, tier): 0 for day in days for tier in tiers}
    for day, tier, pairs in rows:
        counts[(day, tier)] += int(pairs)

    figure, axes = _figure(7.0, 3.2, right=0.84)
    positions = list(range(len(days)))
    bottoms = [0] * len(days)
    # Stacked from the last tier (Minimal) up, so that the legend's order is the bars' top-to-bottom order.
    handles = {}
    for tier in reversed(tiers):
        heights = [counts[(day, tier)] for day in days]
        handles[tier] = axes.bar(
            positions, heights, bottom=bottoms, width=0.8, color=TIER_COLOURS.get(tier, "#666666"), label=tier,
            edgecolor="white", linewidth=0.4,
        )
        bottoms = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]
    step = max(1, math.ceil(len(days) / 12))
    axes.set_xticks(positions[::step], [_day_label(day) for day in days[::step]])
    axes.set_xlim(-0.6, max(len(days), 1) - 0.4)
    axes.set_xlabel("Day (UTC)", fontsize=LABEL_SIZE)
    axes.set_ylabel("(user, video) pairs", fontsize=LABEL_SIZE)
    axes.set_title("Engagement tier mix: (user, video) pairs per day by tier", fontsize=TITLE_SIZE)
    if days:
        axes.legend([handles[tier] for tier in tiers], list(tiers), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                    fontsize=LEGEND_SIZE, frameon=False, title="Tier", title_fontsize=LEGEND_SIZE)
    else:
        _no_data(axes)
    return _png(figure)


def tier_of(score: float, thresholds: dict[str, float], tiers: Sequence[str] = TIERS) -> str:
    """The tier of a score: the tier with the highest threshold at or below it, else the last tier (Minimal)."""
    for tier, minimum in sorted(thresholds.items(), key=lambda item: -item[1]):
        if score >= minimum:
            return tier
    return tiers[-1]


def score_histogram_chart(
    bins: list[tuple[float, int]], thresholds: dict[str, float], *, bin_width: float | None = None
) -> bytes:
    """Histogram of engagement scores (0-100): (user, video) pairs per score bin, bars coloured by tier.

    bins are (lowest score of the bin, pairs); bin_width defaults to the
    smallest gap between bin starts (5 when there is one bin or none).
    thresholds maps a tier to its lowest score (e.g. High 70, Medium 40,
    Low 20); each is drawn as a labelled dashed line.
    """
    starts = sorted(start for start, _ in bins)
    if bin_width is None:
        gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False) if later > earlier]
        bin_width = min(gaps) if gaps else 5.0
    figure, axes = _figure(7.0, 3.2, right=0.97)
    axes.bar(
        [start for start, _ in bins],
        [count for _, count in bins],
        width=bin_width,
        align="edge",
        color=[TIER_COLOURS.get(tier_of(start, thresholds), "#666666") for start, _ in bins],
        edgecolor="white",
        linewidth=0.5,
    )
    for tier, minimum in sorted(thresholds.items(), key=lambda item: item[1]):
        axes.axvline(minimum, color="#333333", linestyle="--", linewidth=0.9)
        axes.text(minimum + 0.8, 0.98, f"{tier} ≥ {minimum:g}", transform=axes.get_xaxis_transform(),
                  ha="left", va="top", fontsize=TICK_SIZE, color="#333333")
    tallest = max((count for _, count in bins), default=0)
    axes.set_ylim(0, max(tallest, 1) * 1.18)  # headroom for the threshold labels
    axes.set_xlim(0, 100)
    axes.set_xticks(range(0, 101, 10))
    axes.set_xlabel("Engagement score (points, 0-100)", fontsize=LABEL_SIZE)
    axes.set_ylabel("(user, video) pairs", fontsize=LABEL_SIZE)
    axes.set_title(f"Engagement scores: (user, video) pairs per {bin_width:g}-point bin", fontsize=TITLE_SIZE)
    if not any(count for _, count in bins):
        _no_data(axes)
    return _png(figure)


def tier_thresholds(settings) -> dict[str, float]:
    """The lowest score of each tier above Minimal, from EngagementSettings."""
    return {
        "High": settings.tier_high_min_score,
        "Medium": settings.tier_medium_min_score,
        "Low": settings.tier_low_min_score,
    }


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def as_markdown_image(png: bytes, alt: str) -> str:
    """A markdown image whose source is the PNG itself (a data URI): ``dg.MetadataValue.md`` shows it inline."""
    safe_alt = alt.replace("[", "(").replace("]", ")").replace("\n", " ")
    return f"![{safe_alt}]({png_data_uri(png)})"


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A small markdown table; cells are shown with str(), pipes escaped."""
    lines = ["| " + " | ".join(_cell(header) for header in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)

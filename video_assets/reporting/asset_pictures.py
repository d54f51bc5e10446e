"""Pictures for the Dagster UI: markdown metadata with an inline PNG, from the small aggregates a step has.

Each function takes a few dozen numbers (never a partition) and returns one
``MetadataValue.md`` entry, a few tens of KB: the event log stays small.
"""

import dagster as dg

from video_assets.reporting import charts

TOP_VIDEOS = 5


def retention_picture(top: list[dict]) -> dg.MetadataValue:
    """Retention curves of the most-viewed videos, and a table of their viewers, watch hours, completion."""
    image = charts.as_markdown_image(
        charts.retention_chart([(video["title"], video["retention_curve"]) for video in top]),
        "Audience retention of the most-viewed videos",
    )
    table = charts.markdown_table(
        ["video", "viewer-days", "watch hours", "completion rate"],
        [
            (video["title"], video["viewers"], video["watch_hours"], f"{(video['completion_rate'] or 0):.1%}")
            for video in top
        ],
    )
    return dg.MetadataValue.md(f"{image}\n\n{table}")


def tier_mix_picture(rows: list[tuple]) -> dg.MetadataValue:
    """Pairs per engagement tier, per day (stacked bars)."""
    return dg.MetadataValue.md(charts.as_markdown_image(charts.tier_mix_chart(rows), "Engagement tier mix per day"))


def score_histogram_picture(bins: list[tuple[float, int]], settings) -> dg.MetadataValue:
    """Histogram of engagement scores with the tier thresholds in force."""
    png = charts.score_histogram_chart(bins, charts.tier_thresholds(settings))
    return dg.MetadataValue.md(charts.as_markdown_image(png, "Engagement scores, with the tier thresholds"))

"""Pictures for the Dagster UI: markdown metadata with an inline PNG, from the small aggregates a step has.

Each function takes a few dozen numbers (never a partition) and returns one
``MetadataValue.md`` entry, a few tens of KB: the event log stays small.
"""

import dagster as dg

from video_assets.reporting import charts

TOP_VIDEOS = 5


def _percent(share) -> str:
    return "—" if share is None else f"{share:.1%}"


def retention_picture(top: list[dict]) -> dg.MetadataValue:
    """For the most-viewed videos: retention beside where viewers stop, the milestone funnel, and a table."""
    curves = charts.as_markdown_image(
        charts.retention_and_stop_points_chart(
            [(video["title"], video["retention_curve"], video.get("furthest_point_shares") or []) for video in top]
        ),
        "Audience retention and where viewers stop, most-viewed videos",
    )
    funnel = charts.as_markdown_image(
        charts.milestone_funnel_chart(
            [(video["title"], video.get("reached_shares") or [0.0] * 4) for video in top]
        ),
        "Milestone funnel of the most-viewed videos",
    )
    table = charts.markdown_table(
        ["video", "viewer-days", "watch hours", "completion rate", "engaged", "reached 25/50/75/95 %"],
        [
            (
                video["title"],
                video["viewers"],
                video["watch_hours"],
                _percent(video["completion_rate"] or 0),
                _percent(video.get("engaged_rate")),
                " / ".join(f"{share:.0%}" for share in video.get("reached_shares") or []) or "—",
            )
            for video in top
        ],
    )
    return dg.MetadataValue.md(f"{curves}\n\n{funnel}\n\n{table}")


def platform_mix_picture(mix: list[dict]) -> dg.MetadataValue:
    """Sessions, watch hours and completion rate per platform over the run's days (a markdown table)."""
    return dg.MetadataValue.md(
        charts.markdown_table(
            ["platform", "sessions", "watch hours", "completion rate"],
            [(row["platform"], row["sessions"], row["watch_hours"], _percent(row["completion_rate"])) for row in mix],
        )
    )


def tier_mix_picture(rows: list[tuple]) -> dg.MetadataValue:
    """Pairs per engagement tier, per day (stacked bars)."""
    return dg.MetadataValue.md(charts.as_markdown_image(charts.tier_mix_chart(rows), "Engagement tier mix per day"))


def score_histogram_picture(bins: list[tuple[float, int]], settings) -> dg.MetadataValue:
    """Histogram of engagement scores with the tier thresholds in force."""
    png = charts.score_histogram_chart(bins, charts.tier_thresholds(settings))
    return dg.MetadataValue.md(charts.as_markdown_image(png, "Engagement scores, with the tier thresholds"))

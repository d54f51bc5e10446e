"""Section 9c's audience columns of video_engagement_summary: engaged viewers, milestones, furthest points, relative retention.

They are computed inside ``summaries.video_engagement_summary``, in the
passes it already makes: the per-video aggregation of user_video_metrics
(``viewer_columns`` and ``viewer_aggregates``, finished by ``audience_columns``) and the one pass
over the watch intervals that draws the retention curve (``milestone_points``
adds the four milestones to the moments each interval is tested against).
No other read of the sessions or the intervals.

Viewers are the day's user_video_metrics rows of the video; duration is its
video_duration_seconds. Shares are fractions rounded to 4 decimals, like every
share of the table.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from video_assets.settings import EngagementSettings
from video_assets.transforms.metrics import round_display
from video_assets.transforms.sessions import ratio

MILESTONE_PERCENTS = (25, 50, 75, 95)
FURTHEST_POINT_BUCKETS = 20
# Upper edges (s) of the duration bands, lowest first: [0, 60), [60, 300), [300, 1200), [1200, ∞).
DURATION_BAND_EDGES_SECONDS = (60, 300, 1200)
# relative_retention needs at least this many videos with viewers in the band that day.
RELATIVE_RETENTION_MIN_VIDEOS = 3
SHARE_DIGITS = 4

_FURTHEST_COUNTS, _MEDIAN_FURTHEST, _MEAN_UNIQUE = "_furthest_counts", "_median_furthest", "_mean_unique_percentage"


def milestone_column(percent: int) -> str:
    """The column of one milestone: ``reached_<percent>_share``."""
    return f"reached_{percent}_share"


MILESTONE_COLUMNS = tuple(milestone_column(percent) for percent in MILESTONE_PERCENTS)


def milestone_points(start: Column, end: Column, duration: Column, first_point: int) -> Column:
    """The milestones an interval [start, end) covers, as point numbers first_point + i (i-th milestone).

    The moment of milestone p is duration · p / 100 (one rounding: 300 · 95 / 100 is 285 exactly);
    it is covered when start ≤ moment < end (SEMANTICS.md 9c).
    """
    covered = []
    for index, percent in enumerate(MILESTONE_PERCENTS):
        moment = duration * percent / 100
        covered.append(F.when((start <= moment) & (moment < end), F.lit(first_point + index)))
    return F.array_compact(F.array(*covered))


def furthest_fraction(max_position: Column, duration: Column) -> Column:
    """min(max_position / duration, 1); 0 for a duration of 0 (every ratio to it is 0)."""
    return F.least(ratio(max_position, duration), F.lit(1.0))


def furthest_bucket(max_position: Column, duration: Column) -> Column:
    """k such that min(max_position / duration, 1) lies in [k/20, (k+1)/20); the value 1 is in the last bucket.

    Computed as floor(20 · position / duration), one rounding, so a position exactly on a bucket edge
    (45 s of 300 s: 3/20) falls in the bucket it opens.
    """
    buckets = FURTHEST_POINT_BUCKETS
    scaled = F.floor(F.least(max_position, duration) * buckets / duration)
    return F.when(duration > 0, F.least(scaled, F.lit(buckets - 1))).otherwise(F.lit(0)).cast("int")


def viewer_columns(settings: EngagementSettings) -> dict[str, Column]:
    """Per metrics row (one viewer of a video on a day): what ``viewer_aggregates`` counts, computed once."""
    duration, max_position = F.col("video_duration_seconds"), F.col("max_position_seconds")
    return {
        "_engaged": (F.col("total_watch_seconds") >= settings.engaged_watch_seconds) | F.col("completed"),
        "_furthest_bucket": furthest_bucket(max_position, duration),
        "_furthest_fraction": furthest_fraction(max_position, duration),
        "_unique_capped": F.least(F.col("unique_watch_percentage"), F.lit(100.0)),
    }


def viewer_aggregates() -> list[Column]:
    """Aggregates over one (metric_date, video_id)'s metrics rows with ``viewer_columns``, for its groupBy."""
    bucket = F.col("_furthest_bucket")
    return [
        F.count_if("_engaged").alias("engaged_viewers"),
        F.array(*[F.count_if(bucket == k) for k in range(FURTHEST_POINT_BUCKETS)]).alias(_FURTHEST_COUNTS),
        # Exact: percentile 0.5 interpolates, so an even count gives the mean of the two middle values.
        F.median("_furthest_fraction").alias(_MEDIAN_FURTHEST),
        # Nine decimals: the mean must not depend on the order Spark added the percentages in.
        F.round(F.avg("_unique_capped"), 9).alias(_MEAN_UNIQUE),
    ]


def duration_band(duration: Column) -> Column:
    """0, 1, 2, 3 for [0, 60), [60, 300), [300, 1200), [1200, ∞) seconds."""
    band = F.lit(len(DURATION_BAND_EDGES_SECONDS))
    for index, edge in reversed(list(enumerate(DURATION_BAND_EDGES_SECONDS))):
        band = F.when(duration < edge, F.lit(index)).otherwise(band)
    return band


def audience_columns(per_video: DataFrame) -> DataFrame:
    """``per_video`` (one row per (metric_date, video_id), with ``viewer_aggregates``) with the 9c columns.

    relative_retention compares the video's mean min(unique_watch_percentage, 100)
    with the median of that mean over the day's videos of its duration band
    (the video included): a window over the per-video rows, not over viewers.
    """
    viewers = F.col("viewers")
    band = Window.partitionBy("metric_date", "_band")
    band_median, band_videos = F.median(_MEAN_UNIQUE).over(band), F.count(F.lit(1)).over(band)
    relative = F.when(
        (band_videos >= RELATIVE_RETENTION_MIN_VIDEOS) & (band_median != 0),
        round_display(F.col(_MEAN_UNIQUE) / band_median, SHARE_DIGITS),
    )
    return (
        per_video.withColumn("_band", duration_band(F.col("video_duration_seconds")))
        .withColumns(
            {
                "engaged_rate": round_display(ratio(F.col("engaged_viewers"), viewers), SHARE_DIGITS),
                "furthest_point_shares": F.transform(
                    _FURTHEST_COUNTS, lambda count: round_display(ratio(count, viewers), SHARE_DIGITS)
                ),
                "median_furthest_percentage": round_display(100 * F.coalesce(_MEDIAN_FURTHEST, F.lit(0.0)), 2),
                "relative_retention": relative,
            }
        )
        .drop("_band", _FURTHEST_COUNTS, _MEDIAN_FURTHEST, _MEAN_UNIQUE)
    )

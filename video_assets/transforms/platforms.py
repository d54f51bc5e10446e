"""video_sessions -> one row per (metric_date, video, platform) (SEMANTICS.md 9d).

A session's platform is decided once, in the session step's aggregation
(``video_sessions.normalized_platform``: its first event's non-empty platform,
trimmed and lower-cased, ``unknown`` when none has one), so every session
counts on exactly one platform and the platforms of a (day, video) add up to
its sessions.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from video_assets.tables import project
from video_assets.transforms.metrics import round_display
from video_assets.transforms.sessions import ratio


def video_platform_summary(sessions: DataFrame) -> DataFrame:
    """Per (metric_date = session_date, video_id, platform) with a session: sessions, viewers, watch, completion."""
    per_platform = sessions.groupBy(
        F.col("session_date").alias("metric_date"), "video_id", F.col("normalized_platform").alias("platform")
    ).agg(
        F.count(F.lit(1)).alias("sessions"),
        F.countDistinct("user_id").alias("viewers"),
        F.sum("watched_seconds").alias("total_watch_seconds"),
        F.count(F.when(F.col("reached_completion"), 1)).alias("completed_sessions"),
    )
    finished = per_platform.withColumn(
        "completion_rate", round_display(ratio(F.col("completed_sessions"), F.col("sessions")), 4)
    )
    return project(finished, "video_platform_summary")

"""Two small landing days (ann, bob, cy) that the whole-graph tests run through Dagster."""

import json

from video_assets.tables import TABLES
from video_assets_tests.builders import rows_of
from video_assets_tests.dagster_runs import read_table

DAYS = ("2024-01-15", "2024-01-16")
DAILY = [
    "raw_video_events", "raw_video_events_quarantine", "video_sessions", "watch_intervals", "user_video_metrics",
    "engagement_tier_summary", "video_engagement_summary", "video_platform_summary",
]
ALL_TIME = ["user_video_engagement", "video_lifetime_summary"]
ALL = ["video_catalog", *DAILY, *ALL_TIME]


def record(day, clock, user, video, name, position):
    return json.dumps(
        {"timestamp": f"{day}T{clock}Z", "userId": user, "videoId": video, "eventName": name, "currentTime": position}
    )


def write_day(landing_dir, day, lines, name="part-0.jsonl"):
    folder = landing_dir / "events" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def snapshot(spark, warehouse_dir, name):
    spec = TABLES[name]
    order = [*(c for c in spec.key_columns), *([spec.partition_column] if spec.partition_column else [])]
    return rows_of(read_table(spark, warehouse_dir, name), order or None)

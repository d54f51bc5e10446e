"""Every table of the contract: its partition column and its key.

One place that the Delta IO manager (where to write, which range to replace)
and the checks (which key must be unique) both read.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    name: str
    partition_column: str | None
    key_columns: tuple[str, ...]


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("video_catalog", None, ("video_id",)),
        TableSpec("raw_video_events", "event_date", ("event_date", "event_key")),
        # Two identical bad lines are two rejected records: the quarantine has no key.
        TableSpec("raw_video_events_quarantine", "partition_date", ()),
        TableSpec("video_sessions", "session_date", ("session_id",)),
        TableSpec("watch_intervals", "session_date", ("session_id", "interval_index")),
        TableSpec("user_video_metrics", "metric_date", ("metric_date", "user_id", "video_id")),
        TableSpec("engagement_tier_summary", "metric_date", ("metric_date", "engagement_tier")),
        TableSpec("video_engagement_summary", "metric_date", ("metric_date", "video_id")),
        TableSpec("user_video_engagement", None, ("user_id", "video_id")),
    )
}


def table_spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"'{name}' is not a table of the contract; known tables: {sorted(TABLES)}") from None

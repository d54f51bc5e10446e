"""The contract's parameters (SEMANTICS.md section 4) as one Dagster resource.

It is a resource rather than per-asset config so that a user changes a
parameter once, in the launchpad's ``resources.engagement.config`` block, and
every stage of the run sees the same value. Transforms take the object
directly; ``EngagementSettings()`` works outside Dagster, which tests use.
"""

import dagster as dg
from pydantic import Field

TIERS = ("High", "Medium", "Low", "Minimal")


class EngagementSettings(dg.ConfigurableResource):
    """Engagement parameters; every default is the contract's."""

    session_timeout_seconds: int = Field(
        default=1800, description="A gap longer than this (s) between two events of a user-video starts a new session."
    )
    max_playback_rate: float = Field(
        default=2.0, description="Fastest playback (content s per wall s) still counted as continuous play."
    )
    position_tolerance_seconds: float = Field(
        default=2.0, description="Playhead differences up to this many seconds are jitter, not jumps."
    )
    completion_threshold_percent: float = Field(
        default=90.0, description="completion_percentage at or above this marks a view as completed."
    )
    weight_unique: float = Field(default=0.45, description="Score weight of unique seconds / duration.")
    weight_completion: float = Field(default=0.35, description="Score weight of completion.")
    weight_sessions: float = Field(default=0.10, description="Score weight of min(sessions, 3) / 3.")
    weight_rewatch: float = Field(default=0.10, description="Score weight of rewatched seconds / duration.")
    tier_high_min_score: float = Field(default=70.0, description="Lowest one-decimal score in tier High.")
    tier_medium_min_score: float = Field(default=40.0, description="Lowest one-decimal score in tier Medium.")
    tier_low_min_score: float = Field(default=20.0, description="Lowest one-decimal score in tier Low.")
    retention_buckets: int = Field(default=20, description="Points of the audience retention curve.")
    engaged_watch_seconds: float = Field(
        default=30.0,
        ge=0,
        description="A viewer who watched at least this many seconds of a video in a day (replays included), or "
        "completed it, is an engaged viewer (SEMANTICS.md 9c).",
    )

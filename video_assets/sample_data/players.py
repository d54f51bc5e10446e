"""The player SDKs of the simulated world and the event kinds they report.

The event kinds (``PLAY`` .. ``END``) are positions in the contract's
``EVENT_NAMES``; each ``PlayerSdk`` spells them in that order. ``world``
hands SDKs to devices, ``viewing`` emits event kinds, ``formats`` writes them
in each SDK's spelling: all three import this module, none of them another.
"""

from __future__ import annotations

from dataclasses import dataclass

from video_assets.transforms.events import EVENT_NAMES

# Event kinds: positions in the contract's EVENT_NAMES; a player's ``event_names`` spells them in the same order.
PLAY, PAUSE, RESUME, SEEK, HEARTBEAT, END = range(len(EVENT_NAMES))


@dataclass(frozen=True)
class PlayerSdk:
    """One player implementation and its habits when it reports events."""

    platform: str
    share_of_devices: float
    snake_case: bool
    event_names: tuple[str, ...]  # by event kind (PLAY..END), all aliases of the contract's table
    timestamp_styles: tuple[tuple[str, float], ...]  # ("iso_utc" | "iso_local" | "epoch_ms", weight)
    sends_event_id: bool
    sends_duration: bool
    seek_origin_share: float  # share of seeks that carry fromPosition
    duration_skew_range: tuple[float, float]  # reported videoDuration minus the real length, seconds
    rewind_on_resume_seconds: float  # some TV players step back a few seconds when playback resumes


PLAYER_SDKS = (
    PlayerSdk(
        platform="web", share_of_devices=0.40, snake_case=False,
        event_names=("play", "pause", "resume", "seeked", "progress", "ended"),
        timestamp_styles=(("iso_utc", 0.7), ("iso_local", 0.3)),
        sends_event_id=True, sends_duration=True, seek_origin_share=0.9,
        duration_skew_range=(0.0, 0.0), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="ios", share_of_devices=0.20, snake_case=False,
        event_names=(
            "Video Playback Started", "Video Playback Paused", "Video Playback Resumed",
            "Video Playback Seek Completed", "Video Content Playing", "Video Playback Completed",
        ),
        timestamp_styles=(("iso_local", 1.0),),
        sends_event_id=True, sends_duration=True, seek_origin_share=0.0,
        duration_skew_range=(0.2, 0.9), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="android", share_of_devices=0.20, snake_case=False,
        event_names=("video_start", "video_pause", "video_resume", "video_seek", "video_heartbeat", "video_complete"),
        timestamp_styles=(("epoch_ms", 0.8), ("iso_utc", 0.2)),
        sends_event_id=True, sends_duration=True, seek_origin_share=0.6,
        duration_skew_range=(-0.4, 0.0), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="smart_tv", share_of_devices=0.12, snake_case=True,
        event_names=("Start", "Paused", "Resumed", "Seek", "Heartbeat", "Complete"),
        timestamp_styles=(("epoch_ms", 0.5), ("iso_utc", 0.5)),
        sends_event_id=False, sends_duration=True, seek_origin_share=0.5,
        duration_skew_range=(0.0, 0.0), rewind_on_resume_seconds=0.0,
    ),
    PlayerSdk(
        platform="roku", share_of_devices=0.08, snake_case=True,
        event_names=("started", "paused", "resumed", "seek", "ping", "video-completed"),
        timestamp_styles=(("iso_local", 1.0),),
        sends_event_id=False, sends_duration=False, seek_origin_share=0.0,
        duration_skew_range=(0.0, 0.0), rewind_on_resume_seconds=5.0,
    ),
)

"""One sitting: what a viewer does in front of the player, as a list of player events.

A sitting plays one or more videos: play, a heartbeat every 10 s of wall time,
pauses and resumes, seeks both ways, ends, replays, switches, and endings by
pause or by closing the browser.
"""

from __future__ import annotations

import random
from collections import Counter

from video_assets.sample_data.clock import DAY_MS
from video_assets.sample_data.players import END, HEARTBEAT, PAUSE, PLAY, RESUME, SEEK
from video_assets.sample_data.world import PlannedSitting, Video, VideoPicker, Viewer, weighted_choice

HEARTBEAT_SECONDS = 10.0
"""Players report progress every 10 s of wall time while playing."""

PLAYBACK_RATES = ((1.0, 0.84), (1.25, 0.03), (1.5, 0.08), (2.0, 0.05))
"""(rate, share of views): content seconds per wall second."""

PAUSE_CHANCE_PER_HEARTBEAT = 0.012
SEEK_CHANCE_PER_HEARTBEAT = 0.010
STALL_CHANCE_PER_HEARTBEAT = 0.010
"""Per 10 s of playing: a pause, a seek, or buffering (the playhead advances less than the clock)."""


# How a view of one video ended, as far as the sitting is concerned.
VIEW_ENDED, VIEW_LEFT_PLAYING, VIEW_PAUSED_FOR_GOOD, VIEW_CUT_OFF = range(4)


class SittingSimulator:
    """Simulates one sitting and collects its player events.

    An event is ``(epoch_ms, kind, video_index, position_seconds, from_position_or_None)``;
    ``position`` is the playhead as the player reports it (``currentTime``).
    ``behaviour`` counts what the viewer did (views, replays, switches, ...).
    """

    def __init__(self, plan: PlannedSitting, viewer: Viewer, videos: tuple[Video, ...], picker: VideoPicker, seed: int):
        self.rng = random.Random(f"{seed}:sitting:{viewer.index}:{plan.day_ordinal}:{plan.number}")
        self.event_id_base = "%024x" % self.rng.getrandbits(96)
        self.plan = plan
        self.viewer = viewer
        self.device = viewer.devices[plan.device_number]
        self.videos = videos
        self.picker = picker
        self.clock = plan.start_ms / 1000.0  # wall clock, epoch seconds
        self.deadline = plan.deadline_ms / 1000.0
        self.position = 0.0  # playhead when a view is left without an event
        self.events: list[tuple] = []
        self.behaviour: Counter = Counter()

    # -- recording -----------------------------------------------------------

    def emit(self, kind: int, video: int, position: float, from_position: float | None = None) -> None:
        self.events.append((int(self.clock * 1000), kind, video, position, from_position))

    def player_duration(self, video: int) -> float:
        """The length this device's player measures for the video (the end position it reports)."""
        return round(self.videos[video].duration_seconds + self.device.duration_skew_seconds, 3)

    # -- the sitting ---------------------------------------------------------

    def run(self) -> list[tuple]:
        rng = self.rng
        views_wanted = 1 + int(rng.expovariate(1.0 / max(self.viewer.videos_per_sitting - 1.0, 0.1)))
        watched: set[int] = set()
        video = self.picker.pick(rng, self.viewer.favourite_category, watched)
        start_position = self.continue_watching_position(video)
        self.behaviour["sittings"] += 1
        while True:
            if self.events and self.clock >= self.deadline - 60:
                break
            outcome = self.watch(video, start_position)
            watched.add(video)
            views_wanted -= 1
            more_wanted = views_wanted > 0 and self.clock < self.deadline - 300
            if outcome == VIEW_CUT_OFF:
                self.behaviour["browser_closes"] += 1
                break
            if outcome == VIEW_PAUSED_FOR_GOOD:
                self.behaviour["pause_exits"] += 1
                break
            if outcome == VIEW_ENDED:
                self.behaviour["completed_views"] += 1
                if rng.random() < (0.25 if self.videos[video].category == "music" else 0.08):
                    self.behaviour["replays"] += 1
                    self.clock += rng.uniform(1.0, 4.0)
                    start_position = 0.0
                    continue
                if not more_wanted:
                    break
                self.clock += rng.uniform(5.0, 15.0) if rng.random() < 0.5 else rng.uniform(15.0, 90.0)
            else:  # left while playing
                if more_wanted and rng.random() < 0.55:
                    self.behaviour["switches"] += 1
                    self.clock += rng.uniform(1.0, 9.0)  # before the next heartbeat would have come
                elif more_wanted:
                    self.pause_here(video)
                    self.behaviour["pause_then_next"] += 1
                    self.clock += rng.uniform(5.0, 120.0)
                elif rng.random() < 0.5:
                    self.behaviour["browser_closes"] += 1
                    break
                else:
                    self.pause_here(video)
                    self.behaviour["pause_exits"] += 1
                    break
            video = self.picker.pick(rng, self.viewer.favourite_category, watched)
            start_position = self.continue_watching_position(video)
        return self.events

    def continue_watching_position(self, video: int) -> float:
        """Usually 0; sometimes the viewer resumes a video they started on another day."""
        if self.rng.random() < 0.15:
            self.behaviour["continue_watching_starts"] += 1
            return round(self.videos[video].duration_seconds * self.rng.uniform(0.1, 0.75), 3)
        return 0.0

    def pause_here(self, video: int) -> None:
        self.emit(PAUSE, video, self.position)

    # -- one view of one video -----------------------------------------------

    def viewing_intent(self, start: float, end: float) -> tuple[bool, float]:
        """(will watch to the end, playhead position at which the viewer stops otherwise)."""
        finish_share = 0.7 if end <= 300 else 0.5 if end <= 900 else 0.35 if end <= 1800 else 0.22
        if self.rng.random() < finish_share or end - start < 30:
            return True, end
        return False, min(end - 10.0, start + 8.0 + (end - start) * self.rng.betavariate(1.1, 2.2))

    def watch(self, video: int, start: float) -> int:
        """Plays one video from ``start`` until the viewer ends it, leaves it or the sitting must end."""
        rng = self.rng
        end = self.player_duration(video)
        rate = weighted_choice(rng, PLAYBACK_RATES)
        finishing, leave_at = self.viewing_intent(start, end)
        position = start
        self.behaviour["views"] += 1
        self.emit(PLAY, video, position)
        while True:
            wall_until_leaving = (leave_at - position) / rate
            if self.clock + min(wall_until_leaving, HEARTBEAT_SECONDS) > self.deadline:
                self.position = position
                return VIEW_CUT_OFF  # the laptop is closed mid-play
            if wall_until_leaving <= HEARTBEAT_SECONDS:
                self.clock += max(wall_until_leaving, 0.25)
                self.position = leave_at
                if finishing:
                    self.emit(END, video, end)
                    return VIEW_ENDED
                return VIEW_LEFT_PLAYING
            draw = rng.random()
            if draw < PAUSE_CHANCE_PER_HEARTBEAT:
                position = self.pause_and_resume(video, position, rate)
                if position is None:
                    return VIEW_PAUSED_FOR_GOOD
            elif draw < PAUSE_CHANCE_PER_HEARTBEAT + SEEK_CHANCE_PER_HEARTBEAT:
                position, finishing, leave_at = self.seek_while_playing(video, position, rate, end, finishing, leave_at)
            else:
                wall = HEARTBEAT_SECONDS + (rng.random() - 0.5) * 0.08
                self.clock += wall
                if draw > 1.0 - STALL_CHANCE_PER_HEARTBEAT:
                    position += rate * wall * rng.uniform(0.3, 0.9)  # buffering
                else:
                    position += rate * wall
                self.behaviour["heartbeats"] += 1
                self.emit(HEARTBEAT, video, position)

    def pause_and_resume(self, video: int, position: float, rate: float) -> float | None:
        """Pause, perhaps seek while paused, then resume; None when the viewer never comes back."""
        rng = self.rng
        played = rng.uniform(0.5, 9.5)
        self.clock += played
        position += rate * played
        self.behaviour["pauses"] += 1
        self.emit(PAUSE, video, position)
        draw = rng.random()
        pause_seconds = (
            rng.uniform(2, 30) if draw < 0.6 else rng.uniform(30, 300) if draw < 0.95 else rng.uniform(300, 1500)
        )
        if self.clock + pause_seconds + HEARTBEAT_SECONDS > self.deadline:
            return None
        if rng.random() < 0.08:  # scrub while paused
            self.clock += rng.uniform(1.0, 6.0)
            target = max(0.0, position + rng.uniform(-60.0, 60.0))
            target = min(target, self.player_duration(video) - 15.0)
            target = max(target, 0.0)
            origin = position if rng.random() < self.device.sdk.seek_origin_share else None
            self.behaviour["seeks"] += 1
            self.emit(SEEK, video, target, origin)
            position = target
        self.clock += pause_seconds
        rewind = self.device.sdk.rewind_on_resume_seconds
        position = max(0.0, position - rewind)
        self.emit(RESUME, video, position)
        return position

    def seek_while_playing(self, video, position, rate, end, finishing, leave_at):
        """A seek some seconds after the last event: forward (skipping) or backward (re-watching)."""
        rng = self.rng
        played = rng.uniform(0.5, 9.5)
        self.clock += played
        origin = position + rate * played
        if rng.random() < 0.6:
            target = min(origin + rng.uniform(15.0, max(20.0, 0.35 * (end - origin))), end - 2.0)
            self.behaviour["forward_seeks"] += 1
        else:
            target = max(0.0, origin - rng.uniform(5.0, 90.0))
            self.behaviour["backward_seeks"] += 1
        target = max(target, 0.0)
        from_position = origin if rng.random() < self.device.sdk.seek_origin_share else None
        self.behaviour["seeks"] += 1
        self.emit(SEEK, video, target, from_position)
        if not finishing and target >= leave_at - 1.0:
            # Skipped past where they would have stopped: they watch a little more from there.
            leave_at = target + rate * rng.uniform(10.0, 180.0)
            if leave_at >= end - 10.0:
                finishing, leave_at = True, end
        return target, finishing, leave_at


def simulate_sitting(plan: PlannedSitting, viewer: Viewer, videos, picker, seed: int) -> SittingSimulator:
    simulator = SittingSimulator(plan, viewer, videos, picker, seed)
    simulator.run()
    events = simulator.events
    if events and (events[0][0] // DAY_MS) != (events[-1][0] // DAY_MS):
        simulator.behaviour["midnight_crossings"] += 1
    return simulator

"""Sample landing data: a deterministic simulation of people watching videos.

``generate_landing`` writes the landing zone of SEMANTICS.md section 1::

    <out>/events/date=YYYY-MM-DD/part-00000.jsonl   (or .jsonl.gz, or .parquet)
    <out>/videos/videos.csv

What is simulated (docs/sample-data.md has the full story):

* **Videos.** A catalog of videos of 60-3600 s with a Zipf-like popularity.
  A few videos are missing from ``videos.csv`` (their duration must come from
  the players' ``videoDuration``) and one or two of those are never reported
  by any player either (their duration can only be inferred).
* **Viewers.** Each user lives in a time zone, owns one or two devices and
  watches on some days, in one to a few *sittings* at realistic local hours.
  Night owls start sittings around 23:00-00:15 UTC that run past midnight.
* **Sittings.** In a sitting the viewer watches one or more videos: play at 0
  (or at a "continue watching" position), a heartbeat every 10 s of wall time
  while playing (the playhead advances at 1x, sometimes 1.25x, 1.5x or 2x),
  pauses followed by resumes, seeks forwards and backwards (with and without
  ``fromPosition``), ``video_end`` at the duration, replays (play at 0 right
  after an end), switches to another video while the first is still playing,
  and endings by pause or by simply closing the browser while playing.
  Two sittings of a user are always more than 45 minutes apart, so a video
  left playing at the end of a sitting is a browser close in the contract's
  terms (section 7) and never a video switch.
* **Players (SDKs).** Each device's player decides how events are spelled:
  camelCase or snake_case field names, which aliases of the event names,
  ISO-8601 timestamps in UTC (``Z``) or with the viewer's local offset (e.g.
  ``+02:00``) or epoch milliseconds, whether an ``eventId`` is sent, whether
  ``videoDuration`` is sent and how exactly it matches the catalog.
* **Noise.** A small share of extra bad lines (invalid JSON, missing userId,
  negative currentTime, unknown event name, unparsable timestamp) and of
  exact duplicate lines (a delivery retried).

Every event is written to the folder of the UTC date of its own timestamp.
The output depends only on the arguments: each viewer, day and sitting draws
from its own ``random.Random`` seeded from (seed, what, which), so days can be
written by separate processes and the bytes are identical run after run.

Modules: ``world`` (videos, viewers, when they sit down to watch), ``viewing``
(one sitting's player events), ``formats`` (each player's spelling of events,
bad lines), ``writers`` (event files and videos.csv), ``days`` (a day's
events written or counted), ``command`` (``generate_landing`` and the CLI),
``clock`` (epoch milliseconds and ISO-8601 text). This package is for laptops,
tests and benchmarks only: it is left out of the code shipped to Databricks.
"""

from video_assets.sample_data.command import cli, generate_landing

__all__ = ["cli", "generate_landing"]

"""The simulated clock: epoch milliseconds, UTC days, and ISO-8601 text on a viewer's UTC offset."""

from __future__ import annotations

from datetime import date

DAY_MS = 86_400_000
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_start_ms(day_ordinal: int) -> int:
    """Epoch milliseconds of 00:00 UTC of the day with this proleptic Gregorian ordinal."""
    return (day_ordinal - UNIX_EPOCH_ORDINAL) * DAY_MS


def offset_suffix(offset_minutes: int) -> str:
    """ISO-8601 suffix of a UTC offset: ``Z`` or e.g. ``+02:00``, ``-05:00``, ``+05:30``."""
    if offset_minutes == 0:
        return "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


class IsoClock:
    """Formats epoch milliseconds as ISO-8601 text on one UTC offset's clock, remembering the current date."""

    def __init__(self, offset_minutes: int):
        self.offset_ms = offset_minutes * 60_000
        self.suffix = offset_suffix(offset_minutes)
        self.day_first_ms = 0
        self.day_end_ms = -1
        self.date_text = ""

    def text(self, epoch_ms: int) -> str:
        local_ms = epoch_ms + self.offset_ms
        if not self.day_first_ms <= local_ms < self.day_end_ms:
            epoch_day = local_ms // DAY_MS
            self.day_first_ms = epoch_day * DAY_MS
            self.day_end_ms = self.day_first_ms + DAY_MS
            self.date_text = date.fromordinal(UNIX_EPOCH_ORDINAL + epoch_day).isoformat()
        seconds, millis = divmod(local_ms - self.day_first_ms, 1000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return "%sT%02d:%02d:%02d.%03d%s" % (self.date_text, hours, minutes, seconds, millis, self.suffix)

"""The session calendar: New York time, the regular session and its 5-minute buckets.

One home for what the daily baselines, the options flow's session clock and the synthetic market all
count in. Pure: converts given timestamps, never reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from events.units import NS_PER_S

NEW_YORK: Final = ZoneInfo("America/New_York")
SESSION_OPEN: Final = time(9, 30)
SESSION_CLOSE: Final = time(16, 0)
"""The regular session, New York time."""
BUCKET_MINUTES: Final = 5
SESSION_BUCKETS: Final = 78
"""5-minute buckets of the regular session, 09:30-16:00 America/New_York."""
BUCKET_NS: Final = BUCKET_MINUTES * 60 * NS_PER_S


def session_date(ts_ns: int) -> date:
    """Return the New York calendar date of a timestamp (ns since the epoch)."""
    return datetime.fromtimestamp(ts_ns / NS_PER_S, tz=UTC).astimezone(NEW_YORK).date()


def open_ns(day: date) -> int:
    """Return the regular session's open (09:30 New York) on `day`, in ns since the epoch."""
    return int(datetime.combine(day, SESSION_OPEN, tzinfo=NEW_YORK).timestamp()) * NS_PER_S


def close_ns(day: date) -> int:
    """Return the regular session's close (16:00 New York) on `day`, in ns since the epoch."""
    return int(datetime.combine(day, SESSION_CLOSE, tzinfo=NEW_YORK).timestamp()) * NS_PER_S

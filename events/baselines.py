"""Historical volume baselines: the daily job's output, cached in Redis and read by the options flow.

The model lives with the other payloads in `events.models`; this module keeps the names it was known by.
"""

from __future__ import annotations

from datetime import date

from events.calendar import BUCKET_MINUTES, SESSION_BUCKETS
from events.ids import derived_event_id
from events.models import VolumeBaseline

__all__ = ["BUCKET_MINUTES", "SESSION_BUCKETS", "VolumeBaseline", "volume_baseline_id"]


def volume_baseline_id(scope: str, subject: str, as_of: date, sessions: int) -> str:
    """Return the id of a baseline: derived from what it summarizes, so a rebuild of the same window has the
    same id."""
    return derived_event_id("volume_baseline", (scope, subject, as_of.isoformat(), str(sessions)))

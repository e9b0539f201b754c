"""Historical volume baselines: the daily job's output, cached in Redis and read by the options flow."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from events.models import Event, Positive, Symbol

BUCKET_MINUTES = 5
SESSION_BUCKETS = 78
"""5-minute buckets of the regular session, 09:30-16:00 America/New_York."""


class VolumeBaseline(Event):
    """Mean volume of one contract or underlying over the last `sessions` sessions, per 5-minute bucket."""

    event_type: Literal["volume_baseline"] = "volume_baseline"
    scope: Literal["contract", "underlying"]
    subject: Symbol = Field(description="the contract's OSI symbol, or the underlying")
    underlying: Symbol
    as_of: date = Field(description="the last session included")
    sessions: Positive = Field(description="sessions in the window (sessions without prints count as 0)")
    day_volume_mean: float = Field(ge=0, description="mean contracts per session")
    bucket_volume_mean: tuple[float, ...] = Field(
        description=f"mean contracts per {BUCKET_MINUTES}-minute bucket from 09:30 New York, {SESSION_BUCKETS} values"
    )

    @property
    def key(self) -> str:
        return self.underlying

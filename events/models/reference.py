"""Reference data on `refdata.options`: option definitions, open interest and historical volume baselines."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from events.calendar import BUCKET_MINUTES, SESSION_BUCKETS
from events.models.base import Event, OptionContract, ProviderEvent
from events.models.fields import Count, Day, Label, Multiplier, Sequence, Symbol, TsNs, Volume


class OptionDefinition(ProviderEvent, OptionContract):
    """Reference data for one option contract."""

    event_type: Literal["option_definition"] = "option_definition"
    multiplier: Multiplier = 100
    instrument_id: Sequence | None = Field(default=None, description="the provider's numeric instrument id")
    venue: Label = ""


class OpenInterest(ProviderEvent):
    """Prior-day open interest for one option contract."""

    event_type: Literal["open_interest"] = "open_interest"
    symbol: Symbol
    underlying: Symbol
    open_interest_contracts: Count
    ts_ref: TsNs | None = Field(default=None, description="the session the figure refers to, when given")
    venue: Label = ""

    @property
    def key(self) -> str:
        return self.underlying


class VolumeBaseline(Event):
    """Mean volume of one contract, underlying or stock over the last `sessions` sessions, per 5-minute bucket.

    Reference data made by the daily job (`flowtape baselines build`), cached in Redis and fed to the flows as
    events, so a replay sees the baselines it ran with. Scopes `contract` and `underlying` count option
    contracts (the options engine's `unusual_volume`); scope `equity` counts the stock's shares, its
    `day_volume_mean` being the average daily volume that scales dark-inference confidence.
    """

    event_type: Literal["volume_baseline"] = "volume_baseline"
    scope: Literal["contract", "underlying", "equity"]
    subject: Symbol = Field(description="the contract's OSI symbol, or the underlying (scopes underlying, equity)")
    underlying: Symbol
    as_of: Day = Field(description="the last session included")
    sessions: Annotated[int, Strict(), Field(gt=0, le=100_000)] = Field(
        description="sessions in the window (sessions without prints count as 0)"
    )
    day_volume_mean: Volume = Field(description="mean contracts (scope equity: shares) per regular session")
    bucket_volume_mean: tuple[Volume, ...] = Field(
        min_length=SESSION_BUCKETS,
        max_length=SESSION_BUCKETS,
        description=f"mean volume per {BUCKET_MINUTES}-minute bucket from 09:30 New York, {SESSION_BUCKETS} values",
    )

    @property
    def key(self) -> str:
        return self.underlying


OptionRefdata = Annotated[OptionDefinition | OpenInterest | VolumeBaseline, Field(discriminator="event_type")]

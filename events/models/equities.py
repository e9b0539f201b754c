"""Derived equities: joined equity prints, dark-pool inferences and levels, candles (topics `equities.trades`,
`dark.*`, `equities.candles`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.models.base import Event
from events.models.fields import (
    Cents,
    Count,
    Day,
    Direction,
    EventId,
    Flag,
    Ids,
    Label,
    Metrics,
    Name,
    Placement,
    Positive,
    PriceE9,
    QuoteE9,
    QuoteSize,
    Rank,
    Ratio,
    Sequence,
    Side,
    SignedDurationNs,
    Symbol,
    Tags,
    Text,
    Texts,
    TsNs,
)

DarkKind = Literal["absorbed_block", "stealth_accumulation", "distribution"]


class EquityTrade(Event):
    """One equity print joined as-of to the consolidated quote and classified for eligibility (BEHAVIOR 2, 8).

    Placement follows the options rule (section 2) against the consolidated quote in force at the print
    (never a later one). `side` is unknown for prints whose price was not set against that quote (average
    price, prior reference price, late, ...: see `excluded_reasons`). `ts_event` is the print's.
    """

    event_type: Literal["equity_trade"] = "equity_trade"
    print_id: EventId
    sequence: Sequence = Field(description="the print's sequence: orders prints with the same ts_event")
    symbol: Symbol
    underlying: Symbol
    venue: Label
    off_exchange: Flag = Field(description="reported to a FINRA facility (TRF/ADF)")
    price_e9: PriceE9
    size_shares: Positive
    notional_cents: Cents
    conditions: Tags = Field(description="canonical condition flags of the print")
    placement: Placement
    side: Side
    tick_test: Flag = Field(description="locked market: placed by the tick test against the previous print")
    bid_e9: QuoteE9 | None = Field(description="consolidated bid at the print (None without a quote)")
    ask_e9: QuoteE9 | None
    bid_size_shares: QuoteSize | None
    ask_size_shares: QuoteSize | None
    quote_age_ns: SignedDurationNs | None = Field(description="print time minus the quote's time; None without a quote")
    stale: Flag = Field(description="the quote was older than equity_quote_max_age_ms")
    round_lot_shares: Positive = Field(description="the round lot at the print's price and date")
    size_eligible: Flag = Field(description="counts for size rules (dark inference, dark levels)")
    last_sale_eligible: Flag = Field(description="may set a candle's open/high/low/close")
    excluded_reasons: Tags = Field(
        description="flags that took size or last-sale eligibility away (odd_lot also when the size says so)"
    )

    @property
    def key(self) -> str:
        return self.underlying


class DarkInference(Event):
    """An inference from off-exchange prints (BEHAVIOR section 8), with the rule, its numbers and the prints.

    `ts_event` is the last evidence print's. `evidence_ids` are the prints' ids, in time order.
    """

    event_type: Literal["dark_inference"] = "dark_inference"
    underlying: Symbol
    kind: DarkKind
    direction: Direction
    confidence: Ratio
    rule: Text = Field(description="the rule that fired, with its thresholds")
    metrics: Metrics = Field(description="the measured numbers the rule read")
    explanations: Texts
    evidence_ids: Ids = Field(description="ids of the prints behind the inference")
    ts_first: TsNs
    ts_last: TsNs
    print_count: Positive
    size_shares: Positive
    notional_cents: Cents
    vwap_e9: PriceE9
    adv_shares: Count | None = Field(description="the underlying's average daily volume used, when known")

    @property
    def key(self) -> str:
        return self.underlying


class DarkLevel(Event):
    """A price level where off-exchange volume concentrates during one session (BEHAVIOR section 8).

    One id per (underlying, session, level); each update raises `revision`. `rank` is the level's place by
    notional among the session's levels (1 = most), None once it fell out of the published top levels.
    """

    event_type: Literal["dark_level"] = "dark_level"
    revision: Count = Field(description="0 when first published, +1 per update")
    underlying: Symbol
    session_date: Day = Field(description="the New York calendar date of the prints")
    price_e9: PriceE9 = Field(description="the level: print prices rounded to dark_level_tick_cents")
    tick_cents: Positive
    size_shares: Positive = Field(description="off-exchange shares at the level this session")
    notional_cents: Cents
    print_count: Positive
    rank: Rank | None = Field(description="1 = largest notional; None when out of the top levels")
    session_notional_cents: Cents = Field(description="off-exchange notional over every level of the session")
    notional_share: Ratio = Field(description="notional_cents / session_notional_cents")
    ts_first: TsNs = Field(description="the first print at the level")
    ts_last: TsNs = Field(description="the last print at the level")

    @property
    def key(self) -> str:
        return self.underlying


class Candle(Event):
    """An event-time OHLCV window of one underlying's equity prints (BEHAVIOR section 9).

    Windows are [window_start_ns, window_end_ns), aligned to the interval from the epoch. `ts_event` is the
    window's last print. OHLC come from last-sale-eligible prints only (None without one); volume, notional
    and trade count from every print. `late_prints` counts prints of this interval that arrived after their
    own window had closed, since the previous candle of the interval was published.
    """

    event_type: Literal["candle"] = "candle"
    underlying: Symbol
    interval: Name = Field(description="interval label (1s, 5s, 1m, 5m, 15m)")
    window_start_ns: TsNs
    window_end_ns: TsNs
    open_e9: PriceE9 | None
    high_e9: PriceE9 | None
    low_e9: PriceE9 | None
    close_e9: PriceE9 | None
    volume_shares: Positive
    notional_cents: Cents
    trade_count: Positive
    last_sale_trades: Count = Field(description="prints that set open/high/low/close")
    off_exchange_volume_shares: Count
    off_exchange_trades: Count
    late_prints: Count = Field(description="prints that missed their closed window, since the previous candle")
    late_volume_shares: Count

    @property
    def key(self) -> str:
        return self.underlying

"""Raw market data: option and equity prints and quotes, as providers report them (topics `options.prints`,
`options.nbbo`, `equities.prints`, `equities.quotes`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field

from events.models.base import FieldCheck, OptionContract, SequencedEvent, check_contract
from events.models.fields import (
    CONSOLIDATED_VENUE,
    NOTIONAL_MAX_E9,
    Flag,
    Label,
    Multiplier,
    PriceE9,
    QuoteE9,
    QuoteSize,
    Size,
    Symbol,
    Tags,
    TsNs,
    check_notional,
)


def check_print_notional(values: Mapping[str, Any]) -> None:
    """Raise ValueError if an option print's premium (price x contracts x multiplier) is out of bounds."""
    if values["price_e9"] * values["size_contracts"] * values["multiplier"] > NOTIONAL_MAX_E9:
        check_notional(values["price_e9"], values["size_contracts"], values["multiplier"])


def check_equity_notional(values: Mapping[str, Any]) -> None:
    """Raise ValueError if an equity print's notional (price x shares) is out of bounds."""
    check_notional(values["price_e9"], values["size_shares"], 1)


class OptionPrint(SequencedEvent, OptionContract):
    """One option trade as reported by the tape."""

    event_type: Literal["option_print"] = "option_print"
    multiplier: Multiplier = Field(default=100, description="shares per contract (reference data, else 100)")
    venue: Label = Field(description="venue code (MIC-like)")
    venue_id: Label = Field(description="the provider's own venue identity (e.g. Databento publisher_id)")
    price_e9: PriceE9
    size_contracts: Size
    conditions: Tags = Field(default=(), description="canonical condition flags")
    raw_conditions: Label = ""
    nbbo_bid_e9: QuoteE9 | None = Field(
        default=None,
        description="quote bid at trade time, when the provider gives it: the NBBO (tcbbo), or for a venue-level"
        " schema (tbbo) the trading venue's own book just before the trade",
    )
    nbbo_ask_e9: QuoteE9 | None = None
    nbbo_bid_size_contracts: QuoteSize | None = None
    nbbo_ask_size_contracts: QuoteSize | None = None
    nbbo_ts: TsNs | None = Field(default=None, description="ts_event of the quote given with the trade")
    underlying_e9: PriceE9 | None = Field(default=None, description="underlying price at the print, when known")

    field_checks: ClassVar[tuple[FieldCheck, ...]] = (check_contract, check_print_notional)


class OptionNbbo(SequencedEvent):
    """A top-of-book quote for one option contract: consolidated (venue `NBBO`) or one venue's book."""

    event_type: Literal["option_nbbo"] = "option_nbbo"
    symbol: Symbol
    underlying: Symbol
    venue: Label = CONSOLIDATED_VENUE
    bid_e9: QuoteE9
    ask_e9: QuoteE9
    bid_size_contracts: QuoteSize
    ask_size_contracts: QuoteSize

    @property
    def key(self) -> str:
        return self.underlying


class EquityPrint(SequencedEvent):
    """One equity trade, lit or off-exchange (reported to a FINRA TRF/ADF)."""

    event_type: Literal["equity_print"] = "equity_print"
    symbol: Symbol
    venue: Label
    venue_id: Label
    off_exchange: Flag = Field(description="reported to a FINRA facility (TRF/ADF)")
    price_e9: PriceE9
    size_shares: Size
    conditions: Tags = ()
    raw_conditions: Label = ""
    bid_e9: QuoteE9 | None = Field(
        default=None,
        description="bid at trade time, when given: the consolidated quote, or (a single venue's tbbo) that venue's",
    )
    ask_e9: QuoteE9 | None = None

    field_checks: ClassVar[tuple[FieldCheck, ...]] = (check_equity_notional,)

    @property
    def key(self) -> str:
        return self.symbol


class EquityQuote(SequencedEvent):
    """A top-of-book equity quote (consolidated unless `venue` says otherwise)."""

    event_type: Literal["equity_quote"] = "equity_quote"
    symbol: Symbol
    venue: Label = CONSOLIDATED_VENUE
    bid_e9: QuoteE9
    ask_e9: QuoteE9
    bid_size_shares: QuoteSize
    ask_size_shares: QuoteSize

    @property
    def key(self) -> str:
        return self.symbol

"""As-of join of equity prints to the consolidated quote, placement and eligibility (BEHAVIOR sections 2, 8).

The same rule as the option join, through the same code: `nbbo_join.QuoteBook` keeps the quote history,
`nbbo_join.place_bp` places the price. For each print the quote used is the latest with
`ts_event <= print.ts_event`, never a later one; a provider's quote at trade time (bid/ask on the print) wins
when present. Each joined print becomes an `EquityTrade`, built without re-validation (`operators.construct`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from events.ids import derived_event_id
from events.models import CONSOLIDATED_VENUE, EquityPrint, EquityQuote, EquityTrade, Placement, Side
from events.units import notional_cents
from operators.construct import Constructor
from operators.eligibility import Eligibility, eligibility
from operators.nbbo_join import AGGRESSOR_SIDES, Quote, QuoteBook, band_bp, place_bp

_make_quote = Quote._make
_TRADES: Constructor[EquityTrade] = Constructor(EquityTrade)


class JoinedPrint(NamedTuple):
    """An equity print with its quote context, placement, aggressor side and eligibility."""

    print: EquityPrint
    placement: Placement
    side: Side
    quote: Quote | None
    tick_test: bool
    eligibility: Eligibility


def quote_at_trade(trade: EquityPrint) -> Quote | None:
    """Return the provider's consolidated quote at trade time, when the print carries one (sizes unknown: 0)."""
    return _quote_at_trade(trade.__dict__)  # fields: see nbbo_join.QuoteBook.update_fields


def _quote_at_trade(fields: dict[str, Any]) -> Quote | None:
    bid = fields["bid_e9"]
    ask = fields["ask_e9"]
    if bid is None or ask is None:
        return None
    return _make_quote((fields["ts_event"], bid, ask, 0, 0))


class EquityJoin:
    """As-of join of one tape's equity prints to its consolidated quotes, with the previous price per symbol."""

    __slots__ = ("_band_bp", "_last_price", "book", "max_age_ns")

    def __init__(self, max_age_ns: int, at_side_band: float) -> None:
        self.book = QuoteBook(max_age_ns)
        self.max_age_ns = max_age_ns
        self._band_bp = band_bp(at_side_band)
        self._last_price: dict[str, int] = {}

    def on_quote(self, quote: EquityQuote, keep_from: int | None = None) -> None:
        """Record a quote; drop history no print at or after `keep_from` (ns) can still need."""
        self.on_quote_fields(quote.__dict__, keep_from)

    def on_quote_fields(self, quote: dict[str, Any], keep_from: int | None = None) -> None:
        """`on_quote` from the quote's field values (`EquityQuote.__dict__`): the engine's hot path."""
        values = (
            quote["ts_event"],
            quote["bid_e9"],
            quote["ask_e9"],
            quote["bid_size_shares"],
            quote["ask_size_shares"],
        )
        venue = quote["venue"]
        if venue != CONSOLIDATED_VENUE:
            self.book.update_venue(quote["symbol"], venue, values, keep_from)
        else:
            self.book.insert(quote["symbol"], values, keep_from)

    def on_print(self, trade: EquityPrint) -> JoinedPrint:
        """Join a print to the quote in force at its time, place it and classify its eligibility."""
        placement, side, quote, tick, elig = self._join(trade.__dict__)
        return JoinedPrint(trade, placement, side, quote, tick, elig)

    def trade(self, event: EquityPrint) -> EquityTrade:
        """`build_trade(on_print(event))` without the intermediate tuple: the engine's hot path."""
        fields = event.__dict__  # see nbbo_join.QuoteBook.update_fields
        placement, side, quote, tick, elig = self._join(fields)
        return _build(fields, placement, side, quote, tick, elig)

    def _join(self, fields: dict[str, Any]) -> tuple[Placement, Side, Quote | None, bool, Eligibility]:
        symbol = fields["symbol"]
        ts = fields["ts_event"]
        price = fields["price_e9"]
        quote = _quote_at_trade(fields) if fields["ask_e9"] is not None else None
        if quote is None:
            quote = self.book.as_of(symbol, ts)
        last_price = self._last_price
        placement, tick = place_bp(price, quote, ts, self.max_age_ns, self._band_bp, last_price.get(symbol))
        last_price[symbol] = price
        elig = eligibility(price, fields["size_shares"], fields["conditions"], ts)
        side: Side = "unknown" if elig.priced_off_quote else AGGRESSOR_SIDES.get(placement, "unknown")
        return placement, side, quote, tick, elig


def build_trade(joined: JoinedPrint) -> EquityTrade:
    """Make the `EquityTrade` of a joined print; its id is `derived_event_id("equity_trade", (print id,))`."""
    event, placement, side, quote, tick, elig = joined
    return _build(event.__dict__, placement, side, quote, tick, elig)


def _build(
    trade: dict[str, Any], placement: Placement, side: Side, quote: Quote | None, tick: bool, elig: Eligibility
) -> EquityTrade:
    price = trade["price_e9"]
    size = trade["size_shares"]
    ts = trade["ts_event"]
    print_id = trade["id"]
    symbol = trade["symbol"]
    fields = _TRADES.template()
    fields["id"] = derived_event_id("equity_trade", (print_id,))
    fields["ts_event"] = ts
    fields["print_id"] = print_id
    fields["sequence"] = trade["sequence"]
    fields["symbol"] = symbol
    fields["underlying"] = symbol  # an equity is its own underlying
    fields["venue"] = trade["venue"]
    fields["off_exchange"] = trade["off_exchange"]
    fields["price_e9"] = price
    fields["size_shares"] = size
    fields["notional_cents"] = notional_cents(price, size)
    fields["conditions"] = trade["conditions"]
    fields["placement"] = placement
    fields["side"] = side
    fields["tick_test"] = tick
    if quote is None:
        fields["bid_e9"] = fields["ask_e9"] = fields["bid_size_shares"] = fields["ask_size_shares"] = None
        fields["quote_age_ns"] = None
    else:
        fields["bid_e9"] = quote.bid_e9
        fields["ask_e9"] = quote.ask_e9
        fields["bid_size_shares"] = quote.bid_size
        fields["ask_size_shares"] = quote.ask_size
        fields["quote_age_ns"] = ts - quote.ts_event
    fields["stale"] = placement == "STALE"
    fields["round_lot_shares"] = elig.round_lot_shares
    fields["size_eligible"] = elig.size_eligible
    fields["last_sale_eligible"] = elig.last_sale_eligible
    fields["excluded_reasons"] = elig.excluded_reasons
    return _TRADES.build(fields)

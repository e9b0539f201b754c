"""As-of NBBO join and trade placement (BEHAVIOR section 2), in integer fixed-point.

For each print, the quote used is the latest one for that contract with `ts_event <= print.ts_event`, never
one that came after the trade. A provider's NBBO-at-trade (Databento tcbbo) wins when present.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from events.models import CONSOLIDATED_VENUE, OptionNbbo, OptionPrint, Placement, Side

# Prints of these kinds legitimately trade away from the single-leg NBBO: placed, marked, kept out of sentiment.
COMPLEX_FLAGS = frozenset({"multi_leg", "stock_tied", "cross", "floor"})
MAX_QUOTE_HISTORY = 10_000
"""Safety bound on quotes kept per contract while the print stream lags the quote stream."""

_BAND_SCALE = 10_000  # at_side_band is applied in basis points of the spread to stay in integers


@dataclass(frozen=True, slots=True)
class Quote:
    """A top of book at one instant; prices fixed-point 1e-9, sizes in contracts."""

    ts_event: int
    bid_e9: int
    ask_e9: int
    bid_size: int
    ask_size: int


@dataclass(frozen=True, slots=True)
class Placed:
    """A print with its quote context: placement, aggressor side and how it was decided."""

    print: OptionPrint
    placement: Placement
    side: Side
    quote: Quote | None
    tick_test: bool
    complex: bool
    late: bool


class QuoteBook:
    """Latest consolidated quotes per contract, with a short history for as-of lookups.

    Venue-level books (a venue code other than NBBO) are combined into a consolidated quote: best bid across
    venues, best ask across venues, as of the newest venue update.
    """

    __slots__ = ("_history", "_venues")

    def __init__(self) -> None:
        self._history: dict[str, deque[Quote]] = {}
        self._venues: dict[str, dict[str, Quote]] = {}

    def update(self, nbbo: OptionNbbo, keep_from: int | None = None) -> None:
        """Record a quote update; drop history no print at or after `keep_from` (ns) can still need.

        History is kept by time, not by count: a consumer may read the quote topic far ahead of the print
        topic, and every print that is not late must still find the latest quote at or before its time.
        """
        quote = Quote(nbbo.ts_event, nbbo.bid_e9, nbbo.ask_e9, nbbo.bid_size_contracts, nbbo.ask_size_contracts)
        if nbbo.venue != CONSOLIDATED_VENUE:
            quote = self._consolidate(nbbo.symbol, nbbo.venue, quote)
        history = self._history.get(nbbo.symbol)
        if history is None:
            history = self._history[nbbo.symbol] = deque(maxlen=MAX_QUOTE_HISTORY)
        if history and history[-1].ts_event > quote.ts_event:
            # Out-of-order quote: insert in time order so as-of lookups stay exact.
            items = sorted([*history, quote], key=lambda q: q.ts_event)
            history.clear()
            history.extend(items)
        else:
            history.append(quote)
        if keep_from is not None:
            # The newest quote at or before keep_from answers every later print; older ones are dead.
            while len(history) >= 2 and history[1].ts_event <= keep_from:
                history.popleft()

    def _consolidate(self, symbol: str, venue: str, quote: Quote) -> Quote:
        venues = self._venues.setdefault(symbol, {})
        venues[venue] = quote
        live = [q for q in venues.values() if q.ask_e9 > 0 or q.bid_e9 > 0]
        bids = [q for q in live if q.bid_e9 > 0]
        asks = [q for q in live if q.ask_e9 > 0]
        best_bid = max(bids, key=lambda q: q.bid_e9, default=None)
        best_ask = min(asks, key=lambda q: q.ask_e9, default=None)
        return Quote(
            ts_event=quote.ts_event,
            bid_e9=best_bid.bid_e9 if best_bid else 0,
            ask_e9=best_ask.ask_e9 if best_ask else 0,
            bid_size=sum(q.bid_size for q in bids if best_bid and q.bid_e9 == best_bid.bid_e9),
            ask_size=sum(q.ask_size for q in asks if best_ask and q.ask_e9 == best_ask.ask_e9),
        )

    def as_of(self, symbol: str, ts_event: int) -> Quote | None:
        """Return the latest quote with `ts_event <=` the given time, or None."""
        history = self._history.get(symbol)
        if not history:
            return None
        for quote in reversed(history):
            if quote.ts_event <= ts_event:
                return quote
        return None

    def __len__(self) -> int:
        return len(self._history)


def quote_at_trade(trade: OptionPrint) -> Quote | None:
    """Return the provider's NBBO at trade time, when the print carries one."""
    if trade.nbbo_bid_e9 is None or trade.nbbo_ask_e9 is None:
        return None
    return Quote(
        ts_event=trade.nbbo_ts if trade.nbbo_ts is not None else trade.ts_event,
        bid_e9=trade.nbbo_bid_e9,
        ask_e9=trade.nbbo_ask_e9,
        bid_size=trade.nbbo_bid_size_contracts or 0,
        ask_size=trade.nbbo_ask_size_contracts or 0,
    )


QuoteState = Literal["ok", "missing", "stale", "crossed", "locked"]


def quote_state(quote: Quote | None, ts_event: int, max_age_ns: int) -> QuoteState:
    """Classify the quote context of a print."""
    if quote is None:
        return "missing"
    if ts_event - quote.ts_event > max_age_ns:
        return "stale"
    if quote.ask_e9 <= 0 or quote.bid_e9 > quote.ask_e9:
        return "crossed"
    if quote.bid_e9 == quote.ask_e9:
        return "locked"
    return "ok"


def place(
    price_e9: int,
    quote: Quote | None,
    ts_event: int,
    *,
    max_age_ns: int,
    at_side_band: float,
    prev_price_e9: int | None,
) -> tuple[Placement, bool]:
    """Place a price against the quote in force; return the placement and whether the tick test decided it."""
    state = quote_state(quote, ts_event, max_age_ns)
    if state == "missing":
        return "MISSING", False
    if state == "stale":
        return "STALE", False
    if state == "crossed":
        return "CROSSED", False
    assert quote is not None  # state "ok" or "locked" implies a quote
    if state == "locked":
        if prev_price_e9 is None or price_e9 == prev_price_e9:
            return "MID", True
        return ("A" if price_e9 > prev_price_e9 else "B"), True
    if price_e9 > quote.ask_e9:
        return "AA", False
    if price_e9 < quote.bid_e9:
        return "BB", False
    band = (quote.ask_e9 - quote.bid_e9) * round(at_side_band * _BAND_SCALE) // _BAND_SCALE
    if price_e9 >= quote.ask_e9 - band:
        return "A", False
    if price_e9 <= quote.bid_e9 + band:
        return "B", False
    return "MID", False


def side_of(placement: Placement) -> Side:
    """Return the aggressor side implied by a placement."""
    if placement in ("AA", "A"):
        return "buy"
    if placement in ("B", "BB"):
        return "sell"
    return "unknown"


def is_complex(trade: OptionPrint) -> bool:
    """Return whether a print is multi-leg, stock-tied, cross or floor (trades away from the NBBO)."""
    return not COMPLEX_FLAGS.isdisjoint(trade.conditions)


class NbboJoin:
    """As-of join of prints to the quote book, with the previous price per contract for the tick test."""

    __slots__ = ("_last_price", "at_side_band", "book", "max_age_ns")

    def __init__(self, max_age_ns: int, at_side_band: float) -> None:
        self.book = QuoteBook()
        self.max_age_ns = max_age_ns
        self.at_side_band = at_side_band
        self._last_price: dict[str, int] = {}

    def on_quote(self, nbbo: OptionNbbo, keep_from: int | None = None) -> None:
        """Record a quote (see `QuoteBook.update` for `keep_from`)."""
        self.book.update(nbbo, keep_from)

    def on_print(self, trade: OptionPrint, *, late: bool = False) -> Placed:
        """Join a print to the quote in force at its time and place it."""
        quote = quote_at_trade(trade) or self.book.as_of(trade.symbol, trade.ts_event)
        placement, tick = place(
            trade.price_e9,
            quote,
            trade.ts_event,
            max_age_ns=self.max_age_ns,
            at_side_band=self.at_side_band,
            prev_price_e9=self._last_price.get(trade.symbol),
        )
        self._last_price[trade.symbol] = trade.price_e9
        complex_print = is_complex(trade)
        side: Side = "unknown" if complex_print else side_of(placement)
        return Placed(trade, placement, side, quote, tick, complex_print, late)

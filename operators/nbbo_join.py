"""As-of NBBO join and trade placement (BEHAVIOR section 2), in integer fixed-point.

For each print, the quote used is the latest one for that contract with `ts_event <= print.ts_event`, never
one that came after the trade. A provider's NBBO-at-trade (Databento tcbbo) wins when present.

Quotes outnumber prints several times over on a real tape, so the book keeps plain tuples (no object per
quote) and the consolidated-quote path does no venue work; `Quote` objects are made only when a print asks.
"""

from __future__ import annotations

from collections import deque
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from events.models import CONSOLIDATED_VENUE, OptionNbbo, OptionPrint, Placement, Side

# Prints of these kinds legitimately trade away from the single-leg NBBO: placed, marked, kept out of sentiment.
COMPLEX_FLAGS = frozenset({"multi_leg", "stock_tied", "cross", "floor"})
MAX_QUOTE_HISTORY = 10_000
"""Safety bound on quotes kept per contract while the print stream lags the quote stream."""

_BAND_SCALE = 10_000  # at_side_band is applied in basis points of the spread to stay in integers

_QuoteTuple = tuple[int, int, int, int, int]
"""(ts_event, bid_e9, ask_e9, bid_size, ask_size): a `Quote`'s fields, as stored in the book."""
_quote_ts = itemgetter(0)


class Quote(NamedTuple):
    """A top of book at one instant; prices fixed-point 1e-9, sizes in contracts."""

    ts_event: int
    bid_e9: int
    ask_e9: int
    bid_size: int
    ask_size: int


class Placed(NamedTuple):
    """A print with its quote context: placement, aggressor side and how it was decided."""

    print: OptionPrint
    placement: Placement
    side: Side
    quote: Quote | None
    tick_test: bool
    complex: bool
    late: bool


_make_quote = Quote._make
_make_placed = Placed._make


class QuoteBook:
    """Latest consolidated quotes per contract, with a short history for as-of lookups.

    Venue-level books (a venue code other than NBBO) are combined into a consolidated quote: best bid across
    venues, best ask across venues, as of the newest venue update.
    """

    __slots__ = ("_history", "_venues")

    def __init__(self) -> None:
        self._history: dict[str, deque[_QuoteTuple]] = {}
        self._venues: dict[str, dict[str, _QuoteTuple]] = {}

    def update(self, nbbo: OptionNbbo, keep_from: int | None = None) -> None:
        """Record a quote update; drop history no print at or after `keep_from` (ns) can still need.

        History is kept by time, not by count: a consumer may read the quote topic far ahead of the print
        topic, and every print that is not late must still find the latest quote at or before its time.
        """
        self.update_fields(nbbo.__dict__, keep_from)

    def update_fields(self, nbbo: dict[str, Any], keep_from: int | None = None) -> None:
        """`update` from the quote's field values (`OptionNbbo.__dict__`): the hot path of the engine.

        Reading a pydantic model's fields from its `__dict__` skips the model's `__getattr__` hook, which keeps
        the interpreter from specializing attribute reads; a quote is read seven times per update.
        """
        symbol = nbbo["symbol"]
        ts = nbbo["ts_event"]
        quote: _QuoteTuple = (
            ts,
            nbbo["bid_e9"],
            nbbo["ask_e9"],
            nbbo["bid_size_contracts"],
            nbbo["ask_size_contracts"],
        )
        if nbbo["venue"] != CONSOLIDATED_VENUE:
            quote = self.consolidate(symbol, nbbo["venue"], quote)
        self.insert(symbol, quote, keep_from)

    def insert(self, symbol: str, quote: _QuoteTuple, keep_from: int | None = None) -> None:
        """Record a consolidated quote as a `Quote`-shaped tuple (any tape's), pruning as `update` does."""
        ts = quote[0]
        history = self._history.get(symbol)
        if history is None:
            self._history[symbol] = deque((quote,), maxlen=MAX_QUOTE_HISTORY)
            return  # one quote: nothing to prune
        if history[-1][0] > ts:
            # Out-of-order quote: insert in time order (after equal times) so as-of lookups stay exact.
            items = sorted([*history, quote], key=_quote_ts)
            history.clear()
            history.extend(items)
        else:
            history.append(quote)
        if keep_from is not None:
            # The newest quote at or before keep_from answers every later print; older ones are dead.
            while len(history) >= 2 and history[1][0] <= keep_from:
                history.popleft()

    def consolidate(self, symbol: str, venue: str, quote: _QuoteTuple) -> _QuoteTuple:
        """Record one venue's top of book; return the consolidated quote: best bid and best ask over venues."""
        venues = self._venues.setdefault(symbol, {})
        venues[venue] = quote
        bids = [q for q in venues.values() if q[1] > 0]
        asks = [q for q in venues.values() if q[2] > 0]
        best_bid = max(q[1] for q in bids) if bids else 0
        best_ask = min(q[2] for q in asks) if asks else 0
        return (
            quote[0],
            best_bid,
            best_ask,
            sum(q[3] for q in bids if q[1] == best_bid),
            sum(q[4] for q in asks if q[2] == best_ask),
        )

    def as_of(self, symbol: str, ts_event: int) -> Quote | None:
        """Return the latest quote with `ts_event <=` the given time, or None."""
        history = self._history.get(symbol)
        if not history:
            return None
        for quote in reversed(history):
            if quote[0] <= ts_event:
                return _make_quote(quote)
        return None

    def __len__(self) -> int:
        return len(self._history)


def quote_at_trade(trade: OptionPrint) -> Quote | None:
    """Return the provider's NBBO at trade time, when the print carries one."""
    fields = trade.__dict__  # see QuoteBook.update_fields
    bid = fields["nbbo_bid_e9"]
    ask = fields["nbbo_ask_e9"]
    if bid is None or ask is None:
        return None
    nbbo_ts = fields["nbbo_ts"]
    return _make_quote(
        (
            nbbo_ts if nbbo_ts is not None else fields["ts_event"],
            bid,
            ask,
            fields["nbbo_bid_size_contracts"] or 0,
            fields["nbbo_ask_size_contracts"] or 0,
        )
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


def band_bp(at_side_band: float) -> int:
    """Return the at-side band in basis points of the spread (the integer `place` works with)."""
    return round(at_side_band * _BAND_SCALE)


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
    return place_bp(price_e9, quote, ts_event, max_age_ns, band_bp(at_side_band), prev_price_e9)


def place_bp(
    price_e9: int, quote: Quote | None, ts_event: int, max_age_ns: int, band: int, prev_price_e9: int | None
) -> tuple[Placement, bool]:
    """`place` with the band already in basis points of the spread (`band_bp`): the joins' hot path.

    Shared by the option and equity joins: one placement rule (BEHAVIOR section 2) for both tapes.
    """
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
    bid, ask = quote.bid_e9, quote.ask_e9
    if price_e9 > ask:
        return "AA", False
    if price_e9 < bid:
        return "BB", False
    width = (ask - bid) * band // _BAND_SCALE
    if price_e9 >= ask - width:
        return "A", False
    if price_e9 <= bid + width:
        return "B", False
    return "MID", False


AGGRESSOR_SIDES: dict[str, Side] = {"AA": "buy", "A": "buy", "B": "sell", "BB": "sell"}
"""Placement -> aggressor side (every other placement: unknown)."""


def side_of(placement: Placement) -> Side:
    """Return the aggressor side implied by a placement."""
    return AGGRESSOR_SIDES.get(placement, "unknown")


def is_complex(trade: OptionPrint) -> bool:
    """Return whether a print is multi-leg, stock-tied, cross or floor (trades away from the NBBO)."""
    return not COMPLEX_FLAGS.isdisjoint(trade.conditions)


class NbboJoin:
    """As-of join of prints to the quote book, with the previous price per contract for the tick test."""

    __slots__ = ("_at_side_band", "_band_bp", "_last_price", "book", "max_age_ns")

    def __init__(self, max_age_ns: int, at_side_band: float) -> None:
        self.book = QuoteBook()
        self.max_age_ns = max_age_ns
        self._at_side_band = at_side_band
        self._band_bp = band_bp(at_side_band)
        self._last_price: dict[str, int] = {}

    @property
    def at_side_band(self) -> float:
        """Share of the spread counted as at the bid or ask (fixed at construction: placement uses its bp)."""
        return self._at_side_band

    def on_quote(self, nbbo: OptionNbbo, keep_from: int | None = None) -> None:
        """Record a quote (see `QuoteBook.update` for `keep_from`)."""
        self.book.update(nbbo, keep_from)

    def on_print(self, trade: OptionPrint, late: bool = False) -> Placed:
        """Join a print to the quote in force at its time and place it."""
        fields = trade.__dict__  # see QuoteBook.update_fields
        symbol = fields["symbol"]
        ts = fields["ts_event"]
        price = fields["price_e9"]
        quote = quote_at_trade(trade) if fields["nbbo_ask_e9"] is not None else None
        if quote is None:
            quote = self.book.as_of(symbol, ts)
        last_price = self._last_price
        placement, tick = place_bp(price, quote, ts, self.max_age_ns, self._band_bp, last_price.get(symbol))
        last_price[symbol] = price
        conditions = fields["conditions"]
        complex_print = bool(conditions) and not COMPLEX_FLAGS.isdisjoint(conditions)
        side: Side = "unknown" if complex_print else AGGRESSOR_SIDES.get(placement, "unknown")
        return _make_placed((trade, placement, side, quote, tick, complex_print, late))

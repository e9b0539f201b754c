"""As-of NBBO join and trade placement (BEHAVIOR section 2), in integer fixed-point.

For each print, the quote used is the latest one for that contract with `ts_event <= print.ts_event`, never
one that came after the trade. A provider's NBBO-at-trade (Databento tcbbo) wins when present.

Quotes outnumber prints several times over on a real tape, so the book keeps plain tuples (no object per
quote) and the consolidated-quote path does no venue work; `Quote` objects are made only when a print asks.
Venue-level books age venue by venue: only venues quoting fresh at the print's time form the best bid/ask.
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

DEFAULT_VENUE_MAX_AGE_NS = 1_500_000_000
"""A venue's quote older than this at a print drops out of the best bid/ask (the `nbbo_max_age_ms` default)."""

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
    """Latest quotes per contract, with a short history for as-of lookups.

    Consolidated quotes (venue `NBBO`) form one history per contract: the hot path, no venue work. Venue-level
    books (any other venue code, e.g. Databento `mbp-1` on OPRA) keep one history per contract and venue; a
    print is answered with the best bid and best ask over the venues whose quote at the print's time is fresh
    (no older than `venue_max_age_ns`), so a venue that stopped quoting drops out instead of crossing the
    others. When no venue is fresh the newest venue quote answers, and places as `STALE`.
    """

    __slots__ = ("_history", "_new_symbols", "_venue_max_age_ns", "_venues")

    def __init__(self, venue_max_age_ns: int = DEFAULT_VENUE_MAX_AGE_NS) -> None:
        self._history: dict[str, deque[_QuoteTuple]] = {}
        self._venues: dict[str, dict[str, deque[_QuoteTuple]]] = {}
        self._venue_max_age_ns = venue_max_age_ns
        self._new_symbols: list[str] | None = None

    def watch_new_symbols(self) -> list[str]:
        """Start listing every symbol the book sees for the first time; return the list, which the caller drains.

        The list is appended on the book's rare first-quote branch only, so the quote hot path pays nothing.
        """
        if self._new_symbols is None:
            self._new_symbols = sorted(self._history.keys() | self._venues.keys())
        return self._new_symbols

    @property
    def venue_max_age_ns(self) -> int:
        """Age past which one venue's quote no longer counts toward the best bid and ask (ns)."""
        return self._venue_max_age_ns

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
        quote: _QuoteTuple = (
            nbbo["ts_event"],
            nbbo["bid_e9"],
            nbbo["ask_e9"],
            nbbo["bid_size_contracts"],
            nbbo["ask_size_contracts"],
        )
        venue = nbbo["venue"]
        if venue != CONSOLIDATED_VENUE:
            self.update_venue(nbbo["symbol"], venue, quote, keep_from)
        else:
            self.insert(nbbo["symbol"], quote, keep_from)

    def insert(self, symbol: str, quote: _QuoteTuple, keep_from: int | None = None) -> None:
        """Record a consolidated quote as a `Quote`-shaped tuple (any tape's), pruning as `update` does."""
        history = self._history.get(symbol)
        if history is None:
            self._history[symbol] = deque((quote,), maxlen=MAX_QUOTE_HISTORY)
            if self._new_symbols is not None and symbol not in self._venues:
                self._new_symbols.append(symbol)
            return  # one quote: nothing to prune
        # `_append`, inlined: this is the consolidated tape's hot path.
        if history[-1][0] > quote[0]:
            items = sorted([*history, quote], key=_quote_ts)  # out of order: insert in time order, after ties
            history.clear()
            history.extend(items)
        else:
            history.append(quote)
        if keep_from is not None:
            while len(history) >= 2 and history[1][0] <= keep_from:
                history.popleft()

    def update_venue(self, symbol: str, venue: str, quote: _QuoteTuple, keep_from: int | None = None) -> None:
        """Record one venue's top of book for a contract (a `Quote`-shaped tuple), pruning as `update` does."""
        venues = self._venues.get(symbol)
        if venues is None:
            venues = self._venues[symbol] = {}
            if self._new_symbols is not None and symbol not in self._history:
                self._new_symbols.append(symbol)
        history = venues.get(venue)
        if history is None:
            venues[venue] = deque((quote,), maxlen=MAX_QUOTE_HISTORY)
            return
        _append(history, quote, keep_from)

    def venues_as_of(self, symbol: str, ts_event: int) -> dict[str, Quote]:
        """Return each venue's latest quote with `ts_event <=` the given time (fresh or not), by venue."""
        found: dict[str, Quote] = {}
        for venue, history in self._venues.get(symbol, {}).items():
            quote = _latest(history, ts_event)
            if quote is not None:
                found[venue] = _make_quote(quote)
        return found

    def _best_of_venues(self, venues: dict[str, deque[_QuoteTuple]], ts_event: int) -> Quote | None:
        """The best bid and best ask over the venues fresh at `ts_event`, sizes summed at the best prices."""
        oldest = ts_event - self._venue_max_age_ns
        fresh: list[_QuoteTuple] = []
        newest: _QuoteTuple | None = None
        for history in venues.values():
            quote = _latest(history, ts_event)
            if quote is None:
                continue
            if newest is None or quote[0] > newest[0]:
                newest = quote
            if quote[0] >= oldest:
                fresh.append(quote)
        if not fresh:
            return None if newest is None else _make_quote(newest)  # every venue stale: the newest says STALE
        bids = [q for q in fresh if q[1] > 0]
        asks = [q for q in fresh if q[2] > 0]
        best_bid = max(q[1] for q in bids) if bids else 0
        best_ask = min(q[2] for q in asks) if asks else 0
        return _make_quote(
            (
                max(q[0] for q in fresh),
                best_bid,
                best_ask,
                sum(q[3] for q in bids if q[1] == best_bid),
                sum(q[4] for q in asks if q[2] == best_ask),
            )
        )

    def as_of(self, symbol: str, ts_event: int) -> Quote | None:
        """Return the quote in force at the given time, never a later one, or None.

        The latest consolidated quote with `ts_event <=` the time when the contract has consolidated quotes;
        else the best of the venue books fresh at that time (see the class docstring).
        """
        history = self._history.get(symbol)
        if history:
            for quote in reversed(history):
                if quote[0] <= ts_event:
                    return _make_quote(quote)
        venues = self._venues.get(symbol)
        if venues:
            return self._best_of_venues(venues, ts_event)
        return None

    def forget(self, symbol: str) -> None:
        """Drop a contract's quotes (an expired contract: `UnderlyingPrice` forgets its series when the date
        turns); a later quote on it starts it anew."""
        self._history.pop(symbol, None)
        self._venues.pop(symbol, None)

    def __len__(self) -> int:
        return len(self._history.keys() | self._venues.keys())


def _append(history: deque[_QuoteTuple], quote: _QuoteTuple, keep_from: int | None) -> None:
    """Add a quote to a time-ordered history, then drop what no print at or after `keep_from` can need."""
    if history[-1][0] > quote[0]:
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


def _latest(history: deque[_QuoteTuple], ts_event: int) -> _QuoteTuple | None:
    """The latest quote of a time-ordered history with `ts_event <=` the given time (later arrival on ties)."""
    for quote in reversed(history):
        if quote[0] <= ts_event:
            return quote
    return None


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
        self.book = QuoteBook(max_age_ns)
        self.max_age_ns = max_age_ns
        self._at_side_band = at_side_band
        self._band_bp = band_bp(at_side_band)
        self._last_price: dict[str, int] = {}

    @property
    def priced_contracts(self) -> int:
        """Contracts with a last price (for the tick test)."""
        return len(self._last_price)

    @property
    def at_side_band(self) -> float:
        """Share of the spread counted as at the bid or ask (fixed at construction: placement uses its bp)."""
        return self._at_side_band

    def forget(self, symbol: str) -> None:
        """Drop an expired contract's last price (its quotes go when the date turns: `QuoteBook.forget`)."""
        self._last_price.pop(symbol, None)

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

"""The underlying's price as of a print, with where it came from and how old it is (BEHAVIOR section 3).

In order of preference:

- `quote`: a price the provider stamped on the print itself (`OptionPrint.underlying_e9`: the provider's value at
  the trade, age 0, as a provider's NBBO at trade wins in the join); else the mid of the underlying's latest
  two-sided equity quote at the print (`ts_event <=` the print's, never a later one; one-sided and crossed quotes
  are skipped; consolidated, or a venue's own book when the feed has only those), no older than
  `underlying_parity_window_ms`.
- `implied`: put-call parity, call mid - put mid + strike, on the nearest expiry not yet expired at the print (New
  York date) having a strike whose call and put both have a two-sided quote no older than the window; of those
  strikes the one nearest the money. "The money" is the previous estimate of this underlying (implied or quoted);
  without one, the strike where |call mid - put mid| is smallest (where parity is tightest). Ties go to the lower
  strike, so the answer does not depend on input order. A contract's quote is the newer of the option NBBO book's
  quote in force (the join's own book, shared, with its as-of history) and the latest two-sided quote-at-trade its
  prints carried (tcbbo's NBBO or tbbo's venue book: many real files have no separate quote events). A quote-at-trade
  newer than the print asking is not used. Parity ignores carry and early exercise, which the nearest expiry makes
  small; a venue book's mid (tbbo) stands in for the NBBO mid.
- otherwise absent (None).

Cost: the quote path is one as-of lookup on a short history of (time, mid) pairs, whose mark is reused while
the quote is the same. The implied path is computed at most once per
underlying per `IMPLIED_REFRESH_NS` bucket of event time and reused within it for prints at or after the time it
was computed (quotes as of then, so never a later quote; its age keeps growing with the print's time), with a
walk out from the previous estimate that stops at the first strike with a pair: not O(chain) per print. Only the
first computation (no estimate yet) scans an expiry's strikes for the tightest pair. Contracts are learned from
prints, definitions and the first quote of each symbol in the book (its rare branch), so quotes pay nothing here.
State is bounded: one quote per contract, equity quotes back to the engine's print watermark, and expired
expiries are dropped when the New York date turns.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from events.calendar import NEW_YORK
from events.models import EquityQuote, OptionPrint, UnderlyingSource
from events.symbology import Right, parse_occ, underlying_for_root
from events.units import NS_PER_MS, NS_PER_S
from operators.nbbo_join import MAX_QUOTE_HISTORY, QuoteBook
from operators.volume_baselines import SessionClock

IMPLIED_REFRESH_NS = NS_PER_S
"""An implied price is computed at most once per underlying per this much event time (bucketed) and reused."""

_SeriesKey = tuple[date, str]
"""(expiry, root): one series of the chain (SPX and SPXW share expiries and strikes but are not one series)."""
_Held = tuple[int, int, int]
"""(ts_event, bid_e9, ask_e9) of a two-sided quote."""
_Mid = tuple[int, int]
"""(ts_event, mid_e9) of a two-sided equity quote."""


class UnderlyingMark(NamedTuple):
    """The underlying's price at a print: fixed-point 1e-9, its source, the oldest quote behind it."""

    price_e9: int
    source: UnderlyingSource
    quote_ts: int
    """ts_event of the oldest quote used (the print's own time for a price stamped on the print)."""
    strike_e9: int | None = None
    """implied: the strike whose call and put gave the price."""

    def age_ms(self, ts_event: int) -> int:
        """Age at `ts_event` of the oldest quote used, in whole milliseconds (never negative)."""
        return max(0, ts_event - self.quote_ts) // NS_PER_MS


def stamped_mark(fields: dict[str, Any]) -> UnderlyingMark | None:
    """The price a provider stamped on a print (`OptionPrint.__dict__`), as a `quote` of age 0; else None."""
    stamped = fields["underlying_e9"]
    if stamped is None or stamped <= 0:
        return None
    return UnderlyingMark(stamped, "quote", fields["ts_event"], None)


class _Series:
    """One expiry of one root: its strikes (sorted) and the call and put symbol at each."""

    __slots__ = ("calls", "puts", "strikes")

    def __init__(self) -> None:
        self.strikes: list[int] = []
        self.calls: dict[int, str] = {}
        self.puts: dict[int, str] = {}


class _Chain:
    """One underlying's series in expiry order, its last implied estimate and the cached implied price."""

    __slots__ = ("cache_bucket", "cache_mark", "cache_ts", "order", "reference_e9", "series")

    def __init__(self) -> None:
        self.series: dict[_SeriesKey, _Series] = {}
        self.order: list[_SeriesKey] = []
        self.reference_e9: int | None = None
        self.cache_bucket = -1
        self.cache_ts = 0
        self.cache_mark: UnderlyingMark | None = None


class UnderlyingPrice:
    """The underlying price book of one engine: equity quotes, the option chain's quotes, parity when needed.

    `option_book` is the option NBBO join's book (shared: the join records the quotes, this reads them as of a
    print); a fresh one when not given. When the New York date turns, the series that expired before it are
    dropped with their contracts' quotes, and `on_expired` is told each contract (to drop what others hold of it).
    """

    __slots__ = (
        "_book",
        "_chains",
        "_clock",
        "_contracts",
        "_day",
        "_equity",
        "_new_symbols",
        "_next_day_ns",
        "_on_expired",
        "_print_quotes",
        "_quote_marks",
        "_refresh_ns",
        "_root_underlying",
        "_window_ns",
    )

    def __init__(
        self,
        parity_window_ns: int,
        option_book: QuoteBook | None = None,
        *,
        refresh_ns: int = IMPLIED_REFRESH_NS,
        on_expired: Callable[[str], None] | None = None,
    ) -> None:
        self._window_ns = parity_window_ns
        self._on_expired = on_expired
        self._book = option_book if option_book is not None else QuoteBook()
        self._new_symbols = self._book.watch_new_symbols()
        self._refresh_ns = refresh_ns
        self._equity: dict[str, deque[_Mid]] = {}
        self._quote_marks: dict[str, UnderlyingMark] = {}  # the last quote mark per underlying, reused while current
        self._chains: dict[str, _Chain] = {}
        self._contracts: set[str] = set()
        self._print_quotes: dict[str, _Held] = {}
        self._root_underlying: dict[str, str] = {}
        self._clock = SessionClock()
        self._day = date.min  # the New York date of the newest lookup
        self._next_day_ns = -(2**63)  # when the New York date turns next (a lookup at or after it prunes)

    @property
    def option_book(self) -> QuoteBook:
        return self._book

    @property
    def contracts(self) -> int:
        """Contracts in the chain index (expired expiries are dropped when the New York date turns)."""
        self._learn()
        return len(self._contracts)

    # ------------------------------------------------------------------------------------ inputs

    def on_equity_quote(self, quote: EquityQuote, keep_from: int | None = None) -> None:
        """Record an equity quote; drop history no print at or after `keep_from` (ns) can need."""
        self.on_equity_quote_fields(quote.__dict__, keep_from)

    def on_equity_quote_fields(self, quote: dict[str, Any], keep_from: int | None = None) -> None:
        """`on_equity_quote` from the quote's field values (`EquityQuote.__dict__`): the engine's hot path."""
        bid = quote["bid_e9"]
        ask = quote["ask_e9"]
        if not 0 < bid <= ask:
            return  # one-sided or crossed: the latest two-sided quote stays the one in force
        ts = quote["ts_event"]
        entry = (ts, (bid + ask) // 2)
        history = self._equity.get(quote["symbol"])
        if history is None:
            self._equity[quote["symbol"]] = deque((entry,), maxlen=MAX_QUOTE_HISTORY)
            return
        if history[-1][0] > ts:
            items = sorted([*history, entry])  # out of order: in time order (a tie sorts by mid, both at that time)
            history.clear()
            history.extend(items)
        else:
            history.append(entry)
        if keep_from is not None:
            # The newest quote at or before keep_from answers every later print; older ones are dead.
            while len(history) >= 2 and history[1][0] <= keep_from:
                history.popleft()

    def add_contract(self, symbol: str, underlying: str, root: str, expiry: date, right: Right, strike_e9: int) -> None:
        """Index a contract of the chain (from a print or a definition; book symbols are indexed on their own)."""
        self._root_underlying[root] = underlying
        if symbol not in self._contracts:
            self._add(symbol, underlying, root, expiry, right, strike_e9)

    def on_print(self, trade: OptionPrint) -> None:
        """Index the print's contract and keep the quote it carries, when two-sided."""
        self.on_print_fields(trade.__dict__)

    def on_print_fields(self, fields: dict[str, Any]) -> None:
        """`on_print` from the print's field values (`OptionPrint.__dict__`): once per print, before its lookup."""
        symbol = fields["symbol"]
        if symbol not in self._contracts:
            self.add_contract(
                symbol, fields["underlying"], fields["root"], fields["expiry"], fields["right"], fields["strike_e9"]
            )
        ask = fields["nbbo_ask_e9"]
        if ask is not None:
            bid = fields["nbbo_bid_e9"]
            if bid is not None and 0 < bid <= ask:
                ts = fields["nbbo_ts"]
                if ts is None:
                    ts = fields["ts_event"]
                held = self._print_quotes.get(symbol)
                if held is None or ts >= held[0]:
                    self._print_quotes[symbol] = (ts, bid, ask)

    # ----------------------------------------------------------------------------------- lookups

    def for_print(self, fields: dict[str, Any]) -> UnderlyingMark | None:
        """The underlying's price at a print (`OptionPrint.__dict__`): stamped on it, else `at` its time."""
        stamped = fields["underlying_e9"]
        if stamped is not None and stamped > 0:
            return UnderlyingMark(stamped, "quote", fields["ts_event"], None)
        return self.at(fields["underlying"], fields["ts_event"])

    def at(self, underlying: str, ts_event: int) -> UnderlyingMark | None:
        """The underlying's price as of `ts_event`: its quote mid, else implied by parity, else None."""
        if ts_event >= self._next_day_ns:
            self._turn_day(ts_event)
        history = self._equity.get(underlying)
        if history is not None:
            for quoted, mid in reversed(history):
                if quoted <= ts_event:
                    if ts_event - quoted <= self._window_ns:
                        mark = self._quote_marks.get(underlying)
                        if mark is None or mark.quote_ts != quoted or mark.price_e9 != mid:
                            mark = self._quote_marks[underlying] = UnderlyingMark(mid, "quote", quoted, None)
                        return mark
                    break
        return self._implied(underlying, ts_event)

    def implied(self, underlying: str, ts_event: int) -> UnderlyingMark | None:
        """The price put-call parity implies as of `ts_event` (cached as `at` does), whatever the quotes say."""
        if ts_event >= self._next_day_ns:
            self._turn_day(ts_event)
        return self._implied(underlying, ts_event)

    # --------------------------------------------------------------------------------- internals

    def _implied(self, underlying: str, ts: int) -> UnderlyingMark | None:
        if self._new_symbols:
            self._learn()
        chain = self._chains.get(underlying)
        if chain is None:
            return None
        bucket = ts // self._refresh_ns
        if chain.cache_bucket == bucket and ts >= chain.cache_ts:
            cached = chain.cache_mark
            if cached is None or ts - cached.quote_ts <= self._window_ns:
                return cached
        mark: UnderlyingMark | None = None
        day = self._day
        for key in chain.order:  # nearest expiry first; expired ones are pruned when the day turns
            if key[0] >= day:  # (one indexed since, from a late print or a quote, is skipped)
                mark = self._parity(chain.series[key], ts, chain.reference_e9)
                if mark is not None:
                    break
        chain.cache_bucket, chain.cache_ts, chain.cache_mark = bucket, ts, mark
        if mark is not None:
            chain.reference_e9 = mark.price_e9
        return mark

    def _parity(self, series: _Series, ts: int, reference: int | None) -> UnderlyingMark | None:
        """The parity price at the strike nearest `reference` with a fresh pair (the tightest pair without one)."""
        strikes = series.strikes
        if reference is None:
            best: tuple[int, int, int, int] | None = None  # (|c - p| x2, strike, price, oldest quote ts)
            for strike in strikes:
                pair = self._pair(series, strike, ts)
                if pair is not None and (best is None or pair[0] < best[0]):
                    best = (pair[0], strike, pair[1], pair[2])
            return None if best is None else UnderlyingMark(best[2], "implied", best[3], best[1])
        lo = bisect_left(strikes, reference) - 1
        hi = lo + 1
        count = len(strikes)
        while lo >= 0 or hi < count:
            # The nearer of the next strike below and above (the lower on a tie).
            if hi >= count or (lo >= 0 and reference - strikes[lo] <= strikes[hi] - reference):
                strike = strikes[lo]
                lo -= 1
            else:
                strike = strikes[hi]
                hi += 1
            pair = self._pair(series, strike, ts)
            if pair is not None:
                return UnderlyingMark(pair[1], "implied", pair[2], strike)
        return None

    def _pair(self, series: _Series, strike: int, ts: int) -> tuple[int, int, int] | None:
        """(|call mid - put mid| x 2, implied price, oldest quote ts) at one strike, when both quotes are fresh."""
        call = series.calls.get(strike)
        put = series.puts.get(strike)
        if call is None or put is None:
            return None
        c = self._fresh(call, ts)
        if c is None:
            return None
        p = self._fresh(put, ts)
        if p is None:
            return None
        spread2 = (c[1] + c[2]) - (p[1] + p[2])  # 2 x (call mid - put mid)
        price = spread2 // 2 + strike
        if price <= 0:
            return None
        return abs(spread2), price, min(c[0], p[0])

    def _fresh(self, symbol: str, ts: int) -> _Held | None:
        """The contract's newest quote as of `ts` (book or quote-at-trade), when two-sided and within the window."""
        quote = self._book.as_of(symbol, ts)
        held: _Held | None = None if quote is None else (quote.ts_event, quote.bid_e9, quote.ask_e9)
        carried = self._print_quotes.get(symbol)
        if carried is not None and carried[0] <= ts and (held is None or carried[0] > held[0]):
            held = carried
        if held is None or not 0 < held[1] <= held[2] or ts - held[0] > self._window_ns:
            return None
        return held

    def _learn(self) -> None:
        """Index the symbols the option book saw for the first time since the last call."""
        new = self._new_symbols
        for symbol in new:
            if symbol in self._contracts:
                continue
            try:
                occ = parse_occ(symbol)
            except ValueError:
                continue  # not an OSI symbol: no strike to pair
            underlying = self._root_underlying.get(occ.root) or underlying_for_root(occ.root)
            self._add(symbol, underlying, occ.root, occ.expiry, occ.right, occ.strike_e9)
        new.clear()

    def _add(self, symbol: str, underlying: str, root: str, expiry: date, right: Right, strike: int) -> None:
        chain = self._chains.get(underlying)
        if chain is None:
            chain = self._chains[underlying] = _Chain()
        key = (expiry, root)
        series = chain.series.get(key)
        if series is None:
            series = chain.series[key] = _Series()
            insort(chain.order, key)
        if strike not in series.calls and strike not in series.puts:
            insort(series.strikes, strike)
        (series.calls if right == "C" else series.puts)[strike] = symbol
        self._contracts.add(symbol)

    def _turn_day(self, ts: int) -> None:
        """A lookup on a new New York date: drop every series that expired before it."""
        day = self._clock.locate(ts)[0]
        self._day = day
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=NEW_YORK)
        self._next_day_ns = int(midnight.timestamp()) * NS_PER_S
        for chain in self._chains.values():
            self._prune(chain, day)

    def _prune(self, chain: _Chain, day: date) -> None:
        """Drop the series that expired before `day` (New York), with their contracts' quotes."""
        order = chain.order
        expired = 0
        while expired < len(order) and order[expired][0] < day:
            series = chain.series.pop(order[expired])
            self._forget(series.calls.values())
            self._forget(series.puts.values())
            expired += 1
        if expired:
            del order[:expired]
            chain.cache_bucket = -1

    def _forget(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._contracts.discard(symbol)
            self._print_quotes.pop(symbol, None)
            self._book.forget(symbol)
            if self._on_expired is not None:
                self._on_expired(symbol)

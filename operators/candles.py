"""Event-time candles per underlying and interval, closed by a watermark (BEHAVIOR section 9).

Windows are tumbling, [start, start + interval), aligned to the epoch (so 1m, 5m and 15m windows align with
the New York session too). The watermark is the newest print time minus `candle_late_ms`; a window closes
when the watermark reaches its end, and comes out as a `Candle`. A print whose window of some interval has
already closed is late for that interval: counted (`late_prints`, `late_volume_shares` of the interval's next
candle, and the `late_prints` counter here), never added. It still lands in the longer intervals whose
window is open.

Every print adds to volume, notional, trade count (and the off-exchange figures when off-exchange); only
last-sale-eligible prints set open/high/low/close. Open and close are the earliest and latest prints by
(ts_event, sequence, print id), high and low are extremes, the rest are sums: a candle does not depend on
the order its prints arrived in, as long as none was late, and replaying the same prints rebuilds the same
candles with the same ids (`derived_event_id("candle", (underlying, interval, window start))`).

Only the shortest interval takes each print; its windows are merged into the longer intervals' windows when
they close (every interval is a multiple of the shortest, which `EquitiesConfig` checks). A print late for the
shortest interval goes straight into the longer ones it is still on time for.
"""

from __future__ import annotations

from typing import Any, Final

from events.config import EquitiesConfig
from events.ids import derived_event_id
from events.models import Candle, EquityTrade
from events.units import notional_cents
from operators.construct import Constructor

_CANDLES: Constructor[Candle] = Constructor(Candle)
_NEVER: Final = -(2**63)
_END_OF_TIME: Final = 2**63 - 1

# A window's state (a list, updated in place):
# 0 open key (ts, sequence, print id) or None, 1 open price, 2 close key, 3 close price, 4 high, 5 low,
# 6 volume, 7 notional (1e-9 x shares), 8 trades, 9 last-sale trades, 10 off-exchange volume,
# 11 off-exchange trades, 12 first print ts, 13 last print ts.
_OPEN_KEY, _OPEN, _CLOSE_KEY, _CLOSE, _HIGH, _LOW = range(6)
_VOLUME, _NOTIONAL, _TRADES, _LAST_SALE, _OFF_VOLUME, _OFF_TRADES, _FIRST, _LAST = range(6, 14)


def _new_window(ts: int) -> list[Any]:
    return [None, 0, None, 0, 0, 0, 0, 0, 0, 0, 0, 0, ts, ts]


def _accumulate(window: list[Any], trade: dict[str, Any]) -> None:
    """Add one print (an `EquityTrade`'s fields) to a window."""
    ts = trade["ts_event"]
    price = trade["price_e9"]
    size = trade["size_shares"]
    window[_VOLUME] += size
    window[_NOTIONAL] += price * size
    window[_TRADES] += 1
    if trade["off_exchange"]:
        window[_OFF_VOLUME] += size
        window[_OFF_TRADES] += 1
    if ts < window[_FIRST]:
        window[_FIRST] = ts
    elif ts > window[_LAST]:
        window[_LAST] = ts
    if trade["last_sale_eligible"]:
        key = (ts, trade["sequence"], trade["print_id"])
        if window[_OPEN_KEY] is None:
            window[_OPEN_KEY] = window[_CLOSE_KEY] = key
            window[_OPEN] = window[_CLOSE] = window[_HIGH] = window[_LOW] = price
        else:
            if key < window[_OPEN_KEY]:
                window[_OPEN_KEY], window[_OPEN] = key, price
            if key > window[_CLOSE_KEY]:
                window[_CLOSE_KEY], window[_CLOSE] = key, price
            if price > window[_HIGH]:
                window[_HIGH] = price
            elif price < window[_LOW]:
                window[_LOW] = price
        window[_LAST_SALE] += 1


def _merge(into: list[Any], window: list[Any]) -> None:
    """Add a closed shorter window to a longer one."""
    for i in range(_VOLUME, _FIRST):
        into[i] += window[i]
    into[_FIRST] = min(into[_FIRST], window[_FIRST])
    into[_LAST] = max(into[_LAST], window[_LAST])
    if window[_OPEN_KEY] is None:
        return
    if into[_OPEN_KEY] is None:
        into[:_VOLUME] = window[:_VOLUME]
        return
    if window[_OPEN_KEY] < into[_OPEN_KEY]:
        into[_OPEN_KEY], into[_OPEN] = window[_OPEN_KEY], window[_OPEN]
    if window[_CLOSE_KEY] > into[_CLOSE_KEY]:
        into[_CLOSE_KEY], into[_CLOSE] = window[_CLOSE_KEY], window[_CLOSE]
    into[_HIGH] = max(into[_HIGH], window[_HIGH])
    into[_LOW] = min(into[_LOW], window[_LOW])


class _Book:
    """One underlying's open windows per interval, and its late prints not yet reported."""

    __slots__ = ("late", "windows")

    def __init__(self, intervals: int) -> None:
        self.windows: list[dict[int, list[Any]]] = [{} for _ in range(intervals)]
        self.late: list[list[int]] = [[0, 0] for _ in range(intervals)]  # [prints, shares] per interval


class CandleBuilder:
    """Keyed state for candles: per underlying, the open windows of every interval; one shared watermark."""

    __slots__ = ("_books", "_done", "_labels", "_late_ns", "_lengths", "late_prints", "next_close_ns", "watermark_ns")

    def __init__(self, config: EquitiesConfig) -> None:
        intervals = config.candle_interval_ns
        self._labels: tuple[str, ...] = tuple(label for label, _ in intervals)
        self._lengths: tuple[int, ...] = tuple(length for _, length in intervals)
        self._late_ns = config.candle_late_ns
        self._books: dict[str, _Book] = {}
        # Per interval: every window ending at or before this boundary is closed (a multiple of the interval).
        self._done: list[int] = [_NEVER] * len(intervals)
        self.next_close_ns = _NEVER
        """The watermark at which the shortest interval next closes a window: `advance` below it is a no-op."""
        self.watermark_ns = _NEVER
        self.late_prints: dict[str, int] = dict.fromkeys(self._labels, 0)
        """Late prints per interval label, since the start."""

    @property
    def intervals(self) -> tuple[str, ...]:
        return self._labels

    def add(self, trade: EquityTrade) -> None:
        """Add a print to its windows (or count it late); closing is `advance`'s."""
        fields = trade.__dict__  # see nbbo_join.QuoteBook.update_fields
        ts = fields["ts_event"]
        underlying = fields["underlying"]
        book = self._books.get(underlying)
        if book is None:
            book = self._books[underlying] = _Book(len(self._lengths))
        if ts >= self._done[0]:
            length = self._lengths[0]
            start = ts - ts % length
            windows = book.windows[0]
            window = windows.get(start)
            if window is None:
                window = windows[start] = _new_window(ts)
            _accumulate(window, fields)
            return
        size = fields["size_shares"]
        for i, length in enumerate(self._lengths):
            if ts < self._done[i]:
                late = book.late[i]
                late[0] += 1
                late[1] += size
                self.late_prints[self._labels[i]] += 1
            else:
                start = ts - ts % length
                window = book.windows[i].get(start)
                if window is None:
                    window = book.windows[i][start] = _new_window(ts)
                _accumulate(window, fields)

    def on_trade(self, trade: EquityTrade) -> list[Candle]:
        """Add a print and move the watermark to its time minus the allowed lateness; return closed candles."""
        self.add(trade)
        return self.advance(trade.__dict__["ts_event"] - self._late_ns)

    def advance(self, watermark_ns: int) -> list[Candle]:
        """Close every window ending at or before the watermark (it never moves back).

        Candles come out shortest interval first, then by underlying (first seen first), then by start.
        """
        if watermark_ns <= self.watermark_ns:
            return []
        self.watermark_ns = watermark_ns
        if watermark_ns < self.next_close_ns:
            return []
        out: list[Candle] = []
        lengths = self._lengths
        for i, length in enumerate(lengths):
            done = watermark_ns - watermark_ns % length
            if done <= self._done[i]:
                break  # longer intervals close at multiples of this one's boundaries: nothing for them either
            self._done[i] = done
            for underlying, book in self._books.items():
                windows = book.windows[i]
                closing = sorted(start for start in windows if start < done)
                for start in closing:
                    window = windows.pop(start)
                    if i == 0:
                        for j in range(1, len(lengths)):
                            longer = book.windows[j]
                            into_start = start - start % lengths[j]
                            into = longer.get(into_start)
                            if into is None:
                                longer[into_start] = window.copy()
                            else:
                                _merge(into, window)
                    out.append(self._candle(underlying, book, i, start, window))
        self.next_close_ns = self._done[0] + lengths[0]
        return out

    def next_window_end_ns(self) -> int | None:
        """The earliest end of an open window (`advance` to it closes that window); None when none is open."""
        end: int | None = None
        for book in self._books.values():
            for length, windows in zip(self._lengths, book.windows, strict=True):
                if windows:
                    at = min(windows) + length
                    if end is None or at < end:
                        end = at
        return end

    def flush(self) -> list[Candle]:
        """Close every open window (end of input: any print after it is late)."""
        return self.advance(_END_OF_TIME)

    def _candle(self, underlying: str, book: _Book, i: int, start: int, window: list[Any]) -> Candle:
        label = self._labels[i]
        late = book.late[i]
        fields = _CANDLES.template()
        fields["id"] = derived_event_id("candle", (underlying, label, str(start)))
        fields["ts_event"] = window[_LAST]
        fields["underlying"] = underlying
        fields["interval"] = label
        fields["window_start_ns"] = start
        fields["window_end_ns"] = start + self._lengths[i]
        priced = window[_OPEN_KEY] is not None
        fields["open_e9"] = window[_OPEN] if priced else None
        fields["high_e9"] = window[_HIGH] if priced else None
        fields["low_e9"] = window[_LOW] if priced else None
        fields["close_e9"] = window[_CLOSE] if priced else None
        fields["volume_shares"] = window[_VOLUME]
        fields["notional_cents"] = notional_cents(window[_NOTIONAL], 1)
        fields["trade_count"] = window[_TRADES]
        fields["last_sale_trades"] = window[_LAST_SALE]
        fields["off_exchange_volume_shares"] = window[_OFF_VOLUME]
        fields["off_exchange_trades"] = window[_OFF_TRADES]
        fields["late_prints"] = late[0]
        fields["late_volume_shares"] = late[1]
        late[0] = late[1] = 0
        return _CANDLES.build(fields)

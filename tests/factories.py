"""Small builders for events in tests: readable arguments (dollars, milliseconds), exact contracts."""

from __future__ import annotations

from itertools import count

from events.ids import raw_event_id
from events.models import OptionNbbo, OptionPrint
from events.symbology import parse_occ
from events.units import NS_PER_MS, price_e9

T0 = 1_772_461_800_000_000_000  # 2026-03-02 14:30:00 UTC, a session open
CALL = "SPY   260320C00580000"
PUT = "SPY   260320P00570000"

_seq = count(1)


def ts(ms: float) -> int:
    """Return T0 + ms as integer nanoseconds."""
    return T0 + round(ms * NS_PER_MS)


def trade(
    at_ms: float,
    price: str,
    size: int,
    *,
    symbol: str = CALL,
    venue: str = "XCBO",
    conditions: tuple[str, ...] = (),
    nbbo: tuple[str, str] | None = None,
) -> OptionPrint:
    """Build an option print at T0 + at_ms."""
    occ = parse_occ(symbol)
    ts_event = ts(at_ms)
    seq = next(_seq)
    extra = {}
    if nbbo is not None:
        extra = {"nbbo_bid_e9": price_e9(nbbo[0]), "nbbo_ask_e9": price_e9(nbbo[1]), "nbbo_ts": ts_event}
    return OptionPrint(
        id=raw_event_id("test", "trades", symbol, ts_event, seq),
        provider="test",
        ts_event=ts_event,
        sequence=seq,
        symbol=symbol,
        underlying=occ.underlying,
        root=occ.root,
        expiry=occ.expiry,
        right=occ.right,
        strike_e9=occ.strike_e9,
        venue=venue,
        venue_id=venue,
        price_e9=price_e9(price),
        size_contracts=size,
        conditions=conditions,
        **extra,  # type: ignore[arg-type]
    )


def quote(
    at_ms: float, bid: str, ask: str, *, symbol: str = CALL, bid_size: int = 50, ask_size: int = 50, venue: str = "NBBO"
) -> OptionNbbo:
    """Build an option quote at T0 + at_ms."""
    occ = parse_occ(symbol)
    ts_event = ts(at_ms)
    seq = next(_seq)
    return OptionNbbo(
        id=raw_event_id("test", "nbbo", symbol, ts_event, seq),
        provider="test",
        ts_event=ts_event,
        sequence=seq,
        symbol=symbol,
        underlying=occ.underlying,
        venue=venue,
        bid_e9=price_e9(bid),
        ask_e9=price_e9(ask),
        bid_size_contracts=bid_size,
        ask_size_contracts=ask_size,
    )

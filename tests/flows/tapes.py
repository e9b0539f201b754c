"""Hand-built tapes for flow tests: two underlyings, a sweep, a block, background prints, a stale quote."""

from __future__ import annotations

from events.models import AnyEvent
from tests.factories import CALL, PUT, quote, trade

QQQ_CALL = "QQQ   260320C00500000"


def two_underlying_tape() -> list[AnyEvent]:
    """Return a time-ordered tape with one sweep and one block on SPY, a sweep on QQQ, and noise."""
    events: list[AnyEvent] = [
        quote(0, "4.00", "4.20", symbol=CALL),
        quote(0, "3.00", "3.10", symbol=PUT),
        quote(1, "2.50", "2.60", symbol=QQQ_CALL),
        trade(5, "4.10", 2, symbol=CALL, venue="XBOX"),
        trade(500, "4.20", 100, symbol=CALL, venue="XCBO", conditions=("iso",)),
        trade(520, "4.20", 150, symbol=CALL, venue="XISE", conditions=("iso",)),
        quote(530, "4.10", "4.30", symbol=CALL),
        trade(540, "4.30", 120, symbol=CALL, venue="XPHL", conditions=("iso",)),
        trade(700, "2.60", 200, symbol=QQQ_CALL, venue="XCBO"),
        trade(710, "2.60", 200, symbol=QQQ_CALL, venue="ARCO"),
        trade(730, "2.62", 150, symbol=QQQ_CALL, venue="BATO"),
        quote(1500, "3.00", "3.10", symbol=PUT),
        trade(1600, "3.00", 900, symbol=PUT, venue="XPHL"),
        trade(9000, "3.05", 3, symbol=PUT, venue="XCBO"),  # quote 7.5 s old: STALE
        quote(9500, "4.00", "4.20", symbol=CALL),
    ]
    return sorted(events, key=lambda e: e.ts_event)

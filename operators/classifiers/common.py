"""What packet and structure classifiers share: the directional read and its quote-quality bar, the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

from events.calendar import NEW_YORK
from events.models import Direction, Packet
from events.units import NS_PER_S

POOR_QUOTES_COVERAGE = 0.5
"""Below this NBBO coverage the quote context is poor: confidence drops and no direction is claimed."""


def direction_for(packet: Packet) -> Direction:
    """Return the directional read: calls bought / puts sold bullish, puts bought / calls sold bearish."""
    if packet.side == "unknown" or packet.nbbo_coverage < POOR_QUOTES_COVERAGE:
        return "neutral"
    bought = packet.side == "buy"
    if packet.right == "C":
        return "bullish" if bought else "bearish"
    return "bearish" if bought else "bullish"


def session_date(ts_ns: int) -> date:
    """Return the exchange's calendar date (America/New_York) of a time in ns."""
    return datetime.fromtimestamp(ts_ns // NS_PER_S, tz=UTC).astimezone(NEW_YORK).date()


def days_to_expiry(packet: Packet) -> int:
    """Return calendar days from the packet's New York session date to its expiry (0 = expires today)."""
    return (packet.expiry - session_date(packet.ts_event)).days

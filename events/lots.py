"""Price-dependent round lots (BEHAVIOR section 1): which equity prints are odd lots.

Since 2025-11-03 (SEC Rule 600 amendments) the round lot depends on price: 100 shares up to $250, 40 up to
$1,000, 10 up to $10,000, else 1. Size-based odd-lot rules must use it. Pure functions, fixed-point prices.
"""

from __future__ import annotations

from datetime import date

from events.units import PRICE_SCALE

ROUND_LOT_TIERS_SINCE = date(2025, 11, 3)
"""First session of price-dependent round lots (SEC Rule 600 amendments)."""

ROUND_LOT_TIERS_SINCE_NS = 1_762_146_000_000_000_000
"""2025-11-03 00:00 America/New_York (05:00 UTC) in ns: prints from then on use the tiers."""

FLAT_ROUND_LOT = 100
"""The round lot before the tiers, and the first tier's."""

# (highest price in the tier, inclusive, 1e-9; round lot in shares)
ROUND_LOT_TIERS: tuple[tuple[int, int], ...] = (
    (250 * PRICE_SCALE, 100),
    (1_000 * PRICE_SCALE, 40),
    (10_000 * PRICE_SCALE, 10),
)


def round_lot_shares(price_e9: int, *, session: date | None = None) -> int:
    """Return the round lot in shares at a price (1e-9): 100 up to $250, 40 up to $1,000, 10 up to $10,000, else 1.

    `session` before 2025-11-03 gives the former flat 100 shares; None means the current rule. The rule
    tiers by the prior month's average close: pass that price when it is known, else the trade price.
    """
    if session is not None and session < ROUND_LOT_TIERS_SINCE:
        return FLAT_ROUND_LOT
    for highest_e9, shares in ROUND_LOT_TIERS:
        if price_e9 <= highest_e9:
            return shares
    return 1


def round_lot_at(price_e9: int, ts_event: int) -> int:
    """Return the round lot in force for a print at `ts_event` (ns): `round_lot_shares` without a calendar lookup."""
    if ts_event < ROUND_LOT_TIERS_SINCE_NS:
        return FLAT_ROUND_LOT
    return round_lot_shares(price_e9)


def is_odd_lot(price_e9: int, size_shares: int, *, session: date | None = None) -> bool:
    """Return True when `size_shares` is below the round lot at `price_e9` (1e-9)."""
    return size_shares < round_lot_shares(price_e9, session=session)

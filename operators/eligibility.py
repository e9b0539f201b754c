"""Which equity prints count for size rules and which may set a candle's price (BEHAVIOR sections 8 and 9).

From the canonical condition flags of a print (`connectors.conditions.equity_flags`) and its size against the
price-dependent round lot (`events.lots`):

- size eligible (dark inference, dark levels): not an odd lot, and none of average price, derivatively
  priced, late / out of sequence, prior reference price, contingent, QCT, cash / next-day / seller
  settlement. Extended-hours prints stay size eligible: a block after the close is still a block.
- last-sale eligible (candle open/high/low/close): size eligible and not an extended-hours print (the
  regular-session last sale rule of the CTA/UTP plans).
- volume: every print counts (odd lots included), so there is no volume flag.

`priced_off_quote`: the flags whose price was not set against the quote in force at the print (average price,
derivatively priced, late, prior reference price, contingent, QCT, non-regular settlement): such a print is
placed but given no aggressor side. Prints without conditions (most of the tape) take a fast path.
"""

from __future__ import annotations

from typing import NamedTuple

from events.lots import round_lot_at

ODD_LOT = "odd_lot"

SIZE_EXCLUDING_FLAGS: frozenset[str] = frozenset(
    {
        ODD_LOT,
        "average_price",
        "derivatively_priced",
        "late",
        "out_of_sequence",
        "prior_reference_price",
        "contingent",
        "qct",
        "cash_settlement",
        "next_day_settlement",
        "seller_settlement",
    }
)
"""Flags that take a print out of the size rules (BEHAVIOR section 8)."""

LAST_SALE_EXCLUDING_FLAGS: frozenset[str] = SIZE_EXCLUDING_FLAGS | {"extended_hours"}
"""Flags that keep a print from setting open/high/low/close (BEHAVIOR section 9)."""

PRICED_OFF_QUOTE_FLAGS: frozenset[str] = SIZE_EXCLUDING_FLAGS - {ODD_LOT}
"""Flags whose price was not set against the quote in force at the print: placed, but no aggressor side."""


class Eligibility(NamedTuple):
    """How one print counts: for size rules, for the last sale, and why not (sorted flags)."""

    size_eligible: bool
    last_sale_eligible: bool
    excluded_reasons: tuple[str, ...]
    round_lot_shares: int
    priced_off_quote: bool


# Prints without conditions: one shared answer per (odd lot, round lot); there are four round lots.
_PLAIN: dict[tuple[bool, int], Eligibility] = {}


def eligibility(price_e9: int, size_shares: int, conditions: tuple[str, ...], ts_event: int) -> Eligibility:
    """Classify one print from its price (1e-9), size, canonical flags and time (ns, for the round-lot rule)."""
    lot = round_lot_at(price_e9, ts_event)
    odd = size_shares < lot
    if not conditions:
        plain = _PLAIN.get((odd, lot))
        if plain is None:
            plain = _PLAIN[odd, lot] = Eligibility(not odd, not odd, (ODD_LOT,) if odd else (), lot, False)
        return plain
    flags = set(conditions)
    if odd:
        flags.add(ODD_LOT)
    reasons = tuple(sorted(flags & LAST_SALE_EXCLUDING_FLAGS))
    size_ok = flags.isdisjoint(SIZE_EXCLUDING_FLAGS)
    return Eligibility(
        size_ok,
        size_ok and "extended_hours" not in flags,
        reasons,
        lot,
        not flags.isdisjoint(PRICED_OFF_QUOTE_FLAGS),
    )

"""Venues of the synthetic tape, named like Databento's publishers so the data looks like the real feed.

Option venues are the OPRA.PILLAR publishers (code, publisher id); lit equity venues are the EQUS.SIP
publishers; off-exchange prints are reported to a FINRA facility. Weights are rough market shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Venue:
    """A venue code (MIC-like), the provider's identity for it, and its share of prints."""

    code: str
    venue_id: str
    weight: float


OPTION_VENUES: Final[tuple[Venue, ...]] = (
    Venue("XCBO", "22", 0.11),
    Venue("XPHL", "35", 0.10),
    Venue("XISX", "26", 0.08),
    Venue("ARCO", "29", 0.08),
    Venue("AMXO", "20", 0.07),
    Venue("BATO", "36", 0.07),
    Venue("MPRL", "31", 0.06),
    Venue("XMIO", "28", 0.06),
    Venue("XNDQ", "32", 0.06),
    Venue("EMLD", "23", 0.05),
    Venue("EDGO", "24", 0.04),
    Venue("C2OX", "34", 0.04),
    Venue("GMNI", "25", 0.03),
    Venue("SPHR", "61", 0.03),
    Venue("MCRY", "27", 0.03),
    Venue("XBOX", "21", 0.03),
    Venue("XBXO", "33", 0.02),
)

EQUITY_VENUES: Final[tuple[Venue, ...]] = (
    Venue("XNAS", "124", 0.22),
    Venue("XNYS", "122", 0.16),
    Venue("ARCX", "123", 0.12),
    Venue("BATS", "129", 0.10),
    Venue("EDGX", "119", 0.10),
    Venue("MEMX", "125", 0.07),
    Venue("IEXG", "126", 0.05),
    Venue("BATY", "128", 0.05),
    Venue("EDGA", "118", 0.04),
    Venue("EPRL", "116", 0.03),
    Venue("XBOS", "112", 0.03),
    Venue("XPSX", "127", 0.02),
    Venue("XCHI", "121", 0.01),
)

OFF_EXCHANGE: Final = Venue("FINRA", "TRF", 1.0)


def weighted_table(venues: tuple[Venue, ...], size: int) -> tuple[Venue, ...]:
    """Return a lookup table of `size` slots filled in proportion to the weights (index it uniformly)."""
    total = sum(v.weight for v in venues)
    table: list[Venue] = []
    acc = 0.0
    for v in venues:
        acc += v.weight
        table.extend([v] * (round(acc / total * size) - len(table)))
    return tuple(table)

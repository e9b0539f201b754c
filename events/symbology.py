"""OCC/OSI option symbology: `ROOT(6, space padded) YYMMDD C|P STRIKE(8 digits, x1000)`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

Right = Literal["C", "P"]

OSI_LENGTH = 21
_STRIKE_TO_E9 = 1_000_000  # OSI strike is in 1/1000 dollars; fixed-point is 1e-9

# Roots that differ from their underlying (weeklies, PM-settled and mini series). Anything else maps to itself.
ROOT_TO_UNDERLYING: dict[str, str] = {
    "SPXW": "SPX",
    "SPXPM": "SPX",
    "NDXP": "NDX",
    "RUTW": "RUT",
    "VIXW": "VIX",
    "XSPW": "XSP",
    "DJXW": "DJX",
}


@dataclass(frozen=True, slots=True)
class OccSymbol:
    """A parsed OSI option symbol; `strike_e9` is fixed-point 1e-9."""

    root: str
    expiry: date
    right: Right
    strike_e9: int

    @property
    def underlying(self) -> str:
        """Return the underlying symbol for this root (SPXW -> SPX)."""
        return underlying_for_root(self.root)

    @property
    def osi(self) -> str:
        """Return the canonical 21-character OSI symbol."""
        return format_occ(self.root, self.expiry, self.right, self.strike_e9)


def underlying_for_root(root: str) -> str:
    """Return the underlying for an option root."""
    return ROOT_TO_UNDERLYING.get(root, root)


@lru_cache(maxsize=65_536)
def parse_occ(symbol: str) -> OccSymbol:
    """Parse an OSI symbol, padded (`AAPL  250117C00150000`) or compact (`AAPL250117C00150000`).

    Raises ValueError naming what is wrong. Cached: every contract event validates its symbol.
    """
    text = symbol.strip()
    if len(text) < 16:
        raise ValueError(f"OSI symbol too short: {symbol!r}")
    tail = text[-15:]
    root = text[:-15].strip()
    yymmdd, right, strike = tail[:6], tail[6], tail[7:]
    if not root or len(root) > 6 or not all(c.isalnum() or c == "." for c in root):
        raise ValueError(f"OSI root must be 1-6 alphanumerics: {symbol!r}")
    if right not in ("C", "P"):
        raise ValueError(f"OSI right must be C or P: {symbol!r}")
    if not (yymmdd.isascii() and strike.isascii() and yymmdd.isdigit() and strike.isdigit()):
        raise ValueError(f"OSI expiry and strike must be digits: {symbol!r}")
    try:
        expiry = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError as exc:
        raise ValueError(f"OSI expiry is not a date: {symbol!r}") from exc
    strike_e9 = int(strike) * _STRIKE_TO_E9
    if strike_e9 <= 0:
        raise ValueError(f"OSI strike must be positive: {symbol!r}")
    return OccSymbol(root=root, expiry=expiry, right=right, strike_e9=strike_e9)  # type: ignore[arg-type]


def format_occ(root: str, expiry: date, right: str, strike_e9: int) -> str:
    """Format the canonical padded OSI symbol; the strike must be a multiple of $0.001."""
    if strike_e9 % _STRIKE_TO_E9:
        raise ValueError(f"strike {strike_e9} (1e-9) is finer than OSI's $0.001")
    if right not in ("C", "P"):
        raise ValueError(f"right must be C or P, got {right!r}")
    if not 0 < len(root) <= 6:
        raise ValueError(f"root must be 1-6 characters, got {root!r}")
    return f"{root:<6}{expiry:%y%m%d}{right}{strike_e9 // _STRIKE_TO_E9:08d}"

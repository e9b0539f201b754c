"""Provider trade-condition codes → canonical condition flags (BEHAVIOR §1); price-dependent round lots are
re-exported from `events.lots`.

Pure functions: no I/O. Codes are case-sensitive (OPRA uses both `A` and `a`). A code string such as
IBKR's `specialConditions` (`"F T"`) is read one non-blank character per code; a list (Alpaca's `c`) is
read one element per code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from events.lots import ROUND_LOT_TIERS, ROUND_LOT_TIERS_SINCE, is_odd_lot, round_lot_shares

Plan = Literal["cts", "utp"]

# ----------------------------------------------------------------------------------- options (OPRA)


def _letters(first: str, last: str) -> frozenset[str]:
    return frozenset(chr(c) for c in range(ord(first), ord(last) + 1))


# OPRA trade message types. Stock-tied are the "Stock Options" types k and n-s: `l` (MASL) and `m` (MFSL)
# sit inside the k-s range but OPRA defines them as multi-leg against single legs, not stock-tied.
OPTION_FLAG_CODES: Mapping[str, frozenset[str]] = {
    "iso": frozenset("Sbd"),
    "auction": frozenset("abgklr"),
    "cross": frozenset("cdho"),
    "floor": frozenset("eimpst"),
    "multi_leg": _letters("f", "j") | frozenset("lmt"),
    "stock_tied": frozenset("k") | _letters("n", "s"),
    "late": frozenset("BDFH"),
    "cancel": frozenset("ACEG"),
    "extended_hours": frozenset("v"),
    "compression": frozenset("u"),
}

# Codes OPRA defines that carry no canonical flag (regular, electronic, reopening, adjusted, legacy
# spread/straddle/buy-write/combo markers, ...): known, so never reported as unknown.
_OPTION_PLAIN = frozenset(" @IJKLMNOPQRTX")

# -------------------------------------------------------------------------------- equities (CTS/UTP)

# Flags shared by both plans; average price differs (`B` on CTS, `W` on UTP).
_EQUITY_COMMON: dict[str, frozenset[str]] = {
    "iso": frozenset("F"),
    "odd_lot": frozenset("I"),
    "derivatively_priced": frozenset("4"),
    # Sold Last (L) is late in sequence; Sold (Z) and Extended Hours Sold (U) are late and out of sequence.
    "late": frozenset("LZU"),
    "out_of_sequence": frozenset("ZU"),
    "prior_reference_price": frozenset("P"),
    "contingent": frozenset("V"),
    "qct": frozenset("7"),
    "cash_settlement": frozenset("C"),
    "next_day_settlement": frozenset("N"),
    "seller_settlement": frozenset("R"),
    "extended_hours": frozenset("TU"),
    "cross": frozenset("X"),
    # Opening, closing, reopening prints and the market center's official open/close.
    "auction": frozenset("O65QM"),
}

EQUITY_FLAG_CODES: Mapping[Plan, Mapping[str, frozenset[str]]] = {
    "cts": {**_EQUITY_COMMON, "average_price": frozenset("B")},
    "utp": {**_EQUITY_COMMON, "average_price": frozenset("W")},
}

# Sale conditions each plan defines without a canonical flag (regular, automatic execution, rule 155,
# price variation, stopped stock, corrected close, ...).
_EQUITY_PLAIN: Mapping[Plan, frozenset[str]] = {
    "cts": frozenset(" @EHK89"),
    "utp": frozenset(" @ABDGHKSY189"),
}


def _invert(flag_codes: Mapping[str, frozenset[str]]) -> dict[str, tuple[str, ...]]:
    by_code: dict[str, set[str]] = {}
    for flag, codes in flag_codes.items():
        for code in codes:
            by_code.setdefault(code, set()).add(flag)
    return {code: tuple(sorted(flags)) for code, flags in by_code.items()}


_OPTION_BY_CODE = _invert(OPTION_FLAG_CODES)
_EQUITY_BY_CODE: dict[Plan, dict[str, tuple[str, ...]]] = {
    plan: _invert(table) for plan, table in EQUITY_FLAG_CODES.items()
}


def _codes(codes: str | Iterable[str]) -> list[str]:
    if isinstance(codes, str):
        return [c for c in codes if not c.isspace()]
    return [c.strip() for c in codes if c.strip()]


def _flags(codes: str | Iterable[str], table: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    flags: set[str] = set()
    for code in _codes(codes):
        flags.update(table.get(code, ()))
    return tuple(sorted(flags))


def _unknown(
    codes: str | Iterable[str], table: Mapping[str, tuple[str, ...]], plain: frozenset[str]
) -> tuple[str, ...]:
    return tuple(sorted({c for c in _codes(codes) if c not in table and c not in plain}))


def option_flags(codes: str | Iterable[str]) -> tuple[str, ...]:
    """Return the canonical flags of OPRA trade type codes, sorted and de-duplicated; unknown codes are ignored."""
    return _flags(codes, _OPTION_BY_CODE)


def unknown_option_codes(codes: str | Iterable[str]) -> tuple[str, ...]:
    """Return the OPRA codes that `option_flags` ignored because OPRA does not define them, sorted."""
    return _unknown(codes, _OPTION_BY_CODE, _OPTION_PLAIN)


def equity_flags(codes: str | Iterable[str], plan: Plan) -> tuple[str, ...]:
    """Return the canonical flags of CTS or UTP sale conditions, sorted and de-duplicated; unknown codes are ignored."""
    return _flags(codes, _EQUITY_BY_CODE[plan])


def unknown_equity_codes(codes: str | Iterable[str], plan: Plan) -> tuple[str, ...]:
    """Return the sale conditions that `equity_flags` ignored because the plan does not define them, sorted."""
    return _unknown(codes, _EQUITY_BY_CODE[plan], _EQUITY_PLAIN[plan])


# ------------------------------------------------------------------------------------------- round lots

# The round-lot rule lives in `events.lots` (operators need it and may not import connectors).
__all__ = [
    "EQUITY_FLAG_CODES",
    "OPTION_FLAG_CODES",
    "ROUND_LOT_TIERS",
    "ROUND_LOT_TIERS_SINCE",
    "Plan",
    "equity_flags",
    "is_odd_lot",
    "option_flags",
    "round_lot_shares",
    "unknown_equity_codes",
    "unknown_option_codes",
]

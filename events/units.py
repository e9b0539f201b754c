"""Units used by every contract.

- Timestamps: integer nanoseconds since the UNIX epoch (`ts_event`, `ts_recv`, ...).
- Prices: integer fixed-point at 1e-9 (the DBN convention), fields end in `_e9`.
- Money: integer cents, fields end in `_cents`.
- Sizes: integers with their unit in the name (`size_contracts`, `size_shares`).

Conversions go through `Decimal` and round explicitly: `int(value * 1e9)` on a float is a known source of
off-by-one prices (NautilusTrader documents the same bug).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

PRICE_SCALE = 1_000_000_000
"""Fixed-point scale of every `_e9` field."""

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
CENTS_PER_USD = 100
UNDEF_PRICE = 2**63 - 1
"""DBN's sentinel for an undefined price."""

_E9_PER_CENT = PRICE_SCALE // CENTS_PER_USD  # 10_000_000


def price_e9(value: str | Decimal | int) -> int:
    """Convert a decimal price (string, Decimal or whole number) to fixed-point 1e-9, rounding half-even."""
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal price: {value!r}") from exc
    if not dec.is_finite():
        raise ValueError(f"not a finite price: {value!r}")
    return int((dec * PRICE_SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def price_e9_from_float(value: float) -> int:
    """Convert a provider's float price to fixed-point via its shortest decimal repr (never `value * 1e9`)."""
    return price_e9(repr(float(value)))


def e9_to_decimal(value_e9: int) -> Decimal:
    """Return the exact decimal value of a fixed-point price."""
    return Decimal(value_e9) / PRICE_SCALE


def e9_to_float(value_e9: int) -> float:
    """Return a fixed-point price as a float, for display and statistics only."""
    return value_e9 / PRICE_SCALE


def notional_cents(price: int, size: int, multiplier: int = 1) -> int:
    """Return price x size x multiplier in integer cents, rounding half-up (price in 1e-9 units)."""
    raw = price * size * multiplier
    if raw >= 0:
        return (raw + _E9_PER_CENT // 2) // _E9_PER_CENT
    return -((-raw + _E9_PER_CENT // 2) // _E9_PER_CENT)


def usd_to_cents(usd: float | int | str | Decimal) -> int:
    """Convert a dollar amount (setting or threshold) to integer cents, rounding half-up."""
    dec = Decimal(str(usd))
    return int((dec * CENTS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def format_usd(cents: int) -> str:
    """Format cents as a compact dollar string for explanations: $1.25M, $40.0k, $950.

    The unit is chosen after rounding, so $999,999.99 reads $1.00M, never $1000.0k.
    """
    usd = abs(cents) / CENTS_PER_USD
    sign = "-" if cents < 0 else ""
    if usd >= 999_950:
        return f"{sign}${usd / 1_000_000:.2f}M"
    if usd >= 999.5:
        return f"{sign}${usd / 1_000:.1f}k"
    return f"{sign}${usd:,.0f}"


def format_price(value_e9: int, max_decimals: int | None = None) -> str:
    """Format a fixed-point price with at least two decimals: exactly, or rounded half-even to `max_decimals`.

    Integer arithmetic only (explanations format prices on the hot path); a negative price that rounds to zero
    keeps its sign ("-0.00"), as the decimal rounding it replaces did.
    """
    negative = value_e9 < 0
    magnitude = -value_e9 if negative else value_e9
    if max_decimals is not None and max_decimals < 9:
        step = 10 ** (9 - max_decimals)
        quotient, remainder = divmod(magnitude, step)
        if 2 * remainder > step or (2 * remainder == step and quotient % 2 == 1):
            quotient += 1
        magnitude = quotient * step
    whole, frac = divmod(magnitude, PRICE_SCALE)
    digits = f"{frac:09d}".rstrip("0")
    return f"{'-' if negative else ''}{whole}.{digits.ljust(2, '0')}"

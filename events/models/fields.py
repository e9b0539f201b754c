"""Field types of the contracts: units, bounds and vocabularies, shared by every payload model.

Every number a payload carries is bounded well inside what it is stored as (Int64, Float64), so a payload
that validated can never overflow a flow's arithmetic or a sink's column. Every type is strict (no numeric
strings, booleans or floats for integers) and every string is free of control characters. The msgspec wire
types (`events.wire`) are generated from these annotations, so a bound stated here holds on both paths.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, Strict, StringConstraints

SCHEMA_VERSION: Literal[1] = 1

# ------------------------------------------------------------------------------------------ bounds
# Generous for real markets; anything beyond them is a broken or hostile input, dead-lettered at the edge.

TS_MIN_NS = 946_684_800_000_000_000
"""Earliest timestamp accepted: 2000-01-01T00:00:00Z, in ns since the epoch."""
TS_MAX_NS = 4_102_444_800_000_000_000
"""First timestamp refused: 2100-01-01T00:00:00Z (timestamps are < this)."""
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)
"""Calendar dates (expiries, sessions) lie within the same years as timestamps."""
DURATION_MAX_NS = TS_MAX_NS - TS_MIN_NS
"""Longest duration or age a payload may state (the whole timestamp range)."""
PRICE_MAX_E9 = 10**16
"""Highest price, fixed-point 1e-9: $10,000,000 a share or contract."""
SIZE_MAX = 10**9
"""Largest size of one print or one quote side, in contracts or shares."""
MULTIPLIER_MAX = 10_000
"""Largest contract multiplier (shares per contract; 100 for standard equity options)."""
QUANTITY_MAX = 10**12
"""Largest count or size summed over many prints (derived events): contracts, shares, prints, packets."""
CENTS_MAX = 10**15
"""Largest money amount, in cents ($10 trillion), either sign."""
PRINT_NOTIONAL_MAX_CENTS = CENTS_MAX
"""Largest notional of one print (price x size x multiplier), so every print's premium is a storable amount
(without it, the price and size bounds alone would allow 1e22 cents)."""
SEQUENCE_MAX = 10**18
"""Largest provider sequence number or numeric instrument id (fits Int64)."""
STAT_MAX = 1e18
"""Largest magnitude of a float statistic; NaN and infinities are refused everywhere."""
ID_MAX_LENGTH = 64
SYMBOL_MAX_LENGTH = 32
LABEL_MAX_LENGTH = 64
"""Venues, providers, condition flags, classifier names, labels."""
TEXT_MAX_LENGTH = 4_096
"""Rules, headlines, explanations, formulas."""
TAGS_MAX = 64
"""Most items in a tuple of labels (conditions, venues, classifiers, excluded reasons)."""
TEXTS_MAX = 256
"""Most explanations on one event; most entries in one metrics dict."""
IDS_MAX = 100_000
"""Most ids one derived event cites (a packet's prints, a structure's prints)."""
LEGS_MAX = 64
"""Most legs of one structure."""
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""Every string: no C0 control characters (NUL, ESC, newline, ...), DEL or C1 controls."""


def _text(max_length: int, min_length: int = 0) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)


def exact_int(value: object) -> object:
    """Refuse booleans and floats where a literal integer is expected (pydantic's Literal takes True for 1)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"Input should be an integer, got {type(value).__name__}")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date_text(value: object) -> object:
    """Take a date, or its text exactly as YYYY-MM-DD (JSON); strict date validation does the rest."""
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise ValueError("Input should be a valid date in the format YYYY-MM-DD")
        return date.fromisoformat(value)
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(exact_int)]
TsNs = Annotated[int, Strict(), Field(ge=TS_MIN_NS, lt=TS_MAX_NS, description="nanoseconds since the UNIX epoch")]
Day = Annotated[date, BeforeValidator(date_text), Strict(), Field(ge=DATE_MIN, le=DATE_MAX)]
Expiry = Annotated[date, BeforeValidator(date_text), Strict()]
"""An option's expiry: bounded by its OSI symbol, which it must agree with (years 2000-2099, see symbology)."""
PriceE9 = Annotated[int, Strict(), Field(gt=0, le=PRICE_MAX_E9, description="price, fixed-point 1e-9")]
QuoteE9 = Annotated[
    int, Strict(), Field(ge=0, le=PRICE_MAX_E9, description="quote price, fixed-point 1e-9 (0 = no bid)")
]
Size = Annotated[int, Strict(), Field(gt=0, le=SIZE_MAX)]
"""Size of one print: contracts or shares."""
QuoteSize = Annotated[int, Strict(), Field(ge=0, le=SIZE_MAX)]
"""Size of one quote side (0: nothing displayed)."""
Multiplier = Annotated[int, Strict(), Field(gt=0, le=MULTIPLIER_MAX)]
Sequence = Annotated[int, Strict(), Field(ge=0, le=SEQUENCE_MAX)]
Count = Annotated[int, Strict(), Field(ge=0, le=QUANTITY_MAX)]
Positive = Annotated[int, Strict(), Field(gt=0, le=QUANTITY_MAX)]
Cents = Annotated[int, Strict(), Field(ge=0, le=CENTS_MAX)]
SignedCents = Annotated[int, Strict(), Field(ge=-CENTS_MAX, le=CENTS_MAX)]
DurationNs = Annotated[int, Strict(), Field(ge=0, le=DURATION_MAX_NS)]
SignedDurationNs = Annotated[int, Strict(), Field(ge=-DURATION_MAX_NS, le=DURATION_MAX_NS)]
Ratio = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Stat = Annotated[float, Strict(), Field(ge=-STAT_MAX, le=STAT_MAX, allow_inf_nan=False)]
"""A float statistic (z-score, ratio, measured number): finite and bounded."""
Volume = Annotated[float, Strict(), Field(ge=0.0, le=float(QUANTITY_MAX), allow_inf_nan=False)]
"""A mean volume: contracts or shares, finite, non-negative."""
EventId = Annotated[str, _text(ID_MAX_LENGTH, 1)]
Symbol = Annotated[str, _text(SYMBOL_MAX_LENGTH, 1)]
Label = Annotated[str, _text(LABEL_MAX_LENGTH)]
Name = Annotated[str, _text(LABEL_MAX_LENGTH, 1)]
"""A label that must not be empty (provider, classifier, ...)."""
Text = Annotated[str, _text(TEXT_MAX_LENGTH)]
Tags = Annotated[tuple[Label, ...], Field(max_length=TAGS_MAX)]
Texts = Annotated[tuple[Text, ...], Field(max_length=TEXTS_MAX)]
Ids = Annotated[tuple[EventId, ...], Field(max_length=IDS_MAX)]
Metrics = Annotated[dict[Name, Stat], Field(max_length=TEXTS_MAX)]
PlacementMap = Annotated[dict[Name, Count], Field(max_length=TAGS_MAX)]
Flag = Annotated[bool, Strict()]
PositiveDurationNs = Annotated[int, Strict(), Field(gt=0, le=DURATION_MAX_NS)]
AgeMs = Annotated[int, Strict(), Field(ge=0, le=DURATION_MAX_NS // 1_000_000)]
Rank = Annotated[int, Strict(), Field(ge=1, le=QUANTITY_MAX)]


NOTIONAL_MAX_E9 = PRINT_NOTIONAL_MAX_CENTS * 10_000_000
"""PRINT_NOTIONAL_MAX_CENTS as price_e9 x size x multiplier (1e-9 dollars)."""


def check_notional(price_e9: int, size: int, multiplier: int) -> None:
    """Raise ValueError if one print's notional (price x size x multiplier) exceeds PRINT_NOTIONAL_MAX_CENTS."""
    if price_e9 * size * multiplier > NOTIONAL_MAX_E9:
        raise ValueError(
            f"notional of price_e9 {price_e9} x size {size} x multiplier {multiplier} exceeds "
            f"{PRINT_NOTIONAL_MAX_CENTS} cents"
        )


Side = Literal["buy", "sell", "unknown"]
Placement = Literal["AA", "A", "MID", "B", "BB", "MISSING", "STALE", "CROSSED"]
PLACEMENTS: tuple[Placement, ...] = ("AA", "A", "MID", "B", "BB", "MISSING", "STALE", "CROSSED")
PacketKind = Literal["sweep", "split", "block", "single"]
PricePath = Literal["rising", "falling", "flat"]
Direction = Literal["bullish", "bearish", "neutral"]
Severity = Literal["low", "medium", "high"]
SubjectType = Literal["packet", "structure"]
StructureType = Literal["vertical", "straddle", "strangle", "ladder", "calendar", "diagonal", "roll", "multi_leg"]
NetPremium = Literal["debit", "credit", "even", "unknown"]
UnderlyingSource = Literal["quote", "implied"]
"""Where a packet's underlying price came from: the underlying's own quote, or put-call parity on its chain."""

CONSOLIDATED_VENUE = "NBBO"

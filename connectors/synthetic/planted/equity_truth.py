"""Ground truth of the planted equity flow: dark labels, candle labels and the reference rules they are read with.

Labels state what the dark inference rules of BEHAVIOR section 8 must and must not conclude, with the defaults
of `EquitiesConfig` (`RULES`): `DarkLabel` (a `PlantedLabel` whose classifiers are `DARK_CLASSIFIERS`) per
planted print or run, and `CandleLabel`, the expected 1 s candle of a probe window (section 9). The reference rules
(`dark_hits`) recompute each label's truth from the emitted prints before the label is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from connectors.synthetic.planted.truth import PlantedLabel
from events.config import EquitiesConfig
from events.lots import round_lot_at
from events.models import Side
from events.units import notional_cents

DarkScenario = Literal[
    "absorbed_block",
    "stealth_accumulation",
    "distribution",
    "lit_block",
    "stale_quote_block",
    "wide_spread_block",
    "block_near_miss",
    "ineligible_block",
    "odd_lot_run",
    "three_print_run",
    "small_print_run",
    "mixed_side_run",
    "cooldown_run",
]
DARK_SCENARIOS: Final[tuple[DarkScenario, ...]] = get_args(DarkScenario)
"""The library, positives first."""
DARK_HARD_NEGATIVES: Final = frozenset(DARK_SCENARIOS[DARK_SCENARIOS.index("lit_block") :])
DARK_CLASSIFIERS: Final[tuple[str, ...]] = ("absorbed_block", "stealth_accumulation", "distribution")
"""The dark inference kinds dark labels speak about (`DarkInference.kind`)."""

RULES: Final = EquitiesConfig.model_construct()
"""The default thresholds the labels are stated against (never the environment: labels are fixed facts)."""
WINDOW_NS: Final = RULES.stealth_window_ns
COOLDOWN_NS: Final = RULES.stealth_cooldown_ns
MAX_AGE_NS: Final = RULES.equity_quote_max_age_ns
MIN_BLOCK_CENTS: Final = RULES.dark_min_block_cents
DARK_SIDE_MAX_SHARES: Final = RULES.stealth_min_print_shares - 1
"""Background off-exchange prints above this size print at the midpoint (never counted by the stealth rules)."""


# ------------------------------------------------------------------------------------------- labels


@dataclass(frozen=True, slots=True)
class DarkFacts:
    """The planted prints as emitted, read with the default rules."""

    prints: int
    shares: int
    notional_cents: int
    buy_counted: int
    """Prints the stealth rules count on the buy side (off-exchange, eligible, large enough, at/above the ask)."""
    sell_counted: int
    counted_shares: int
    """Shares of the counted prints, both sides."""
    span_ns: int
    quote_age_ns: int
    """Oldest quote a print was placed against."""
    spread_pct: float
    """Widest quoted spread a print was placed against, in percent of the midpoint."""
    trigger_print_id: str | None
    """The print at which the expected inference fires (None when nothing is expected)."""
    variant: str = ""


@dataclass(frozen=True, kw_only=True)
class DarkLabel(PlantedLabel):
    """Ground truth for one planted dark scenario on one underlying (`symbol` is the underlying).

    `expected_classifiers` and `forbidden_classifiers` name `DARK_CLASSIFIERS`. `side` is the side the
    scenario leans to; a midpoint print has none, and carries "buy" like the options library's mid prints:
    `expected_direction` and `facts` hold the truth. `expected_kind` is "block" for one print, "split" for a
    run (several prints on the TRF).
    """

    facts: DarkFacts

    @property
    def hard_negative(self) -> bool:
        """Return whether the scenario exists to make dark inference not fire."""
        return self.scenario in DARK_HARD_NEGATIVES


@dataclass(frozen=True)
class CandleLabel:
    """The expected candle of one quiet window on one underlying: exactly the planted prints.

    Ineligible prints (odd lot, average price, ...) add to the volume, never to open/high/low/close.
    """

    underlying: str
    interval_ms: int
    ts_start: int
    """Window start, inclusive (ns, a multiple of the interval)."""
    ts_end: int
    """Window end, exclusive."""
    open_e9: int
    high_e9: int
    low_e9: int
    close_e9: int
    volume_shares: int
    print_ids: tuple[str, ...]
    """Every print in the window, in time order."""
    ineligible_print_ids: tuple[str, ...]
    description: str = ""


# ------------------------------------------------------------------------------------ reference rules


@dataclass(frozen=True, slots=True)
class Fill:
    """One emitted planted print with the consolidated quote in force at it."""

    id: str
    ts: int
    price_e9: int
    size: int
    off_exchange: bool
    conditions: tuple[str, ...]
    bid_e9: int
    ask_e9: int
    quote_ts: int


def eligible(fill: Fill) -> bool:
    """Return whether a print counts for size rules: no excluding condition, not an odd lot."""
    return not fill.conditions and fill.size >= round_lot_at(fill.price_e9, fill.ts)


def placement(fill: Fill) -> str:
    """Return the placement of BEHAVIOR section 2 (never locked here: planted quotes have a spread)."""
    if fill.ts - fill.quote_ts > MAX_AGE_NS:
        return "STALE"
    bid, ask, price = fill.bid_e9, fill.ask_e9, fill.price_e9
    if price > ask:
        return "AA"
    if price < bid:
        return "BB"
    width = (ask - bid) * RULES.equity_at_side_band
    if price >= ask - width:
        return "A"
    if price <= bid + width:
        return "B"
    return "MID"


def spread_pct(fill: Fill) -> float:
    return (fill.ask_e9 - fill.bid_e9) * 200 / (fill.ask_e9 + fill.bid_e9)


def absorbed(fill: Fill) -> bool:
    """Return whether one print is an absorbed block under the default rules."""
    return (
        fill.off_exchange
        and eligible(fill)
        and placement(fill) == "MID"
        and fill.size >= RULES.dark_block_min_shares
        and notional_cents(fill.price_e9, fill.size) >= MIN_BLOCK_CENTS
        and spread_pct(fill) <= RULES.dark_max_spread_pct
    )


def counted_side(fill: Fill) -> Side:
    """Return the side on which the stealth rules count a print ("unknown": not counted)."""
    if not (fill.off_exchange and eligible(fill) and fill.size >= RULES.stealth_min_print_shares):
        return "unknown"
    where = placement(fill)
    return "buy" if where in ("A", "AA") else "sell" if where in ("B", "BB") else "unknown"


def dark_hits(fills: list[Fill]) -> list[tuple[str, tuple[str, ...]]]:
    """Return (kind, evidence ids) of every inference the default rules draw from these prints alone, in order."""
    hits: list[tuple[str, tuple[str, ...]]] = []
    windows: dict[str, list[Fill]] = {"buy": [], "sell": []}
    fired: dict[str, int] = {}
    for fill in sorted(fills, key=lambda f: f.ts):
        if absorbed(fill):
            hits.append(("absorbed_block", (fill.id,)))
        side = counted_side(fill)
        if side == "unknown":
            continue
        window = [f for f in windows[side] if f.ts >= fill.ts - WINDOW_NS] + [fill]
        windows[side] = window
        kind = "stealth_accumulation" if side == "buy" else "distribution"
        if len(window) < RULES.stealth_min_prints or sum(f.size for f in window) < RULES.stealth_min_total_shares:
            continue
        if kind in fired and fill.ts - fired[kind] < COOLDOWN_NS:
            continue
        fired[kind] = fill.ts
        hits.append((kind, tuple(f.id for f in window)))
    return hits

"""Background option activity: what the tape does when nobody is planting anything.

A model of ordinary flow drawn without reference to the engine's thresholds (this module reads no setting and
imports nothing from `events.config`, `operators` or `flows`; a test checks it on the syntax tree):

- lot sizes from a discrete Pareto tail: mostly 1-10 contracts, now and then 50-300;
- each order has a notional budget (lognormal, a few hundred dollars typical, rarely past ten thousand): retail
  and market-maker flow buys many contracts of a cheap option and few of a dear one, so a lot size is the smaller
  of the two;
- cheap options now and then print a large lot (200-600 contracts of a few cents: large, unremarkable);
- placements across the spread: at the bid, at the ask, strictly inside, at the mid, and now and then one
  increment through the touch;
- per-contract arrival rates: a heavy-tailed activity factor makes a few contracts busy and leaves many quiet,
  with a tiny baseline;
- small orders routed to several venues at once (child fills a millisecond or so apart, sometimes ISO);
- coincidental prints: another contract of the same underlying (another strike or expiry) prints within
  milliseconds, on whatever side its own order takes.

Every draw is precomputed into tables by `draw_option_shapes`, so the market's hot loop takes one random index
per print.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from connectors.synthetic.venues import OPTION_VENUES, Venue, weighted_table
from events.units import NS_PER_MS, NS_PER_US

AT_ASK, AT_BID, AT_MID, INSIDE, THROUGH = range(5)
PLACEMENTS: Final[tuple[tuple[float, int], ...]] = (
    (0.31, AT_ASK),
    (0.31, AT_BID),
    (0.15, AT_MID),
    (0.20, INSIDE),
    (0.03, THROUGH),
)
"""(probability, placement) of a background print."""
LOT_TAIL_ALPHA: Final = 1.15
"""Discrete Pareto exponent of lot sizes: P(size >= n) ~ n ** -alpha (about 6% above 10, 1% above 50)."""
MAX_LOTS: Final = 300
BUDGET_MEDIAN_USD: Final = 600.0
BUDGET_SIGMA: Final = 1.3
"""Lognormal order budget: half the orders under $600, one in a hundred over about $12k."""
MAX_BUDGET_USD: Final = 15_000
"""The largest order background flow places: larger orders are what the scenario library plants."""
CHEAP_PRICE_CENTS: Final = 10
CHEAP_LARGE_LOT_SHARE: Final = 0.004
CHEAP_LARGE_LOTS: Final = (200, 600)
"""A print on an option of at most 10 cents is, this often, a large lot of this many contracts."""
CHILD_FILL_SHARE: Final = 0.03
CHILD_VENUES: Final = (2, 4)
CHILD_GAP_NS: Final = (100 * NS_PER_US, 3 * NS_PER_MS)
"""A small order routed to 2-4 venues: child fills this far apart."""
PAIR_SHARE: Final = 0.04
PAIR_GAP_NS: Final = (50 * NS_PER_US, 5 * NS_PER_MS)
"""This share of prints is followed by a print on another contract of the underlying within this gap."""
ACTIVITY_SIGMA: Final = 1.2
"""Lognormal spread of per-contract activity: a few busy contracts, many quiet ones."""
E7_PER_USD: Final = 10**7
"""price_e9 x contracts per dollar of premium (100 shares a contract)."""

# Option trade conditions: canonical flags with an OPRA trade-type letter that maps to exactly them.
OPTION_CONDITIONS: Final[tuple[tuple[float, tuple[str, ...], str], ...]] = (
    (0.040, ("iso",), "S"),
    (0.070, ("multi_leg",), "f"),
    (0.075, ("stock_tied",), "n"),
    (0.078, ("auction",), "a"),
    (0.080, ("floor",), "e"),
    (0.082, ("cross",), "c"),
)
NO_CONDITIONS: Final[tuple[str, ...]] = ()
ISO: Final = ("iso",)


@dataclass(frozen=True, slots=True)
class OptionShape:
    """One background order, drawn ahead: how large, where in the spread, on which venues."""

    lots: int
    budget_e9: int
    """The order's budget as price_e9 x contracts (premium = budget_e9 / 1e7 dollars)."""
    cheap_lots: int
    """Contracts when the option is cheap and the order is a large lot (0: not a large lot)."""
    placement: int
    venues: tuple[Venue, ...]
    """One venue, or several for a routed order (child fills)."""
    conditions: tuple[str, ...]
    raw_conditions: str
    child_gaps_ns: tuple[int, ...]
    """Gaps between child fills (one fewer than venues)."""
    pair_gap_ns: int
    """0, or the gap to a coincidental print on another contract of the underlying."""
    inside: float
    """Where strictly inside the spread an INSIDE print lands, in [0, 1)."""

    def size_at(self, price_e9: int, price_cents: int) -> int:
        """Return the order's contracts at a price: the lot, bounded by the budget (a cheap large lot apart)."""
        if self.cheap_lots and price_cents <= CHEAP_PRICE_CENTS:
            return self.cheap_lots
        if price_e9 <= 0:
            return self.lots
        return max(1, min(self.lots, self.budget_e9 // price_e9))


def pareto_lots(rng: random.Random) -> int:
    """Return a lot size from the discrete Pareto tail, 1 to MAX_LOTS."""
    return min(MAX_LOTS, int((1.0 - rng.random()) ** (-1.0 / LOT_TAIL_ALPHA)))


def order_budget_e9(rng: random.Random) -> int:
    """Return an order budget (price_e9 x contracts) from the lognormal, at most MAX_BUDGET_USD."""
    usd = min(MAX_BUDGET_USD, BUDGET_MEDIAN_USD * math.exp(rng.gauss(0.0, BUDGET_SIGMA)))
    return int(usd * E7_PER_USD)


def contract_activity(rng: random.Random) -> float:
    """Return a contract's activity factor (mean 1): lognormal, so a few contracts carry most prints."""
    return math.exp(rng.gauss(-0.5 * ACTIVITY_SIGMA**2, ACTIVITY_SIGMA))


def _placement(u: float) -> int:
    for p, placement in PLACEMENTS:
        if u < p:
            return placement
        u -= p
    return PLACEMENTS[-1][1]


def draw_option_shapes(rng: random.Random, size: int) -> list[OptionShape]:
    """Draw `size` background orders."""
    venue_table = weighted_table(OPTION_VENUES, size)
    shapes = []
    for _ in range(size):
        cheap = rng.randint(*CHEAP_LARGE_LOTS) if rng.random() < CHEAP_LARGE_LOT_SHARE else 0
        u = rng.random()
        flags, raw = next(((f, letter) for p, f, letter in OPTION_CONDITIONS if u < p), (NO_CONDITIONS, ""))
        venues: tuple[Venue, ...] = (venue_table[int(rng.random() * size)],)
        gaps: tuple[int, ...] = ()
        if not flags and rng.random() < CHILD_FILL_SHARE:
            venues = tuple(rng.sample(OPTION_VENUES, rng.randint(*CHILD_VENUES)))
            gaps = tuple(rng.randint(*CHILD_GAP_NS) for _ in venues[1:])
            if rng.random() < 0.5:
                flags, raw = ISO, "S"
        pair = rng.randint(*PAIR_GAP_NS) if rng.random() < PAIR_SHARE else 0
        shapes.append(
            OptionShape(
                lots=pareto_lots(rng),
                budget_e9=order_budget_e9(rng),
                cheap_lots=cheap,
                placement=_placement(rng.random()),
                venues=venues,
                conditions=flags,
                raw_conditions=raw,
                child_gaps_ns=gaps,
                pair_gap_ns=pair,
                inside=rng.random(),
            )
        )
    return shapes


def place_cents(placement: int, bid: int, ask: int, inside: float, tick_up: int, tick_down: int) -> int:
    """Return a print price in cents for a placement against (bid, ask); `tick_up`/`tick_down` are the prices one
    increment above the ask and below the bid. A print never goes below one cent."""
    if bid <= 0:
        return ask if placement != THROUGH else tick_up
    if placement == AT_ASK:
        return ask
    if placement == AT_BID:
        return bid
    if placement == THROUGH:
        return tick_up if inside < 0.5 else max(1, tick_down)
    if placement == AT_MID or ask - bid <= 1:
        return (bid + ask) // 2 or ask
    return bid + 1 + int(inside * (ask - bid - 1))


def split_children(size: int, parts: int, rng: random.Random) -> list[int]:
    """Split an order's contracts over its child fills (each at least one; fewer parts than contracts collapse)."""
    parts = max(1, min(parts, size))
    cuts = sorted(rng.sample(range(1, size), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, size]
    return [b - a for a, b in pairwise(bounds)]

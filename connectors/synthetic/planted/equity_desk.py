"""The equity plans' schedule: which plan comes next on each underlying, and which background events it holds.

What the background equity tape can and cannot do near a plan (the market enforces it):

- Background off-exchange prints of `stealth_min_print_shares` or more print at the midpoint, so no background
  print is ever counted by the stealth rules: runs are exactly the planted prints, and a planted run can be
  neither completed nor put in cooldown by background. Smaller background prints still print at or through
  the touch (retail flow). Background off-exchange prints stay under 2,000 shares: blocks are planted.
- Between a planted quote and the planted print placed against it, background quotes on the underlying are
  held, so the as-of quote of a planted print is the plan's. Elsewhere background quotes keep coming,
  including in the middle of a stealth run.
- During a candle probe's 1 s window no background print on the underlying is published: the window's candle
  is exactly the planted prints. Background quotes and other underlyings are unaffected.
- Plans on one underlying never overlap, and a run's counted prints on one side are more than the stealth
  window apart from any other plan's counted prints on that side of the underlying (`SIDE_GAP_NS`).

Held background events are still drawn (the random streams stay as they were) and only not published.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from typing import Final

from connectors.synthetic.chains import UnderlyingState
from connectors.synthetic.planted.equities import (
    CANDLE_INTERVAL_NS,
    CANDLE_PROBE_EVERY_NS,
    HOLD_PRINTS,
    HOLD_QUOTES,
    PLAN_GAP_NS,
    RUN_MAX_NS,
    SIDE_GAP_NS,
    SPAN_MARGIN_NS,
    EquityPlan,
    PlannedEquity,
    plan_block,
    plan_candle_probe,
    plan_run,
)
from connectors.synthetic.planted.equity_truth import DarkScenario
from events.units import NS_PER_MS, NS_PER_S

BLOCK_SCENARIOS: Final[tuple[DarkScenario, ...]] = (
    "absorbed_block",
    "lit_block",
    "stale_quote_block",
    "wide_spread_block",
    "block_near_miss",
    "ineligible_block",
)
"""One large print against a planted quote."""
RUN_SCENARIOS: Final[tuple[DarkScenario, ...]] = (
    "stealth_accumulation",
    "distribution",
    "odd_lot_run",
    "three_print_run",
    "small_print_run",
    "mixed_side_run",
    "cooldown_run",
)
"""Several off-exchange prints on a side over seconds: they reserve the side of the underlying."""
WEIGHTS: Final[dict[DarkScenario, int]] = {
    "absorbed_block": 4,
    "stealth_accumulation": 5,
    "distribution": 5,
    "mixed_side_run": 2,
}
BLOCK_BAG: Final = tuple(name for name in BLOCK_SCENARIOS for _ in range(WEIGHTS.get(name, 1)))
RUN_BAG: Final = tuple(name for name in RUN_SCENARIOS for _ in range(WEIGHTS.get(name, 1)))
"""Draw weights: positives more often than each hard negative."""


# ---------------------------------------------------------------------------------------- schedule

PLAN_LOOKAHEAD_NS: Final = 250 * NS_PER_MS
"""Plans are drawn this long before they start (background on the underlying is held from then on)."""
FIRST_PLANT_WINDOW_S: Final = (1.5, 4.0)
EQUITY_PLANT_FACTOR: Final = 2.0
"""Equity plans per underlying come this many times further apart than the options' plant interval."""
NEVER: Final = 2**63 - 1


class EquityDesk:
    """Schedule equity plans per underlying and tell which background equity events are held.

    On one underlying, blocks and candle probes follow one another; a run goes on for seconds while other
    plans (a run on the other side too) fit between its prints. Plans never share time on an underlying: every
    quote-to-print pair and probe window is exclusive (`SPAN_MARGIN_NS` apart).

    The market asks `plan(now)` once `now >= next_plan_ts`, publishes the returned events in event time, and
    before publishing a background equity quote (print) at `t` on underlying `i` with
    `t >= quote_hold_from[i]` (`print_hold_from[i]`) asks `quote_held(i, t)` (`print_held(i, t)`).
    """

    def __init__(
        self, underlyings: list[UnderlyingState], start_ts: int, end_ts: int, plant_every_s: float, rng: random.Random
    ) -> None:
        n = len(underlyings)
        self.underlyings = underlyings
        self.end_ts = end_ts
        self.rng = rng
        self.every_ns = EQUITY_PLANT_FACTOR * plant_every_s * NS_PER_S
        self.probe_every_ns = max(CANDLE_PROBE_EVERY_NS, round(3 * self.every_ns))
        self.due = [
            start_ts + round(rng.uniform(*(FIRST_PLANT_WINDOW_S if i == 0 else (1.0, 1.0 + plant_every_s))) * NS_PER_S)
            for i in range(n)
        ]
        self.next_probe = [start_ts + round(rng.uniform(2.0, 10.0) * NS_PER_S) for _ in range(n)]
        self.busy_until = [0] * n
        self.side_free = [{"buy": 0, "sell": 0} for _ in range(n)]
        self.block_bag: list[DarkScenario] = []
        self.run_bag: list[DarkScenario] = []
        self.spans: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.quote_holds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.print_holds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.quote_hold_from = [NEVER] * n
        self.print_hold_from = [NEVER] * n

    @property
    def next_plan_ts(self) -> int:
        """Return when `plan` has something to do next."""
        return min(self.due) - PLAN_LOOKAHEAD_NS

    def plan(self, now: int) -> list[PlannedEquity]:
        """Plan every underlying due within the lookahead; return the planned events (any order)."""
        out: list[PlannedEquity] = []
        for i, und in enumerate(self.underlyings):
            if self.due[i] - PLAN_LOOKAHEAD_NS > now:
                continue
            start = max(self.due[i], now + PLAN_LOOKAHEAD_NS, self.busy_until[i])
            spans = self.spans[i] = [span for span in self.spans[i] if span[1] >= now]
            drawn = self._draw(i, und, start)
            if drawn is None:
                self.due[i] = start + NS_PER_S // 2
                continue
            bag, name, plan = drawn
            clash = _clash(spans, plan.holds)
            if clash is not None or plan.last_ts >= self.end_ts:
                if bag is not None and name is not None:
                    bag.append(name)  # drawn again first
                self.due[i] = max(start + NS_PER_S // 2, (clash or 0) + SPAN_MARGIN_NS)
                continue
            if name is None:
                self.next_probe[i] = plan.first_ts + self.probe_every_ns
            for first, last, mask in plan.holds:
                bisect.insort(spans, (first, last))
                if mask & HOLD_QUOTES:
                    _add_hold(self.quote_holds[i], self.quote_hold_from, i, first, last)
                if mask & HOLD_PRINTS:
                    _add_hold(self.print_holds[i], self.print_hold_from, i, first, last)
            for side, ts in plan.counted_until.items():
                self.side_free[i][side] = ts + SIDE_GAP_NS
            if not plan.counted_until:
                self.busy_until[i] = plan.last_ts + PLAN_GAP_NS
            # The next plan comes after a plant interval, or as soon as a side is free for a run.
            later = start + round(self.rng.uniform(0.5, 1.5) * self.every_ns)
            if later + RUN_MAX_NS < self.end_ts:
                later = min(later, *self.side_free[i].values())
            self.due[i] = max(self.busy_until[i], later)
            out.extend(plan.events)
        return out

    def _draw(
        self, i: int, und: UnderlyingState, start: int
    ) -> tuple[list[DarkScenario] | None, DarkScenario | None, EquityPlan] | None:
        """Return (bag, scenario, plan) of the next plan; a candle probe has neither bag nor scenario."""
        rng = self.rng
        if start >= self.next_probe[i]:
            window = -(-start // CANDLE_INTERVAL_NS) * CANDLE_INTERVAL_NS
            if window + CANDLE_INTERVAL_NS > self.end_ts:
                return None
            return None, None, plan_candle_probe(und, window, rng)
        free = [side for side, ts in self.side_free[i].items() if ts <= start]
        if free and start + RUN_MAX_NS < self.end_ts:
            if len(free) == 2 and "mixed_side_run" in self.run_bag:
                name: DarkScenario | None = "mixed_side_run"  # the one run that needs both sides free
                self.run_bag.remove("mixed_side_run")
            else:
                name = _take(self.run_bag, RUN_BAG, rng, lambda n: _run_fits(n, free))
            if name is not None:
                if name == "stealth_accumulation":
                    side = "buy"
                elif name == "distribution":
                    side = "sell"
                else:
                    side = rng.choice(free)
                return self.run_bag, name, plan_run(name, und, start, rng, side)
        name = _take(self.block_bag, BLOCK_BAG, rng, lambda n: True)
        return None if name is None else (self.block_bag, name, plan_block(name, und, start, rng))

    def quote_held(self, i: int, t: int) -> bool:
        """Return whether a background quote on underlying `i` at `t` is held (call when t >= quote_hold_from[i])."""
        return _held(self.quote_holds[i], self.quote_hold_from, i, t)

    def print_held(self, i: int, t: int) -> bool:
        """Return whether a background print on underlying `i` at `t` is held (call when t >= print_hold_from[i])."""
        return _held(self.print_holds[i], self.print_hold_from, i, t)


def _clash(spans: list[tuple[int, int]], holds: list[tuple[int, int, int]]) -> int | None:
    """Return the end of a planned span that a hold comes within SPAN_MARGIN_NS of, or None."""
    for first, last, _ in holds:
        k = bisect.bisect_left(spans, (first - SPAN_MARGIN_NS - CANDLE_INTERVAL_NS, 0))
        for other_first, other_last in spans[max(0, k - 1) :]:
            if other_first > last + SPAN_MARGIN_NS:
                break
            if other_last + SPAN_MARGIN_NS >= first:
                return other_last
    return None


def _run_fits(name: DarkScenario, free: list[str]) -> bool:
    if name == "stealth_accumulation":
        return "buy" in free
    if name == "distribution":
        return "sell" in free
    if name == "mixed_side_run":
        return len(free) == 2
    return True


def _take(
    bag: list[DarkScenario], full: tuple[DarkScenario, ...], rng: random.Random, fits: Callable[[DarkScenario], bool]
) -> DarkScenario | None:
    """Take the next scenario that fits from a shuffled bag (refilled when empty); when none in the bag fits, one
    that fits drawn from the full set; None when none fits at all."""
    if not bag:
        bag.extend(full)
        rng.shuffle(bag)
    for k in range(len(bag) - 1, -1, -1):
        if fits(bag[k]):
            return bag.pop(k)
    fitting = [name for name in full if fits(name)]
    return rng.choice(fitting) if fitting else None


def _add_hold(holds: list[tuple[int, int]], first_of: list[int], i: int, first: int, last: int) -> None:
    bisect.insort(holds, (first, last))
    first_of[i] = holds[0][0]


def _held(holds: list[tuple[int, int]], first_of: list[int], i: int, t: int) -> bool:
    while holds and holds[0][1] < t:
        del holds[0]
    first_of[i] = holds[0][0] if holds else NEVER
    return bool(holds) and holds[0][0] <= t

"""The planner of every scenario name: the one place the market asks for a plan."""

from __future__ import annotations

import random
from typing import Final

from connectors.synthetic.chains import UnderlyingState
from connectors.synthetic.planted.library import ScenarioName
from connectors.synthetic.planted.negatives import (
    plan_far_apart,
    plan_mid,
    plan_same_side_vertical,
    plan_size_mismatch,
    plan_spread_out,
    plan_stale,
    plan_tiny,
    plan_tiny_legs,
    plan_two_print,
    plan_unrelated,
)
from connectors.synthetic.planted.options import (
    plan_big_sweep,
    plan_block,
    plan_far_dated,
    plan_new_position,
    plan_repeats,
    plan_split,
    plan_sweep,
    plan_unusual_volume,
    plan_write,
    plan_zero_dte,
)
from connectors.synthetic.planted.script import Plan, Planner
from connectors.synthetic.planted.structures import (
    plan_calendar,
    plan_ladder,
    plan_multi_leg,
    plan_roll,
    plan_straddle,
    plan_vertical,
)

PLANNERS: Final[dict[ScenarioName, Planner]] = {
    "call_sweep": lambda u, t, r: plan_sweep("call_sweep", u, t, r),
    "put_sweep": lambda u, t, r: plan_sweep("put_sweep", u, t, r),
    "block": plan_block,
    "split": plan_split,
    "golden_sweep": lambda u, t, r: plan_big_sweep("golden_sweep", u, t, r),
    "repeated_hits": lambda u, t, r: plan_repeats("repeated_hits", u, t, r),
    "call_overwrite": lambda u, t, r: plan_write("call_overwrite", u, t, r),
    "put_write": lambda u, t, r: plan_write("put_write", u, t, r),
    "far_dated": lambda u, t, r: plan_far_dated("far_dated", u, t, r),
    "zero_dte": lambda u, t, r: plan_zero_dte("zero_dte", u, t, r),
    "unusual_volume": plan_unusual_volume,
    "new_position": plan_new_position,
    "stale_quotes": plan_stale,
    "mid_prints": plan_mid,
    "tiny_lots": plan_tiny,
    "two_print_sweep": plan_two_print,
    "unrelated_close": plan_unrelated,
    "spread_out": plan_spread_out,
    "zero_dte_miss": lambda u, t, r: plan_zero_dte("zero_dte_miss", u, t, r),
    "write_miss": lambda u, t, r: plan_write("write_miss", u, t, r),
    "golden_miss": lambda u, t, r: plan_big_sweep("golden_miss", u, t, r),
    "repeat_miss": lambda u, t, r: plan_repeats("repeat_miss", u, t, r),
    "far_dated_miss": lambda u, t, r: plan_far_dated("far_dated_miss", u, t, r),
    "vertical_debit": lambda u, t, r: plan_vertical("vertical_debit", u, t, r),
    "vertical_credit": lambda u, t, r: plan_vertical("vertical_credit", u, t, r),
    "straddle": lambda u, t, r: plan_straddle("straddle", u, t, r),
    "strangle": lambda u, t, r: plan_straddle("strangle", u, t, r),
    "ladder": plan_ladder,
    "calendar": plan_calendar,
    "roll": plan_roll,
    "multi_leg": plan_multi_leg,
    "size_mismatch_legs": plan_size_mismatch,
    "far_apart_legs": plan_far_apart,
    "same_side_vertical": plan_same_side_vertical,
    "tiny_legs": plan_tiny_legs,
}
"""Scenario name -> planner."""


def plan_scenario(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Draw a scenario whose first print is at `start_ts`; None when no contract fits it now."""
    return PLANNERS[name](und, start_ts, rng)

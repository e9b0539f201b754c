"""The scenario library: the name of every planted options scenario, positives first, and which are hard negatives.

The market draws the names from a shuffled bag (`SCENARIOS`), so a short session shows every kind; `planners.py`
maps each name to its planner.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

ScenarioName = Literal[
    "call_sweep",
    "put_sweep",
    "block",
    "split",
    "golden_sweep",
    "repeated_hits",
    "call_overwrite",
    "put_write",
    "far_dated",
    "zero_dte",
    "unusual_volume",
    "new_position",
    "vertical_debit",
    "vertical_credit",
    "straddle",
    "strangle",
    "ladder",
    "calendar",
    "roll",
    "multi_leg",
    "stale_quotes",
    "mid_prints",
    "tiny_lots",
    "two_print_sweep",
    "unrelated_close",
    "spread_out",
    "zero_dte_miss",
    "write_miss",
    "golden_miss",
    "repeat_miss",
    "far_dated_miss",
    "size_mismatch_legs",
    "far_apart_legs",
    "same_side_vertical",
    "tiny_legs",
]
SCENARIOS: Final[tuple[ScenarioName, ...]] = get_args(ScenarioName)
"""The library, positives first; the market draws them from a shuffled bag so every kind shows up."""
HARD_NEGATIVES: Final = frozenset(SCENARIOS[SCENARIOS.index("stale_quotes") :])
FIRST_SCENARIO: Final[ScenarioName] = "call_sweep"
"""The first scenario of a session: one that alerts, so a live demo shows an alert within seconds."""

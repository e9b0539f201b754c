"""`[session cost]`: the tape is cut into thirds of its event time, and each pipeline reports the cost by third."""

from __future__ import annotations

import re

import pytest

from cli.bench.session import SLICES, SessionCost, cut, flow_cost, loop_cost, run_session_cost
from connectors.synthetic import SyntheticConfig
from events.config import OptionsConfig
from tests.factories import quote, trade, ts

BY_THIRD = re.compile(
    r"^  (plain loop|bytewax x1) per print by third: ([\d.]+) / ([\d.]+) / ([\d.]+) us, last/first: ([\d.]+)$", re.M
)


@pytest.mark.parametrize(
    ("times", "bounds", "parts"),
    [
        ([0, 1, 5, 6, 9], [5, 9], [[0, 1], [5, 6], [9]]),
        ([0, 1], [5, 9], [[0, 1], [], []]),
        ([7, 8], [5, 9], [[], [7, 8], []]),
        ([], [5], [[], []]),
    ],
    ids=["spread", "all-first", "none-first", "empty"],
)
def test_cut_gives_one_part_per_bound_and_one_more(times: list[int], bounds: list[int], parts: list[list[int]]) -> None:
    events = [quote(t, "1.00", "1.10") for t in times]
    got = [[e.ts_event for e in part] for part in cut(events, [ts(b) for b in bounds])]
    assert got == [[ts(t) for t in part] for part in parts]


def test_cut_keeps_every_event_in_order() -> None:
    events = [quote(0, "4.00", "4.20"), trade(5, "4.10", 2), quote(10, "4.00", "4.20"), trade(20, "4.10", 3)]
    parts = list(cut(events, [events[2].ts_event]))
    assert [e for part in parts for e in part] == events
    assert parts[1][0] is events[2]


def test_loop_and_flow_see_the_same_thirds_and_derive_the_same() -> None:
    market = SyntheticConfig(seed=3, profile="active", duration_s=6)
    loop = loop_cost(market, OptionsConfig())
    flow = flow_cost(market, OptionsConfig())
    assert loop.prints == flow.prints
    assert len(loop.prints) == 3
    assert all(p > 0 for p in loop.prints)
    assert loop.derived == flow.derived > 0
    assert len(flow.seconds) == 3
    assert all(s > 0 for s in (*loop.seconds, *flow.seconds))


def test_section_prints_cost_by_third_for_both_pipelines(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_session_cost(6, "active", 3, OptionsConfig())
    out = capsys.readouterr().out
    header = re.search(r"^\[session cost\] 6 s of active in tcbbo form: ([\d,]+) option prints, thirds of 2 s: "
                       r"([\d,]+) / ([\d,]+) / ([\d,]+) prints$", out, re.M)  # fmt: skip
    assert header is not None
    total, *thirds = (int(g.replace(",", "")) for g in header.groups())
    assert total == sum(thirds) > 0
    lines = BY_THIRD.findall(out)
    assert [label for label, *_ in lines] == ["plain loop", "bytewax x1"]
    for _, first, _, last, ratio in lines:
        # Each cost is printed to 0.1 us (off by up to 0.05) and the ratio to 0.01: bound the rounding both ways.
        f, r = float(first), float(ratio)
        assert r == pytest.approx(float(last) / f, abs=0.006 + 0.05 * (1 + r) / (f - 0.05))


def test_a_third_costs_the_median_of_its_slices_so_one_burst_does_not_move_it() -> None:
    assert SLICES == 4
    seconds = (1.0, 1.0, 9.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0)  # a burst in the first third
    prints = (*(1_000_000,) * 8, 0, 1_000_000, 1_000_000, 1_000_000)  # a slice without prints is left aside
    cost = SessionCost(seconds, prints, derived=0)
    assert cost.seconds == (12.0, 8.0, 4.0)
    assert cost.prints == (4_000_000, 4_000_000, 3_000_000)
    assert cost.us_per_print == (1.0, 2.0, 1.0)
    assert cost.growth == 1.0

"""The background model: drawn without reference to the engine's thresholds, and shaped like ordinary flow."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from connectors.synthetic import background
from connectors.synthetic.background import (
    AT_ASK,
    AT_BID,
    AT_MID,
    INSIDE,
    THROUGH,
    contract_activity,
    draw_option_shapes,
    place_cents,
    split_children,
)
from events.units import NS_PER_MS

SOURCE = Path(background.__file__)
FORBIDDEN_MODULES = ("events.config", "operators", "flows", "connectors.settings", "connectors.synthetic.planted")
SETTINGS_NAMES = frozenset({"OptionsConfig", "EquitiesConfig", "Settings", "RULES"})


def test_background_reads_no_threshold() -> None:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    modules = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    modules += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not any(node.level for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)), "no relative imports"
    for module in modules:
        assert not any(module == f or module.startswith(f + ".") for f in FORBIDDEN_MODULES), module
        if module.startswith("events."):
            assert module in ("events.models", "events.units", "events.symbology"), module
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not names & SETTINGS_NAMES


def test_orders_are_mostly_small_with_a_heavy_tail() -> None:
    shapes = draw_option_shapes(random.Random(1), 20_000)
    lots = sorted(s.lots for s in shapes)
    assert lots[len(lots) // 2] <= 3
    assert 0.85 < sum(n <= 10 for n in lots) / len(lots) < 0.97
    assert 0.004 < sum(50 <= n <= 300 for n in lots) / len(lots) < 0.03
    assert max(lots) == 300
    placements = {s.placement for s in shapes}
    assert placements == {AT_ASK, AT_BID, AT_MID, INSIDE, THROUGH}
    assert 0.02 < sum(len(s.venues) > 1 for s in shapes) / len(shapes) < 0.04, "routed child fills"
    assert 0.03 < sum(s.pair_gap_ns > 0 for s in shapes) / len(shapes) < 0.05, "coincidental prints"
    assert all(0 < s.pair_gap_ns <= 5 * NS_PER_MS for s in shapes if s.pair_gap_ns)
    assert any(s.cheap_lots >= 200 for s in shapes)


@pytest.mark.parametrize(
    ("price_cents", "most"),
    [
        pytest.param(5, 600, id="a nickel option: up to a cheap large lot"),
        pytest.param(2_000, 7, id="a twenty-dollar option: the budget keeps lots small"),
    ],
)
def test_a_lot_is_bounded_by_the_order_budget(price_cents: int, most: int) -> None:
    shapes = draw_option_shapes(random.Random(2), 5_000)
    sizes = sorted(s.size_at(price_cents * 10**7, price_cents) for s in shapes)
    assert sizes[-1] <= most or price_cents <= 10
    assert sizes[len(sizes) // 2] <= 5
    assert max(price_cents * n for n in sizes) <= max(15_000 * 100, 600 * price_cents)


@pytest.mark.parametrize(
    ("placement", "inside", "expected"),
    [
        pytest.param(AT_ASK, 0.3, 110, id="ask"),
        pytest.param(AT_BID, 0.3, 100, id="bid"),
        pytest.param(AT_MID, 0.3, 105, id="mid"),
        pytest.param(INSIDE, 0.0, 101, id="inside-low"),
        pytest.param(INSIDE, 0.99, 109, id="inside-high"),
        pytest.param(THROUGH, 0.2, 111, id="through-the-ask"),
        pytest.param(THROUGH, 0.8, 99, id="through-the-bid"),
    ],
)
def test_place_cents(placement: int, inside: float, expected: int) -> None:
    assert place_cents(placement, 100, 110, inside, 111, 99) == expected


def test_children_add_up_and_activity_is_heavy_tailed() -> None:
    rng = random.Random(3)
    for size in (1, 2, 7, 300):
        parts = split_children(size, 3, rng)
        assert sum(parts) == size
        assert all(p >= 1 for p in parts)
    factors = sorted(contract_activity(rng) for _ in range(10_000))
    assert 0.9 < sum(factors) / len(factors) < 1.1
    assert factors[len(factors) // 2] < 0.6, "most contracts are quieter than the mean"
    assert factors[-len(factors) // 100] > 5, "a few are busy"

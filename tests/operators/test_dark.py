"""Dark inference (BEHAVIOR section 8): absorbed blocks, stealth accumulation and distribution."""

from __future__ import annotations

from typing import Any

import pytest

from events.config import EquitiesConfig
from events.ids import derived_event_id
from events.models import DarkInference, EquityTrade, Placement
from operators.dark import DarkDetector
from tests.factories import equity_trade, ts

CONFIG = EquitiesConfig()


def _run(trades: list[EquityTrade], adv: dict[str, int] | None = None) -> list[DarkInference]:
    detector = DarkDetector(CONFIG, adv)
    out: list[DarkInference] = []
    for t in trades:
        out.extend(detector.on_trade(t))
    return out


def _block(**overrides: Any) -> EquityTrade:
    args: dict[str, Any] = {"at_ms": 5, "price": "100.00", "size": 5_000, "quote": ("99.99", "100.01")}
    args.update(overrides)
    return equity_trade(**args)


# ------------------------------------------------------------------------------------- absorbed block


@pytest.mark.parametrize(
    ("overrides", "fires"),
    [
        pytest.param({}, True, id="5000-shares-500k-at-mid"),
        pytest.param({"size": 2_000}, True, id="exactly-2000-shares-and-200k"),
        pytest.param({"size": 1_999, "price": "580.12", "quote": ("580.10", "580.14")}, False, id="1999-shares"),
        pytest.param({"size": 3_000, "price": "50.00", "quote": ("49.99", "50.01")}, False, id="150k-notional"),
        pytest.param({"placement": "A"}, False, id="at-ask"),
        pytest.param({"placement": "STALE"}, False, id="stale-quote"),
        pytest.param({"tick_test": True}, False, id="locked-market-tick-test"),
        pytest.param({"off_exchange": False}, False, id="lit"),
        pytest.param({"size_eligible": False, "excluded_reasons": ("average_price",)}, False, id="ineligible"),
        pytest.param({"quote": ("99.75", "100.25")}, True, id="spread-0.5pct-of-mid"),
        pytest.param({"quote": ("99.70", "100.30")}, False, id="spread-0.6pct-of-mid"),
    ],
)
def test_absorbed_block_rule(overrides: dict[str, Any], fires: bool) -> None:
    out = _run([_block(**overrides)])
    assert [i.kind for i in out] == (["absorbed_block"] if fires else [])


def test_absorbed_block_event() -> None:
    trade = _block()
    (block,) = _run([trade])
    assert block.id == derived_event_id("dark_inference", ("absorbed_block", trade.print_id))
    assert block.direction == "neutral"
    assert block.evidence_ids == (trade.print_id,)
    assert (block.ts_event, block.ts_first, block.ts_last) == (trade.ts_event,) * 3
    assert (block.size_shares, block.notional_cents, block.vwap_e9, block.print_count) == (
        5_000,
        50_000_000,
        trade.price_e9,
        1,
    )
    assert block.metrics["size_shares"] == 5_000.0
    assert block.metrics["notional_vs_min"] == 2.5
    for threshold in ("2,000 shares", "$200.0k", "0.5% of mid", "1500 ms"):
        assert threshold in block.rule
    assert "5,000 shares at 100.00 ($500.0k) on FINN" in block.explanations[0]
    assert "99.99 x 100.01" in block.explanations[0]
    assert block.explanations[-1] == "Average daily volume unknown: half credit for size relative to ADV."
    assert 0.5 <= block.confidence <= 1.0
    assert block.adv_shares is None


def test_adv_scales_block_confidence() -> None:
    trade = _block()
    unknown = _run([trade])[0]
    thin = _run([trade], {"SPY": 500_000})[0]  # 1% of ADV: full ADV credit
    deep = _run([trade], {"SPY": 500_000_000})[0]  # 0.001% of ADV
    assert deep.confidence < unknown.confidence < thin.confidence
    assert thin.adv_shares == 500_000
    assert thin.metrics["pct_of_adv"] == 1.0
    assert "1.000% of the average daily volume (500,000 shares)" in thin.explanations[-1]


def test_bigger_blocks_and_tighter_quotes_raise_confidence() -> None:
    small = _run([_block(size=2_000)])[0]
    big = _run([_block(size=20_000)])[0]
    wide = _run([_block(quote=("99.80", "100.20"))])[0]
    old = _run([_block(quote_age_ms=1_400)])[0]
    base = _run([_block()])[0]
    assert small.confidence < base.confidence < big.confidence
    assert wide.confidence < base.confidence
    assert old.confidence < base.confidence


# ------------------------------------------------------------------------------------------ stealth


def _hit(at_s: float, size: int = 800, placement: Placement = "A", **overrides: Any) -> EquityTrade:
    return equity_trade(at_s * 1_000, "100.01", size, placement=placement, quote=("100.00", "100.01"), **overrides)


@pytest.mark.parametrize(
    ("prints", "fires_at"),
    [
        pytest.param([_hit(0), _hit(10), _hit(20), _hit(30)], 3, id="four-800-share-buys"),
        pytest.param([_hit(0), _hit(10), _hit(20)], None, id="three-prints"),
        pytest.param([_hit(0, 750), _hit(10, 750), _hit(20, 750), _hit(30, 749)], None, id="2999-shares"),
        pytest.param([_hit(0, 750), _hit(10, 750), _hit(20, 750), _hit(30, 750)], 3, id="exactly-3000-shares"),
        pytest.param([_hit(0, 199), _hit(1), _hit(2), _hit(3), _hit(4)], 4, id="199-share-print-does-not-count"),
        pytest.param(
            [_hit(0, 199), _hit(1, 1_000), _hit(2, 1_000), _hit(3, 1_000)], None, id="only-three-count-199-excluded"
        ),
        pytest.param([_hit(0), _hit(20), _hit(40), _hit(60)], 3, id="exactly-60s"),
        pytest.param([_hit(0), _hit(20), _hit(40), _hit(60.001)], None, id="60s-and-1ms"),
        pytest.param([_hit(0), _hit(1, placement="MID"), _hit(2), _hit(3)], None, id="mid-print-has-no-side"),
        pytest.param([_hit(0), _hit(1, off_exchange=False), _hit(2), _hit(3)], None, id="lit-print"),
        pytest.param(
            [_hit(0), _hit(1, size_eligible=False, excluded_reasons=("late",)), _hit(2), _hit(3)],
            None,
            id="ineligible-print",
        ),
        pytest.param([_hit(0), _hit(1, placement="B"), _hit(2), _hit(3)], None, id="one-sell-among-buys"),
    ],
)
def test_stealth_rule(prints: list[EquityTrade], fires_at: int | None) -> None:
    detector = DarkDetector(CONFIG)
    fired = [i for i, t in enumerate(prints) for inf in detector.on_trade(t) if inf.kind == "stealth_accumulation"]
    assert fired == ([] if fires_at is None else [fires_at])


def test_stealth_accumulation_event() -> None:
    prints = [_hit(0), _hit(10, 1_000), _hit(20), _hit(30, 600)]
    (inference,) = _run(prints)
    assert inference.kind == "stealth_accumulation"
    assert inference.direction == "bullish"
    assert inference.evidence_ids == tuple(p.print_id for p in prints)
    assert inference.id == derived_event_id("dark_inference", ("stealth_accumulation", *inference.evidence_ids))
    assert (inference.ts_first, inference.ts_last, inference.ts_event) == (ts(0), ts(30_000), ts(30_000))
    assert (inference.size_shares, inference.print_count) == (3_200, 4)
    assert inference.notional_cents == 32_003_200  # 3,200 x $100.01
    assert inference.metrics["prints"] == 4.0
    assert inference.metrics["span_ms"] == 30_000.0
    assert inference.metrics["purity"] == 1.0
    assert "4 off-exchange prints bought at or above the ask" in inference.explanations[0]
    assert "3,200 shares" in inference.explanations[0]
    assert ">= 4 prints of >= 200 shares within 60 s, >= 3,000 shares" in inference.explanations[1]
    assert "800 @ 100.01, 1,000 @ 100.01" in inference.explanations[2]
    assert "cooldown 30 s" in inference.rule


def test_distribution_on_the_sell_side() -> None:
    (inference,) = _run([_hit(s, placement="B") for s in (0, 1, 2, 3)])
    assert (inference.kind, inference.direction) == ("distribution", "bearish")
    assert "sold at or below the bid" in inference.explanations[0]


def test_cooldown_per_underlying_and_kind() -> None:
    detector = DarkDetector(CONFIG)
    tape = [
        *(_hit(s) for s in (0, 1, 2, 3)),  # fires at 3 s
        _hit(10),  # within 30 s of the last: held back
        *(_hit(s, placement="B") for s in (11, 12, 13, 14)),  # distribution has its own cooldown
        _hit(20, symbol="QQQ"),
        *(_hit(s, symbol="QQQ") for s in (21, 22, 23)),  # another underlying too
        _hit(32.999),  # 29.999 s after: still cooling down
        _hit(33),  # 30 s after the first: fires again
    ]
    fired = [(inf.kind, inf.underlying, inf.ts_event) for t in tape for inf in detector.on_trade(t)]
    assert fired == [
        ("stealth_accumulation", "SPY", ts(3_000)),
        ("distribution", "SPY", ts(14_000)),
        ("stealth_accumulation", "QQQ", ts(23_000)),
        ("stealth_accumulation", "SPY", ts(33_000)),
    ]


def test_opposite_side_flow_lowers_confidence() -> None:
    pure = _run([_hit(s) for s in (0, 1, 2, 3)])[0]
    mixed = _run([_hit(0, 2_000, placement="B"), *(_hit(s) for s in (1, 2, 3, 4))])
    (accumulation,) = [i for i in mixed if i.kind == "stealth_accumulation"]
    assert accumulation.metrics["opposite_side_shares"] == 2_000.0
    assert accumulation.confidence < pure.confidence


def test_larger_and_longer_runs_raise_confidence() -> None:
    base = _run([_hit(s) for s in (0, 1, 2, 3)])[0]
    big = _run([_hit(s, 5_000) for s in (0, 1, 2, 3)])[0]
    assert big.confidence > base.confidence
    with_adv = _run([_hit(s) for s in (0, 1, 2, 3)], {"SPY": 100_000})[0]
    assert with_adv.confidence > base.confidence
    assert with_adv.metrics["pct_of_adv"] == 3.2


def test_settings_move_the_thresholds() -> None:
    config = EquitiesConfig(stealth_min_prints=2, stealth_min_total_shares=1_000, dark_block_min_shares=10_000)
    detector = DarkDetector(config)
    assert [i.kind for i in detector.on_trade(_hit(0))] == []
    assert [i.kind for i in detector.on_trade(_hit(1))] == ["stealth_accumulation"]
    assert DarkDetector(config).on_trade(_block()) == []


def test_set_adv() -> None:
    detector = DarkDetector(CONFIG)
    detector.set_adv("SPY", 1_000)
    assert detector.adv("SPY") == 1_000
    detector.set_adv("SPY", None)
    assert detector.adv("SPY") is None


def test_same_input_same_ids() -> None:
    tape = [_block(), *(_hit(s) for s in (0, 1, 2, 3))]
    assert [i.id for i in _run(tape)] == [i.id for i in _run(tape)]
    assert _run(tape) == _run(tape)

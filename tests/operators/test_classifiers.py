"""Packet classifiers (BEHAVIOR section 6): thresholds, direction, confidence, explanations, evidence."""

from __future__ import annotations

from typing import Any

import pytest

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Direction, PacketKind, Side
from operators.classifiers import (
    POOR_QUOTES_COVERAGE,
    PacketContext,
    block_trade,
    classify_packet,
    direction_for,
    large_sweep,
)
from tests.factories import CALL, PUT, packet

CFG = OptionsConfig()
NO_Z = PacketContext()


@pytest.mark.parametrize(
    ("overrides", "premium_z", "fires"),
    [
        pytest.param({}, None, True, id="60k-3-prints"),
        pytest.param({"premium_cents": 4_000_000}, None, True, id="premium-exactly-40k"),
        pytest.param({"premium_cents": 3_999_999}, None, False, id="premium-1-cent-under"),
        pytest.param({"premium_cents": 3_999_999}, 2.0, True, id="z-exactly-2"),
        pytest.param({"premium_cents": 3_999_999}, 1.99, False, id="z-under-2"),
        pytest.param({"premium_cents": 100_000}, 5.0, True, id="small-premium-high-z"),
        pytest.param({"print_count": 2}, None, False, id="two-prints"),
        pytest.param({"print_count": 2, "premium_cents": 100_000_000}, 9.0, False, id="two-prints-huge"),
        pytest.param({"kind": "split", "venue_count": 1}, None, False, id="split"),
        pytest.param({"kind": "single"}, None, False, id="single"),
        pytest.param({"kind": "block", "print_count": 1}, None, False, id="block"),
    ],
)
def test_large_sweep_thresholds(overrides: dict[str, Any], premium_z: float | None, fires: bool) -> None:
    hit = large_sweep(packet(**overrides), PacketContext(premium_z=premium_z), CFG)
    assert (hit is not None) is fires


def test_large_sweep_thresholds_follow_settings() -> None:
    cfg = OptionsConfig(large_sweep_min_prints=5, large_sweep_min_premium_usd=100_000, large_sweep_min_z=3.0)
    assert large_sweep(packet(print_count=4, premium_cents=20_000_000), NO_Z, cfg) is None
    assert large_sweep(packet(print_count=5, premium_cents=9_999_999), NO_Z, cfg) is None
    assert large_sweep(packet(print_count=5, premium_cents=9_999_999), PacketContext(premium_z=3.0), cfg)
    assert large_sweep(packet(print_count=5, premium_cents=10_000_000), NO_Z, cfg)


@pytest.mark.parametrize(
    ("kind", "fires"),
    [("block", True), ("sweep", False), ("split", False), ("single", False)],
    ids=["block", "sweep", "split", "single"],
)
def test_block_trade_fires_on_block_kind_only(kind: PacketKind, fires: bool) -> None:
    p = packet(kind=kind, print_count=1, venue_count=1, venues=("XCBO",), size_contracts=600)
    assert (block_trade(p, NO_Z, CFG) is not None) is fires


@pytest.mark.parametrize(
    ("right_symbol", "side", "direction"),
    [
        pytest.param(CALL, "buy", "bullish", id="call-bought"),
        pytest.param(CALL, "sell", "bearish", id="call-sold"),
        pytest.param(CALL, "unknown", "neutral", id="call-unknown"),
        pytest.param(PUT, "buy", "bearish", id="put-bought"),
        pytest.param(PUT, "sell", "bullish", id="put-sold"),
        pytest.param(PUT, "unknown", "neutral", id="put-unknown"),
    ],
)
def test_direction_table(right_symbol: str, side: Side, direction: Direction) -> None:
    p = packet(right_symbol, side=side)
    assert direction_for(p) == direction
    hit = large_sweep(p, NO_Z, CFG)
    assert hit is not None
    assert hit.direction == direction


@pytest.mark.parametrize(
    ("coverage", "direction"),
    [
        pytest.param(1.0, "bullish", id="full"),
        pytest.param(POOR_QUOTES_COVERAGE, "bullish", id="at-threshold"),
        pytest.param(0.49, "neutral", id="just-below"),
        pytest.param(0.0, "neutral", id="none"),
    ],
)
def test_poor_nbbo_coverage_withholds_direction(coverage: float, direction: Direction) -> None:
    assert direction_for(packet(nbbo_coverage=coverage)) == direction


def test_poor_coverage_and_unknown_side_lower_confidence() -> None:
    full = large_sweep(packet(), NO_Z, CFG)
    poor = large_sweep(packet(nbbo_coverage=0.3, stale_ratio=0.7), NO_Z, CFG)
    unknown = large_sweep(packet(side="unknown"), NO_Z, CFG)
    assert full is not None
    assert poor is not None
    assert unknown is not None
    assert full.confidence == pytest.approx(0.6)
    assert poor.confidence == pytest.approx(0.6 - 0.3 * 0.7)
    assert unknown.confidence == pytest.approx(0.6 - 0.2)
    assert poor.direction == unknown.direction == "neutral"
    assert any("direction withheld" in e for e in poor.explanations)
    assert any("aggressor side unknown" in e for e in unknown.explanations)


@pytest.mark.parametrize(
    ("overrides", "confidence"),
    [
        pytest.param({}, 0.6, id="base"),
        pytest.param({"print_count": 5}, 0.66, id="more-prints"),
        pytest.param({"print_count": 20}, 0.75, id="prints-bonus-capped"),
        pytest.param({"premium_cents": 8_000_000}, 0.7, id="twice-threshold"),
        pytest.param({"price_path": "rising"}, 0.65, id="buy-walking-up"),
        pytest.param({"price_path": "falling"}, 0.6, id="buy-falling-no-bonus"),
        pytest.param(
            {"side": "sell", "price_path": "falling", "buy_size_contracts": 0, "sell_size_contracts": 300},
            0.65,
            id="sell-walking-down",
        ),
        pytest.param({"print_count": 20, "premium_cents": 8_000_000, "price_path": "rising"}, 0.9, id="every-bonus"),
        pytest.param({"side": "unknown", "nbbo_coverage": 0.0, "stale_ratio": 1.0}, 0.1, id="worst-context"),
    ],
)
def test_large_sweep_confidence(overrides: dict[str, Any], confidence: float) -> None:
    hit = large_sweep(packet(**overrides), NO_Z, CFG)
    assert hit is not None
    assert hit.confidence == pytest.approx(confidence)
    assert 0.0 <= hit.confidence <= 1.0


def test_large_sweep_hit_cites_numbers_and_thresholds() -> None:
    p = packet()
    hit = large_sweep(p, PacketContext(premium_z=2.5), CFG)
    assert hit is not None
    text = " ".join(hit.explanations)
    for expected in (
        "Sweep: SPY 2026-03-20 580.00 call: 300 contracts for $60.0k premium",
        "across 3 venues in 3 prints within 20 ms",
        "Premium $60.0k vs threshold $40,000",
        "premium z 2.50 vs 2",
        "100% of size traded at or above the ask (buyer-initiated)",
        "NBBO at the first print 1.90 x 2.00, VWAP 2.00, 100% of size with a fresh quote",
    ):
        assert expected in text
    assert hit.rule == "kind == sweep and prints >= 3 and (premium >= $40,000 or premium z >= 2)"
    assert hit.metrics == {
        "print_count": 3.0,
        "venue_count": 3.0,
        "premium_usd": 60_000.0,
        "size_contracts": 300.0,
        "nbbo_coverage": 1.0,
        "premium_z": 2.5,
    }


def test_large_sweep_says_when_z_is_absent() -> None:
    hit = large_sweep(packet(), NO_Z, CFG)
    assert hit is not None
    assert any("premium z absent (too few samples) vs 2" in e for e in hit.explanations)
    assert "premium_z" not in hit.metrics


def test_large_sweep_without_quote_says_so() -> None:
    p = packet(bid_e9=None, ask_e9=None, bid_size_contracts=None, ask_size_contracts=None, nbbo_coverage=0.0)
    hit = large_sweep(p, NO_Z, CFG)
    assert hit is not None
    assert any("no NBBO before the first print" in e for e in hit.explanations)


@pytest.mark.parametrize(
    ("overrides", "expected", "confidence"),
    [
        pytest.param(
            {"size_contracts": 600, "premium_cents": 12_000_000},
            [
                "Block: SPY 2026-03-20 580.00 call: 600 contracts for $120.0k premium in one print on XCBO.",
                "Size 600 vs 500 contracts; premium $120.0k vs $250,000.",
            ],
            0.65,
            id="size-block",
        ),
        pytest.param(
            {"size_contracts": 2_000, "premium_cents": 50_000_000},
            ["Size 2,000 vs 500 contracts; premium $500.0k vs $250,000."],
            0.75,
            id="big-premium-bonus",
        ),
        pytest.param(
            {"size_contracts": 10, "premium_cents": 200_000, "conditions": ("cross",)},
            ["premium $2.0k vs $250,000; cross/floor print."],
            0.65,
            id="cross-print",
        ),
    ],
)
def test_block_trade_explanations(overrides: dict[str, Any], expected: list[str], confidence: float) -> None:
    size = overrides["size_contracts"]
    p = packet(
        kind="block",
        print_count=1,
        venue_count=1,
        venues=("XCBO",),
        placement_counts={"A": 1},
        placement_sizes={"A": size},
        buy_size_contracts=size,
        **overrides,
    )
    hit = block_trade(p, NO_Z, CFG)
    assert hit is not None
    text = " ".join(hit.explanations)
    for fragment in expected:
        assert fragment in text
    assert hit.rule == "one print with size >= 500 contracts or premium >= $250,000, or a cross/floor print"
    assert hit.confidence == pytest.approx(confidence)
    assert hit.metrics["size_contracts"] == float(size)


def test_hit_carries_subject_and_evidence() -> None:
    p = packet(print_ids=("print-a", "print-b", "print-c"))
    hit = large_sweep(p, NO_Z, CFG)
    assert hit is not None
    assert hit.evidence_ids == ("print-a", "print-b", "print-c")
    assert (hit.subject_type, hit.subject_id, hit.classifier) == ("packet", p.id, "large_sweep")
    assert hit.id == derived_event_id("hit", ("large_sweep", p.id))
    assert (hit.ts_event, hit.underlying, hit.symbol) == (p.ts_event, "SPY", CALL)
    assert (hit.premium_cents, hit.size_contracts) == (p.premium_cents, p.size_contracts)


def test_hit_ids_are_deterministic() -> None:
    assert large_sweep(packet(), NO_Z, CFG) == large_sweep(packet(), NO_Z, CFG)
    other = large_sweep(packet(at_ms=99), NO_Z, CFG)
    assert other is not None
    assert other.id != derived_event_id("hit", ("large_sweep", packet().id))


@pytest.mark.parametrize(
    ("overrides", "classifiers"),
    [
        pytest.param({}, ["large_sweep"], id="sweep"),
        pytest.param(
            {"kind": "block", "print_count": 1, "venue_count": 1, "venues": ("XCBO",)}, ["block_trade"], id="block"
        ),
        pytest.param({"premium_cents": 100}, [], id="small-sweep"),
        pytest.param({"kind": "single", "print_count": 1}, [], id="single"),
    ],
)
def test_classify_packet(overrides: dict[str, Any], classifiers: list[str]) -> None:
    assert [h.classifier for h in classify_packet(packet(**overrides), NO_Z, CFG)] == classifiers

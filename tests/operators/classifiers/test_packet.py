"""Packet classifiers (BEHAVIOR section 6): thresholds, direction, confidence, explanations, evidence."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.synthetic.planted import PACKET_CLASSIFIERS as SYNTHETIC_LABEL_CLASSIFIERS
from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Direction, Packet, PacketKind, Side
from events.symbology import format_occ
from events.units import NS_PER_S, price_e9
from operators.classifiers import (
    PACKET_CLASSIFIER_IDS,
    PacketClassifier,
    PacketContext,
    block_trade,
    call_overwrite,
    classify_packet,
    direction_for,
    far_dated_conviction,
    golden_sweep,
    large_sweep,
    new_position_likely,
    put_write,
    repeated_hits,
    unusual_spike,
    unusual_volume,
    zero_dte_gamma,
)
from operators.repeated_hits import PriceTrend, RepeatRun
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
        pytest.param({"premium_cents": 100_000}, 5.0, False, id="z-alone-under-the-floor-never-fires"),
        pytest.param({"premium_cents": 60_000}, 9.0, False, id="600-dollar-sweep-of-a-quiet-contract"),
        pytest.param({"premium_cents": 2_000_000}, 2.0, True, id="z-at-the-20k-floor"),
        pytest.param({"premium_cents": 1_999_999}, 2.0, False, id="z-1-cent-under-the-floor"),
        pytest.param({"premium_cents": 2_490_000, "size_contracts": 6}, 9.0, False, id="z-on-a-6-lot-sweep"),
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
    cfg = OptionsConfig(
        large_sweep_min_prints=5,
        large_sweep_min_premium_usd=100_000,
        large_sweep_min_z=3.0,
        large_sweep_z_floor_premium_usd=50_000,
    )
    assert large_sweep(packet(print_count=4, premium_cents=20_000_000), NO_Z, cfg) is None
    assert large_sweep(packet(print_count=5, premium_cents=9_999_999), NO_Z, cfg) is None
    assert large_sweep(packet(print_count=5, premium_cents=9_999_999), PacketContext(premium_z=3.0), cfg)
    assert large_sweep(packet(print_count=5, premium_cents=4_999_999), PacketContext(premium_z=3.0), cfg) is None
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
        "premium z 2.50 vs 2 (counts only with premium >= $20,000 and size >= 50)",
        "100% of size traded at or above the ask (buyer-initiated)",
        "NBBO at the first print 1.90 x 2.00, VWAP 2.00, 100% of size with a fresh quote",
    ):
        assert expected in text
    assert hit.rule == (
        "kind == sweep and prints >= 3 and (premium >= $40,000 or (premium z >= 2 and premium >= $20,000 and "
        "size >= 50))"
    )
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
                "Size 600 vs 500 contracts; premium $120.0k vs $250,000 (at least $20,000).",
            ],
            0.65,
            id="size-block",
        ),
        pytest.param(
            {"size_contracts": 2_000, "premium_cents": 50_000_000},
            ["Size 2,000 vs 500 contracts; premium $500.0k vs $250,000 (at least $20,000)."],
            0.75,
            id="big-premium-bonus",
        ),
        pytest.param(
            {"size_contracts": 100, "premium_cents": 2_000_000, "conditions": ("cross",)},
            ["premium $20.0k vs $250,000 (at least $20,000); cross/floor print."],
            0.65,
            id="cross-print-at-the-floors",
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
    assert hit.rule == (
        "one print with size >= 500 contracts or premium >= $250,000, or a cross/floor print with size >= 100; "
        "premium >= $20,000"
    )
    assert hit.confidence == pytest.approx(confidence)
    assert hit.metrics["size_contracts"] == float(size)


@pytest.mark.parametrize(
    ("condition", "size", "premium_cents", "fires"),
    [
        pytest.param("cross", 10, 200_000, False, id="10-lot-2k-cross-is-no-block"),
        pytest.param("floor", 100, 2_000_000, True, id="floor-100-lot-20k"),
        pytest.param("cross", 99, 5_000_000, False, id="cross-99-lots"),
        pytest.param("cross", 300, 1_999_999, False, id="cross-premium-1-cent-under"),
        pytest.param("", 500, 2_000_000, True, id="block-size-at-the-premium-floor"),
        pytest.param("", 800, 80_000, False, id="800-lots-at-a-cent-is-no-block-trade"),
        pytest.param("", 5_000, 1_999_999, False, id="block-size-premium-1-cent-under"),
        pytest.param("", 600, 60_000, False, id="cheap-large-lot-is-no-block"),
        pytest.param("", 10, 25_000_000, True, id="block-premium-needs-no-flag-floor"),
    ],
)
def test_block_trade_floors(condition: str, size: int, premium_cents: int, fires: bool) -> None:
    p = packet(
        kind="block",
        print_count=1,
        venue_count=1,
        venues=("XCBO",),
        size_contracts=size,
        premium_cents=premium_cents,
        buy_size_contracts=size,
        placement_counts={"A": 1},
        placement_sizes={"A": size},
        conditions=(condition,) if condition else (),
    )
    assert (block_trade(p, NO_Z, CFG) is not None) is fires


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


# ------------------------------------------------------------------------- the full classifier set

ZERO_DTE_CALL = format_occ("SPY", date(2026, 3, 2), "C", price_e9("505"))
FAR_CALL = format_occ("SPY", date(2026, 5, 1), "C", price_e9("580"))  # 60 days after 2026-03-02
NEAR_FAR_CALL = format_occ("SPY", date(2026, 4, 30), "C", price_e9("580"))  # 59 days
SOLD = {"side": "sell", "buy_size_contracts": 0, "sell_size_contracts": 300, "placement_sizes": {"B": 300}}


def _sized(size: int, premium_cents: int, **overrides: Any) -> dict[str, Any]:
    """Overrides giving a packet a size and premium with side sizes that agree."""
    side = overrides.get("side", "buy")
    fields: dict[str, Any] = {
        "size_contracts": size,
        "premium_cents": premium_cents,
        "buy_size_contracts": size if side == "buy" else 0,
        "sell_size_contracts": size if side == "sell" else 0,
        "placement_sizes": {"A" if side == "buy" else "B": size},
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    ("overrides", "open_interest", "fires"),
    [
        pytest.param(_sized(600, 100_000_000), 599, True, id="1m-size-above-oi"),
        pytest.param(_sized(600, 99_999_999), 10, False, id="premium-1-cent-under-1m"),
        pytest.param(_sized(600, 100_000_000), 600, False, id="size-equals-oi"),
        pytest.param(_sized(600, 100_000_000), None, False, id="oi-unknown-abstains"),
        pytest.param(_sized(600, 100_000_000, kind="block", print_count=1), 10, False, id="block-not-sweep"),
        pytest.param(_sized(600, 100_000_000), 0, True, id="no-open-interest"),
    ],
)
def test_golden_sweep_thresholds(overrides: dict[str, Any], open_interest: int | None, fires: bool) -> None:
    hit = golden_sweep(packet(**overrides), PacketContext(open_interest_contracts=open_interest), CFG)
    assert (hit is not None) is fires
    if hit is not None:
        assert hit.rule == "kind == sweep and premium >= $1,000,000 and size > open interest"
        assert f"size 600 vs open interest {open_interest:,} contracts" in " ".join(hit.explanations)
        assert hit.metrics["open_interest_contracts"] == open_interest


@pytest.mark.parametrize(
    ("overrides", "premium_z", "size_z", "fires"),
    [
        pytest.param(_sized(400, 2_000_000), None, None, True, id="size-400-premium-20k"),
        pytest.param(_sized(399, 2_000_000), None, None, False, id="size-399-no-z"),
        pytest.param(_sized(400, 1_999_999), None, None, False, id="premium-1-cent-under"),
        pytest.param(_sized(400, 1_999_999), 9.0, 9.0, False, id="premium-under-floor-whatever-z"),
        # Held-out OPRA: "9 contracts for $12.5k, premium z 3.02" was an alert; it is under both floors.
        pytest.param(_sized(9, 1_250_000), 3.02, None, False, id="9-lots-12.5k-premium-z-3.02"),
        pytest.param(_sized(10, 10_000), 2.5, None, False, id="z-alone-on-a-small-print"),
        pytest.param(_sized(10, 10_000), None, 9.0, False, id="size-z-alone-on-a-small-print"),
        pytest.param(_sized(99, 5_000_000), 5.0, 5.0, False, id="99-lots-under-size-floor"),
        pytest.param(_sized(150, 3_000_000), 3.0, None, True, id="150-lots-30k-premium-z-3"),
        pytest.param(_sized(100, 2_000_000), 2.5, None, True, id="at-both-floors-premium-z-2.5"),
        pytest.param(_sized(100, 2_000_000), 2.49, None, False, id="at-floors-premium-z-under"),
        pytest.param(_sized(100, 2_000_000), None, 2.0, True, id="at-floors-size-z-2"),
        pytest.param(_sized(100, 2_000_000), None, 1.99, False, id="at-floors-size-z-under"),
        pytest.param(_sized(150, 3_000_000), None, None, False, id="floors-met-z-absent"),
        pytest.param(_sized(150, 3_000_000), -3.0, -1.0, False, id="negative-z"),
    ],
)
def test_unusual_spike_thresholds(
    overrides: dict[str, Any], premium_z: float | None, size_z: float | None, fires: bool
) -> None:
    hit = unusual_spike(packet(**overrides), PacketContext(premium_z=premium_z, size_z=size_z), CFG)
    assert (hit is not None) is fires


def test_unusual_spike_floors_follow_settings() -> None:
    cfg = OptionsConfig(unusual_spike_floor_contracts=200, unusual_spike_min_premium_usd=50_000)
    z = PacketContext(premium_z=3.0)
    assert unusual_spike(packet(**_sized(199, 9_000_000)), z, cfg) is None
    assert unusual_spike(packet(**_sized(200, 4_999_999)), z, cfg) is None
    assert unusual_spike(packet(**_sized(200, 5_000_000)), z, cfg) is not None


def test_unusual_spike_says_which_clause_fired() -> None:
    hit = unusual_spike(packet(**_sized(500, 3_000_000)), PacketContext(premium_z=3.1), CFG)
    assert hit is not None
    text = " ".join(hit.explanations)
    assert "Unusual spike (size, premium z)" in text
    assert (
        "Premium $30.0k vs floor $20,000 and size 500 vs floor 100 contracts (both needed); then size 500 vs 400 "
        "contracts, premium z 3.10 vs 2.5, size z absent (too few samples) vs 2 (any one)."
    ) in text
    assert hit.rule == ("premium >= $20,000 and size >= 100 and (size >= 400 or premium z >= 2.5 or size z >= 2)")


@pytest.mark.parametrize(
    ("size", "day_volume", "open_interest", "fires"),
    [
        pytest.param(300, 500, 300, True, id="crosses-500-above-oi"),
        pytest.param(300, 499, 300, False, id="499-under-minimum"),
        pytest.param(100, 600, 600, False, id="equals-oi"),
        pytest.param(100, 601, 600, True, id="crosses-oi"),
        pytest.param(100, 900, 600, False, id="already-above-before-this-packet"),
        pytest.param(100, 700, 600, True, id="crossed-by-this-packet"),
        pytest.param(300, 500, None, False, id="oi-unknown"),
        pytest.param(300, None, 100, False, id="volume-unknown"),
    ],
)
def test_unusual_volume_day_clause(size: int, day_volume: int | None, open_interest: int | None, fires: bool) -> None:
    ctx = PacketContext(day_volume_contracts=day_volume, open_interest_contracts=open_interest)
    hit = unusual_volume(packet(**_sized(size, 1_000_000)), ctx, CFG)
    assert (hit is not None) is fires


@pytest.mark.parametrize(
    ("size", "bucket_volume", "baseline", "fires"),
    [
        pytest.param(50, 100, 20.0, True, id="reaches-5x"),
        pytest.param(50, 99, 20.0, False, id="just-under-5x"),
        pytest.param(50, 150, 20.0, False, id="crossed-before-this-packet"),
        pytest.param(10, 50, 5.0, True, id="floor-50-over-5x-of-tiny-baseline"),
        pytest.param(10, 49, 5.0, False, id="under-the-floor"),
        pytest.param(10, 50, 0.0, True, id="no-history-in-bucket"),
        pytest.param(10, 50, None, False, id="no-baseline-abstains"),
    ],
)
def test_unusual_volume_bucket_clause(size: int, bucket_volume: int, baseline: float | None, fires: bool) -> None:
    ctx = PacketContext(bucket_volume_contracts=bucket_volume, bucket_baseline_contracts=baseline)
    hit = unusual_volume(packet(**_sized(size, 1_000_000)), ctx, CFG)
    assert (hit is not None) is fires


@pytest.mark.parametrize(
    ("premium_cents", "fires"),
    [
        pytest.param(1_000_000, True, id="at-the-10k-floor"),
        pytest.param(999_999, False, id="1-cent-under"),
        pytest.param(570_000, False, id="565-lots-at-10-cents"),
        pytest.param(21_300, False, id="213-penny-lots-cross-a-quiet-line"),
    ],
)
def test_unusual_volume_needs_money_moving(premium_cents: int, fires: bool) -> None:
    both = PacketContext(
        day_volume_contracts=600, open_interest_contracts=10, bucket_volume_contracts=213, bucket_baseline_contracts=1.0
    )
    hit = unusual_volume(packet(**_sized(213, premium_cents)), both, CFG)
    assert (hit is not None) is fires
    if hit is not None:
        assert hit.rule.endswith("on a packet of premium >= $10.0k")


def test_unusual_volume_cites_both_clauses() -> None:
    ctx = PacketContext(
        day_volume_contracts=1_200,
        open_interest_contracts=1_000,
        bucket_volume_contracts=600,
        bucket_baseline_contracts=40.0,
    )
    hit = unusual_volume(packet(**_sized(400, 1_000_000)), ctx, CFG)
    assert hit is not None
    text = " ".join(hit.explanations)
    assert "5-minute volume 600 vs historical bucket mean 40.0 (15.0x; line 200 = max(5x, 50 contracts))" in text
    assert "Day volume 1,200 vs open interest 1,000 (line 1,001: above open interest and at least 500)" in text
    assert hit.metrics["bucket_baseline_contracts"] == 40.0


@pytest.mark.parametrize(
    ("size", "premium_cents", "open_interest", "fires"),
    [
        pytest.param(301, 1_000_000, 300, True, id="one-above"),
        pytest.param(300, 1_000_000, 300, False, id="equal"),
        pytest.param(100, 1_000_000, 0, True, id="zero-oi-at-the-floors"),
        pytest.param(300, 1_000_000, None, False, id="unknown-abstains"),
        pytest.param(2, 40_000, 1, False, id="2-lot-on-oi-1-is-noise"),
        pytest.param(1, 100_000, 0, False, id="1-lot-on-zero-oi"),
        pytest.param(99, 5_000_000, 0, False, id="99-lots-under-size-floor"),
        pytest.param(500, 999_999, 10, False, id="premium-1-cent-under-10k"),
    ],
)
def test_new_position_likely(size: int, premium_cents: int, open_interest: int | None, fires: bool) -> None:
    hit = new_position_likely(
        packet(**_sized(size, premium_cents)), PacketContext(open_interest_contracts=open_interest), CFG
    )
    assert (hit is not None) is fires
    if hit is not None:
        assert hit.rule == "size > open interest (prior day) and size >= 100 and premium >= $10,000"
        assert f"Size {size:,} vs floor 100 contracts; premium $10.0k vs floor $10,000." in hit.explanations


def _run(p: Packet, count: int = 3, trend: PriceTrend = "rising") -> RepeatRun:
    ids = (*(f"p{i}" for i in range(count - 1)), p.id)
    return RepeatRun(
        symbol=p.symbol,
        side="buy",
        ts_first=p.ts_event - 20 * NS_PER_S,
        ts_last=p.ts_event,
        packet_ids=ids,
        print_ids=tuple(f"print-{i}" for i in range(count)),
        size_contracts=300 * count,
        premium_cents=6_000_000 * count,
        vwaps_e9=tuple(price_e9("2.00") + i * price_e9("0.01") for i in range(count)),
        price_trend=trend,
    )


@pytest.mark.parametrize(
    ("count", "trend", "confidence"),
    [
        pytest.param(3, "rising", 0.65, id="three-walking-up"),
        pytest.param(3, "flat", 0.55, id="three-flat"),
        pytest.param(5, "mixed", 0.65, id="five-mixed"),
        pytest.param(9, "rising", 0.8, id="bonus-capped"),
    ],
)
def test_repeated_hits_reads_the_detector(count: int, trend: PriceTrend, confidence: float) -> None:
    p = packet(print_count=1, kind="single", venue_count=1, venues=("XCBO",))
    run = _run(p, count, trend)
    hit = repeated_hits(p, PacketContext(repeat_run=run), CFG)
    assert hit is not None
    assert hit.evidence_ids == run.print_ids, "the evidence is every print of the run"
    assert hit.confidence == pytest.approx(confidence)
    assert f"Repeated hits: {count} buy packets at the ask" in hit.explanations[0]
    assert hit.metrics["run_packets"] == count
    assert repeated_hits(p, NO_Z, CFG) is None


def test_repeated_hits_rejects_a_run_of_another_packet() -> None:
    p = packet()
    with pytest.raises(ValueError, match="does not end with packet"):
        repeated_hits(p, PacketContext(repeat_run=_run(packet(at_ms=99))), CFG)


@pytest.mark.parametrize(
    ("classifier", "symbol", "overrides", "fires"),
    [
        pytest.param(call_overwrite, CALL, _sized(500, 5_000_000, side="sell"), True, id="call-500-50k"),
        pytest.param(call_overwrite, CALL, _sized(499, 5_000_000, side="sell"), False, id="call-499"),
        pytest.param(call_overwrite, CALL, _sized(500, 4_999_999, side="sell"), False, id="call-premium-under"),
        pytest.param(call_overwrite, CALL, _sized(900, 9_000_000), False, id="call-bought"),
        pytest.param(call_overwrite, CALL, _sized(900, 9_000_000, side="unknown"), False, id="call-side-unknown"),
        pytest.param(call_overwrite, PUT, _sized(900, 9_000_000, side="sell"), False, id="put-is-not-overwrite"),
        pytest.param(put_write, PUT, _sized(500, 5_000_000, side="sell"), True, id="put-500-50k"),
        pytest.param(put_write, PUT, _sized(499, 9_000_000, side="sell"), False, id="put-499"),
        pytest.param(put_write, PUT, _sized(900, 9_000_000), False, id="put-bought"),
        pytest.param(put_write, CALL, _sized(900, 9_000_000, side="sell"), False, id="call-is-not-put-write"),
    ],
)
def test_writes_sold_at_the_bid(
    classifier: PacketClassifier, symbol: str, overrides: dict[str, Any], fires: bool
) -> None:
    hit = classifier(packet(symbol, **overrides), NO_Z, CFG)
    assert (hit is not None) is fires
    if hit is not None:
        assert hit.direction == ("bearish" if symbol == CALL else "bullish")
        assert "with size >= 500 and premium >= $50,000" in hit.rule


@pytest.mark.parametrize(
    ("symbol", "overrides", "fires"),
    [
        pytest.param(FAR_CALL, _sized(100, 5_000_000), True, id="60-dte-50k"),
        pytest.param(NEAR_FAR_CALL, _sized(100, 5_000_000), False, id="59-dte"),
        pytest.param(FAR_CALL, _sized(100, 4_999_999), False, id="premium-under"),
        pytest.param(FAR_CALL, _sized(100, 5_000_000, side="sell"), True, id="sold-counts"),
        pytest.param(FAR_CALL, _sized(100, 5_000_000, side="unknown"), False, id="side-unknown"),
    ],
)
def test_far_dated_conviction(symbol: str, overrides: dict[str, Any], fires: bool) -> None:
    hit = far_dated_conviction(packet(symbol, **overrides), NO_Z, CFG)
    assert (hit is not None) is fires
    if hit is not None:
        assert hit.metrics["days_to_expiry"] == 60
        assert "60 days to expiry (>= 60)" in hit.explanations[0]


@pytest.mark.parametrize(
    ("at_ms", "underlying", "overrides", "fires"),
    [
        pytest.param(30, "500", _sized(400, 2_000_000), True, id="strike-exactly-1pct"),
        pytest.param(30, "499.99", _sized(400, 2_000_000), False, id="just-over-1pct"),
        pytest.param(30, "505", _sized(400, 2_000_000), True, id="at-the-money"),
        pytest.param(30, "505", _sized(399, 2_000_000), False, id="size-399"),
        pytest.param(30, "505", _sized(400, 1_999_999), False, id="premium-under"),
        pytest.param(30, None, _sized(400, 2_000_000), False, id="underlying-unknown"),
        # 2026-03-03 00:30 UTC is 19:30 on 2026-03-02 in New York: still expiry day there.
        pytest.param(10 * 3_600_000, "505", _sized(400, 2_000_000), True, id="utc-next-day-ny-same-day"),
        # 2026-03-02 04:30 UTC is 23:30 on 2026-03-01 in New York: expires tomorrow.
        pytest.param(-10 * 3_600_000, "505", _sized(400, 2_000_000), False, id="utc-same-day-ny-day-before"),
    ],
)
def test_zero_dte_gamma(at_ms: float, underlying: str | None, overrides: dict[str, Any], fires: bool) -> None:
    und = None if underlying is None else price_e9(underlying)
    p = packet(ZERO_DTE_CALL, at_ms=at_ms, underlying_e9=und, **overrides)
    hit = zero_dte_gamma(p, NO_Z, CFG)
    assert (hit is not None) is fires
    if hit is not None:
        assert "expiring today" in hit.explanations[0]
        assert "expires today (America/New_York) and |strike - underlying| <= 1.00%" in hit.rule


@pytest.mark.parametrize(
    ("source", "age_ms", "strike", "cited"),
    [
        pytest.param(
            "implied",
            412,
            "505",
            "underlying 505.23 (implied by put-call parity at the 505.00 strike, 0.4 s old)",
            id="implied",
        ),
        pytest.param("quote", 1_000, None, "underlying 505.23 (the underlying's quote, 1.0 s old)", id="quote"),
        pytest.param("implied", 150_000, "505", "at the 505.00 strike, 2.5 min old)", id="minutes-old"),
    ],
)
def test_zero_dte_gamma_cites_the_underlying_price_its_source_and_age(
    source: str, age_ms: int, strike: str | None, cited: str
) -> None:
    p = packet(
        ZERO_DTE_CALL,
        underlying_e9=price_e9("505.23"),
        underlying_source=source,
        underlying_age_ms=age_ms,
        underlying_strike_e9=None if strike is None else price_e9(strike),
        **_sized(400, 2_000_000),
    )
    hit = zero_dte_gamma(p, NO_Z, CFG)
    assert hit is not None
    assert cited in hit.explanations[0]
    assert (hit.metrics["underlying_price"], hit.metrics["underlying_age_ms"]) == (505.23, float(age_ms))


def test_zero_dte_gamma_is_false_on_later_expiries() -> None:
    p = packet(CALL, underlying_e9=price_e9("580"), **_sized(900, 9_000_000))
    assert zero_dte_gamma(p, NO_Z, CFG) is None


def test_every_threshold_follows_settings() -> None:
    cfg = OptionsConfig(
        golden_sweep_min_premium_usd=2_000_000,
        unusual_spike_min_contracts=1_000,
        write_min_contracts=1_000,
        far_dated_min_dte=90,
        zero_dte_max_strike_distance=0.001,
        unusual_volume_min_day_contracts=2_000,
    )
    big = _sized(900, 150_000_000)
    assert golden_sweep(packet(**big), PacketContext(open_interest_contracts=1), cfg) is None
    assert unusual_spike(packet(**big), NO_Z, cfg) is None
    assert call_overwrite(packet(**_sized(900, 9_000_000, side="sell")), NO_Z, cfg) is None
    assert far_dated_conviction(packet(FAR_CALL, **big), NO_Z, cfg) is None
    assert zero_dte_gamma(packet(ZERO_DTE_CALL, underlying_e9=price_e9("504"), **big), NO_Z, cfg) is None
    day = PacketContext(day_volume_contracts=1_500, open_interest_contracts=10)
    assert unusual_volume(packet(**big), day, cfg) is None


@pytest.mark.parametrize(
    ("overrides", "ctx", "direction", "confidence"),
    [
        pytest.param({}, NO_Z, "bullish", 0.54, id="base-plus-prints"),
        pytest.param({}, PacketContext(size_z=2.0), "bullish", 0.64, id="z-over-2-second-clause"),
        pytest.param({}, PacketContext(premium_z=4.0), "bullish", 0.69, id="z-over-4-second-clause"),
        pytest.param({"price_path": "rising"}, NO_Z, "bullish", 0.59, id="walking-up"),
        pytest.param({"print_count": 1}, NO_Z, "bullish", 0.5, id="one-print"),
        pytest.param(
            {"nbbo_coverage": 0.2, "stale_ratio": 0.8}, NO_Z, "neutral", pytest.approx(0.54 - 0.24), id="poor-quotes"
        ),
        pytest.param({"side": "unknown", "buy_size_contracts": 200}, NO_Z, "neutral", 0.34, id="side-unknown"),
    ],
)
def test_evidence_moves_confidence(
    overrides: dict[str, Any], ctx: PacketContext, direction: Direction, confidence: float
) -> None:
    # unusual_spike has base 0.5; +0.02 per print beyond the first, z and walking bonuses, quote penalties.
    hit = unusual_spike(packet(**_sized(400, 2_000_000, **overrides)), ctx, CFG)
    assert hit is not None
    assert hit.direction == direction
    assert hit.confidence == pytest.approx(confidence)


def test_poor_quotes_withhold_direction_on_every_classifier() -> None:
    p = packet(**_sized(2_000, 150_000_000, nbbo_coverage=0.3, stale_ratio=0.7))
    ctx = PacketContext(open_interest_contracts=1, day_volume_contracts=2_000)
    hits = classify_packet(p, ctx, CFG)
    assert {h.classifier for h in hits} >= {"large_sweep", "golden_sweep", "unusual_spike", "new_position_likely"}
    assert {h.direction for h in hits} == {"neutral"}
    assert all(any("direction withheld" in e for e in h.explanations) for h in hits)


def test_full_classifier_order_and_ids() -> None:
    assert PACKET_CLASSIFIER_IDS == (
        "large_sweep",
        "golden_sweep",
        "block_trade",
        "unusual_spike",
        "unusual_volume",
        "new_position_likely",
        "repeated_hits",
        "call_overwrite",
        "put_write",
        "far_dated_conviction",
        "zero_dte_gamma",
    )
    assert PACKET_CLASSIFIER_IDS == SYNTHETIC_LABEL_CLASSIFIERS, "the synthetic labels speak of the same set"
    p = packet(ZERO_DTE_CALL, underlying_e9=price_e9("505"), **_sized(2_000, 150_000_000))
    run = RepeatRun(p.symbol, "buy", p.ts_event, p.ts_event, ("a", "b", p.id), p.print_ids, 1, 1, (1, 1, 1), "flat")
    ctx = PacketContext(open_interest_contracts=1, day_volume_contracts=2_000, repeat_run=run)
    hits = classify_packet(p, ctx, CFG)
    assert [h.classifier for h in hits] == [
        "large_sweep",
        "golden_sweep",
        "unusual_spike",
        "unusual_volume",
        "new_position_likely",
        "repeated_hits",
        "zero_dte_gamma",
    ]
    assert len({h.id for h in hits}) == len(hits)
    for hit in hits:
        assert hit.rule
        assert hit.explanations
        assert 0.05 <= hit.confidence <= 1.0
        assert hit.id == derived_event_id("hit", (hit.classifier, p.id))


def test_existing_callers_keep_working() -> None:
    # The engine builds the context with z-scores only: every new input defaults to unknown.
    ctx = PacketContext(premium_z=1.0, size_z=1.0)
    assert (ctx.open_interest_contracts, ctx.day_volume_contracts, ctx.repeat_run) == (None, None, None)
    assert (ctx.bucket_volume_contracts, ctx.bucket_baseline_contracts) == (None, None)

"""Per-packet context: the state every packet updates, and the floor under which no classifier can fire."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.config import OptionsConfig
from events.models import Packet
from operators.classifiers import classify_packet
from operators.packet_context import PacketContext, PacketContexts, can_matter, min_hit_premium_cents
from operators.repeated_hits import RepeatedHits
from tests.factories import occ, packet, ts

FLOOR_FIELDS = (
    "large_sweep_min_premium_usd",
    "large_sweep_z_floor_premium_usd",
    "golden_sweep_min_premium_usd",
    "block_trade_min_premium_usd",
    "unusual_spike_min_premium_usd",
    "unusual_volume_min_premium_usd",
    "new_position_min_premium_usd",
    "repeat_min_packet_premium_usd",
    "write_min_premium_usd",
    "far_dated_min_premium_usd",
    "zero_dte_min_premium_usd",
)


def test_the_floor_is_the_lowest_classifier_premium_floor() -> None:
    cfg = OptionsConfig()
    assert min_hit_premium_cents(cfg) == min(getattr(cfg, name) for name in FLOOR_FIELDS) * 100
    assert min_hit_premium_cents(cfg.model_copy(update={"repeat_min_packet_premium_usd": 0})) == 0


configs = st.fixed_dictionaries({name: st.integers(min_value=1, max_value=2_000_000) for name in FLOOR_FIELDS}).map(
    lambda floors: OptionsConfig().model_copy(update=floors)
)
sizes = st.integers(min_value=1, max_value=100_000)
maybe_z = st.none() | st.floats(min_value=-50, max_value=1e6, allow_nan=False)
maybe_count = st.none() | st.integers(min_value=0, max_value=10**7)


@st.composite
def packets_and_contexts(draw: st.DrawFn, cfg: OptionsConfig) -> tuple[Packet, PacketContext]:
    """A packet under the floor of every classifier, of any kind, side, size, expiry and quote context, with any
    context (its repeat run is the detector's, after same-contract packets of any premium)."""
    floor = min_hit_premium_cents(cfg)
    premium = draw(st.integers(min_value=0, max_value=max(0, floor - 1)))
    size = draw(sizes)
    side = draw(st.sampled_from(["buy", "sell", "unknown"]))
    right = draw(st.sampled_from(["C", "P"]))
    at_ms = 30.0
    session = date(2026, 3, 20)
    expiry = session + timedelta(days=draw(st.sampled_from([0, 1, 59, 60, 400])))
    symbol = occ("585", right, expiry=expiry.isoformat())
    fields: dict[str, Any] = {
        "kind": draw(st.sampled_from(["sweep", "split", "block", "single"])),
        "side": side,
        "size_contracts": size,
        "premium_cents": premium,
        "print_count": draw(st.integers(min_value=1, max_value=20)),
        "placement_sizes": {"A": size},
        "buy_size_contracts": size if side == "buy" else 0,
        "sell_size_contracts": size if side == "sell" else 0,
        "nbbo_coverage": draw(st.sampled_from([0.0, 0.4, 1.0])),
        "conditions": tuple(draw(st.sets(st.sampled_from(["cross", "floor", "stock_tied", "multi_leg"])))),
        "underlying_e9": 585 * 10**9,
        "underlying_source": "quote",
        "underlying_age_ms": 5,
    }
    current = packet(symbol, at_ms=at_ms, **fields)
    repeats = RepeatedHits.from_config(cfg)
    for i, earlier in enumerate(draw(st.lists(st.integers(min_value=0, max_value=10**9), max_size=5))):
        repeats.step(packet(symbol, at_ms=i, side=side if side != "unknown" else "buy", premium_cents=earlier))
    ctx = PacketContext(
        premium_z=draw(maybe_z),
        size_z=draw(maybe_z),
        open_interest_contracts=draw(maybe_count),
        day_volume_contracts=size + draw(st.integers(min_value=0, max_value=10**6)),
        bucket_volume_contracts=size + draw(st.integers(min_value=0, max_value=10**6)),
        bucket_baseline_contracts=draw(st.none() | st.floats(min_value=0, max_value=1e5)),
        repeat_run=repeats.step(current),
    )
    assert ts(at_ms) == current.ts_event
    return current, ctx


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_packet_under_the_floor_gets_a_hit(data: st.DataObject) -> None:
    cfg = data.draw(st.just(OptionsConfig()) | configs)
    current, ctx = data.draw(packets_and_contexts(cfg))
    assert not can_matter(current, cfg)
    assert classify_packet(current, ctx, cfg) == []


def test_a_packet_under_the_floor_updates_state_without_a_context() -> None:
    cfg = OptionsConfig()
    contexts = PacketContexts(cfg)
    small = packet(premium_cents=min_hit_premium_cents(cfg) - 1)
    large = packet(premium_cents=min_hit_premium_cents(cfg), at_ms=40, print_ids=("x",))
    assert contexts.on_packet(small)[0] is None
    ctx, _ = contexts.on_packet(large)
    assert ctx is not None
    assert ctx.day_volume_contracts == small.size_contracts + large.size_contracts, "the small packet counted"
    stats = contexts.stats(small.symbol, "premium")
    assert stats is not None
    assert stats.count == 2


def test_forget_drops_a_contracts_state() -> None:
    contexts = PacketContexts(OptionsConfig())
    contexts.on_packet(packet())
    contexts.open_interest[packet().symbol] = 10
    contexts.forget(packet().symbol)
    assert contexts.stats(packet().symbol, "premium") is None
    assert contexts.stats(packet().underlying, "premium") is not None, "the underlying's window stays"
    assert contexts.state_counts() == {
        "contracts": 0,
        "underlying_windows": 1,
        "repeat_runs": 0,
        "open_interest": 0,
        "volume_baselines": 0,
    }


def test_windows_are_per_contract_and_the_underlyings_is_shared() -> None:
    contexts = PacketContexts(OptionsConfig())
    put = occ("585", "P")
    contexts.on_packet(packet(premium_cents=100))
    contexts.on_packet(packet(put, premium_cents=300, at_ms=40, print_ids=("p",)))
    call_stats, put_stats = contexts.stats(packet().symbol, "premium"), contexts.stats(put, "premium")
    spy = contexts.stats("SPY", "premium")
    assert call_stats is not None
    assert put_stats is not None
    assert spy is not None
    assert (call_stats.count, put_stats.count, spy.count) == (1, 1, 2)
    assert spy.mean == 200.0

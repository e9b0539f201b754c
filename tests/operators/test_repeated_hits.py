"""Repeated hits (BEHAVIOR section 3): same contract, same side, >= N packets within the window."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.config import OptionsConfig
from events.models import Packet, Side
from events.units import NS_PER_MS, NS_PER_S, price_e9
from operators.repeated_hits import EXPIRE_EVERY, PriceTrend, RepeatedHits, price_trend
from tests.factories import CALL, PUT, packet

CFG = OptionsConfig()
WINDOW_NS = CFG.repeat_window_ms * NS_PER_MS


def hit(
    at_s: float,
    side: Side = "buy",
    *,
    premium_usd: int = 20_000,
    price: str = "2.00",
    symbol: str = CALL,
    ns: int = 0,
) -> Packet:
    """A single-print packet at T0 + at_s seconds (+ ns)."""
    at_ms = at_s * 1000 + ns / NS_PER_MS
    return packet(
        symbol,
        at_ms=at_ms,
        kind="single",
        side=side,
        print_count=1,
        venue_count=1,
        venues=("XCBO",),
        premium_cents=premium_usd * 100,
        vwap_e9=price_e9(price),
        buy_size_contracts=300 if side == "buy" else 0,
        sell_size_contracts=300 if side == "sell" else 0,
        print_ids=(f"{symbol.strip()}-{at_ms}-{side}",),
    )


def counts(detector: RepeatedHits, packets: list[Packet]) -> list[int]:
    """Return the run length reported after each packet (0 for none)."""
    out = []
    for p in packets:
        run = detector.step(p)
        out.append(0 if run is None else run.count)
    return out


@pytest.mark.parametrize(
    ("packets", "expected"),
    [
        pytest.param([hit(0), hit(10), hit(20)], [0, 0, 3], id="three-in-20s"),
        pytest.param([hit(0), hit(10), hit(20), hit(30)], [0, 0, 3, 4], id="run-grows"),
        pytest.param([hit(0), hit(10), hit(60)], [0, 0, 3], id="exactly-60s-counts"),
        pytest.param([hit(0), hit(10), hit(60, ns=1)], [0, 0, 0], id="60s-plus-1ns-does-not"),
        pytest.param([hit(0), hit(50), hit(70), hit(100)], [0, 0, 0, 3], id="sliding-window"),
        pytest.param([hit(0), hit(5, "sell"), hit(10)], [0, 0, 0], id="other-side-breaks-count"),
        pytest.param([hit(0, "sell"), hit(5, "sell"), hit(10, "sell")], [0, 0, 3], id="sells-repeat-too"),
        pytest.param([hit(0), hit(5, "unknown"), hit(10), hit(15)], [0, 0, 0, 3], id="unknown-side-ignored"),
        pytest.param([hit(0), hit(5, premium_usd=9_999), hit(10)], [0, 0, 0], id="under-premium-floor-ignored"),
        pytest.param([hit(0), hit(5, premium_usd=10_000), hit(10)], [0, 0, 3], id="at-premium-floor-counts"),
        pytest.param([hit(0), hit(5, symbol=PUT), hit(10)], [0, 0, 0], id="other-contract-separate"),
    ],
)
def test_run_lengths(packets: list[Packet], expected: list[int]) -> None:
    assert counts(RepeatedHits.from_config(CFG), packets) == expected


def test_run_carries_ids_sizes_and_prices() -> None:
    detector = RepeatedHits.from_config(CFG)
    packets = [hit(0, price="2.00"), hit(10, price="2.05"), hit(20, price="2.10")]
    runs = [detector.step(p) for p in packets]
    run = runs[-1]
    assert run is not None
    assert run.packet_ids == tuple(p.id for p in packets)
    assert run.print_ids == tuple(i for p in packets for i in p.print_ids)
    assert (run.ts_first, run.ts_last, run.span_ns) == (packets[0].ts_event, packets[2].ts_event, 20 * NS_PER_S)
    assert (run.size_contracts, run.premium_cents, run.side, run.symbol) == (900, 6_000_000, "buy", CALL)
    assert run.vwaps_e9 == tuple(p.vwap_e9 for p in packets)
    assert run.price_trend == "rising"


@pytest.mark.parametrize(
    ("prices", "trend"),
    [
        pytest.param(("2.00", "2.01", "2.05"), "rising", id="rising"),
        pytest.param(("2.00", "2.00", "2.05"), "rising", id="flat-then-up"),
        pytest.param(("2.05", "2.01", "2.00"), "falling", id="falling"),
        pytest.param(("2.00", "2.00", "2.00"), "flat", id="flat"),
        pytest.param(("2.00", "2.05", "2.01"), "mixed", id="mixed"),
    ],
)
def test_price_trend(prices: tuple[str, ...], trend: PriceTrend) -> None:
    assert price_trend(tuple(price_e9(p) for p in prices)) == trend


def test_settings_drive_the_detector() -> None:
    cfg = OptionsConfig(repeat_min_packets=2, repeat_window_ms=5_000, repeat_min_packet_premium_usd=0)
    assert counts(RepeatedHits.from_config(cfg), [hit(0, premium_usd=1), hit(5)]) == [0, 2]
    assert counts(RepeatedHits.from_config(cfg), [hit(0), hit(5, ns=1)]) == [0, 0]


def test_out_of_order_packet_is_placed_by_time() -> None:
    detector = RepeatedHits.from_config(CFG)
    assert counts(detector, [hit(0), hit(20), hit(10)]) == [0, 0, 0], "two up to 10 s: the late one closes no run"
    run = detector.step(hit(30))
    assert run is not None
    assert list(run.packet_ids) == [hit(t).id for t in (0, 10, 20, 30)]


def test_quiet_contracts_are_forgotten() -> None:
    detector = RepeatedHits.from_config(CFG)
    for i in range(EXPIRE_EVERY - 1):
        detector.step(hit(0, symbol=f"SPY   260320C{(100 + i) * 1000:08d}"))
    assert len(detector) == EXPIRE_EVERY - 1
    detector.step(hit(WINDOW_NS / NS_PER_S + 1))
    assert len(detector) == 1, "only the contract still inside its window is kept"


@pytest.mark.parametrize(
    ("min_packets", "window_ns", "floor"),
    [
        pytest.param(1, NS_PER_S, 0, id="one-packet"),
        pytest.param(3, 0, 0, id="no-window"),
        pytest.param(3, 1, -1, id="floor"),
    ],
)
def test_invalid_settings_are_refused(min_packets: int, window_ns: int, floor: int) -> None:
    with pytest.raises(ValueError, match="repeated hits need"):
        RepeatedHits(min_packets, window_ns, floor)


def _reference_runs(packets: list[Packet], min_packets: int, window_ns: int) -> list[tuple[object, ...] | None]:
    """Every packet's run recomputed from scratch over all counted packets so far (no running aggregates)."""
    seen: list[Packet] = []
    out: list[tuple[object, ...] | None] = []
    for p in packets:
        seen.append(p)
        run = sorted(
            (q for q in seen if q.side == p.side and q.ts_event <= p.ts_event and p.ts_event - q.ts_event <= window_ns),
            key=lambda q: q.ts_event,
        )
        # Entries older than the window before the newest packet were dropped for good.
        newest = max(q.ts_event for q in seen if q.side == p.side)
        run = [q for q in run if newest - q.ts_event <= window_ns]
        if len(run) < min_packets:
            out.append(None)
            continue
        vwaps = tuple(q.vwap_e9 for q in run)
        out.append(
            (
                tuple(q.id for q in run),
                sum(q.size_contracts for q in run),
                sum(q.premium_cents for q in run),
                price_trend(vwaps),
                vwaps,
            )
        )
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=200), st.sampled_from(["buy", "sell"]), st.integers(190, 210)),
        min_size=1,
        max_size=40,
    )
)
def test_running_aggregates_equal_a_recomputation(steps: list[tuple[int, Side, int]]) -> None:
    detector = RepeatedHits(3, 30 * NS_PER_S)
    packets = [
        hit(at_s, side, price=f"{cents / 100:.2f}", ns=i)
        for i, (at_s, side, cents) in enumerate(sorted(steps[:1]) + steps[1:])
    ]
    got = []
    for p in packets:
        run = detector.step(p)
        got.append(
            None
            if run is None
            else (run.packet_ids, run.size_contracts, run.premium_cents, run.price_trend, run.vwaps_e9)
        )
    assert got == _reference_runs(packets, 3, 30 * NS_PER_S)

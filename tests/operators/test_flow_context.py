"""Per-underlying flow context over sliding event-time windows (BEHAVIOR section 7)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events.config import OptionsConfig, parse_windows
from events.models import FlowContext, Packet, PacketKind, Side
from events.units import NS_PER_MS, NS_PER_S
from operators.classifiers import direction_for
from operators.flow_context import COMPACT_MIN_ENTRIES, FIELDS, FlowContextTracker, contribution
from tests.factories import T0, leg, occ, packet

CFG = OptionsConfig()
CALL, PUT = occ("580"), occ("570", "P")
WINDOWS = ("1m", "5m", "1h", "4h", "1d")


def _at(seconds: float) -> int:
    return T0 + round(seconds * NS_PER_S)


def _p(symbol: str = CALL, side: Side = "buy", size: int = 100, *, at_s: float = 0.0, **kw: Any) -> Packet:
    return leg(symbol, side=side, size=size, at_ms=at_s * 1_000, **kw)


def _window(contexts: list[FlowContext], label: str) -> FlowContext:
    (found,) = [c for c in contexts if c.window_label == label]
    return found


# ------------------------------------------------------------------------------------ one packet


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        pytest.param(
            _p(CALL, "buy", 100, kind="sweep"),
            {
                "call_volume_contracts": 100,
                "call_premium_cents": 2_000_000,
                "buy_premium_cents": 2_000_000,
                "net_premium_cents": 2_000_000,
                "bullish_premium_cents": 2_000_000,
                "sweep_count": 1,
                "sweep_contracts": 100,
                "at_touch_contracts": 100,
                "quoted_contracts": 100,
                "sentiment": "bullish",
                "aggressiveness": 1.0,
            },
            id="call-bought-sweep",
        ),
        pytest.param(
            _p(PUT, "buy", 50),
            {"put_volume_contracts": 50, "put_premium_cents": 1_000_000, "bearish_premium_cents": 1_000_000},
            id="put-bought-bearish",
        ),
        pytest.param(
            _p(PUT, "sell", 50),
            {"sell_premium_cents": 1_000_000, "net_premium_cents": -1_000_000, "bullish_premium_cents": 1_000_000},
            id="put-sold-bullish",
        ),
        pytest.param(
            _p(CALL, "sell", 50),
            {"net_premium_cents": -1_000_000, "bearish_premium_cents": 1_000_000, "sentiment": "bearish"},
            id="call-sold-bearish",
        ),
        pytest.param(
            _p(CALL, "unknown", 50),
            {"net_premium_cents": 0, "bullish_premium_cents": 0, "bearish_premium_cents": 0, "at_touch_contracts": 0},
            id="unknown-side-ignored",
        ),
        pytest.param(
            _p(CALL, "buy", 50, conditions=("multi_leg",)),
            {
                "call_volume_contracts": 50,
                "buy_premium_cents": 1_000_000,
                "bullish_premium_cents": 0,
                "complex_premium_cents": 1_000_000,
                "sentiment": "neutral",
            },
            id="complex-out-of-sentiment",
        ),
        pytest.param(
            _p(CALL, "buy", 50, nbbo_coverage=0.4),
            {"bullish_premium_cents": 0, "quoted_contracts": 20, "aggressiveness": 0.5},
            id="poor-quotes-out-of-sentiment",
        ),
        pytest.param(
            _p(CALL, "buy", 600, kind="block"),
            {"block_count": 1, "large_premium_cents": 12_000_000, "institutional_score": 1.0},
            id="block-institutional",
        ),
        pytest.param(
            _p(CALL, "buy", 500, price="2.00"),
            {"large_premium_cents": 10_000_000, "institutional_score": 1.0},
            id="premium-exactly-100k-large",
        ),
        pytest.param(
            _p(CALL, "buy", 499, price="2.00"), {"large_premium_cents": 0, "institutional_score": 0.0}, id="just-under"
        ),
    ],
)
def test_one_packet(packet: Packet, expected: dict[str, Any]) -> None:
    out = FlowContextTracker(CFG).on_packet(packet)
    assert [c.window_label for c in out] == list(WINDOWS)
    context = _window(out, "1m")
    assert context.packet_count == 1
    assert context.ts_event == packet.ts_event
    for name, value in expected.items():
        assert getattr(context, name) == value, name


@pytest.mark.parametrize(
    ("packets", "volume_ratio", "premium_ratio"),
    [
        pytest.param([_p(PUT, size=50)], None, None, id="no-calls"),
        pytest.param([_p(CALL, size=100)], 0.0, 0.0, id="no-puts"),
        pytest.param([_p(CALL, size=100), _p(PUT, size=50, price="4.00")], 0.5, 1.0, id="puts-half-volume"),
    ],
)
def test_put_call_ratios(packets: list[Packet], volume_ratio: float | None, premium_ratio: float | None) -> None:
    tracker = FlowContextTracker(CFG)
    for p in packets:
        tracker.on_packet(p)
    context = _window(tracker.current("SPY"), "1m")
    assert (context.put_call_volume_ratio, context.put_call_premium_ratio) == (volume_ratio, premium_ratio)


@pytest.mark.parametrize(
    ("call_size", "put_size", "sentiment", "strength"),
    [
        pytest.param(100, 100, "neutral", 0.0, id="balanced"),
        pytest.param(55, 45, "bullish", 0.1, id="exactly-the-band"),
        pytest.param(54, 46, "neutral", 0.08, id="inside-the-band"),
        pytest.param(45, 55, "bearish", 0.1, id="bearish-band"),
        pytest.param(0, 30, "bearish", 1.0, id="only-puts-bought"),
    ],
)
def test_sentiment_band(call_size: int, put_size: int, sentiment: str, strength: float) -> None:
    tracker = FlowContextTracker(CFG)
    for symbol, size in ((CALL, call_size), (PUT, put_size)):
        if size:
            tracker.on_packet(_p(symbol, "buy", size))
    context = _window(tracker.current("SPY"), "1m")
    assert (context.sentiment, context.sentiment_strength) == (sentiment, strength)


def test_formulas_are_stated_with_their_thresholds() -> None:
    cfg = OptionsConfig(flow_context_neutral_band=0.25, flow_context_large_premium_usd=50_000)
    context = FlowContextTracker(cfg).on_packet(_p())[0]
    assert "strength >= 0.25" in context.sentiment_formula
    assert "premium >= $50,000" in context.institutional_formula
    assert "at_touch_contracts / quoted_contracts" in context.aggressiveness_formula
    assert "sweep_contracts" in context.aggressiveness_formula


# ------------------------------------------------------------------------------------ time


def test_throttle_in_event_time() -> None:
    tracker = FlowContextTracker(CFG)
    assert len(tracker.on_packet(_p(at_s=0))) == 5
    assert tracker.on_packet(_p(at_s=0.5)) == []
    assert tracker.advance(_at(1) - 1) == []
    out = tracker.advance(_at(1))
    assert [c.window_label for c in out] == list(WINDOWS)
    assert all(c.ts_event == _at(1) and c.packet_count == 2 for c in out)
    assert tracker.advance(_at(5)) == [], "nothing changed since"


def test_emit_interval_follows_settings() -> None:
    tracker = FlowContextTracker(OptionsConfig(flow_context_emit_ms=10))
    tracker.on_packet(_p(at_s=0))
    assert len(tracker.on_packet(_p(at_s=0.01))) == 5


def test_expiry_is_reported_once_at_the_window_boundary() -> None:
    tracker = FlowContextTracker(CFG)
    tracker.on_packet(_p(at_s=0))
    assert tracker.advance(_at(60) - 1) == []
    out = tracker.advance(_at(60))
    assert [c.window_label for c in out] == ["1m"], "(end - 60 s, end] no longer holds the packet"
    assert out[0].packet_count == 0
    assert out[0].call_premium_cents == 0
    assert out[0].put_call_volume_ratio is None
    assert out[0].sentiment == "neutral"
    assert tracker.advance(_at(61)) == []
    assert _window(tracker.current("SPY"), "5m").packet_count == 1


def test_out_of_order_packets_expire_in_time_order() -> None:
    tracker = FlowContextTracker(CFG)
    tracker.on_packet(_p(at_s=10))
    tracker.on_packet(_p(PUT, at_s=5))
    tracker.on_packet(_p(at_s=8))
    tracker.advance(_at(66))
    context = _window(tracker.current("SPY"), "1m")
    assert (context.packet_count, context.put_volume_contracts) == (2, 0)


def test_a_packet_already_outside_a_window_is_counted_late() -> None:
    tracker = FlowContextTracker(CFG)
    tracker.on_packet(_p(at_s=100))
    tracker.on_packet(_p(PUT, at_s=30))
    assert tracker.late_packets("SPY") == {"1m": 1, "5m": 0, "1h": 0, "4h": 0, "1d": 0}
    assert _window(tracker.current("SPY"), "1m").put_volume_contracts == 0
    assert _window(tracker.current("SPY"), "5m").put_volume_contracts == 100


def test_flush_reports_what_the_throttle_held_back() -> None:
    tracker = FlowContextTracker(CFG)
    tracker.on_packet(_p(at_s=0))
    tracker.on_packet(_p(at_s=0.2))
    out = tracker.flush()
    assert [(c.window_label, c.packet_count) for c in out] == [(w, 2) for w in WINDOWS]
    assert tracker.flush() == []


def test_underlyings_are_kept_apart() -> None:
    tracker = FlowContextTracker(CFG)
    tracker.on_packet(_p(at_s=0))
    out = tracker.on_packet(_p(occ("500", root="QQQ"), "sell", 10, at_s=0.1))
    assert {c.underlying for c in out} == {"QQQ"}
    assert _window(tracker.current("SPY"), "1m").packet_count == 1
    assert tracker.current("IWM") == []


def test_windows_follow_settings() -> None:
    out = FlowContextTracker(OptionsConfig(flow_context_windows="2m, 30s")).on_packet(_p())
    assert [(c.window_label, c.window_ns) for c in out] == [("30s", 30 * NS_PER_S), ("2m", 120 * NS_PER_S)]


@pytest.mark.parametrize(
    "text",
    ["", "1m,", "5", "1w", "0m", "-1m", "1.5m", "1m,60s"],
    ids=["empty", "trailing-comma", "no-unit", "weeks", "zero", "negative", "fraction", "same-length"],
)
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="window"):
        parse_windows(text)
    with pytest.raises(ValidationError, match="flow_context_windows"):
        OptionsConfig(flow_context_windows=text)


def test_flow_context_defaults() -> None:
    assert parse_windows(CFG.flow_context_windows) == CFG.flow_context_window_ns
    assert [label for label, _ in CFG.flow_context_window_ns] == list(WINDOWS)
    assert (CFG.flow_context_emit_ns, CFG.flow_context_large_premium_cents) == (1_000 * NS_PER_MS, 10_000_000)
    assert (CFG.structure_window_ms, CFG.structure_size_ratio_max) == (500, 3.0)


def test_net_premium_must_be_buy_minus_sell() -> None:
    context = FlowContextTracker(CFG).on_packet(_p())[0]
    with pytest.raises(ValidationError, match="net_premium_cents"):
        FlowContext.model_validate({**context.model_dump(), "net_premium_cents": 1})


# ------------------------------------------------------------------------------------ properties


def _batch(packets: list[Packet], end_ns: int, length_ns: int) -> dict[str, int]:
    """Recompute a window's sums from scratch, the plain way."""
    inside = [p for p in packets if end_ns - length_ns < p.ts_event <= end_ns]
    calls = [p for p in inside if p.right == "C"]
    puts = [p for p in inside if p.right == "P"]
    simple = [p for p in inside if p.complex_prints == 0]
    large = CFG.flow_context_large_premium_cents
    return {
        "packet_count": len(inside),
        "call_volume_contracts": sum(p.size_contracts for p in calls),
        "put_volume_contracts": sum(p.size_contracts for p in puts),
        "call_premium_cents": sum(p.premium_cents for p in calls),
        "put_premium_cents": sum(p.premium_cents for p in puts),
        "buy_premium_cents": sum(p.premium_cents for p in inside if p.side == "buy"),
        "sell_premium_cents": sum(p.premium_cents for p in inside if p.side == "sell"),
        "bullish_premium_cents": sum(p.premium_cents for p in simple if direction_for(p) == "bullish"),
        "bearish_premium_cents": sum(p.premium_cents for p in simple if direction_for(p) == "bearish"),
        "complex_premium_cents": sum(p.premium_cents for p in inside if p.complex_prints),
        "sweep_count": sum(p.kind == "sweep" for p in inside),
        "block_count": sum(p.kind == "block" for p in inside),
        "at_touch_contracts": sum(p.placement_sizes.get(k, 0) for p in inside for k in ("AA", "A", "B", "BB")),
        "quoted_contracts": sum(p.placement_sizes.get(k, 0) for p in inside for k in ("AA", "A", "MID", "B", "BB")),
        "sweep_contracts": sum(p.size_contracts for p in inside if p.kind == "sweep"),
        "large_premium_cents": sum(p.premium_cents for p in inside if p.kind == "block" or p.premium_cents >= large),
    }


_KINDS: list[PacketKind] = ["single", "sweep", "block", "split"]


@st.composite
def tapes(
    draw: st.DrawFn,
    steps_max: int = 40,
    ticks_ms: tuple[int, ...] = (0, 1, 300, 999, 1_000, 20_000, 59_999, 60_000, 400_000),
    lags_ms: tuple[int, ...] = (0, 0, 1, 2_500),
) -> list[tuple[str, Packet | int]]:
    """A tape of ("packet", packet) and ("advance", watermark) steps.

    The clock moves forward by one of `ticks_ms` per step; a packet is one of `lags_ms` behind it (out of order).
    """
    steps: list[tuple[str, Packet | int]] = []
    clock_ms = 0
    for i in range(draw(st.integers(min_value=0, max_value=steps_max))):
        clock_ms += draw(st.sampled_from(ticks_ms))
        if draw(st.integers(0, 4)) == 0:
            steps.append(("advance", T0 + clock_ms * NS_PER_MS))
            continue
        at_ms = clock_ms - draw(st.sampled_from(lags_ms))
        packet = leg(
            occ(draw(st.sampled_from(["570", "580"])), draw(st.sampled_from("CP"))),
            side=draw(st.sampled_from(["buy", "sell", "unknown"])),
            size=draw(st.sampled_from([1, 40, 499, 500, 600])),
            price=draw(st.sampled_from(["0.05", "2.00", "3.33"])),
            at_ms=at_ms,
            kind=draw(st.sampled_from(_KINDS)),
            conditions=draw(st.sampled_from([(), (), ("multi_leg",), ("iso",)])),
            nbbo_coverage=draw(st.sampled_from([1.0, 0.4, 0.75])),
            print_ids=(f"print-{i}",),
        )
        steps.append(("packet", packet))
    return steps


def _run(steps: list[tuple[str, Packet | int]], check: bool) -> list[FlowContext]:
    tracker = FlowContextTracker(CFG)
    out: list[FlowContext] = []
    fed: list[Packet] = []
    for _kind, item in steps:
        if isinstance(item, Packet):
            fed.append(item)
            out += tracker.on_packet(item)
        else:
            out += tracker.advance(item)
        if check and fed:
            for context in tracker.current("SPY"):
                expected = _batch(fed, context.ts_event, context.window_ns)
                assert {name: getattr(context, name) for name in FIELDS} == expected, context.window_label
                assert context.net_premium_cents == expected["buy_premium_cents"] - expected["sell_premium_cents"]
    return out + tracker.flush()


@settings(max_examples=200, deadline=None)
@given(tapes())
def test_window_sums_equal_a_batch_recomputation(steps: list[tuple[str, Packet | int]]) -> None:
    _run(steps, check=True)


@settings(max_examples=200, deadline=None)
@given(tapes())
def test_same_input_same_events_and_throttled(steps: list[tuple[str, Packet | int]]) -> None:
    out = _run(steps, check=False)
    assert _run(steps, check=False) == out
    assert len({c.id for c in out}) == len(out), "ids are unique"
    for label in WINDOWS:
        times = [c.ts_event for c in out if c.window_label == label]
        # flush() at end of input may report within the interval; everything before it is throttled.
        throttled = times[:-1]
        gaps = [b - a for a, b in pairwise(throttled)]
        assert all(gap >= CFG.flow_context_emit_ns for gap in gaps)


def _reference(steps: list[tuple[str, Packet | int]], cfg: OptionsConfig) -> list[tuple[str, int, dict[str, int]]]:
    """Return the (window, ts_event, sums) reported, the plain way: every step recomputes every window's packets
    from scratch; a window whose packets changed is reported when its throttle allows, the rest at flush."""
    windows = cfg.flow_context_window_ns
    fed: list[Packet] = []
    end = -1
    inside: dict[str, list[int]] = {label: [] for label, _ in windows}
    dirty = dict.fromkeys(inside, False)
    last_emit = dict.fromkeys(inside, -1)
    out: list[tuple[str, int, dict[str, int]]] = []

    def report(label: str, length_ns: int) -> None:
        dirty[label] = False
        last_emit[label] = end
        out.append((label, end, _batch(fed, end, length_ns)))

    for _kind, item in steps:
        if isinstance(item, Packet):
            fed.append(item)
            end = max(end, item.ts_event)
        elif fed:  # a watermark moves only the underlyings already seen
            end = max(end, item)
        else:
            continue
        for label, length_ns in windows:
            now = [i for i, p in enumerate(fed) if end - length_ns < p.ts_event <= end]
            dirty[label] |= now != inside[label]
            inside[label] = now
            if dirty[label] and (last_emit[label] < 0 or end - last_emit[label] >= cfg.flow_context_emit_ns):
                report(label, length_ns)
    for label, length_ns in windows:
        if dirty[label]:
            report(label, length_ns)
    return out


LATE_CFG = OptionsConfig(flow_context_windows="1s,5s,1m", flow_context_emit_ms=200)


@settings(max_examples=200, deadline=None)
@given(
    tapes(steps_max=80, ticks_ms=(0, 1, 150, 999, 1_000, 4_000, 59_999), lags_ms=(0, 1, 700, 1_000, 6_000, 61_000)),
    st.sampled_from([2, 8, 10_000]),
)
def test_reports_equal_a_plain_recomputation(steps: list[tuple[str, Packet | int]], compact_min: int) -> None:
    # Windows short enough for packets to arrive already outside them, and a small entry list that gets compacted.
    lazy = FlowContextTracker(LATE_CFG, compact_min_entries=compact_min)
    checked = FlowContextTracker(LATE_CFG, compact_min_entries=compact_min)  # also read after every step
    out: list[FlowContext] = []
    fed: list[Packet] = []
    for _kind, item in steps:
        if isinstance(item, Packet):
            fed.append(item)
            out += lazy.on_packet(item)
            checked.on_packet(item)
        else:
            out += lazy.advance(item)
            checked.advance(item)
        for context in checked.current("SPY"):
            sums = {name: getattr(context, name) for name in FIELDS}
            assert sums == _batch(fed, context.ts_event, context.window_ns), context.window_label
    out += lazy.flush()
    reported = [(c.window_label, c.ts_event, {name: getattr(c, name) for name in FIELDS}) for c in out]
    assert reported == _reference(steps, LATE_CFG)


COARSE_CFG = OptionsConfig(
    flow_context_windows="1s,5s,1m", flow_context_emit_ms=200, flow_context_exact_ms=2_000, flow_context_step_ms=1_000
)
"""Windows past a short exact horizon (5s and 1m past 2s), merged in 1-second steps."""


@settings(max_examples=200, deadline=None)
@given(
    tapes(steps_max=80, ticks_ms=(0, 1, 150, 999, 1_000, 4_000, 59_999), lags_ms=(0, 1, 700, 1_000, 6_000, 61_000)),
    st.sampled_from([2, 8]),
)
def test_old_packets_count_in_steps(steps: list[tuple[str, Packet | int]], compact_min: int) -> None:
    # A window up to the exact horizon is exact. A longer one holds every packet inside it, and none a step or more
    # before its start: a merged step leaves with its newest packet.
    tracker = FlowContextTracker(COARSE_CFG, compact_min_entries=compact_min)
    step_ns = COARSE_CFG.flow_context_step_ns
    fed: list[Packet] = []
    for _kind, item in steps:
        if isinstance(item, Packet):
            fed.append(item)
            tracker.on_packet(item)
        else:
            tracker.advance(item)
        for context in tracker.current("SPY"):
            sums = {name: getattr(context, name) for name in FIELDS}
            exact = _batch(fed, context.ts_event, context.window_ns)
            if context.window_ns <= COARSE_CFG.flow_context_exact_ns:
                assert sums == exact, context.window_label
                continue
            wider = _batch(fed, context.ts_event, context.window_ns + step_ns)
            for name in FIELDS:
                assert exact[name] <= sums[name] <= wider[name], (context.window_label, name)


def test_state_stays_flat_over_a_long_session() -> None:
    # Two packets a second for three hours: the entries are the last five minutes' packets, the ones not merged
    # yet and one per minute before that; the day window still sums every packet.
    tracker = FlowContextTracker(CFG)
    seen: dict[int, int] = {}
    packets = 0
    for half_second in range(3 * 3_600 * 2):
        tracker.on_packet(_p(at_s=half_second / 2, print_ids=(f"print-{half_second}",)))
        packets += 1
        if half_second % 7_200 == 7_199:
            seen[half_second // 7_200 + 1] = tracker.entry_count()
    assert max(seen.values()) <= 600 + COMPACT_MIN_ENTRIES + 3 * 60
    assert seen[3] <= seen[1] + 2 * 60, seen
    contexts = tracker.current("SPY")
    assert _window(contexts, "1d").packet_count == packets
    hour = _window(contexts, "1h").packet_count
    assert 3_600 * 2 <= hour <= 3_660 * 2


def test_next_change_is_the_throttle_or_the_first_expiry() -> None:
    tracker = FlowContextTracker(CFG)
    assert tracker.next_change_ns() is None
    tracker.on_packet(_p(at_s=0))  # reported at once
    assert tracker.next_change_ns() == _at(60), "nothing new: the packet leaves the 1m window at 60 s"
    tracker.on_packet(_p(at_s=0.5))  # held back by the 1 s throttle
    assert tracker.next_change_ns() == _at(1)
    tracker.advance(_at(1))
    assert tracker.next_change_ns() == _at(60)
    tracker.advance(_at(86_400 + 1))
    assert tracker.next_change_ns() is None, "every window expired and reported"


@pytest.mark.parametrize("side", ["buy", "sell", "unknown"])
@pytest.mark.parametrize("right", ["C", "P"])
@pytest.mark.parametrize("coverage", [0.0, 0.49, 0.5, 1.0])
@pytest.mark.parametrize("complex_prints", [0, 1])
def test_contribution_direction_is_the_classifiers_read(
    side: Side, right: str, coverage: float, complex_prints: int
) -> None:
    p = packet(occ("580", right), side=side, nbbo_coverage=coverage, complex_prints=complex_prints)
    values = dict(zip(FIELDS, contribution(p, 10**12), strict=True))
    direction = "neutral" if complex_prints else direction_for(p)
    assert values["bullish_premium_cents"] == (p.premium_cents if direction == "bullish" else 0)
    assert values["bearish_premium_cents"] == (p.premium_cents if direction == "bearish" else 0)

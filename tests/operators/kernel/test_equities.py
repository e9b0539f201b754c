"""The native equities engine equals the Python reference: same outputs (every field, same ids, same order), same
idle-timer answers, on random equity tapes cut into random batches, with random idle wake-ups; and its state
pickles mid-stream and carries on identically."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.config import EquitiesConfig
from events.lots import ROUND_LOT_TIERS_SINCE_NS
from events.models import AnyEvent
from events.serde import encode
from events.units import NS_PER_MS
from operators.equities_engine import EquitiesEngine
from operators.kernel import AVAILABLE
from operators.kernel.equities import NativeEquitiesEngine, new_equities_engine
from tests.factories import T0, equity_adv, equity_print_ns, equity_quote_ns

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the kernel is not built")

FLAGS = ["extended_hours", "average_price", "late", "odd_lot", "qct", "intermarket_sweep", "cross"]
VENUES = ["FINN", "XNAS", "ARCX"]
CONFIG = EquitiesConfig(candle_intervals="1s,5s", stealth_min_prints=2, stealth_min_total_shares=300)
_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@st.composite
def tapes(draw: st.DrawFn) -> list[AnyEvent]:
    """A random equity tape of one symbol: quote stream, quotes on prints, or both; before or after the lot tiers."""
    form = draw(st.sampled_from(["quotes", "at_trade", "mixed"]))
    now = draw(st.sampled_from([T0, ROUND_LOT_TIERS_SINCE_NS - 3_600 * 10**9]))
    level = draw(st.sampled_from([20, 300, 2_000, 12_000]))  # dollars: each round-lot tier
    tape: list[AnyEvent] = []
    if draw(st.booleans()):
        tape.append(equity_adv(adv_shares=draw(st.sampled_from([50_000.0, 5_000_000.0]))))
    for _ in range(draw(st.integers(1, 80))):
        step = draw(st.sampled_from(["small", "small", "same", "late", "gap"]))
        if step == "small":
            now += draw(st.integers(1, 400)) * NS_PER_MS
        elif step == "gap":
            now += draw(st.integers(1, 8_000)) * NS_PER_MS
        at = now - draw(st.integers(1, 3_000)) * NS_PER_MS if step == "late" else now
        bid = level * 10**9 + draw(st.integers(-20, 20)) * 10**7
        ask = bid + draw(st.integers(-2, 4)) * 10**7  # crossed and locked quotes happen
        if draw(st.booleans()) and form != "at_trade":
            quote = equity_quote_ns(at, max(bid, 0), max(ask, 0))
            if draw(st.integers(0, 3)) == 0:
                quote = quote.model_copy(update={"venue": draw(st.sampled_from(VENUES))})
            tape.append(quote.model_copy(update={"bid_size_shares": draw(st.integers(0, 900))}))
        else:
            on_print = None
            if form == "at_trade" or (form == "mixed" and draw(st.booleans())):
                on_print = (f"{max(bid, 10**7) / 1e9:.2f}", f"{max(ask, 10**7) / 1e9:.2f}")
            tape.append(
                equity_print_ns(
                    at,
                    max(bid + draw(st.integers(-3, 6)) * 10**7, 10**7),
                    draw(st.sampled_from([1, 10, 39, 40, 99, 100, 500, 5_000, 40_000])),
                    venue=draw(st.sampled_from(VENUES)),
                    off_exchange=draw(st.booleans()),
                    conditions=tuple(draw(st.lists(st.sampled_from(FLAGS), max_size=3))),
                    quote=on_print,
                )
            )
    return tape


@st.composite
def plans(draw: st.DrawFn) -> tuple[list[AnyEvent], list[AnyEvent], list[tuple[str, Any]]]:
    """A tape, reference events to schedule before it, and the calls that feed it: batches and idle wake-ups."""
    tape = draw(tapes())
    scheduled = [event for event in tape if event.event_type == "volume_baseline" and draw(st.booleans())]
    calls: list[tuple[str, Any]] = []
    start = 0
    while start < len(tape):
        size = draw(st.integers(1, 12))
        calls.append(("events", tape[start : start + size]))
        start += size
        if draw(st.integers(0, 4)) == 0:
            last = max(event.ts_event for event in tape[:start])
            calls.append(("idle", last + draw(st.integers(-1_000, 6_000)) * NS_PER_MS))
    return tape, scheduled, calls


def _state(engine: EquitiesEngine) -> tuple[Any, ...]:
    return (
        engine.next_due_ns(),
        engine.event_time_ns,
        engine.print_time_ns,
        engine.pending_prints,
        engine.events_in,
        dict(engine.late_prints),
        engine.scheduled_reference,
    )


def _run(
    engine: EquitiesEngine,
    scheduled: list[AnyEvent],
    calls: list[tuple[str, Any]],
    after: Callable[[int, EquitiesEngine], EquitiesEngine] | None = None,
) -> list[Any]:
    engine.schedule_reference(scheduled)
    seen: list[Any] = []
    for index, (call, arg) in enumerate(calls):
        outputs = engine.on_events(arg) if call == "events" else engine.on_idle(arg)
        seen.append([encode(o) for o in outputs])
        seen.append(_state(engine))
        if after is not None:
            engine = after(index, engine)
    seen.append([encode(o) for o in engine.on_eof()])
    seen.append(_state(engine))
    return seen


@_SETTINGS
@given(plans())
def test_the_kernel_equals_the_reference_on_random_tapes(
    plan: tuple[list[AnyEvent], list[AnyEvent], list[tuple[str, Any]]],
) -> None:
    _, scheduled, calls = plan
    reference = _run(EquitiesEngine(CONFIG), scheduled, calls)
    assert _run(NativeEquitiesEngine(CONFIG), scheduled, calls) == reference


@_SETTINGS
@given(plans(), st.integers(0, 30), st.sampled_from(["pickle", "deepcopy"]))
def test_a_pickled_kernel_carries_on_like_the_reference(
    plan: tuple[list[AnyEvent], list[AnyEvent], list[tuple[str, Any]]], at: int, how: str
) -> None:
    _, scheduled, calls = plan
    clone: Callable[[EquitiesEngine], EquitiesEngine] = (
        (lambda engine: pickle.loads(pickle.dumps(engine))) if how == "pickle" else copy.deepcopy
    )

    def snapshot(index: int, engine: EquitiesEngine) -> EquitiesEngine:
        return clone(engine) if index == at else engine

    reference = _run(EquitiesEngine(CONFIG), scheduled, calls)
    assert _run(NativeEquitiesEngine(CONFIG), scheduled, calls, snapshot) == reference


def test_the_setting_picks_the_engine() -> None:
    assert type(new_equities_engine(EquitiesConfig(equities_kernel="native"))) is NativeEquitiesEngine
    assert type(new_equities_engine(EquitiesConfig(equities_kernel="python"))) is EquitiesEngine

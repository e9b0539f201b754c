"""The native options engine equals the Python reference: same outputs (every field, same ids, same order), same
idle-timer answers, on random tapes cut into random batches, with random idle wake-ups; and its state pickles
mid-stream and carries on identically."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.config import OptionsConfig
from events.models import AnyEvent
from events.serde import encode
from events.units import NS_PER_MS, NS_PER_S
from operators.kernel import AVAILABLE
from operators.kernel.options import NativeOptionsEngine, new_options_engine
from operators.options_engine import OptionsEngine
from tests.factories import (
    T0,
    definition,
    equity_quote_ns,
    occ,
    open_interest,
    quote_ns,
    trade_ns,
)

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the kernel is not built")

# A small chain: two strikes, both rights, an expiry that turns with the New York date and a later one; a second
# root on the same underlying (SPXW-like series share nothing with SPY's but the chain).
CONTRACTS = [
    occ(strike, right, expiry=expiry)
    for expiry in ("2026-03-02", "2026-03-20")
    for strike in ("570", "580")
    for right in ("C", "P")
]
VENUES = ["XCBO", "XISE", "XPHL"]
FLAGS = ["iso", "cross", "floor", "multi_leg", "sweep_leg"]
CONFIG = OptionsConfig(z_min_samples=3, rolling_window=8, underlying_parity_window_ms=2_000)


@dataclass
class Clock:
    """Event time of the tape being drawn: mostly forward, sometimes equal, late or far ahead."""

    now: int = T0


def _step(draw: st.DrawFn, clock: Clock) -> int:
    move = draw(
        st.sampled_from(["small", "small", "small", "same", "late", "gap", "jump"]),
    )
    if move == "small":
        clock.now += draw(st.integers(1, 150)) * NS_PER_MS
    elif move == "gap":
        clock.now += draw(st.integers(150, 3_000)) * NS_PER_MS
    elif move == "jump":
        clock.now += draw(st.sampled_from([10 * 60, 6 * 3600, 24 * 3600])) * NS_PER_S
    if move == "late":
        return clock.now - draw(st.integers(1, 2_000)) * NS_PER_MS
    return clock.now


def _price(draw: st.DrawFn) -> str:
    return f"{draw(st.integers(0, 60)) * 0.05:.2f}"


@st.composite
def tapes(draw: st.DrawFn) -> list[AnyEvent]:
    """A random options tape of one underlying: quote-stream or quote-at-trade form, or a mix."""
    form = draw(st.sampled_from(["quotes", "tcbbo", "venues", "mixed"]))
    with_equity = draw(st.booleans())
    clock = Clock()
    tape: list[AnyEvent] = []
    for _ in range(draw(st.integers(1, 90))):
        at = _step(draw, clock)
        symbol = draw(st.sampled_from(CONTRACTS))
        kind = draw(st.sampled_from(["quote", "quote", "print", "print", "equity", "reference"]))
        if kind == "quote" and form != "tcbbo":
            venue = "NBBO"
            if form == "venues" or (form == "mixed" and draw(st.booleans())):
                venue = draw(st.sampled_from(VENUES))
            bid, ask = _price(draw), _price(draw)  # crossed, locked and one-sided (0) quotes happen
            tape.append(
                quote_ns(
                    at, bid, ask, symbol=symbol, venue=venue,
                    bid_size=draw(st.integers(0, 200)), ask_size=draw(st.integers(0, 200)),
                )
            )  # fmt: skip
        elif kind == "equity" and with_equity:
            bid_e9 = draw(st.integers(0, 600)) * 10**9
            ask_e9 = bid_e9 + draw(st.integers(-2, 3)) * 10**8
            tape.append(equity_quote_ns(at, bid_e9, max(ask_e9, 0)))
        elif kind == "reference":
            if draw(st.booleans()):
                tape.append(definition(symbol, multiplier=draw(st.sampled_from([10, 100])), at_ms=(at - T0) / 1e6))
            else:
                tape.append(open_interest(symbol, draw(st.integers(1, 5_000)), at_ms=(at - T0) / 1e6))
        else:
            nbbo = None
            sizes = None
            if form == "tcbbo" or (form == "mixed" and draw(st.booleans())):
                nbbo = (_price(draw), _price(draw))
                sizes = (draw(st.integers(0, 300)), draw(st.integers(0, 300)))
            tape.append(
                trade_ns(
                    at,
                    f"{draw(st.integers(1, 60)) * 0.05:.2f}" if draw(st.booleans()) else "1.00",
                    draw(st.sampled_from([1, 1, 2, 5, 10, 50, 600])),
                    symbol=symbol,
                    venue=draw(st.sampled_from(VENUES)),
                    conditions=tuple(draw(st.lists(st.sampled_from(FLAGS), max_size=2))),
                    nbbo=nbbo,
                    nbbo_sizes=sizes,
                    underlying_price=draw(st.sampled_from([None, None, "575.00"])),
                )
            )
    return tape


@st.composite
def plans(draw: st.DrawFn) -> tuple[list[AnyEvent], list[AnyEvent], list[tuple[str, Any]]]:
    """A tape, reference events to schedule before it, and the calls that feed it: batches and idle wake-ups."""
    tape = draw(tapes())
    scheduled = [event for event in tape if event.event_type == "option_definition" and draw(st.booleans())]
    calls: list[tuple[str, Any]] = []
    start = 0
    while start < len(tape):
        size = draw(st.integers(1, 12))
        calls.append(("events", tape[start : start + size]))
        start += size
        if draw(st.integers(0, 5)) == 0:
            last = max(event.ts_event for event in tape[:start])
            calls.append(("idle", last + draw(st.integers(-500, 3_000)) * NS_PER_MS))
    return tape, scheduled, calls


def _state(engine: OptionsEngine) -> tuple[Any, ...]:
    return (
        engine.next_due_ns(),
        engine.event_time_ns,
        engine.print_time_ns,
        engine.pending_prints,
        engine.late_prints,
        engine.events_in,
        engine.held_alerts,
        engine.scheduled_reference,
    )


def _run(
    engine: OptionsEngine,
    scheduled: list[AnyEvent],
    calls: list[tuple[str, Any]],
    after: Callable[[int, OptionsEngine], OptionsEngine] | None = None,
) -> list[Any]:
    """Feed the calls; return every output (encoded) and the engine's idle-timer answers after each call."""
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plans())
def test_the_kernel_equals_the_reference_on_random_tapes(
    plan: tuple[list[AnyEvent], list[AnyEvent], list[tuple[str, Any]]],
) -> None:
    _, scheduled, calls = plan
    reference = _run(OptionsEngine(CONFIG), scheduled, calls)
    assert _run(NativeOptionsEngine(CONFIG), scheduled, calls) == reference


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plans(), st.integers(0, 40), st.sampled_from(["pickle", "deepcopy"]))
def test_a_pickled_kernel_carries_on_like_the_reference(
    plan: tuple[list[AnyEvent], list[AnyEvent], list[tuple[str, Any]]], at: int, how: str
) -> None:
    _, scheduled, calls = plan
    clone: Callable[[OptionsEngine], OptionsEngine] = (
        (lambda engine: pickle.loads(pickle.dumps(engine))) if how == "pickle" else copy.deepcopy
    )

    def snapshot(index: int, engine: OptionsEngine) -> OptionsEngine:
        return clone(engine) if index == at else engine

    reference = _run(OptionsEngine(CONFIG), scheduled, calls)
    assert _run(NativeOptionsEngine(CONFIG), scheduled, calls, snapshot) == reference


def test_the_setting_picks_the_engine() -> None:
    assert type(new_options_engine(OptionsConfig(kernel="native"))) is NativeOptionsEngine
    assert type(new_options_engine(OptionsConfig(kernel="python"))) is OptionsEngine


def test_the_kernel_state_is_compact() -> None:
    engine = NativeOptionsEngine(CONFIG)
    engine.on_events([trade_ns(T0 + i * NS_PER_MS, "1.00", 1, symbol=CONTRACTS[i % 4]) for i in range(100)])
    state = engine.kernel.__getstate__()
    assert isinstance(state, bytes)
    restored = pickle.loads(pickle.dumps(engine.kernel))
    assert restored.__getstate__() == state

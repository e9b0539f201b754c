"""The engine is the Bytewax snapshot: it must deep-copy and pickle, and a copy must carry on identically."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from events.calendar import NEW_YORK
from events.config import OptionsConfig
from events.models import AnyEvent
from events.serde import encode
from events.units import NS_PER_MS, NS_PER_S
from operators import options_engine
from operators.kernel import AVAILABLE as KERNEL_AVAILABLE
from operators.kernel.options import new_options_engine
from operators.options_engine import OptionsEngine
from tests.factories import CALL, PUT, T0, definition, occ, open_interest, quote, quote_ns, trade, trade_ns


def _tape() -> list[AnyEvent]:
    tape: list[AnyEvent] = [definition(CALL, multiplier=10)]
    for i in range(40):
        at = i * 70.0
        tape.append(quote(at, "1.00", "1.10", symbol=CALL if i % 3 else PUT, ask_size=50 + i))
        tape.append(quote(at + 1, "1.00", "1.10", venue="XCBO", bid_size=i + 1))
        tape.append(trade(at + 2, "1.10", 10 + i, venue="XISE" if i % 2 else "XCBO", conditions=("iso",) * (i % 2)))
        tape.append(trade(at + 3, "1.05", 5, symbol=PUT, nbbo=("1.00", "1.10") if i % 4 == 0 else None))
    return tape


@pytest.mark.parametrize(
    "clone",
    [
        pytest.param(copy.deepcopy, id="deepcopy"),
        pytest.param(lambda engine: pickle.loads(pickle.dumps(engine)), id="pickle"),
    ],
)
def test_a_snapshot_carries_on_like_the_original(clone: Callable[[OptionsEngine], OptionsEngine]) -> None:
    tape = _tape()
    half = len(tape) // 2
    original = OptionsEngine(OptionsConfig(z_min_samples=3))
    original.on_events(tape[:half])
    snapshot = clone(original)
    rest = [encode(o) for o in original.on_events(tape[half:]) + original.on_eof()]
    assert rest, "the second half closes packets"
    assert [encode(o) for o in snapshot.on_events(tape[half:]) + snapshot.on_eof()] == rest
    assert (snapshot.events_in, snapshot.late_prints) == (original.events_in, original.late_prints)


def test_batches_and_single_events_give_the_same_outputs() -> None:
    tape = _tape()
    one_by_one = OptionsEngine(OptionsConfig())
    singles = [encode(o) for event in tape for o in one_by_one.on_event(event)]
    batched = OptionsEngine(OptionsConfig())
    runs = [tape[i : i + 7] for i in range(0, len(tape), 7)]
    assert [encode(o) for o in batched.on_runs(runs)] == singles
    assert [encode(o) for o in batched.on_eof()] == [encode(o) for o in one_by_one.on_eof()]
    assert batched.events_in == one_by_one.events_in == len(tape)


def _rolling_expiries(days: int, strikes: int = 5, prints_per_contract: int = 12) -> list[list[AnyEvent]]:
    """One list of events per New York day: that day's contracts (0DTE and next-day ones), their open interest and
    prints carrying their NBBO, a few large enough to raise hits."""
    start = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)
    tape: list[list[AnyEvent]] = []
    for d in range(days):
        opened = start + timedelta(days=d)
        t0 = int(opened.timestamp()) * NS_PER_S
        contracts = [
            occ(str(575 + k), right, expiry=(opened.date() + timedelta(days=ahead)).isoformat())
            for ahead in (0, 1)
            for k in range(strikes)
            for right in ("C", "P")
        ]
        at_ms = (t0 - T0) / NS_PER_MS
        day: list[AnyEvent] = [definition(symbol, multiplier=100, at_ms=at_ms) for symbol in contracts]
        day.extend(open_interest(symbol, 100, at_ms=at_ms) for symbol in contracts)
        for i in range(prints_per_contract):
            for j, symbol in enumerate(contracts):
                size = 600 if (i + j) % 7 == 0 else 3
                ts_event = t0 + (i * len(contracts) + j) * 2 * NS_PER_S
                if i % 2:  # a quote stream on some, the NBBO carried on the print on the others
                    day.append(quote_ns(ts_event - NS_PER_MS, "1.00", "1.10", symbol=symbol))
                    day.append(trade_ns(ts_event, "1.10", size, symbol=symbol))
                else:
                    day.append(trade_ns(ts_event, "1.10", size, symbol=symbol, nbbo=("1.00", "1.10")))
        tape.append(day)
    return tape


@pytest.mark.parametrize("kernel", ["python", "native"])
def test_state_stays_bounded_over_rolling_expiries(kernel: str) -> None:
    if kernel == "native" and not KERNEL_AVAILABLE:
        pytest.skip("the kernel is not built")
    engine = new_options_engine(OptionsConfig(kernel=kernel))
    counts = []
    for day in _rolling_expiries(12):
        engine.on_events(day)
        counts.append(engine.state_counts())
    assert engine.evicted_contracts > 0
    per_day = 2 * 5 * 2  # two expiries of five strikes, calls and puts
    per_contract = ("contracts", "tracked_contracts", "open_interest", "repeat_runs", "last_prices", "multipliers")
    for name in (*per_contract, "quote_books", "chain_contracts"):
        assert 0 < max(c[name] for c in counts) <= 3 * per_day, f"{name} holds at most the live and expired days"
        assert counts[-1][name] == counts[3][name], f"{name} is flat after warm-up"


def test_eviction_does_not_change_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    tape = [event for day in _rolling_expiries(6) for event in day]
    evicting = OptionsEngine(OptionsConfig())
    evicted = [encode(o) for o in evicting.on_events(tape) + evicting.on_eof()]
    assert evicting.evicted_contracts > 0
    monkeypatch.setattr(options_engine, "EXPIRED_AFTER_NS", 10**18)
    keeping = OptionsEngine(OptionsConfig())
    kept = [encode(o) for o in keeping.on_events(tape) + keeping.on_eof()]
    assert keeping.evicted_contracts == 0
    assert any(b'"classifier"' in line for line in kept), "the tape raises hits"
    assert evicted == kept


@pytest.mark.parametrize(
    ("expiry", "expected"),
    [
        pytest.param(date(2026, 3, 20), datetime(2026, 3, 21, 5, 0, tzinfo=UTC), id="daylight-time"),
        pytest.param(date(2026, 1, 16), datetime(2026, 1, 17, 6, 0, tzinfo=UTC), id="standard-time"),
    ],
)
def test_a_contract_expires_an_hour_after_its_expiry_dates_new_york_midnight(expiry: date, expected: datetime) -> None:
    assert options_engine.expired_at_ns(expiry) == int(expected.timestamp()) * NS_PER_S


def test_the_last_date_never_expires() -> None:
    assert options_engine.expired_at_ns(date.max) == options_engine.NEVER_EXPIRES_NS

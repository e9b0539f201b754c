"""The engine is the Bytewax snapshot: it must deep-copy and pickle, and a copy must carry on identically."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

from events.config import OptionsConfig
from events.models import AnyEvent
from events.serde import encode
from operators.options_engine import OptionsEngine
from tests.factories import CALL, PUT, definition, quote, trade


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

"""The shared entry points of the keyed engines: one event, a batch and several batches consume alike."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from events.models import AnyEvent
from operators.tape_engine import TapeEngine
from tests.operators.test_options_engine import sweep_tape


class _Echo(TapeEngine[str]):
    """Records what it consumed, one output per event, plus one per call, so batching stays visible."""

    def __init__(self) -> None:
        self.calls = 0

    def _consume(self, events: Sequence[AnyEvent], out: list[str]) -> None:
        self.calls += 1
        out.extend(type(event).__name__ for event in events)

    def on_eof(self) -> list[str]:
        return ["eof"]


def test_the_three_entry_points_give_the_same_outputs_in_order() -> None:
    events = sweep_tape()
    one_by_one = _Echo()
    singles = [name for event in events for name in one_by_one.on_event(event)]
    batch = _Echo().on_events(events)
    runs = _Echo().on_runs([events[:3], events[3:]])
    assert singles == batch == runs == [type(event).__name__ for event in events]
    assert one_by_one.calls == len(events)


def test_the_base_leaves_consume_and_eof_to_the_engine() -> None:
    bare: TapeEngine[str] = TapeEngine()
    with pytest.raises(NotImplementedError):
        bare.on_events([])
    with pytest.raises(NotImplementedError):
        bare.on_eof()

"""The options step keys runs of events, not single events: same per-underlying order, same outputs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from events.models import AnyEvent
from flows.engine_steps import group_by_key, is_option_input
from flows.replay import run_events
from tests.factories import equity_quote
from tests.flows.tapes import two_underlying_tape


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=14), max_size=60))
def test_group_by_key_keeps_every_event_once_in_arrival_order_per_key(picks: list[int]) -> None:
    tape = two_underlying_tape()
    batch = [tape[i] for i in picks]
    runs = group_by_key(batch)
    assert [key for key, _ in runs] == list(dict.fromkeys(e.key for e in batch)), "keys in first-seen order"
    for key, run in runs:
        assert run == [e for e in batch if e.key == key]
    assert sum(len(run) for _, run in runs) == len(batch)


def test_option_inputs_are_selected_by_event_type() -> None:
    tape: list[AnyEvent] = [*two_underlying_tape(), equity_quote(0, "500.00", "500.01")]
    assert [is_option_input(e) for e in tape] == [e.event_type != "equity_quote" for e in tape]


def test_batch_size_does_not_change_the_outputs() -> None:
    tape = two_underlying_tape()
    outputs = [run_events(lambda: tape, workers=1, batch_size=size) for size in (1, 3, 4096)]
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]["flow.packets"], "the tape closes packets"

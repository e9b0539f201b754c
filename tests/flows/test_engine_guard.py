"""An event an engine raises on is dead-lettered with the exception, and the flow goes on without it."""

from __future__ import annotations

from typing import Any

import pytest

from events.models import AnyEvent, DeadLetter, DerivedEvent, EquityPrint, OptionPrint
from flows.engine_guard import ENGINE_ERROR
from flows.replay import run_events
from operators.kernel import AVAILABLE as KERNEL_AVAILABLE
from operators.options_engine import OptionsEngine
from tests.factories import PUT, equity_print, equity_quote, trade
from tests.flows.tapes import two_underlying_tape


@pytest.fixture(autouse=True)
def _reference_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The poison below patches the reference engine's per-print step, which the compiled kernel does not run
    (`operators.kernel`): these tests drive the reference engine."""
    monkeypatch.setenv("FLOWTAPE_KERNEL", "python")


def _poison(monkeypatch: pytest.MonkeyPatch, ids: set[str]) -> None:
    """Make the options engine raise on the prints of `ids` before touching its state (a bug, say)."""
    original = OptionsEngine._process

    def process(self: OptionsEngine, trade: OptionPrint, out: list[Any]) -> None:
        if trade.id in ids:
            raise ValueError(f"year {trade.ts_event} is out of range")
        original(self, trade, out)

    monkeypatch.setattr(OptionsEngine, "_process", process)


def _ids(derived: dict[str, list[DerivedEvent]]) -> dict[str, list[tuple[str, int]]]:
    return {topic: [(e.id, getattr(e, "revision", 0)) for e in items] for topic, items in derived.items()}


def _prints(tape: list[AnyEvent]) -> list[OptionPrint]:
    return [e for e in tape if isinstance(e, OptionPrint)]


@pytest.mark.parametrize("batch_size", [1, 3, 4096])
@pytest.mark.parametrize(
    "which",
    [
        pytest.param(0, id="held-for-its-quote-stream"),  # the first print waits, released by a later quote
        pytest.param(5, id="taken-at-once"),
    ],
)
def test_the_print_an_engine_raises_on_is_dead_lettered_and_the_rest_goes_on(
    monkeypatch: pytest.MonkeyPatch, batch_size: int, which: int
) -> None:
    tape = two_underlying_tape()
    poisoned = _prints(tape)[which]
    without = [e for e in tape if e.id != poisoned.id]
    expected = _ids(run_events(lambda: without, batch_size=batch_size))
    _poison(monkeypatch, {poisoned.id})
    letters: list[DeadLetter] = []
    derived = run_events(lambda: tape, batch_size=batch_size, dead_letters=letters)
    assert _ids(derived) == expected
    assert len(letters) == 1
    letter = letters[0]
    assert letter.error == ENGINE_ERROR
    assert letter.reason == f"ValueError: year {poisoned.ts_event} is out of range"
    assert letter.topic == "options.prints"
    assert letter.key == poisoned.underlying
    assert poisoned.id in letter.payload


def test_a_print_released_at_end_of_input_is_dead_lettered_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # After the last quote of its underlying: it waits for the quote stream until the end of input.
    last = trade(9_800, "3.05", 7, symbol=PUT, venue="XPHL")
    also = trade(9_900, "3.05", 9, symbol=PUT, venue="XCBO")
    tape = [*two_underlying_tape(), last, also]
    expected = _ids(run_events(lambda: [e for e in tape if e.id != last.id]))
    _poison(monkeypatch, {last.id})
    letters: list[DeadLetter] = []
    assert _ids(run_events(lambda: tape, dead_letters=letters)) == expected
    assert [letter.error for letter in letters] == [ENGINE_ERROR]
    assert last.id in letters[0].payload


def test_every_poisoned_print_is_dead_lettered_once_on_two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    tape = two_underlying_tape()
    poisoned = {p.id for p in _prints(tape)[::3]}
    expected = _ids(run_events(lambda: [e for e in tape if e.id not in poisoned]))
    _poison(monkeypatch, poisoned)
    letters: list[DeadLetter] = []
    assert _ids(run_events(lambda: tape, workers=2, batch_size=2, dead_letters=letters)) == expected
    assert sorted(i for i in poisoned for letter in letters if i in letter.payload) == sorted(poisoned)
    assert len(letters) == len(poisoned)


@pytest.mark.skipif(not KERNEL_AVAILABLE, reason="the kernel is not built")
@pytest.mark.parametrize("batch_size", [1, 3, 4096])
@pytest.mark.parametrize("which", [0, 5, -1], ids=["first", "middle", "last"])
def test_what_the_kernel_made_before_it_raised_is_kept(
    monkeypatch: pytest.MonkeyPatch, batch_size: int, which: int
) -> None:
    """The compiled kernel raises on a value it cannot take (a size past 64 bits, which validation refuses at
    the edge: built here without it). The records it made earlier in the same call are acted on, not lost: the
    outputs are those of the tape without that print."""
    monkeypatch.setenv("FLOWTAPE_KERNEL", "native")
    tape = two_underlying_tape()
    poisoned = _prints(tape)[which]
    huge = poisoned.model_copy(update={"size_contracts": 2**64})
    with_huge = [huge if e.id == poisoned.id else e for e in tape]
    without = [e for e in tape if e.id != poisoned.id]
    expected = _ids(run_events(lambda: without, batch_size=batch_size))
    assert expected["flow.packets"], "the tape closes packets"
    letters: list[DeadLetter] = []
    derived = run_events(lambda: with_huge, batch_size=batch_size, dead_letters=letters)
    assert _ids(derived) == expected
    assert [(letter.error, letter.key) for letter in letters] == [(ENGINE_ERROR, poisoned.underlying)]
    assert letters[0].reason.startswith("OverflowError")


@pytest.mark.skipif(not KERNEL_AVAILABLE, reason="the kernel is not built")
@pytest.mark.parametrize("batch_size", [1, 4096])
def test_what_the_equities_kernel_made_before_it_raised_is_kept(
    monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    """The same for the equities kernel: the trades joined before the print it cannot take are kept."""
    monkeypatch.setenv("FLOWTAPE_KERNEL", "native")
    tape: list[AnyEvent] = [equity_quote(0, "100.00", "100.02")]
    for i in range(12):
        tape.append(equity_print(100 + 200 * i, "100.01", 300 + i))
        tape.append(equity_quote(150 + 200 * i, "100.00", "100.02"))
    poisoned = tape[7]
    assert isinstance(poisoned, EquityPrint)
    huge = poisoned.model_copy(update={"size_shares": 2**64})
    without = [e for e in tape if e.id != poisoned.id]
    expected = _ids(run_events(lambda: without, batch_size=batch_size, run_options=False))
    assert expected["equities.trades"], "the tape joins trades"
    letters: list[DeadLetter] = []
    with_huge = [huge if e.id == poisoned.id else e for e in tape]
    derived = run_events(lambda: with_huge, batch_size=batch_size, run_options=False, dead_letters=letters)
    assert _ids(derived) == expected
    assert [(letter.error, letter.key) for letter in letters] == [(ENGINE_ERROR, "SPY")]

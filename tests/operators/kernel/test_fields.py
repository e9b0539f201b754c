"""Reading and filling field dicts by entry (`fields.rs`): straight from the dict's entry table when the layout
probe allows it, through `PyDict_Next` otherwise, and the hash lookup for keys that are not the interned names.
Every way gives the same events."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import operators.construct as construct
from cli.bench.throughput import equities_loop, plain_loop
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent
from events.wire import set_dict
from flows.engine_steps import is_equity_input
from operators.kernel import AVAILABLE

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the kernel is not built")


@pytest.fixture(scope="module")
def tape() -> list[AnyEvent]:
    return list(SyntheticMarket(SyntheticConfig(seed=5, profile="firehose", duration_s=2)).events())


@pytest.fixture(params=[True, False], ids=["validated", "kernel-built"])
def validate(request: pytest.FixtureRequest) -> Iterator[bool]:
    previous = construct.VALIDATE_EVENTS
    construct.VALIDATE_EVENTS = request.param
    yield request.param
    construct.VALIDATE_EVENTS = previous


@pytest.fixture
def native() -> Iterator[Any]:
    from operators.kernel import _native

    yield _native
    _native.set_direct(True)


def _run(tape: list[AnyEvent]) -> list[str]:
    options: list[Any] = []
    plain_loop(tape, OptionsConfig(), keep=options)
    trades: list[Any] = []
    equities_loop([e for e in tape if is_equity_input(e)], EquitiesConfig(), keep=trades)
    return [event.model_dump_json() for event in options + trades]


def test_this_interpreter_reads_entries_directly(native: Any) -> None:
    if sys.implementation.name == "cpython" and (3, 11) <= sys.version_info[:2] <= (3, 13):
        assert native.set_direct(True) is True
    assert native.set_direct(False) is False


def test_direct_and_api_reads_give_the_same_events(tape: list[AnyEvent], validate: bool, native: Any) -> None:
    native.set_direct(True)
    direct = _run(tape)
    native.set_direct(False)
    through_api = _run(tape)
    assert direct == through_api
    assert len(direct) > 1000


def _with_fresh_keys(event: AnyEvent) -> AnyEvent:
    """The event with its field dict under equal key strings that are not the interned field names."""
    clone = copy.copy(event)
    set_dict(clone, {"".join(list(key)): value for key, value in event.__dict__.items()})
    assert all(a is not b for a, b in zip(clone.__dict__, event.__dict__, strict=True) if len(a) > 1)
    return clone


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "api"])
def test_keys_that_are_not_the_interned_names_read_the_same(
    tape: list[AnyEvent], validate: bool, native: Any, direct: bool
) -> None:
    native.set_direct(direct)
    plain = _run(tape)
    # Every third event under fresh keys: positions learned on one kind of dict meet the other kind.
    mixed = [_with_fresh_keys(event) if i % 3 == 0 else event for i, event in enumerate(tape)]
    assert _run(mixed) == plain

"""Events the kernel builds itself (`make.rs`, production: `VALIDATE_EVENTS` off) are the events
`Constructor.build` makes and pydantic validates: same type, fields, fields set, JSON and equality; frozen,
picklable and copyable like any model instance."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

import operators.construct as construct
from cli.bench.throughput import equities_loop, plain_loop
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, EquityTrade, Packet
from flows.engine_steps import is_equity_input
from operators.kernel import AVAILABLE

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the kernel is not built")


@pytest.fixture(scope="module")
def tape() -> list[AnyEvent]:
    return list(SyntheticMarket(SyntheticConfig(seed=11, profile="firehose", duration_s=2)).events())


@pytest.fixture
def kernel_builds() -> Iterator[None]:
    """Let the kernel build its events itself, as production does."""
    previous = construct.VALIDATE_EVENTS
    construct.VALIDATE_EVENTS = False
    yield
    construct.VALIDATE_EVENTS = previous


def _options(tape: list[AnyEvent]) -> list[Any]:
    out: list[Any] = []
    plain_loop(tape, OptionsConfig(), keep=out)
    return out


def _equities(tape: list[AnyEvent]) -> list[Any]:
    out: list[Any] = []
    equities_loop([e for e in tape if is_equity_input(e)], EquitiesConfig(), keep=out)
    return out


@pytest.mark.parametrize(("run", "model"), [(_options, Packet), (_equities, EquityTrade)])
def test_kernel_built_events_are_the_validated_ones(tape: list[AnyEvent], run: Any, model: type[Any]) -> None:
    validated = run(tape)  # VALIDATE_EVENTS on (the suite's default): built through pydantic and compared
    previous = construct.VALIDATE_EVENTS
    construct.VALIDATE_EVENTS = False
    try:
        built = run(tape)
    finally:
        construct.VALIDATE_EVENTS = previous
    ours = [event for event in built if type(event) is model]
    theirs = [event for event in validated if type(event) is model]
    assert len(ours) == len(theirs) > 100
    for event, expected in zip(ours, theirs, strict=True):
        assert event == expected
        assert event.__dict__ == expected.__dict__
        assert list(event.__dict__) == list(model.model_fields)
        assert event.model_fields_set == expected.model_fields_set
        assert event.__pydantic_extra__ is None
        assert event.__pydantic_private__ is None
        assert event.model_dump_json() == expected.model_dump_json()
    assert built == validated


@pytest.mark.usefixtures("kernel_builds")
def test_a_kernel_built_packet_behaves_like_a_model(tape: list[AnyEvent]) -> None:
    packet = next(event for event in _options(tape) if type(event) is Packet)
    with pytest.raises(Exception, match="frozen"):
        packet.size_contracts = 1  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(packet)) == packet
    assert copy.deepcopy(packet) == packet
    assert packet.model_copy(update={"size_contracts": 7}).size_contracts == 7
    assert Packet.model_validate_json(packet.model_dump_json()) == packet

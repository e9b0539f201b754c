"""The embedded flow (Bytewax, in-process) on 1 and 2 workers against the same operators in a plain loop."""

from __future__ import annotations

from collections import Counter

import pytest

from cli.bench import plain_loop
from events.config import OptionsConfig
from events.models import Alert
from events.serde import to_json_line
from flows.replay import run_events
from operators.options_engine import OptionsEngine
from tests.flows.tapes import two_underlying_tape


def _lines(derived: dict[str, list[object]]) -> dict[str, list[str]]:
    return {topic: [to_json_line(e) for e in items] for topic, items in derived.items()}  # type: ignore[arg-type]


@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
def test_flow_emits_expected_alerts(workers: int) -> None:
    derived = run_events(two_underlying_tape, workers=workers, batch_size=3)
    alerts = derived["flow.alerts"]
    assert [(a.underlying, a.kind, a.classifiers, a.direction) for a in alerts] == [
        ("SPY", "sweep", ("large_sweep",), "bullish"),
        ("QQQ", "sweep", ("large_sweep", "unusual_spike"), "bullish"),  # 550 contracts for $143k
        ("SPY", "block", ("block_trade", "unusual_spike", "put_write"), "bullish"),  # 900 puts sold at the bid
    ]
    assert all(isinstance(a, Alert) for a in alerts)
    assert Counter(p.kind for p in derived["flow.packets"]) == {"single": 2, "sweep": 2, "block": 1}


def test_two_workers_give_identical_bytes() -> None:
    tape = two_underlying_tape()
    one = _lines(run_events(lambda: tape, workers=1, batch_size=2))  # type: ignore[arg-type]
    two = _lines(run_events(lambda: tape, workers=2, batch_size=5))  # type: ignore[arg-type]
    assert one == two


def test_flow_equals_plain_loop() -> None:
    config = OptionsConfig()
    tape = two_underlying_tape()
    engines: dict[str, OptionsEngine] = {}
    expected = []
    for event in tape:
        engine = engines.setdefault(event.key, OptionsEngine(config))
        expected.extend(engine.on_event(event))
    for engine in engines.values():
        expected.extend(engine.on_eof())
    derived = run_events(lambda: tape, config=config)
    got = sorted((e.id, e.event_type, getattr(e, "revision", 0)) for items in derived.values() for e in items)
    assert got == sorted((e.id, e.event_type, getattr(e, "revision", 0)) for e in expected)
    assert plain_loop(tape, config) == len(expected)


def test_stale_quote_is_reported_on_the_packet() -> None:
    derived = run_events(two_underlying_tape)
    stale = [p for p in derived["flow.packets"] if p.placement_counts.get("STALE")]
    assert len(stale) == 1
    assert stale[0].stale_ratio == 1.0
    assert stale[0].nbbo_coverage == 0.0

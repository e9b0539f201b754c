"""The options step keys runs of events, not single events: same per-underlying order, same outputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.settings import Settings
from events.models import AnyEvent, ClassifierHit
from flows.baselines_job import load_baselines
from flows.engine_steps import baselines_by_underlying, group_by_key, is_option_input
from flows.replay import run_events
from operators.options_engine import OptionsOutput
from tests.factories import CALL, equity_quote, occ, quote, trade, volume_baseline
from tests.flows.tapes import two_underlying_tape

QQQ = occ("480", expiry="2026-03-20", root="QQQ")


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


# ------------------------------------------------------------------------------- historical baselines


def _bucket_tape() -> list[AnyEvent]:
    """120 contracts at the ask in the 09:30 bucket on CALL, and a quiet contract on another underlying."""
    return [
        quote(0, "1.00", "1.10"),
        trade(10, "1.10", 120),
        quote(20, "1.00", "1.10"),
        quote(0, "2.00", "2.10", symbol=QQQ),
        trade(15, "2.10", 5, symbol=QQQ),
        quote(30, "2.00", "2.10", symbol=QQQ),
    ]


def _volume_hits(derived: dict[str, list[OptionsOutput]]) -> list[ClassifierHit]:
    return [
        h for h in derived.get("flow.hits", []) if isinstance(h, ClassifierHit) and h.classifier == "unusual_volume"
    ]


def test_history_reaches_each_engine_before_its_first_event() -> None:
    tape = _bucket_tape()
    assert _volume_hits(run_events(lambda: tape)) == [], "no history: the bucket clause abstains"
    history = baselines_by_underlying([volume_baseline(CALL, 10.0), volume_baseline(QQQ, 10.0)])
    assert set(history) == {"SPY", "QQQ"}
    runs = [run_events(lambda: tape, history=history, workers=w, batch_size=b) for w, b in ((1, 4096), (2, 1))]
    assert runs[0] == runs[1], "same outputs on 1 and 2 workers, whatever the batching"
    (hit,) = _volume_hits(runs[0])
    assert hit.symbol == CALL
    assert hit.metrics["bucket_baseline_contracts"] == 10.0


def test_load_baselines_is_off_or_tolerates_redis_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_baselines(Settings(baselines="off")) == []
    assert load_baselines(Settings(redis_url="redis://127.0.0.1:1/0")) == []
    err = capsys.readouterr().err
    assert "no volume baselines" in err
    assert "FLOWTAPE_BASELINES=off" in err

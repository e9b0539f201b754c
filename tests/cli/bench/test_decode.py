"""`[decode]`: raw messages are encoded as the topics carry them, decode back to the same events, and every kind
gets its line."""

from __future__ import annotations

import re

import pytest

from cli.bench.decode import KINDS, decode_all, messages, run_decode
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.models import AnyEvent
from events.serde import decode

LINE = re.compile(r"^  (\w+) +: +([\d,]+) msgs/s  \(([\d.]+) us/msg, ([\d,]+) msgs", re.M)


@pytest.fixture(scope="module")
def tape() -> list[AnyEvent]:
    return list(SyntheticMarket(SyntheticConfig(seed=5, profile="active", duration_s=2)).events())


def test_messages_are_each_kind_on_its_topic_and_decode_back(tape: list[AnyEvent]) -> None:
    by_kind, mixed = messages(tape, per_kind=50, mixed=200)
    assert set(by_kind) == set(KINDS)
    for kind, sample in by_kind.items():
        assert 0 < len(sample) <= 50, kind
        for topic, data in sample:
            event = decode(topic, data)
            tcbbo = getattr(event, "nbbo_ask_e9", None) is not None
            assert (event.event_type + "_tcbbo" if tcbbo else event.event_type) == kind
    assert len(mixed) == 200
    assert decode_all(mixed) == 200
    raw = [e for e in tape if e.event_type in {"option_print", "option_nbbo", "equity_print", "equity_quote"}]
    assert [decode(topic, data) for topic, data in mixed] == raw[:200]


def test_section_prints_a_rate_per_kind_and_overall(tape: list[AnyEvent], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_decode(tape, repeat=1, per_kind=30, mixed=100)
    out = capsys.readouterr().out
    assert out.startswith("[decode] ")
    lines = LINE.findall(out)
    assert [label for label, *_ in lines] == [*KINDS, "overall"]
    for label, rate, us, count in lines:
        assert int(count.replace(",", "")) == (100 if label == "overall" else 30)
        assert float(rate.replace(",", "")) == pytest.approx(1e6 / float(us), rel=0.02, abs=1)

"""Packets are constructed without re-validation; these prove the constructed ones equal the validated ones.

The test session runs with `operators.construct.VALIDATE_EVENTS` on (tests/conftest.py): every packet built
in any test is also built through pydantic validation, and the one-print fast path is checked against the
general builder. Here the recorded golden input goes through the engine both ways (production runs with it
off) and must give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from events.config import OptionsConfig
from events.models import AnyEvent, Packet
from events.serde import decode_any, to_json_line
from operators import construct, packets
from operators.nbbo_join import Quote
from operators.options_engine import OptionsEngine
from operators.packets import build_packet
from tests.factories import placed, trade

GOLDEN_INPUT = Path(__file__).resolve().parents[1] / "golden" / "options_small" / "input.jsonl"


def _replay(events: list[AnyEvent]) -> list[str]:
    engines: dict[str, OptionsEngine] = {}
    out: list[str] = []
    for event in events:
        engine = engines.setdefault(event.key, OptionsEngine(OptionsConfig()))
        out.extend(to_json_line(o) for o in engine.on_event(event))
    for engine in engines.values():
        out.extend(to_json_line(o) for o in engine.on_eof())
    return out


def test_golden_input_gives_the_same_bytes_constructed_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = GOLDEN_INPUT.read_text(encoding="utf-8").splitlines()
    events = [decode_any(line) for line in lines if line.strip()]
    monkeypatch.setattr(construct, "VALIDATE_EVENTS", True)
    validated = _replay(events)  # every packet checked field by field against pydantic validation
    monkeypatch.setattr(construct, "VALIDATE_EVENTS", False)
    constructed = _replay(events)
    assert sum('"event_type":"packet"' in line for line in constructed) > 100
    assert constructed == validated


def test_constructed_packet_is_frozen_and_equal_to_validated() -> None:
    packet = build_packet([placed(trade(0, "1.00", 10))], OptionsConfig())
    again = Packet.model_validate(packet.model_dump())
    assert packet == again
    assert packet.model_dump_json() == again.model_dump_json()
    with pytest.raises(ValueError, match="frozen"):
        packet.kind = "block"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("nbbo_coverage", 1, "nbbo_coverage", id="int-for-float"),
        pytest.param("print_count", True, "print_count", id="bool-for-int"),
        pytest.param("stale_ratio", 2.0, "less than or equal to 1", id="out-of-range"),
        pytest.param("id", "not-the-hash", "packet id", id="wrong-id"),
    ],
)
def test_validation_path_catches_a_constructed_packet_that_differs(field: str, value: object, message: str) -> None:
    packet = build_packet([placed(trade(0, "1.00", 10))], OptionsConfig())
    fields = dict(packet.__dict__)
    fields[field] = value
    with pytest.raises((AssertionError, ValueError), match=message):
        packets._construct(fields)


def test_validation_path_catches_fields_out_of_model_order() -> None:
    packet = build_packet([placed(trade(0, "1.00", 10))], OptionsConfig())
    fields = dict(reversed(packet.__dict__.items()))
    with pytest.raises(AssertionError, match="model order"):
        packets._construct(fields)


@pytest.mark.parametrize("prints", [1, 2, 7], ids=["one", "two", "seven"])
def test_packet_id_is_the_derived_event_id(prints: int) -> None:
    from events.ids import _digest, derived_event_id

    packet = build_packet([placed(trade(i, "1.00", 10)) for i in range(prints)], OptionsConfig())
    assert packet.id == derived_event_id("packet", packet.print_ids)
    # The fast shared rule is still the documented one: blake2b-128 over the unit-separated parts.
    assert packet.id == _digest(("packet", *packet.print_ids))


@pytest.mark.parametrize(
    ("placement", "price", "size", "conditions"),
    [
        pytest.param("A", "1.10", 10, (), id="buy"),
        pytest.param("BB", "0.99", 700, (), id="sell-block"),
        pytest.param("MID", "1.05", 3, ("multi_leg",), id="complex"),
        pytest.param("STALE", "1.05", 3, ("iso", "late"), id="stale"),
        pytest.param("MISSING", "1.05", 3, ("cross",), id="missing-cross"),
    ],
)
def test_one_print_path_equals_the_general_builder(
    placement: str, price: str, size: int, conditions: tuple[str, ...]
) -> None:
    q = Quote(0, 1_000_000_000, 1_100_000_000, 40, 60)
    one = placed(trade(0, price, size, conditions=conditions), placement, quote=q)  # type: ignore[arg-type]
    params = packets.PacketParams.of(OptionsConfig())
    under = (501_230_000_000, "implied", 400, 500_000_000_000)
    assert packets._build_single(one, params, None, under) == packets._build_many([one], params, None, under)

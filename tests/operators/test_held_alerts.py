"""Alerts held for the structure detector: released alone, folded into a structure's alert, in packet order."""

from __future__ import annotations

from events.config import OptionsConfig
from events.models import Alert, ClassifierHit, Packet, Structure
from operators.alerts import AlertBook
from operators.classifiers import PacketContext, classify_packet
from operators.held_alerts import HeldAlerts
from operators.structures import Decision
from tests.factories import leg, occ, structure

CFG = OptionsConfig()


def _hits(packet: Packet) -> list[ClassifierHit]:
    hits = classify_packet(packet, PacketContext(open_interest_contracts=1), CFG)
    assert hits, "the packet fires a classifier"
    return hits


def _legs() -> tuple[Packet, Packet]:
    return (
        leg(occ("580"), side="buy", size=1_000, price="5.00"),
        leg(occ("585"), side="sell", size=1_000, price="2.50"),
    )


def test_a_packet_released_alone_raises_its_alert() -> None:
    held = HeldAlerts(CFG, AlertBook(CFG))
    packet = _legs()[0]
    assert held.hold(packet, _hits(packet)), "a fresh packet waits for the detector"
    assert len(held) == 1
    assert held.holds(packet.symbol)
    out = held.apply([Decision(None, (packet.id,))])
    assert [type(o) for o in out] == [Alert]
    assert len(held) == 0
    held.assert_empty()


def test_legs_alerts_fold_into_the_structures() -> None:
    held = HeldAlerts(CFG, AlertBook(CFG))
    a, b = _legs()
    for packet in (a, b):
        held.hold(packet, _hits(packet))
    spread = structure(a, b)
    out = held.apply([Decision(spread, spread.leg_ids)])
    alerts = [o for o in out if isinstance(o, Alert)]
    assert isinstance(out[0], Structure)
    assert len(alerts) == 1, "one alert speaks for both legs"
    assert alerts[0].subject_type == "structure"
    held.assert_empty()


def test_an_alert_waits_behind_its_contracts_earlier_one() -> None:
    held = HeldAlerts(CFG, AlertBook(CFG))
    first = leg(occ("580"), side="buy", size=1_000, price="5.00", at_ms=30)
    second = leg(occ("580"), side="buy", size=1_000, price="5.00", at_ms=900, print_ids=("later",))
    held.hold(first, _hits(first))
    held.hold(second, _hits(second))
    assert held.release(second) == [], "it waits behind the first, still undecided"
    out = held.apply([Decision(None, (first.id,))])
    assert [o.subject_ids[0] for o in out if isinstance(o, Alert)][:1] == [first.id]
    assert len(held) == 0


def test_releasing_a_packet_the_detector_already_decided_does_nothing() -> None:
    # A late packet (or one arriving at a full buffer) is decided as it arrives, before the engine asks whether it
    # can pair: its alert is already raised, and the release that follows must not raise it again (or fail).
    held = HeldAlerts(CFG, AlertBook(CFG))
    packet = _legs()[0]
    assert held.hold(packet, _hits(packet))
    raised = held.apply([Decision(None, (packet.id,))])
    assert [type(o) for o in raised] == [Alert]
    assert held.release(packet) == []
    held.assert_empty()

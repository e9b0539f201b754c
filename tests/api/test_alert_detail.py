"""GET /alerts/{id}: an alert with its hits, its packets or structure, every member print and its quote, read
back from a real embedded store that holds a replay's raw and derived events."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from fastapi.testclient import TestClient

from connectors.clickhouse.store import EmbeddedStore
from events.models import Alert, AnyEvent, Packet
from events.topics import topic_for
from flows.replay import run_events
from tests.connectors.clickhouse import factories as f
from tests.factories import CALL, quote, trade
from tests.flows.tapes import two_underlying_tape


def _stored_replay(store: EmbeddedStore, tape: list[AnyEvent]) -> dict[str, list[object]]:
    """Store a tape's raw events and what the flows derive from it; return the derived events by topic."""
    by_topic: dict[str, list[AnyEvent]] = {}
    for event in tape:
        by_topic.setdefault(topic_for(event.event_type), []).append(event)
    for topic, events in by_topic.items():
        store.insert(topic, events)
    derived = run_events(lambda: tape)
    for topic, items in derived.items():
        store.insert(topic, items)
    return cast(dict[str, list[object]], derived)


def test_a_packet_alert_cites_its_hits_packet_and_every_print_with_its_quote(
    client: TestClient, store: EmbeddedStore
) -> None:
    derived = _stored_replay(store, two_underlying_tape())
    alert = next(a for a in cast(list[Alert], derived["flow.alerts"]) if a.subject_type == "packet")
    body = client.get(f"/alerts/{alert.id}").json()
    assert body["alert"]["id"] == alert.id
    assert [h["id"] for h in body["hits"]] == list(alert.hit_ids)
    packets = {p.id: p for p in cast(list[Packet], derived["flow.packets"])}
    assert [p["id"] for p in body["packets"]] == list(alert.subject_ids)
    members = [pid for sid in alert.subject_ids for pid in packets[sid].print_ids]
    assert sorted(p["id"] for p in body["prints"]) == sorted(members)
    assert body["missing_prints"] == 0
    assert body["structure"] is None
    for shown in body["prints"]:
        # A quote-stream tape: each print is read against the latest consolidated quote at or before it.
        assert shown["quote_source"] == "quote_stream", shown
        assert shown["quote"]["ts_event"] <= shown["ts_event"]
    assert [p["ts_event"] for p in body["prints"]] == sorted(p["ts_event"] for p in body["prints"])


def test_a_print_carrying_its_nbbo_is_read_against_it(client: TestClient, store: EmbeddedStore) -> None:
    tape: list[AnyEvent] = [
        quote(0, "1.00", "1.10", symbol=CALL),  # a stored quote the print's own NBBO takes precedence over
        *(trade(10 + i, "4.20", 200, symbol=CALL, venue=v, conditions=("iso",), nbbo=("4.00", "4.20"))
          for i, v in enumerate(("XCBO", "XISE", "XPHL", "XBOX"))),
    ]  # fmt: skip
    derived = _stored_replay(store, tape)
    alert = cast(list[Alert], derived["flow.alerts"])[0]
    prints = client.get(f"/alerts/{alert.id}").json()["prints"]
    assert len(prints) == 4
    for shown in prints:
        assert shown["quote_source"] == "print"
        assert (Decimal(shown["quote"]["bid"]), Decimal(shown["quote"]["ask"])) == (Decimal("4.00"), Decimal("4.20"))


def test_prints_the_store_does_not_hold_are_counted(client: TestClient, store: EmbeddedStore) -> None:
    packet = f.packet(0)
    alert = f.alert(0)
    store.insert("flow.packets", [packet])
    store.insert("flow.alerts", [alert])
    assert alert.subject_ids == (packet.id,)
    body = client.get(f"/alerts/{alert.id}").json()
    assert body["prints"] == []
    assert body["missing_prints"] == len(packet.print_ids)


def test_an_unknown_alert_is_404_and_a_malformed_id_422(client: TestClient) -> None:
    assert client.get(f"/alerts/{'0' * 32}").status_code == 404
    assert client.get("/alerts/not-an-id").status_code == 422


def test_a_structure_alert_cites_its_structure_and_its_legs_prints(client: TestClient, store: EmbeddedStore) -> None:
    from connectors.synthetic import SyntheticConfig, SyntheticMarket

    tape = list(SyntheticMarket(SyntheticConfig(seed=7, profile="active", duration_s=20), keep_truth=False).events())
    derived = _stored_replay(store, tape)
    alert = next(a for a in cast(list[Alert], derived["flow.alerts"]) if a.subject_type == "structure")
    body = client.get(f"/alerts/{alert.id}").json()
    assert body["structure"]["id"] == alert.subject_id
    legs = body["structure"]["leg_ids"]
    assert {p["id"] for p in body["packets"]} >= set(legs)
    members = {pid for p in body["packets"] for pid in p["print_ids"]}
    assert {p["id"] for p in body["prints"]} == members
    assert body["missing_prints"] == 0
    assert all(p["quote_source"] in ("print", "quote_stream") for p in body["prints"])

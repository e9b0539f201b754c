"""Offline tests of the Kafka mapping: keys, topics, JSON values, dead letters, counters, specs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from bytewax.connectors.kafka import KafkaSinkMessage, KafkaSourceMessage
from hypothesis import given
from hypothesis import strategies as st

from connectors.kafka import (
    BrokerUnavailable,
    Counters,
    DeliveryError,
    EventProducer,
    TopicSpec,
    dead_letter_message,
    decode_message,
    dlq_topic,
    message_key,
    to_sink_message,
    wait_for_broker,
)
from connectors.kafka.admin import _addresses, _as_specs, _with_dlqs
from connectors.kafka.messages import SourceMessage
from deploy.topics import DERIVED_RETENTION_MS, RAW_RETENTION_MS, TOPICS, topic_names, topic_specs
from events.ids import raw_event_id
from events.models import DeadLetter, EquityPrint, EquityQuote, Event, OpenInterest, OptionPrint
from events.serde import encode
from events.topics import ALL_TOPICS, DERIVED_TOPICS, RAW_TOPICS
from events.units import price_e9
from tests.factories import PUT, T0, quote, trade


def equity_print(symbol: str = "AAPL", *, size: int = 100, seq: int = 1) -> EquityPrint:
    return EquityPrint(
        id=raw_event_id("test", "trades", symbol, T0, seq),
        provider="test",
        ts_event=T0,
        sequence=seq,
        symbol=symbol,
        venue="FINN",
        venue_id="FINN",
        off_exchange=True,
        price_e9=price_e9("187.25"),
        size_shares=size,
    )


def equity_quote(symbol: str = "NVDA") -> EquityQuote:
    return EquityQuote(
        id=raw_event_id("test", "quotes", symbol, T0, 1),
        provider="test",
        ts_event=T0,
        symbol=symbol,
        bid_e9=price_e9("120.01"),
        ask_e9=price_e9("120.02"),
        bid_size_shares=300,
        ask_size_shares=200,
    )


def open_interest() -> OpenInterest:
    return OpenInterest(
        id=raw_event_id("test", "statistics", PUT, T0, 1),
        provider="test",
        ts_event=T0,
        symbol=PUT,
        underlying="SPY",
        open_interest_contracts=12_345,
    )


def source(topic: str | None, value: bytes | None, *, key: bytes | None = b"SPY", offset: int = 7) -> SourceMessage:
    return KafkaSourceMessage(key=key, value=value, topic=topic, partition=2, offset=offset)


EVENTS: list[tuple[Event, bytes, str]] = [
    (trade(0, "1.25", 10), b"SPY", "options.prints"),
    (quote(0, "1.20", "1.30"), b"SPY", "options.nbbo"),
    (equity_print("AAPL"), b"AAPL", "equities.prints"),
    (equity_quote("NVDA"), b"NVDA", "equities.quotes"),
    (open_interest(), b"SPY", "refdata.options"),
]
EVENT_IDS = ["option_print", "option_nbbo", "equity_print", "equity_quote", "open_interest"]


@pytest.mark.parametrize(("event", "key", "topic"), EVENTS, ids=EVENT_IDS)
def test_sink_message_is_keyed_by_underlying_on_its_topic(event: Event, key: bytes, topic: str) -> None:
    msg = to_sink_message(event)

    assert isinstance(msg, KafkaSinkMessage)
    assert message_key(event) == key
    assert (msg.key, msg.topic, msg.partition, msg.timestamp) == (key, topic, None, 0)
    assert msg.value == encode(event)
    assert json.loads(msg.value)["event_type"] == event.event_type


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [(None, "options.prints"), ("", "options.prints"), ("replay-1", "replay-1.options.prints")],
    ids=["none", "empty", "replay"],
)
def test_sink_message_topic_is_namespaced(namespace: str | None, expected: str) -> None:
    assert to_sink_message(trade(0, "1.25", 10), namespace).topic == expected


def test_namespace_is_validated() -> None:
    with pytest.raises(ValueError, match="namespace"):
        to_sink_message(trade(0, "1.25", 10), "bad.ns")


@pytest.mark.parametrize(("event", "key", "topic"), EVENTS, ids=EVENT_IDS)
@pytest.mark.parametrize("namespace", [None, "r1"], ids=["live", "replay"])
def test_decode_round_trips_a_produced_message(event: Event, key: bytes, topic: str, namespace: str | None) -> None:
    sink = to_sink_message(event, namespace)
    assert sink.topic is not None

    assert decode_message(source(sink.topic, sink.value, key=sink.key)) == event


def _payload(**changes: Any) -> bytes:
    obj = json.loads(encode(trade(0, "1.25", 10)))
    obj.update(changes)
    return json.dumps(obj).encode()


NON_UTF8 = b"\xff\xfe{not json"

BAD_PAYLOADS = [
    pytest.param(b"{not json", "invalid_json", None, "{not json", id="malformed_json"),
    pytest.param(b"[1, 2]", "invalid_json", None, "[1, 2]", id="json_array"),
    pytest.param(b"", "invalid_json", None, "", id="empty_bytes"),
    pytest.param(NON_UTF8, "invalid_json", None, "b64:" + base64.b64encode(NON_UTF8).decode(), id="non_utf8"),
    pytest.param(_payload(size_contracts=0), "invalid_field", "size_contracts", None, id="zero_size"),
    pytest.param(_payload(price_e9="abc"), "invalid_field", "price_e9", None, id="wrong_type"),
    pytest.param(_payload(surprise=1), "invalid_field", "surprise", None, id="unknown_field"),
    pytest.param(_payload(schema_version=2), "invalid_field", "schema_version", None, id="future_schema"),
    pytest.param(_payload(event_type="option_nbbo"), "invalid_field", "event_type", None, id="wrong_event_type"),
]


@pytest.mark.parametrize(("value", "error", "field", "payload"), BAD_PAYLOADS)
def test_bad_payload_becomes_a_dead_letter(value: bytes, error: str, field: str | None, payload: str | None) -> None:
    dl = decode_message(source("options.prints", value))

    assert isinstance(dl, DeadLetter)
    assert (dl.topic, dl.partition, dl.offset, dl.key) == ("options.prints", 2, 7, "SPY")
    assert dl.error == error
    assert dl.field == field
    assert dl.reason
    assert dl.payload == (value.decode() if payload is None else payload)


def test_unknown_event_type_on_a_union_topic_is_named() -> None:
    obj = json.loads(encode(open_interest()))
    obj["event_type"] = "mystery"

    dl = decode_message(source("refdata.options", json.dumps(obj).encode()))

    assert isinstance(dl, DeadLetter)
    assert (dl.error, dl.field) == ("unknown_event_type", "event_type")


@pytest.mark.parametrize(
    ("topic", "value", "error"),
    [
        ("options.prints", None, "empty_payload"),
        ("not.a.topic", b"{}", "unknown_topic"),
        (None, b"{}", "unknown_topic"),
    ],
    ids=["tombstone", "unknown_topic", "no_topic"],
)
def test_unusable_message_becomes_a_dead_letter(topic: str | None, value: bytes | None, error: str) -> None:
    dl = decode_message(source(topic, value))

    assert isinstance(dl, DeadLetter)
    assert dl.error == error


@pytest.mark.parametrize(
    ("read_from", "namespace", "expected"),
    [
        ("options.prints", None, "options.prints.dlq"),
        ("r1.options.prints", None, "r1.options.prints.dlq"),
        ("r1.options.prints", "r1", "r1.options.prints.dlq"),
        ("options.prints", "r1", "r1.options.prints.dlq"),
        ("flow.packets", "flow", "flow.flow.packets.dlq"),
        ("flow.flow.packets", "flow", "flow.flow.packets.dlq"),
    ],
    ids=["live", "read_namespaced", "same_namespace", "bare_plus_namespace", "ns_like_topic", "ns_like_read"],
)
def test_dead_letter_goes_to_the_dlq_of_the_topic_read(read_from: str, namespace: str | None, expected: str) -> None:
    dl = decode_message(source(read_from, b"{nope", key=b"QQQ"))
    assert isinstance(dl, DeadLetter)

    msg = dead_letter_message(dl, namespace)

    assert dlq_topic(dl, namespace) == expected
    assert (msg.topic, msg.key) == (expected, b"QQQ")
    assert DeadLetter.model_validate_json(msg.value) == dl


def test_dead_letter_without_key_has_no_message_key() -> None:
    dl = decode_message(source("options.prints", b"{nope", key=None))
    assert isinstance(dl, DeadLetter)

    assert dead_letter_message(dl).key is None


@given(
    price_cents=st.integers(min_value=1, max_value=10**9),
    size=st.integers(min_value=1, max_value=10**6),
    at_ms=st.integers(min_value=0, max_value=10**9),
    symbol=st.sampled_from(["AAPL", "BRK.B", "SPY", "X"]),
    off_exchange=st.booleans(),
    conditions=st.lists(st.sampled_from(["@", "T", "I", "4"]), max_size=3).map(tuple),
)
def test_decode_inverts_encode_for_equity_prints(
    price_cents: int, size: int, at_ms: int, symbol: str, off_exchange: bool, conditions: tuple[str, ...]
) -> None:
    event = equity_print(symbol, size=size).model_copy(
        update={
            "price_e9": price_cents * 10_000_000,
            "ts_event": T0 + at_ms * 1_000_000,
            "off_exchange": off_exchange,
            "conditions": conditions,
        }
    )
    sink = to_sink_message(event)
    assert sink.topic is not None

    assert decode_message(source(sink.topic, sink.value, key=sink.key)) == event
    assert sink.key == symbol.encode()


@given(price_e9=st.integers(min_value=1, max_value=10**15), size=st.integers(min_value=1, max_value=10**5))
def test_decode_inverts_encode_for_option_prints(price_e9: int, size: int) -> None:
    event = trade(0, "1.00", 1).model_copy(update={"price_e9": price_e9, "size_contracts": size})

    decoded = decode_message(source("options.prints", to_sink_message(event).value))

    assert isinstance(decoded, OptionPrint)
    assert decoded == event


# ------------------------------------------------------------------------------------------ counters


def test_counters_sum_over_labels_and_snapshot_sorted() -> None:
    c = Counters()
    c.inc("dead_lettered", topic="options.prints", error="invalid_json")
    c.inc("dead_lettered", 2, topic="options.prints", error="invalid_field")
    c.inc("decoded", 5, topic="options.nbbo")

    assert c.value("dead_lettered") == 3
    assert c.value("dead_lettered", error="invalid_field") == 2
    assert c.value("produced") == 0
    assert c.snapshot() == {
        'dead_lettered{error="invalid_field",topic="options.prints"}': 2,
        'dead_lettered{error="invalid_json",topic="options.prints"}': 1,
        'decoded{topic="options.nbbo"}': 5,
    }
    text = c.to_prometheus()
    assert "# TYPE flowtape_kafka_dead_lettered_total counter" in text
    assert 'flowtape_kafka_decoded_total{topic="options.nbbo"} 5\n' in text
    c.reset()
    assert c.snapshot() == {}
    assert c.to_prometheus() == ""


def test_producer_raises_undelivered_messages_at_flush() -> None:
    # Nothing listens on port 9: delivery times out locally, no broker needed.
    counters = Counters()
    producer = EventProducer("127.0.0.1:9", counters=counters, config={"message.timeout.ms": 200, "log_level": 0})
    producer.produce(trade(0, "1.25", 10))
    with pytest.raises(DeliveryError, match="1 message") as info:
        producer.close(timeout_s=5)

    assert info.value.count == 1
    assert "options.prints" in info.value.errors[0]
    assert counters.snapshot() == {'delivery_errors{topic="options.prints"}': 1}
    with pytest.raises(RuntimeError, match="closed"):
        producer.produce(trade(0, "1.25", 10))


# ------------------------------------------------------------------------------------------ topics


def test_every_topic_has_a_spec_and_a_dlq() -> None:
    # ...and the ingest flow's own dead-letter topic, for input lines that belong to no raw topic.
    assert set(TOPICS) == set(ALL_TOPICS) | {t + ".dlq" for t in ALL_TOPICS} | {"ingest.input.dlq"}
    assert TOPICS["ingest.input.dlq"].retention_ms == TOPICS["options.prints.dlq"].retention_ms
    assert all(TOPICS[t].retention_ms == RAW_RETENTION_MS for t in RAW_TOPICS)
    assert all(TOPICS[t].retention_ms == DERIVED_RETENTION_MS for t in DERIVED_TOPICS)
    assert RAW_RETENTION_MS < DERIVED_RETENTION_MS


def test_topic_specs_are_namespaced_with_partitions() -> None:
    specs = topic_specs("r1", partitions=6)

    assert set(specs) == {"r1." + t for t in TOPICS}
    assert {s.partitions for s in specs.values()} == {6}
    assert specs["r1.options.prints"].topic_config() == {
        "retention.ms": str(RAW_RETENTION_MS),
        "cleanup.policy": "delete",
    }
    assert topic_names() == sorted(TOPICS)


@pytest.mark.parametrize(
    ("topics", "partitions", "expected"),
    [
        (["a"], None, {"a": 4, "a.dlq": 4}),
        (["a", "b.dlq"], 2, {"a": 2, "a.dlq": 2, "b.dlq": 2}),
        ({"a": TopicSpec(3, 1000), "a.dlq": TopicSpec(1, 1000)}, None, {"a": 3, "a.dlq": 1}),
    ],
    ids=["names", "dlq_not_doubled", "explicit_dlq_kept"],
)
def test_specs_gain_dlqs(topics: Any, partitions: int | None, expected: dict[str, int]) -> None:
    specs = _with_dlqs(_as_specs(topics, partitions))

    assert {name: spec.partitions for name, spec in specs.items()} == expected


@pytest.mark.parametrize(
    ("spec_args", "match"),
    [((0, 1000), "partitions"), ((1, 0), "retention_ms")],
    ids=["no_partitions", "no_retention"],
)
def test_topic_spec_is_validated(spec_args: tuple[int, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TopicSpec(*spec_args)


def test_bootstrap_addresses_are_parsed() -> None:
    assert _addresses("127.0.0.1:19092, localhost:9092") == [("127.0.0.1", 19092), ("localhost", 9092)]
    with pytest.raises(ValueError, match="host:port"):
        _addresses("localhost")


def test_a_string_is_not_a_topic_list() -> None:
    with pytest.raises(TypeError):
        _as_specs("options.prints", None)


def test_wait_for_broker_names_the_address_when_nothing_listens() -> None:
    with pytest.raises(BrokerUnavailable, match=r"127\.0\.0\.1:9 not ready after 0\.3 s \(port closed\)"):
        wait_for_broker("127.0.0.1:9", timeout_s=0.3)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested-array"),
        pytest.param(b'{"event_type": "option_print", "id": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", id="nested-field"),
        pytest.param(b"9" * 5_000, id="5000-digit-number"),
    ],
)
def test_no_payload_can_stop_the_decoder(value: bytes) -> None:
    dl = decode_message(source("options.prints", value, key=b"SPY"))
    assert isinstance(dl, DeadLetter)
    assert dl.error
    assert dl.reason.strip()
    assert dl.key == "SPY"


def test_a_decoder_failure_is_a_dead_letter_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors.kafka.messages

    def explode(topic: str, data: bytes | str) -> Event:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(connectors.kafka.messages, "decode", explode)
    dl = decode_message(source("options.prints", b"[[[]]]", key=b"SPY"))
    assert isinstance(dl, DeadLetter)
    assert (dl.error, dl.reason, dl.payload) == (
        "undecodable",
        "RecursionError: maximum recursion depth exceeded",
        "[[[]]]",
    )

"""Payload models and their JSON wire format: validation, typed errors naming the field, dead letters, topics."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from events.config import OptionsConfig
from events.ids import raw_event_id
from events.models import (
    MULTIPLIER_MAX,
    SEQUENCE_MAX,
    TS_MAX_NS,
    TS_MIN_NS,
    Alert,
    AnyEvent,
    ClassifierHit,
    DeadLetter,
    EquityPrint,
    EquityQuote,
    FlowContext,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    Packet,
)
from events.serde import InvalidPayload, decode, decode_any, encode, to_json_line
from events.symbology import format_occ, underlying_for_root
from events.topics import (
    ALL_TOPICS,
    EVENT_TOPIC,
    TOPIC_ADAPTERS,
    base_topic,
    dlq,
    namespaced,
    topic_for,
)
from operators.options_engine import OptionsEngine
from tests.factories import (
    CALL,
    candle_example,
    dark_inference_example,
    dark_level_example,
    definition,
    equity_print,
    equity_quote,
    equity_trade_example,
    flow_context,
    open_interest,
    quote,
    structure,
    trade,
    volume_baseline,
)

# ------------------------------------------------------------------------------------------ examples


@cache
def derived_examples() -> tuple[Packet, ClassifierHit, Alert]:
    """Run a real sweep through the engine: one packet, its large_sweep hit and its alert."""
    engine = OptionsEngine(OptionsConfig())
    tape: list[AnyEvent] = [
        quote(0, "1.00", "1.10"),
        trade(10, "1.10", 200, venue="XCBO", conditions=("iso",)),
        trade(20, "1.10", 200, venue="XISE", conditions=("iso",)),
        trade(30, "1.12", 200, venue="XPHL", conditions=("iso",)),
        quote(40, "1.05", "1.15"),
    ]
    out = [o for o in engine.on_events(tape) + engine.on_eof() if not isinstance(o, FlowContext)]
    packet, hit, alert = out[0], out[1], out[-1]  # 600 contracts for $66k: an unusual_spike hit comes second
    assert isinstance(packet, Packet)
    assert isinstance(hit, ClassifierHit)
    assert isinstance(alert, Alert)
    return packet, hit, alert


def example(event_type: str) -> AnyEvent:
    """Return one realistic event of each type."""
    builders: dict[str, Callable[[], AnyEvent]] = {
        "option_print": lambda: trade(10, "1.10", 200, nbbo=("1.00", "1.10")),
        "option_nbbo": lambda: quote(0, "1.00", "1.10"),
        "equity_print": lambda: equity_print(5, "580.12", 2_500),
        "equity_quote": lambda: equity_quote(0, "580.10", "580.14"),
        "option_definition": lambda: definition(CALL, multiplier=10),
        "open_interest": lambda: open_interest(CALL, 12_345),
        "volume_baseline": volume_baseline,
        "packet": lambda: derived_examples()[0],
        "classifier_hit": lambda: derived_examples()[1],
        "alert": lambda: derived_examples()[2],
        "structure": structure,
        "flow_context": flow_context,
        "equity_trade": equity_trade_example,
        "dark_inference": dark_inference_example,
        "dark_level": dark_level_example,
        "candle": candle_example,
    }
    return builders[event_type]()


EVENT_TYPES = sorted(EVENT_TOPIC)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_model_round_trips_on_its_topic(event_type: str) -> None:
    event = example(event_type)
    assert event.event_type == event_type
    data = encode(event)
    assert decode(topic_for(event_type), data) == event
    assert decode(topic_for(event_type), data.decode()) == event, "str payloads too"
    assert decode(namespaced(topic_for(event_type), "replay-1"), data) == event
    assert decode_any(data) == event
    assert type(decode_any(data)) is type(event)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_encode_is_deterministic_compact_json(event_type: str) -> None:
    event = example(event_type)
    data = encode(event)
    assert encode(event) == data
    assert encode(event.model_copy()) == data
    assert encode(decode_any(data)) == data
    assert to_json_line(event).encode() == data
    assert b"\n" not in data
    assert json.loads(data)["schema_version"] == 1


def test_models_are_frozen() -> None:
    event = trade(0, "1.00", 1)
    with pytest.raises(ValidationError):
        event.size_contracts = 2  # type: ignore[misc]


def test_keys_are_the_underlying() -> None:
    assert trade(0, "1.00", 1, symbol="SPXW  260320C05800000").key == "SPX"
    assert quote(0, "1.00", "1.10").key == "SPY"
    assert equity_print(0, "1.00", 1, symbol="QQQ").key == "QQQ"
    assert derived_examples()[2].key == "SPY"


# ------------------------------------------------------------------------------------------- invalid


def _print_payload() -> dict[str, Any]:
    return trade(10, "1.10", 200).model_dump(mode="json")


def _mutated(base: Callable[[], dict[str, Any]], **changes: Any) -> bytes:
    payload = base()
    for name, value in changes.items():
        if value is _DROP:
            del payload[name]
        else:
            payload[name] = value
    return json.dumps(payload).encode()


_DROP = object()
OPTIONS_PRINTS = "options.prints"


def _definition() -> dict[str, Any]:
    return definition(CALL).model_dump(mode="json")


def _oi() -> dict[str, Any]:
    return open_interest(CALL, 10).model_dump(mode="json")


def _nbbo() -> dict[str, Any]:
    return quote(0, "1.00", "1.10").model_dump(mode="json")


def _packet() -> dict[str, Any]:
    return derived_examples()[0].model_dump(mode="json")


@pytest.mark.parametrize(
    ("topic", "data", "error", "field", "reason"),
    [
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, size_contracts=-5),
            "invalid_field",
            "size_contracts",
            "greater than 0",
            id="negative-size",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, price_e9=0),
            "invalid_field",
            "price_e9",
            "greater than 0",
            id="zero-price",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, ts_event=0),
            "invalid_field",
            "ts_event",
            "greater than or equal to 946684800000000000",
            id="zero-timestamp",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, venue=_DROP),
            "invalid_field",
            "venue",
            "Field required",
            id="missing-field",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, size_contracts="many"),
            "invalid_field",
            "size_contracts",
            "integer",
            id="wrong-type",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, price_e9=1.5),
            "invalid_field",
            "price_e9",
            "integer",
            id="fractional-fixed-point",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, premium=100),
            "invalid_field",
            "premium",
            "Extra inputs are not permitted",
            id="unknown-extra-field",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, schema_version=2),
            "invalid_field",
            "schema_version",
            "1",
            id="future-schema-version",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, event_type="option_nbbo"),
            "invalid_field",
            "event_type",
            "option_print",
            id="wrong-event-type-for-topic",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, strike_e9=590_000_000_000),
            "invalid_field",
            None,
            "disagrees with root/expiry/right/strike",
            id="symbol-disagrees-with-strike",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, right="P"),
            "invalid_field",
            None,
            "disagrees",
            id="symbol-disagrees-with-right",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, expiry="2026-03-27"),
            "invalid_field",
            None,
            "disagrees",
            id="symbol-disagrees-with-expiry",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, root="SPYW"),
            "invalid_field",
            None,
            "disagrees",
            id="symbol-disagrees-with-root",
        ),
        pytest.param(
            OPTIONS_PRINTS,
            _mutated(_print_payload, symbol="SPY"),
            "invalid_field",
            None,
            "OSI symbol too short",
            id="symbol-not-osi",
        ),
        pytest.param(
            "options.nbbo",
            _mutated(_nbbo, bid_e9=-1),
            "invalid_field",
            "bid_e9",
            "greater than or equal to 0",
            id="nbbo-negative-bid",
        ),
        pytest.param(
            "refdata.options",
            _mutated(_definition, event_type="option_greeks"),
            "unknown_event_type",
            "event_type",
            "option_greeks",
            id="refdata-unknown-event-type",
        ),
        pytest.param(
            "refdata.options",
            _mutated(_definition, event_type=_DROP),
            "unknown_event_type",
            "event_type",
            "event_type",
            id="refdata-missing-event-type",
        ),
        pytest.param(
            "refdata.options",
            _mutated(_oi, open_interest_contracts=-1),
            "invalid_field",
            "open_interest_contracts",
            "greater than or equal to 0",
            id="refdata-negative-open-interest",
        ),
        pytest.param(
            "refdata.options",
            _mutated(_definition, multiplier=0),
            "invalid_field",
            "multiplier",
            "greater than 0",
            id="refdata-zero-multiplier",
        ),
        pytest.param(
            "flow.packets",
            _mutated(_packet, placement_counts={"A": "three"}),
            "invalid_field",
            "placement_counts.A",
            "integer",
            id="nested-field-path",
        ),
        pytest.param(
            "flow.packets",
            _mutated(_packet, nbbo_coverage=1.5),
            "invalid_field",
            "nbbo_coverage",
            "less than or equal to 1",
            id="ratio-above-one",
        ),
        pytest.param(OPTIONS_PRINTS, b"{not json", "invalid_json", None, "", id="non-json"),
        pytest.param(OPTIONS_PRINTS, b"", "invalid_json", None, "", id="empty"),
        pytest.param(OPTIONS_PRINTS, b"[1, 2]", "invalid_json", None, "got list", id="json-array"),
        pytest.param(OPTIONS_PRINTS, b'"text"', "invalid_json", None, "got str", id="json-string"),
        pytest.param(OPTIONS_PRINTS, b"null", "invalid_json", None, "got NoneType", id="json-null"),
        pytest.param(OPTIONS_PRINTS, b'{"id": "\xff\xfe"}', "invalid_json", None, "", id="non-utf8"),
        pytest.param("options.trades", b"{}", "unknown_topic", None, "no payload model", id="unknown-topic"),
        pytest.param("options.prints.dlq", b"{}", "unknown_topic", None, "", id="dlq-topic"),
    ],
)
def test_decode_rejects_with_typed_error(topic: str, data: bytes, error: str, field: str | None, reason: str) -> None:
    with pytest.raises(InvalidPayload) as info:
        decode(topic, data)
    exc = info.value
    assert (exc.topic, exc.error, exc.field) == (topic, error, field)
    assert reason in exc.reason
    assert str(exc).startswith(f"{topic}: {error}:")
    if field:
        assert repr(field) in str(exc), "the message names the field"
    assert isinstance(exc, ValueError)


def test_decode_counts_further_errors() -> None:
    data = _mutated(_print_payload, size_contracts=-1, price_e9=0)
    with pytest.raises(InvalidPayload, match=r"\(\+1 more\)"):
        decode(OPTIONS_PRINTS, data)


@pytest.mark.parametrize(
    ("data", "error", "field"),
    [
        pytest.param(b'{"event_type": "option_trade"}', "unknown_event_type", "event_type", id="unknown-type"),
        pytest.param(b'{"id": "x"}', "unknown_event_type", "event_type", id="no-type"),
        pytest.param(b"[]", "invalid_json", None, id="array"),
        pytest.param(b"\xff", "invalid_json", None, id="non-utf8"),
        pytest.param(_mutated(_oi, venue=3), "invalid_field", "venue", id="tag-stripped-from-path"),
    ],
)
def test_decode_any_rejects_with_typed_error(data: bytes, error: str, field: str | None) -> None:
    with pytest.raises(InvalidPayload) as info:
        decode_any(data, source="tape.jsonl")
    assert (info.value.topic, info.value.error, info.value.field) == ("tape.jsonl", error, field)


# -------------------------------------------------------------------------------------- dead letters


@pytest.mark.parametrize(
    ("payload", "stored"),
    [
        pytest.param(b'{"size_contracts": -5}', '{"size_contracts": -5}', id="utf8-verbatim"),
        pytest.param("{caf\u00e9", "{caf\u00e9", id="str-verbatim"),
        pytest.param(b"\xff\xfe\x00{", "b64:" + base64.b64encode(b"\xff\xfe\x00{").decode(), id="binary-base64"),
        pytest.param(b"", "", id="empty"),
    ],
)
def test_dead_letter_keeps_the_payload(payload: bytes | str, stored: str) -> None:
    try:
        decode(OPTIONS_PRINTS, payload)
    except InvalidPayload as exc:
        letter = exc.dead_letter(payload if isinstance(payload, bytes) else payload.encode(), key=b"SPY", offset=7)
    else:
        pytest.fail("payload should not decode")
    assert letter.payload == stored
    assert (letter.topic, letter.key, letter.offset, letter.partition) == (OPTIONS_PRINTS, "SPY", 7, None)
    if stored.startswith("b64:"):
        assert base64.b64decode(stored.removeprefix("b64:")) == payload


def test_dead_letter_carries_error_field_and_reason() -> None:
    data = _mutated(_print_payload, size_contracts=-5)
    with pytest.raises(InvalidPayload) as info:
        decode("replay-1.options.prints", data)
    letter = info.value.dead_letter(data, key="SPY", partition=3, offset=42)
    assert letter == DeadLetter(
        topic="replay-1.options.prints",
        partition=3,
        offset=42,
        key="SPY",
        error="invalid_field",
        field="size_contracts",
        reason=info.value.reason,
        payload=data.decode(),
    )
    assert DeadLetter.model_validate_json(encode(letter)) == letter
    assert json.loads(encode(letter))["event_type"] == "dead_letter"


def test_dead_letter_key_may_be_binary() -> None:
    letter = InvalidPayload(OPTIONS_PRINTS, "invalid_json", "bad").dead_letter(b"x", key=b"\x80")
    assert letter.key == "b64:gA=="


# ----------------------------------------------------------------------------------------- topics


def test_dlq() -> None:
    assert dlq("options.prints") == "options.prints.dlq"
    assert dlq("replay-1.flow.alerts") == "replay-1.flow.alerts.dlq"


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [
        pytest.param(None, "options.prints", id="none"),
        pytest.param("", "options.prints", id="empty"),
        pytest.param("replay-2026_03_02", "replay-2026_03_02.options.prints", id="namespaced"),
    ],
)
def test_namespaced(namespace: str | None, expected: str) -> None:
    assert namespaced("options.prints", namespace) == expected


@pytest.mark.parametrize(
    "namespace", ["a.b", "a b", "a/b", "../x", "ns:1", "é"], ids=["dot", "space", "slash", "dotdot", "colon", "accent"]
)
def test_namespaced_rejects_bad_namespace(namespace: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        namespaced("options.prints", namespace)


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_base_topic_strips_namespace(topic: str) -> None:
    assert base_topic(topic) == topic
    assert base_topic(namespaced(topic, "replay-1")) == topic


@pytest.mark.parametrize(
    "topic",
    ["options.trades", "xoptions.prints", "options.prints.dlq", "options", ""],
    ids=["unknown", "glued-prefix", "dlq", "partial", "empty"],
)
def test_base_topic_rejects_unknown(topic: str) -> None:
    with pytest.raises(KeyError, match="unknown topic"):
        base_topic(topic)


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("option_print", "options.prints"),
        ("option_nbbo", "options.nbbo"),
        ("equity_print", "equities.prints"),
        ("equity_quote", "equities.quotes"),
        ("option_definition", "refdata.options"),
        ("open_interest", "refdata.options"),
        ("packet", "flow.packets"),
        ("classifier_hit", "flow.hits"),
        ("alert", "flow.alerts"),
        ("structure", "flow.structures"),
        ("flow_context", "flow.context"),
    ],
    ids=lambda v: str(v),
)
def test_topic_for(event_type: str, topic: str) -> None:
    assert topic_for(event_type) == topic


def test_topic_for_rejects_unknown_event_type() -> None:
    with pytest.raises(KeyError, match="dead_letter"):
        topic_for("dead_letter")


def test_every_topic_has_an_adapter() -> None:
    assert set(TOPIC_ADAPTERS) == set(ALL_TOPICS)
    assert set(EVENT_TOPIC.values()) == set(ALL_TOPICS)


# --------------------------------------------------------------------------------------- properties

ids_ = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
ts_ns = st.integers(min_value=TS_MIN_NS, max_value=TS_MAX_NS - 1)
prices_e9 = st.integers(min_value=1, max_value=10**11)
quote_prices_e9 = st.integers(min_value=0, max_value=10**11)
sizes = st.integers(min_value=1, max_value=10**6)
multipliers = st.integers(min_value=1, max_value=MULTIPLIER_MAX)
counts = st.integers(min_value=0, max_value=10**7)
printable = st.characters(blacklist_categories=("Cc", "Cs"))
labels = st.text(printable, min_size=1, max_size=8)
symbols = st.text(printable, min_size=1, max_size=32)
optional_ints = st.none() | st.integers(min_value=0, max_value=SEQUENCE_MAX)


@st.composite
def contracts(draw: st.DrawFn) -> dict[str, Any]:
    """Draw an option contract whose OSI symbol agrees with its fields."""
    root = draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6))
    expiry = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
    right = draw(st.sampled_from(["C", "P"]))
    strike_e9 = draw(st.integers(min_value=1, max_value=99_999_999)) * 1_000_000
    return {
        "symbol": format_occ(root, expiry, right, strike_e9),
        "underlying": underlying_for_root(root),
        "root": root,
        "expiry": expiry,
        "right": right,
        "strike_e9": strike_e9,
    }


@st.composite
def option_prints(draw: st.DrawFn) -> OptionPrint:
    with_nbbo = draw(st.booleans())
    return OptionPrint(
        **draw(contracts()),
        id=draw(ids_),
        ts_event=draw(ts_ns),
        provider=draw(labels),
        ts_recv=draw(st.none() | ts_ns),
        sequence=draw(counts),
        multiplier=draw(multipliers),
        venue=draw(labels),
        venue_id=draw(labels),
        price_e9=draw(prices_e9),
        size_contracts=draw(sizes),
        conditions=tuple(draw(st.lists(labels, max_size=4))),
        raw_conditions=draw(st.text(printable, max_size=4)),
        nbbo_bid_e9=draw(quote_prices_e9) if with_nbbo else None,
        nbbo_ask_e9=draw(quote_prices_e9) if with_nbbo else None,
        nbbo_bid_size_contracts=draw(st.none() | counts),
        nbbo_ask_size_contracts=draw(st.none() | counts),
        nbbo_ts=draw(st.none() | ts_ns),
        underlying_e9=draw(st.none() | prices_e9),
    )


option_nbbos = st.builds(
    OptionNbbo,
    id=ids_,
    ts_event=ts_ns,
    provider=labels,
    ts_recv=st.none() | ts_ns,
    sequence=counts,
    symbol=symbols,
    underlying=symbols,
    venue=labels,
    bid_e9=quote_prices_e9,
    ask_e9=quote_prices_e9,
    bid_size_contracts=counts,
    ask_size_contracts=counts,
)

equity_prints = st.builds(
    EquityPrint,
    id=ids_,
    ts_event=ts_ns,
    provider=labels,
    ts_recv=st.none() | ts_ns,
    sequence=counts,
    symbol=symbols,
    venue=labels,
    venue_id=labels,
    off_exchange=st.booleans(),
    price_e9=prices_e9,
    size_shares=sizes,
    conditions=st.lists(labels, max_size=4).map(tuple),
    raw_conditions=st.text(printable, max_size=4),
    bid_e9=st.none() | quote_prices_e9,
    ask_e9=st.none() | quote_prices_e9,
)

open_interests = st.builds(
    OpenInterest,
    id=ids_,
    ts_event=ts_ns,
    provider=labels,
    ts_recv=st.none() | ts_ns,
    symbol=symbols,
    underlying=symbols,
    open_interest_contracts=counts,
    ts_ref=st.none() | ts_ns,
    venue=st.text(printable, max_size=8),
)

equity_quotes = st.builds(
    EquityQuote,
    id=ids_,
    ts_event=ts_ns,
    provider=labels,
    symbol=symbols,
    bid_e9=quote_prices_e9,
    ask_e9=quote_prices_e9,
    bid_size_shares=counts,
    ask_size_shares=counts,
)


@st.composite
def option_definitions(draw: st.DrawFn) -> OptionDefinition:
    return OptionDefinition(
        **draw(contracts()),
        id=draw(ids_),
        ts_event=draw(ts_ns),
        provider=draw(labels),
        multiplier=draw(multipliers),
        instrument_id=draw(optional_ints),
        venue=draw(st.text(printable, max_size=8)),
    )


raw_events = st.one_of(
    option_prints(), option_nbbos, equity_prints, equity_quotes, option_definitions(), open_interests
)


def _round_trips(event: BaseModel) -> None:
    data = encode(event)
    assert decode(topic_for(event.event_type), data) == event  # type: ignore[attr-defined]
    assert decode_any(data) == event
    assert encode(decode_any(data)) == data


@settings(max_examples=150, deadline=None)
@given(option_prints())
def test_option_print_round_trips(event: OptionPrint) -> None:
    _round_trips(event)


@settings(max_examples=150, deadline=None)
@given(option_nbbos)
def test_option_nbbo_round_trips(event: OptionNbbo) -> None:
    _round_trips(event)


@settings(max_examples=150, deadline=None)
@given(equity_prints)
def test_equity_print_round_trips(event: EquityPrint) -> None:
    _round_trips(event)


@settings(max_examples=150, deadline=None)
@given(open_interests)
def test_open_interest_round_trips(event: OpenInterest) -> None:
    _round_trips(event)


@settings(max_examples=150, deadline=None)
@given(raw_events)
def test_decode_any_finds_the_model_and_encode_is_deterministic(event: BaseModel) -> None:
    data = encode(event)
    decoded = decode_any(data)
    assert type(decoded) is type(event)
    assert decoded == event
    rebuilt = type(event).model_validate(json.loads(data))
    assert encode(rebuilt) == data, "equal events encode to the same bytes"


@settings(max_examples=100, deadline=None)
@given(option_prints(), st.sampled_from(["size_contracts", "price_e9", "ts_event"]), st.integers(max_value=0))
def test_non_positive_required_numbers_are_rejected(event: OptionPrint, field: str, value: int) -> None:
    payload = json.loads(encode(event))
    payload[field] = value
    with pytest.raises(InvalidPayload) as info:
        decode(OPTIONS_PRINTS, json.dumps(payload))
    assert info.value.field == field


def test_raw_event_id_in_factories_is_provider_identity() -> None:
    event = trade(10, "1.10", 200)
    assert event.id == raw_event_id("test", "trades", event.symbol, event.ts_event, event.sequence)

"""The msgspec fast path against pydantic, the reference: same events for valid payloads, same refusals for
hostile ones."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from events.serde import (
    InvalidPayload,
    codec_for,
    decode,
    decode_any,
    decode_any_reference,
    decode_rate,
    encode,
    validate_reference,
)
from events.topics import topic_for
from events.wire import Checked, error_field, may_hold_control
from tests.events.test_models_serde import raw_events
from tests.factories import EVENT_TYPES, example

FAST_ERRORS = (msgspec.DecodeError, ValueError, UnicodeError, RecursionError)


def _same(fast: BaseModel, reference: BaseModel) -> None:
    assert type(fast) is type(reference)
    assert fast == reference
    for name in type(reference).model_fields:
        ours, theirs = getattr(fast, name), getattr(reference, name)
        assert type(ours) is type(theirs), f"{name}: {type(ours)} is not {type(theirs)}"
        assert ours == theirs
    assert encode(fast) == encode(reference)


def _fast_outcome(topic: str | None, data: bytes | str) -> BaseModel | None:
    """The fast path alone (no pydantic fallback): the event, or None when it refuses."""
    codec = codec_for(topic)
    try:
        event: BaseModel = codec.decode(data)
    except FAST_ERRORS:
        return None
    return event


def _reference_outcome(topic: str | None, data: bytes | str) -> BaseModel | None:
    try:
        return validate_reference(topic, data) if topic else decode_any_reference(data)
    except InvalidPayload:
        return None


def _agree(topic: str | None, data: bytes | str) -> None:
    fast, reference = _fast_outcome(topic, data), _reference_outcome(topic, data)
    if reference is None:
        assert fast is None, f"the fast path accepted what pydantic refuses: {data!r}"
        with pytest.raises(InvalidPayload):
            decode(topic, data) if topic else decode_any(data)
    else:
        assert fast is not None, f"the fast path refused what pydantic accepts: {data!r}"
        _same(fast, reference)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_fast_decode_equals_reference_for_every_type(event_type: str) -> None:
    event = example(event_type)
    data = encode(event)
    for topic in (topic_for(event_type), None):
        fast = _fast_outcome(topic, data)
        assert fast is not None
        _same(fast, event)
        _agree(topic, data)
        _agree(topic, data.decode())


@settings(max_examples=300, deadline=None)
@given(raw_events)
def test_fast_decode_equals_reference_for_random_raw_events(event: BaseModel) -> None:
    data = encode(event)
    topic = topic_for(event.event_type)  # type: ignore[attr-defined]
    _agree(topic, data)
    _agree(None, data)
    assert decode(topic, data) == event


_CONTROL = st.sampled_from(["\x00", "\x1b", "\x7f", "\n", "\t", "\x85", "\x9f", "\u2028"])
_STRINGS = st.one_of(
    st.text(max_size=12),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=4), _CONTROL, st.text(max_size=4)),
    st.integers(0, 200).map(lambda n: "x" * n),
    st.just(""),
)
_HOSTILE_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63 - 1, 2**63 + 5, 10**25, 946_684_800 * 10**9, 4_102_444_800 * 10**9]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e30, -0.0, 0.5, 1.0, 1e308]),
    st.booleans(),
    st.none(),
    _STRINGS,
    st.integers(0, 10**12).map(str),
    st.sampled_from(["2026-03-20", "2026-03-20T00:00:00", "1999-12-31", "2100-01-01", "2026-02-30", "C", "P"]),
    st.lists(st.integers(-5, 5), max_size=80),
    st.lists(_STRINGS, max_size=70),
    st.lists(st.floats(min_value=-2, max_value=1e13), min_size=76, max_size=80),
    st.dictionaries(_STRINGS, st.integers(-3, 3) | st.floats(-1, 1) | _STRINGS, max_size=3),
)
_EXTRA = "__extra__"


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid payload of some type with one field replaced, removed, or an unknown field added."""
    event = draw(st.sampled_from(EVENT_TYPES).map(example) | raw_events)
    payload: dict[str, Any] = event.model_dump(mode="json")
    field = draw(st.sampled_from([*payload, _EXTRA]))
    action = draw(st.sampled_from(["replace", "replace", "replace", "drop"]))
    if field == _EXTRA:
        payload[draw(st.sampled_from(["premium", "x", "event_typ"]))] = draw(_HOSTILE_VALUES)
    elif action == "drop":
        del payload[field]
    else:
        payload[field] = draw(_HOSTILE_VALUES)
    return topic_for(event.event_type), json.dumps(payload).encode()  # type: ignore[attr-defined]


@settings(max_examples=800, deadline=None)
@given(mutated())
def test_fast_decode_and_reference_agree_on_hostile_payloads(case: tuple[str, bytes]) -> None:
    topic, data = case
    _agree(topic, data)
    _agree(None, data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"ts_event": NaN}',
        b'{"ts_event": Infinity}',
        b'{"event_type": "option_print", "day_volume_mean": 1e400}',
        b"[" * 50_000,
        b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"event_type":"volume_baseline","x":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"id": "\xff"}',
        b'{"id": "\\ud800"}',
        b"",
        b"{",
        b'{"event_type": "option_greeks"}',
        b'{"event_type": 7}',
        b"null",
    ],
    ids=[
        "nan",
        "infinity",
        "overflow",
        "open-arrays",
        "nested-unknown",
        "nested-before-tag",
        "bad-utf8",
        "lone-surrogate",
        "empty",
        "truncated",
        "unknown-type",
        "numeric-type",
        "null",
    ],
)
def test_malformed_json_is_refused_by_both(data: bytes) -> None:
    for topic in ("options.prints", "refdata.options", None):
        assert _fast_outcome(topic, data) is None
        assert _reference_outcome(topic, data) is None
        with pytest.raises(InvalidPayload):
            decode(topic, data) if topic else decode_any(data)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Expected `int` >= 1 - at `$.size_contracts`", "size_contracts"),
        ("Expected `str` of length <= 64 - at `$.legs[1].packet_id`", "legs.1.packet_id"),
        ("Object missing required field `venue`", "venue"),
        ("Object missing required field `side` - at `$.legs[0]`", "legs.0.side"),
        ("Object contains unknown field `premium`", "premium"),
        ("Expected `int`, got `str` - at `$.placement_counts[...]`", "placement_counts"),
        ("JSON is malformed: invalid character (byte 0)", None),
    ],
)
def test_error_field_reads_msgspec_paths(message: str, field: str | None) -> None:
    assert error_field(message) == field


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"venue": "XCBO"}', False),
        (b'{"venue": "X\\u0000"}', True),
        (b'{"venue": "X\\n"}', True),
        (b'{"venue": "X\x7f"}', True),
        ('{"venue": "X\x85"}'.encode(), True),
        ('{"venue": "caf\u00e9"}'.encode(), True),
        ('{"venue": "X\x85"}', True),
        ('{"venue": "XCBO"}', False),
    ],
    ids=["plain", "escaped-nul", "escaped-newline", "raw-del", "raw-c1", "non-ascii", "str-c1", "str-plain"],
)
def test_may_hold_control_never_misses_one(data: bytes | str, expected: bool) -> None:
    assert may_hold_control(data) is expected


def test_decode_rate_measures_valid_messages() -> None:
    messages = [(topic_for(t), encode(example(t))) for t in ("option_print", "option_nbbo", "equity_print")]
    assert decode_rate(messages, rounds=1) > 0
    assert decode_rate(messages, rounds=1, reference=True) > 0
    with pytest.raises(InvalidPayload):
        decode_rate([("options.prints", b"{}")], rounds=1)


# ------------------------------------------------------------------------------ Checked (connectors' values)

_CHECKED_TYPES = ("option_print", "option_nbbo", "equity_print", "equity_quote", "option_definition", "open_interest")
_PYTHON_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63 - 1, 2**63 + 5, 10**25, 946_684_800 * 10**9, 4_102_444_800 * 10**9]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    _STRINGS,
    st.dates(),
    st.tuples(_STRINGS, _STRINGS),
    st.tuples(st.integers(0, 3)),
)


@st.composite
def _python_values(draw: st.DrawFn) -> tuple[type[BaseModel], dict[str, Any]]:
    """The Python values of a valid event of a type connectors build, one field replaced, dropped or added."""
    event = draw(st.sampled_from(_CHECKED_TYPES).map(example))
    values: dict[str, Any] = {k: v for k, v in vars(event).items() if k not in ("event_type", "schema_version")}
    field = draw(st.sampled_from([*values, _EXTRA]))
    action = draw(st.sampled_from(["keep", "replace", "replace", "replace", "drop"]))
    if field == _EXTRA and action != "keep":
        values["x"] = draw(_PYTHON_VALUES)
    elif action == "drop":
        values.pop(field, None)
    elif action == "replace":
        values[field] = draw(_PYTHON_VALUES)
    return type(event), values


@settings(max_examples=800, deadline=None)
@given(_python_values())
def test_checked_builds_what_pydantic_validates_and_refuses_what_it_refuses(
    case: tuple[type[BaseModel], dict[str, Any]],
) -> None:
    model, values = case
    try:
        reference: BaseModel | None = model(**values)
    except ValidationError:
        reference = None
    try:
        ours: BaseModel | None = Checked(model).make(values)
    except (msgspec.ValidationError, ValueError):
        ours = None
    if reference is None:
        assert ours is None, f"Checked accepted what pydantic refuses: {values!r}"
    else:
        assert ours is not None, f"Checked refused what pydantic accepts: {values!r}"
        _same(ours, reference)


def test_checked_refuses_models_it_cannot_check_in_full() -> None:
    from events.models import Structure

    with pytest.raises(TypeError):
        Checked(Structure)

"""JSON (de)serialization of payloads, with typed errors that name the offending field.

Decoding is strict and bounded (see `events.models`) and validates once: msgspec decodes into the wire
Structs generated from the models (`events.wire`), in a few microseconds. A payload it refuses is validated
again by pydantic, the reference, only to explain the refusal: error class, field and reason are pydantic's,
the same contract the dead-letter records have always had.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from typing import Annotated, Any, NamedTuple

import msgspec
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from events.models import (
    Alert,
    AnyEvent,
    Candle,
    ClassifierHit,
    DarkInference,
    DarkLevel,
    DeadLetter,
    EquityPrint,
    EquityQuote,
    EquityTrade,
    FlowContext,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    Packet,
    Structure,
    VolumeBaseline,
)
from events.topics import EVENT_TOPIC, TOPIC_ADAPTERS, base_topic
from events.wire import Codec, error_field


class InvalidPayload(ValueError):
    """A payload that cannot become an event: `error` is its class, `field` the dotted path when known."""

    def __init__(self, topic: str, error: str, reason: str, field: str | None = None) -> None:
        self.topic = topic
        self.error = error
        self.field = field
        self.reason = reason
        where = f" field {field!r}:" if field else ""
        super().__init__(f"{topic}: {error}:{where} {reason}")

    def dead_letter(
        self,
        payload: bytes,
        *,
        key: bytes | str | None = None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> DeadLetter:
        """Return the dead-letter record for the payload that raised this error."""
        return DeadLetter(
            topic=self.topic,
            partition=partition,
            offset=offset,
            key=_text(key) if key is not None else None,
            error=self.error,
            field=self.field,
            reason=self.reason,
            payload=_text(payload),
        )


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "b64:" + base64.b64encode(data).decode("ascii")


def encode(event: BaseModel) -> bytes:
    """Serialize an event to compact JSON bytes; field order is the model's, so output is deterministic."""
    return event.model_dump_json().encode("utf-8")


def to_json_line(event: BaseModel) -> str:
    """Serialize an event to one JSON line (no newline)."""
    return event.model_dump_json()


class _Topic(NamedTuple):
    codec: Codec
    adapter: TypeAdapter[Any]


_MODELS: tuple[type[BaseModel], ...] = (
    OptionPrint,
    OptionNbbo,
    EquityPrint,
    EquityQuote,
    OptionDefinition,
    OpenInterest,
    VolumeBaseline,
    Packet,
    ClassifierHit,
    Alert,
    Structure,
    FlowContext,
    EquityTrade,
    DarkInference,
    DarkLevel,
    Candle,
)
_TOPICS: dict[str, _Topic] = {
    topic: _Topic(
        Codec(tuple(m for m in _MODELS if EVENT_TOPIC[m.model_fields["event_type"].default] == topic)), adapter
    )
    for topic, adapter in TOPIC_ADAPTERS.items()
}
_BY_NAME: dict[str, _Topic] = dict(_TOPICS)
"""Topics by the name they were read under (namespaced or not), filled as names are seen."""
_BY_NAME_MAX = 4_096
_FAST_ERRORS = (msgspec.DecodeError, ValueError, UnicodeError, RecursionError)
"""What the fast path raises for a refused payload. RecursionError: a tagged union (refdata, JSONL) skips values
while it looks for `event_type`, and msgspec stops a deeply nested one cleanly with it."""


def decode(topic: str, data: bytes | str) -> AnyEvent:
    """Parse and validate a payload read from `topic` (namespaced or not).

    Raises InvalidPayload with error class `invalid_json`, `unknown_event_type`, `invalid_field` or
    `unknown_topic`.
    """
    entry = _BY_NAME.get(topic)
    if entry is None:
        entry = _lookup(topic)
    try:
        event: AnyEvent = entry.codec.decode(data)
    except _FAST_ERRORS as exc:
        raise _explained(entry.adapter, topic, data, exc) from None
    return event


def _lookup(topic: str) -> _Topic:
    try:
        entry = _TOPICS[base_topic(topic)]
    except KeyError:
        raise InvalidPayload(topic, "unknown_topic", "no payload model for this topic") from None
    if len(_BY_NAME) < _BY_NAME_MAX:
        _BY_NAME[topic] = entry
    return entry


def _explained(adapter: TypeAdapter[Any], topic: str, data: bytes | str, exc: Exception) -> InvalidPayload:
    """Return the error of a payload the fast path refused, as the reference (pydantic) states it.

    Should the reference accept it, the fast path's stricter refusal stands (the property tests hold the two
    to the same answers, so this is a safety net, not a path)."""
    try:
        _validated(adapter, topic, data)
    except InvalidPayload as invalid:
        return invalid
    if isinstance(exc, msgspec.ValidationError):
        return InvalidPayload(topic, "invalid_field", str(exc), field=error_field(str(exc)))
    if isinstance(exc, msgspec.DecodeError | UnicodeError):
        return InvalidPayload(topic, "invalid_json", str(exc))
    return InvalidPayload(topic, "invalid_field", str(exc))


def validate_reference(topic: str, data: bytes | str) -> AnyEvent:
    """Validate a payload with pydantic alone (the reference the fast path is tested against)."""
    entry = _BY_NAME.get(topic) or _lookup(topic)
    event: AnyEvent = _validated(entry.adapter, topic, data)
    return event


def _validated(adapter: TypeAdapter[Any], topic: str, data: bytes | str) -> Any:
    """Validate JSON text against a model or union, in JSON mode (strict types: no numeric strings)."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates: not valid UTF-8 text
            raise InvalidPayload(topic, "invalid_json", str(exc)) from None
    _require_object(topic, data)
    try:
        return adapter.validate_json(data)
    except ValidationError as exc:
        raise _invalid(topic, exc) from None


_ANY_JSON: TypeAdapter[Any] = TypeAdapter(Any)
_BLANK = b" \t\r\n"


def _require_object(topic: str, data: bytes) -> None:
    """Raise InvalidPayload unless the payload's top-level JSON value is an object (its first character `{`)."""
    if data.lstrip(_BLANK).startswith(b"{"):
        return
    try:
        # Parsed without recursion: the JSON parser has a depth limit, so nested arrays give an error, not a crash.
        value = _ANY_JSON.validate_json(data)
    except ValidationError as exc:
        raise InvalidPayload(topic, "invalid_json", exc.errors(include_url=False)[0]["msg"]) from None
    raise InvalidPayload(topic, "invalid_json", f"expected a JSON object, got {type(value).__name__}")


_ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(
    Annotated[
        OptionPrint
        | OptionNbbo
        | EquityPrint
        | EquityQuote
        | OptionDefinition
        | OpenInterest
        | VolumeBaseline
        | Packet
        | ClassifierHit
        | Alert
        | Structure
        | FlowContext
        | EquityTrade
        | DarkInference
        | DarkLevel
        | Candle,
        Field(discriminator="event_type"),
    ]
)


_ANY_CODEC = Codec(_MODELS)


def decode_any(data: bytes | str, source: str = "jsonl") -> AnyEvent:
    """Parse a self-describing JSON event of any type (JSONL files); raise InvalidPayload like `decode`."""
    try:
        event: AnyEvent = _ANY_CODEC.decode(data)
    except _FAST_ERRORS as exc:
        raise _explained(_ANY_EVENT, source, data, exc) from None
    return event


def decode_any_reference(data: bytes | str, source: str = "jsonl") -> AnyEvent:
    """Validate a self-describing event with pydantic alone (the reference of `decode_any`)."""
    event: AnyEvent = _validated(_ANY_EVENT, source, data)
    return event


def codec_for(topic: str | None) -> Codec:
    """Return the fast-path codec of a topic, or (None) of self-describing JSONL: for tests and benchmarks."""
    return _ANY_CODEC if topic is None else (_BY_NAME.get(topic) or _lookup(topic)).codec


def decode_rate(messages: Iterable[tuple[str, bytes]], *, rounds: int = 3, reference: bool = False) -> float:
    """Return how many of `messages` (topic, payload) `decode` takes per second, best of `rounds` passes.

    For `flowtape bench`: `reference=True` measures pydantic validation alone, the cost before msgspec.
    Every message must be valid (an invalid one raises: the rate of dead-lettering is not this figure).
    """
    batch = list(messages)
    if not batch:
        raise ValueError("decode_rate needs at least one message")
    run = validate_reference if reference else decode
    best = float("inf")
    for _ in range(max(1, rounds)):
        started = time.perf_counter()
        for topic, data in batch:
            run(topic, data)
        best = min(best, time.perf_counter() - started)
    return len(batch) / best if best > 0 else float("inf")


_TAGS = frozenset(EVENT_TOPIC)


def _invalid(topic: str, exc: ValidationError) -> InvalidPayload:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    kind = first["type"]
    if kind == "json_invalid":
        return InvalidPayload(topic, "invalid_json", first["msg"])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return InvalidPayload(topic, "unknown_event_type", first["msg"], field="event_type")
    # A tagged union puts the tag first in the location; the field path is what follows.
    if loc and loc[0] in _TAGS:
        loc = loc[1:]
    extra = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return InvalidPayload(topic, "invalid_field", f"{first['msg']}{extra}", field=".".join(loc) or None)

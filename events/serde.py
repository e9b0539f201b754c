"""JSON (de)serialization of payloads, with typed errors that name the offending field."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

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


def decode(topic: str, data: bytes | str) -> AnyEvent:
    """Parse and validate a payload read from `topic` (namespaced or not).

    Raises InvalidPayload with error class `invalid_json`, `unknown_event_type`, `invalid_field` or
    `unknown_topic`.
    """
    try:
        adapter = TOPIC_ADAPTERS[base_topic(topic)]
    except KeyError:
        raise InvalidPayload(topic, "unknown_topic", "no payload model for this topic") from None
    try:
        obj: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidPayload(topic, "invalid_json", str(exc)) from None
    if not isinstance(obj, dict):
        raise InvalidPayload(topic, "invalid_json", f"expected a JSON object, got {type(obj).__name__}")
    try:
        event: AnyEvent = adapter.validate_python(obj)
    except ValidationError as exc:
        raise _invalid(topic, exc) from None
    return event


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


def decode_any(data: bytes | str, source: str = "jsonl") -> AnyEvent:
    """Parse a self-describing JSON event of any type (JSONL files); raise InvalidPayload like `decode`."""
    try:
        obj: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidPayload(source, "invalid_json", str(exc)) from None
    if not isinstance(obj, dict):
        raise InvalidPayload(source, "invalid_json", f"expected a JSON object, got {type(obj).__name__}")
    try:
        return _ANY_EVENT.validate_python(obj)
    except ValidationError as exc:
        raise _invalid(source, exc) from None


_TAGS = frozenset(EVENT_TOPIC)


def _invalid(topic: str, exc: ValidationError) -> InvalidPayload:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    kind = first["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return InvalidPayload(topic, "unknown_event_type", first["msg"], field="event_type")
    # A tagged union puts the tag first in the location; the field path is what follows.
    if loc and loc[0] in _TAGS:
        loc = loc[1:]
    extra = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return InvalidPayload(topic, "invalid_field", f"{first['msg']}{extra}", field=".".join(loc) or None)

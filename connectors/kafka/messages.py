"""Pure mapping between events and Kafka messages: keys, topics, JSON values, dead letters. No I/O.

Messages are keyed by the underlying symbol (`event.key`), so the default partitioner puts every event
of one underlying on one partition. The Kafka message timestamp is left to the producer (wall-clock
produce time), never set to `ts_event`: retention is enforced on message timestamps, so replaying last
month's events with their event time would let the broker delete them at once.
"""

from __future__ import annotations

from bytewax.connectors.kafka import KafkaSinkMessage, KafkaSourceMessage

from events.models import AnyEvent, DeadLetter, Event
from events.serde import InvalidPayload, decode, encode
from events.topics import ALL_TOPICS, dlq, namespaced, topic_for

SourceMessage = KafkaSourceMessage[bytes | None, bytes | None]
SinkMessage = KafkaSinkMessage[bytes | None, bytes]

EMPTY_PAYLOAD = "empty_payload"
UNKNOWN_TOPIC = "unknown_topic"
UNDECODABLE = "undecodable"
"""A payload whose decoding failed other than by `InvalidPayload` (defense in depth: no message may stop a flow)."""


def message_key(event: Event) -> bytes:
    """Return the message key of an event: its underlying symbol, UTF-8."""
    return event.key.encode("utf-8")


def event_topic(event: Event, namespace: str | None = None) -> str:
    """Return the topic an event is published on, under the replay namespace if any."""
    return namespaced(topic_for(event.event_type), namespace)


def to_sink_message(event: Event, namespace: str | None = None) -> SinkMessage:
    """Return the Kafka message of an event: key = underlying, value = JSON, topic = its (namespaced) topic."""
    return KafkaSinkMessage(key=message_key(event), value=encode(event), topic=event_topic(event, namespace))


def decode_message(msg: SourceMessage) -> AnyEvent | DeadLetter:
    """Decode a consumed message into its event, or into the DeadLetter that says why it cannot be one."""
    topic = msg.topic or ""
    try:
        if not topic:
            raise InvalidPayload(topic, UNKNOWN_TOPIC, "message carries no topic")
        if msg.value is None:
            raise InvalidPayload(topic, EMPTY_PAYLOAD, "message has no value (tombstone)")
        return decode(topic, msg.value)
    except InvalidPayload as exc:
        return exc.dead_letter(msg.value or b"", key=msg.key, partition=msg.partition, offset=msg.offset)
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:2_000]
        invalid = InvalidPayload(topic, UNDECODABLE, reason)
        return invalid.dead_letter(msg.value or b"", key=msg.key, partition=msg.partition, offset=msg.offset)


def dlq_topic(dead_letter: DeadLetter, namespace: str | None = None) -> str:
    """Return the dead-letter topic for a dead letter: `<source topic>.dlq`.

    `dead_letter.topic` is the topic as read, so it already carries a namespace when the flow reads one;
    `namespace` is applied only to a bare (un-namespaced) topic name.
    """
    topic = dead_letter.topic
    if namespace and (topic in ALL_TOPICS or not topic.startswith(namespace + ".")):
        topic = namespaced(topic, namespace)
    return dlq(topic)


def dead_letter_message(
    dead_letter: DeadLetter, namespace: str | None = None, *, topic: str | None = None
) -> SinkMessage:
    """Return the Kafka message of a dead letter, on `<source topic>.dlq` (or `topic`, for a source that is no
    topic, such as a file's line), keyed like the original."""
    key = dead_letter.key.encode("utf-8") if dead_letter.key is not None else None
    return KafkaSinkMessage(key=key, value=encode(dead_letter), topic=topic or dlq_topic(dead_letter, namespace))

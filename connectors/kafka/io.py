"""Kafka I/O: a producer for non-Bytewax code, simple readers, timestamp offsets and Bytewax operators.

Bytewax's `KafkaSource` reads every partition from the beginning (or the end) and commits nothing to
Kafka: without recovery (`-r`) every start is a free rewind; with recovery the next offset of each
partition comes from the snapshot. `TimestampKafkaSource` starts each partition at the first message at
or after a timestamp instead (replay from a time). Kafka message timestamps are produce (wall-clock) time,
not event time: see `connectors.kafka.messages`.

Reference topics (definitions, open interest, baselines) are also read apart: `kafka_input` reads each one to
its current end before the flow starts (`read_snapshot`) and hands those events to the flow, whose engines apply
them as of their event time and drop their copies when the stream brings them again. Read only with the market
data, they would land wherever the consumer happened to interleave the topics, and a replay could differ from
the run it replays.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, TypeGuard, cast

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaError as BytewaxKafkaError
from bytewax.connectors.kafka import KafkaSink, KafkaSource, KafkaSourceMessage
from bytewax.dataflow import Dataflow, Stream, operator
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from connectors.kafka.counters import (
    CONSUMER_ERRORS,
    COUNTERS,
    DEAD_LETTERED,
    DECODED,
    DELIVERY_ERRORS,
    PRODUCED,
    Counters,
)
from connectors.kafka.messages import (
    SinkMessage,
    SourceMessage,
    dead_letter_message,
    decode_message,
    event_topic,
    message_key,
    to_sink_message,
)
from events.models import AnyEvent, DeadLetter, Event
from events.serde import decode, encode
from events.topics import namespaced

log = logging.getLogger(__name__)

# Batching for throughput at a few ms of latency; idempotence so retries never duplicate or reorder
# within a partition (it implies acks=all). lz4 and zstd are both built into this librdkafka.
PRODUCER_CONFIG: dict[str, str] = {
    "linger.ms": "5",
    "compression.type": "lz4",
    "enable.idempotence": "true",
}
MAX_REPORTED_ERRORS = 10


class DeliveryError(RuntimeError):
    """The broker did not acknowledge one or more produced messages."""

    def __init__(self, errors: Sequence[str], count: int | None = None) -> None:
        self.errors = tuple(errors)
        self.count = len(errors) if count is None else count
        shown = "; ".join(self.errors[:MAX_REPORTED_ERRORS])
        super().__init__(f"{self.count} message(s) not delivered: {shown}")


def _brokers(bootstrap: str) -> list[str]:
    return [s.strip() for s in bootstrap.split(",") if s.strip()]


def _describe(err: KafkaError, msg: Message) -> str:
    return f"{msg.topic()}[{msg.partition()}] key={msg.key()!r}: {err.str()}"


# ------------------------------------------------------------------------------------------ producer


class EventProducer:
    """Produce events keyed by underlying, for code outside Bytewax (ingest, tools, tests).

    Delivery is asynchronous: failures are counted as they are reported and raised by `flush`.
    Use as a context manager, or call `close`.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        counters: Counters = COUNTERS,
        config: Mapping[str, Any] | None = None,
        client_id: str = "flowtape-producer",
    ) -> None:
        self._counters = counters
        self._errors: list[str] = []
        self._error_count = 0
        conf: dict[str, Any] = {"bootstrap.servers": bootstrap, "client.id": client_id, **PRODUCER_CONFIG}
        conf.update(config or {})
        self._producer = Producer(conf)
        self._closed = False

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        topic = msg.topic() or ""
        if err is None:
            self._counters.inc(PRODUCED, topic=topic)
            return
        self._counters.inc(DELIVERY_ERRORS, topic=topic)
        self._error_count += 1
        if len(self._errors) < MAX_REPORTED_ERRORS:
            self._errors.append(_describe(err, msg))

    def produce(self, event: Event, namespace: str | None = None) -> None:
        """Queue one event on its topic (namespaced if given), keyed by its underlying."""
        self._send(event_topic(event, namespace), message_key(event), encode(event))

    def produce_many(self, events: Iterable[Event], namespace: str | None = None) -> int:
        """Queue events; return how many."""
        n = 0
        for event in events:
            self.produce(event, namespace)
            n += 1
        return n

    def produce_raw(self, topic: str, key: bytes | str | None, value: bytes | str | None) -> None:
        """Queue an arbitrary payload (tests of dead-letter handling, tools)."""
        self._send(topic, key, value)

    def _send(self, topic: str, key: bytes | str | None, value: bytes | str | None) -> None:
        if self._closed:
            raise RuntimeError("producer is closed")
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=self._on_delivery)
            except BufferError:
                # Local queue full: serve delivery reports until there is room.
                self._producer.poll(0.1)
                continue
            self._producer.poll(0)
            return

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait for every queued message to be acknowledged; raise DeliveryError or TimeoutError."""
        remaining = self._producer.flush(timeout_s)
        if self._error_count:
            errors, count = self._errors, self._error_count
            self._errors, self._error_count = [], 0
            raise DeliveryError(errors, count)
        if remaining:
            raise TimeoutError(f"{remaining} message(s) still queued after {timeout_s:g} s")

    def close(self, timeout_s: float = 30.0) -> None:
        """Flush (raising delivery errors), then release the client; what is still queued is dropped."""
        if self._closed:
            return
        try:
            self.flush(timeout_s)
        finally:
            self._closed = True
            self._producer.purge()
            self._producer.close()

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
            return
        try:
            self.close(timeout_s=5.0)
        except (DeliveryError, TimeoutError):
            log.exception("while closing the producer after an error")


# ------------------------------------------------------------------------------------------ readers


@dataclass(frozen=True)
class ReadMessage:
    """One message read by `read_messages`."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


def _consumer(bootstrap: str, **extra: Any) -> Consumer:
    conf: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": f"flowtape-reader-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    conf.update(extra)
    return Consumer(conf)


def _partitions(consumer: Consumer, topic: str, timeout_s: float) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=timeout_s)
    meta = metadata.topics.get(topic)
    if meta is None or meta.error is not None:
        reason = meta.error.str() if meta is not None and meta.error is not None else "not found"
        raise KeyError(f"topic {topic!r}: {reason}")
    return sorted(meta.partitions)


def _is_eof(topic: str, err: KafkaError) -> bool:
    """Whether a consumer event is a partition's end; raise on a fatal error, log any other."""
    if err.code() == KafkaError._PARTITION_EOF:
        return True
    if err.fatal():
        raise RuntimeError(f"reading {topic}: {err.str()}")
    log.warning("reading %s: %s", topic, err.str())
    return False


def read_messages(
    bootstrap: str, topic: str, timeout_s: float = 10.0, max_messages: int | None = None
) -> list[ReadMessage]:
    """Read a topic from the beginning until every partition is at its end (or timeout / max_messages).

    Assigns partitions directly (no group join), so it starts at once and commits nothing.
    """
    deadline = time.monotonic() + timeout_s
    out: list[ReadMessage] = []
    consumer = _consumer(bootstrap, **{"enable.partition.eof": True})
    try:
        parts = _partitions(consumer, topic, timeout_s)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        at_end: set[int] = set()
        while len(at_end) < len(parts) and time.monotonic() < deadline:
            if max_messages is not None and len(out) >= max_messages:
                break
            want = 500 if max_messages is None else min(500, max_messages - len(out))
            for msg in consumer.consume(want, timeout=min(0.2, max(0.0, deadline - time.monotonic()))):
                err = msg.error()
                partition = msg.partition()
                if err is not None:
                    if _is_eof(topic, err) and partition is not None:
                        at_end.add(partition)
                    continue
                if partition is not None:
                    at_end.discard(partition)
                out.append(
                    ReadMessage(
                        topic=msg.topic() or topic,
                        partition=partition if partition is not None else -1,
                        offset=msg.offset() or 0,
                        key=msg.key(),
                        value=msg.value(),
                        timestamp_ms=msg.timestamp()[1],
                    )
                )
    finally:
        consumer.close()
    return out[:max_messages] if max_messages is not None else out


class SnapshotTimeout(TimeoutError):
    """A topic could not be read to its end in time."""


_NOT_READY = frozenset(
    {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}
)


def _watermarks(consumer: Consumer, partition: TopicPartition, deadline: float) -> tuple[int, int]:
    """(low, high) offsets of a partition, waiting out a leader still being elected (a topic just created)."""
    while True:
        try:
            low, high = consumer.get_watermark_offsets(partition, timeout=max(0.1, deadline - time.monotonic()))
            return low, high
        except KafkaException as exc:
            err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            ready = err is None or (err.code() not in _NOT_READY and not err.retriable())
            if ready or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def read_snapshot(bootstrap: str, topic: str, timeout_s: float = 60.0) -> tuple[list[ReadMessage], dict[int, int]]:
    """Read a topic from the beginning to its end as it is now; return the messages in partition order and, per
    partition, the offset after them (messages produced meanwhile are left out). Raises `SnapshotTimeout` when
    nothing arrives for `timeout_s` while messages are still due (a large topic may take longer in all)."""
    deadline = time.monotonic() + timeout_s
    out: list[ReadMessage] = []
    consumer = _consumer(bootstrap, **{"enable.partition.eof": True})
    try:
        ends: dict[int, int] = {}
        todo: set[int] = set()
        for p in _partitions(consumer, topic, timeout_s):
            low, high = _watermarks(consumer, TopicPartition(topic, p), deadline)
            ends[p] = high
            if high > low:
                todo.add(p)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(todo)])
        while todo:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SnapshotTimeout(
                    f"reading {topic} to its end: nothing arrived for {timeout_s:g}s ({len(out):,} messages read, "
                    f"partitions {sorted(todo)} not at their end)"
                )
            batch = consumer.consume(500, timeout=min(0.2, left))
            if batch:
                deadline = time.monotonic() + timeout_s
            for msg in batch:
                err = msg.error()
                partition = msg.partition()
                if partition is None or partition not in todo:
                    continue
                if err is not None:
                    if _is_eof(topic, err):
                        todo.discard(partition)
                    continue
                offset = msg.offset() or 0
                if offset >= ends[partition]:
                    todo.discard(partition)
                    continue
                out.append(ReadMessage(topic, partition, offset, msg.key(), msg.value(), msg.timestamp()[1]))
                if offset + 1 >= ends[partition]:
                    todo.discard(partition)
    finally:
        consumer.close()
    out.sort(key=lambda m: (m.partition, m.offset))
    return out, ends


def read_topic(
    bootstrap: str, topic: str, timeout_s: float = 10.0, max_messages: int | None = None
) -> list[tuple[bytes | None, bytes | None]]:
    """Return the (key, value) of every message of a topic, from the beginning to its current end."""
    return [(m.key, m.value) for m in read_messages(bootstrap, topic, timeout_s, max_messages)]


def offsets_for_timestamp(bootstrap: str, topic: str, ts_ms: int, timeout_s: float = 10.0) -> dict[int, int]:
    """Return, per partition, the offset of the first message with a timestamp at or after `ts_ms`.

    A partition with no such message maps to its end offset (high watermark), so the result is always a
    concrete next-offset to read. Timestamps are Kafka message timestamps (produce time, ms).
    """
    consumer = _consumer(bootstrap)
    try:
        parts = _partitions(consumer, topic, timeout_s)
        found = consumer.offsets_for_times([TopicPartition(topic, p, ts_ms) for p in parts], timeout=timeout_s)
        out: dict[int, int] = {}
        for tp in found:
            if tp.error is not None:
                raise RuntimeError(f"offsets_for_times {topic}[{tp.partition}]: {tp.error.str()}")
            if tp.offset < 0:
                _, high = _watermarks(consumer, TopicPartition(topic, tp.partition), time.monotonic() + timeout_s)
                out[tp.partition] = high
            else:
                out[tp.partition] = tp.offset
        return out
    finally:
        consumer.close()


# ------------------------------------------------------------------------------------------ bytewax


class TimestampKafkaSource(KafkaSource):
    """A `KafkaSource` starting each partition at the first message at or after `start_ts_ms`.

    Works through the resume state of bytewax's partition (the next offset to read), so a recovery
    snapshot, when there is one, still takes precedence.
    """

    def __init__(self, brokers: Iterable[str], topics: Iterable[str], start_ts_ms: int, **kwargs: Any) -> None:
        super().__init__(brokers, topics, **kwargs)
        self._start_ts_ms = start_ts_ms
        self._start_offsets: dict[str, dict[int, int]] = {}

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> Any:
        if resume_state is None:
            idx, topic = for_part.split("-", 1)
            if topic not in self._start_offsets:
                self._start_offsets[topic] = offsets_for_timestamp(",".join(self._brokers), topic, self._start_ts_ms)
            resume_state = self._start_offsets[topic][int(idx)]
        return super().build_part(step_id, for_part, resume_state)


def sink_config(counters: Counters = COUNTERS, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return producer settings for `KafkaSink`: batching, idempotence and a delivery report that counts.

    `KafkaSink` flushes after every batch but ignores delivery reports; this callback raises from that
    flush instead, so an undelivered message fails the flow (at-least-once on restart with recovery)
    rather than vanishing.
    """

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        topic = msg.topic() or ""
        if err is None:
            counters.inc(PRODUCED, topic=topic)
            return
        counters.inc(DELIVERY_ERRORS, topic=topic)
        raise DeliveryError([_describe(err, msg)])

    conf: dict[str, Any] = {**PRODUCER_CONFIG, "on_delivery": on_delivery}
    conf.update(extra or {})
    return conf


def _kafka_sink(bootstrap: str, counters: Counters, extra: Mapping[str, Any] | None) -> KafkaSink:
    # KafkaSink types its config as str -> str; librdkafka callbacks must be passed as callables.
    return KafkaSink(_brokers(bootstrap), None, cast(dict[str, str], sink_config(counters, extra)))


@dataclass(frozen=True)
class KafkaInput:
    """Streams out of `kafka_input`."""

    events: Stream[AnyEvent]
    """Decoded, validated events."""

    dead_letters: Stream[DeadLetter]
    """Payloads that could not be decoded, with the reason (already sent to `<topic>.dlq` by default)."""

    reference: list[AnyEvent]
    """The reference topics' events read before the flow starts (`reference_topics`), in partition order; the
    stream brings them again, with whatever is published later."""


def _is_event(item: AnyEvent | DeadLetter) -> TypeGuard[AnyEvent]:
    return not isinstance(item, DeadLetter)


def _is_message(item: SourceMessage | BytewaxKafkaError[bytes | None, bytes | None]) -> TypeGuard[SourceMessage]:
    return isinstance(item, KafkaSourceMessage)


def _decoder(counters: Counters) -> Callable[[SourceMessage], AnyEvent | DeadLetter]:
    def decode_counted(msg: SourceMessage) -> AnyEvent | DeadLetter:
        item = decode_message(msg)
        topic = msg.topic or ""
        if isinstance(item, DeadLetter):
            counters.inc(DEAD_LETTERED, topic=topic, error=item.error)
        else:
            counters.inc(DECODED, topic=topic)
        return item

    return decode_counted


def reference_snapshot(bootstrap: str, topics: Iterable[str], timeout_s: float = 60.0) -> list[AnyEvent]:
    """Read reference topics (full names) to their current end; return their valid events (topic by topic, in
    partition order). Invalid payloads, and any that decoding fails on, are left to the stream to dead-letter."""
    events: list[AnyEvent] = []
    for topic in topics:
        messages, _ = read_snapshot(bootstrap, topic, timeout_s)
        for m in messages:
            if m.value is None:
                continue
            try:
                events.append(decode(topic, m.value))
            except Exception:  # InvalidPayload, or any failure of decoding: the stream dead-letters it
                continue
    return events


def _consumer_error_handler(
    counters: Counters,
) -> Callable[[str, BytewaxKafkaError[bytes | None, bytes | None]], None]:
    def on_error(step_id: str, error: BytewaxKafkaError[bytes | None, bytes | None]) -> None:
        topic = error.msg.topic or ""
        counters.inc(CONSUMER_ERRORS, topic=topic, error=error.err.name())
        if error.err.fatal():
            raise RuntimeError(f"{step_id}: fatal consumer error on {topic}: {error.err.str()}")
        # librdkafka retries transport errors by itself: report and carry on.
        log.warning("%s: consumer error on %s: %s", step_id, topic, error.err.str())

    return on_error


@operator
def kafka_input(
    step_id: str,
    flow: Dataflow,
    bootstrap: str,
    topics: Sequence[str],
    namespace: str | None = None,
    *,
    tail: bool,
    start_ts_ms: int | None = None,
    send_dead_letters: bool = True,
    batch_size: int = 1000,
    add_config: Mapping[str, str] | None = None,
    counters: Counters = COUNTERS,
    reference_topics: Sequence[str] = (),
) -> KafkaInput:
    """Consume topics (base names, namespaced here) as decoded events plus a stream of dead letters.

    `tail=False` stops at the end of every partition as it was when reached (replay, tests); `tail=True`
    waits for new messages forever. Reads start at the beginning, or at `start_ts_ms` (Kafka message
    timestamp, ms) when given. Dead letters go to `<topic>.dlq` unless `send_dead_letters` is false;
    the flow keeps running past bad input. Consumer errors are counted and logged, fatal ones raise.
    `reference_topics` (among `topics`) are also read to their end now, into `KafkaInput.reference` (module
    docstring); the stream carries them as well.
    """
    names = [namespaced(t, namespace) for t in topics]
    reference = reference_snapshot(bootstrap, [namespaced(t, namespace) for t in topics if t in reference_topics])
    config = dict(add_config or {})
    source: KafkaSource
    if start_ts_ms is None:
        source = KafkaSource(
            _brokers(bootstrap),
            names,
            tail=tail,
            starting_offset=OFFSET_BEGINNING,
            add_config=config,
            batch_size=batch_size,
            raise_on_errors=False,
        )
    else:
        source = TimestampKafkaSource(
            _brokers(bootstrap),
            names,
            start_ts_ms,
            tail=tail,
            add_config=config,
            batch_size=batch_size,
            raise_on_errors=False,
        )
    raw = op.input("kafka_input", flow, source)
    split = op.branch("split_consumer_errors", raw, _is_message)
    errors = cast(Stream[BytewaxKafkaError[bytes | None, bytes | None]], split.falses)
    op.inspect("report_consumer_errors", errors, _consumer_error_handler(counters))
    decoded = op.map("decode", split.trues, _decoder(counters))
    branched = op.branch("split_dead_letters", decoded, _is_event)
    dead_letters = cast(Stream[DeadLetter], branched.falses)
    if send_dead_letters:
        to_dlq = op.map("to_dlq_message", dead_letters, dead_letter_message)
        op.output("dlq_output", to_dlq, _kafka_sink(bootstrap, counters, None))
    return KafkaInput(events=branched.trues, dead_letters=dead_letters, reference=reference)


@operator
def dead_letter_output(step_id: str, up: Stream[SinkMessage], bootstrap: str, *, counters: Counters = COUNTERS) -> None:
    """Produce dead-letter messages (`dead_letter_message`: topic, key and value set) as they are."""
    op.output("dlq_output", up, _kafka_sink(bootstrap, counters, None))


@operator
def kafka_output(
    step_id: str,
    up: Stream[Event],
    bootstrap: str,
    namespace: str | None = None,
    *,
    add_config: Mapping[str, Any] | None = None,
    counters: Counters = COUNTERS,
) -> None:
    """Produce events to their topics (namespaced if given), keyed by underlying, JSON values.

    A message the broker does not acknowledge fails the flow (see `sink_config`).
    """
    messages: Stream[SinkMessage] = op.map("to_message", up, partial(to_sink_message, namespace=namespace))
    op.output("kafka_output", messages, _kafka_sink(bootstrap, counters, add_config))

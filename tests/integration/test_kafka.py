"""Kafka I/O against the real broker: topic admin, keying, a Bytewax flow with dead letters, replay offsets."""

from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main
from confluent_kafka.admin import AdminClient, ConfigResource

from connectors.kafka import (
    COUNTERS,
    Counters,
    DeliveryError,
    EventProducer,
    TopicSpec,
    delete_topics,
    ensure_topics,
    kafka_input,
    kafka_output,
    offsets_for_timestamp,
    read_messages,
    read_snapshot,
    topic_partitions,
)
from deploy.topics import topic_specs
from events.models import AnyEvent, DeadLetter, Event, OptionNbbo, OptionPrint
from events.serde import decode
from events.topics import OPTIONS_NBBO, OPTIONS_PRINTS, REFDATA_OPTIONS
from tests.factories import open_interest, quote, trade

pytestmark = pytest.mark.integration

UNDERLYINGS = ("SPY", "QQQ", "AAPL", "NVDA", "TSLA", "AMD", "MSFT", "META")


@pytest.fixture
def namespace(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh replay namespace; every topic whose name starts with it is deleted afterwards."""
    ns = f"t{uuid.uuid4().hex[:12]}"
    yield ns
    mine = [name for name in topic_partitions(kafka_bootstrap) if name.startswith(ns)]
    delete_topics(kafka_bootstrap, mine, with_dlq=False)


def make_topics(kafka_bootstrap: str, namespace: str, partitions: int, *topics: str) -> None:
    specs = topic_specs(namespace, partitions)
    wanted = {f"{namespace}.{t}" for t in topics} | {f"{namespace}.{t}.dlq" for t in topics}
    ensure_topics(kafka_bootstrap, {name: spec for name, spec in specs.items() if name in wanted})


def option_events(per_underlying: int) -> list[Event]:
    events: list[Event] = []
    for i in range(per_underlying):
        for u in UNDERLYINGS:
            symbol = f"{u:<6}260320C00100000"
            events.append(quote(i * 10, "1.20", "1.30", symbol=symbol))
            events.append(trade(i * 10 + 1, "1.25", 5 + i, symbol=symbol))
    return events


def run_bounded(flow: Dataflow, runner: Callable[[Dataflow], None] = run_main) -> None:
    started = time.monotonic()
    runner(flow)
    # tail=False must end at EOF; a hang here would mean it did not.
    assert time.monotonic() - started < 60


# ------------------------------------------------------------------------------------------ admin


def test_ensure_topics_is_idempotent(kafka_bootstrap: str, namespace: str) -> None:
    specs = {f"{namespace}.a": TopicSpec(3, 6 * 3_600_000), f"{namespace}.b": TopicSpec(2, 60_000)}

    first = ensure_topics(kafka_bootstrap, specs)
    again = ensure_topics(kafka_bootstrap, specs)
    by_name = ensure_topics(kafka_bootstrap, list(specs), partitions=5)

    assert first == sorted([*specs, *(f"{n}.dlq" for n in specs)])
    assert again == by_name == []
    counts = topic_partitions(kafka_bootstrap)
    assert {n: counts[n] for n in first} == {
        f"{namespace}.a": 3,
        f"{namespace}.a.dlq": 3,
        f"{namespace}.b": 2,
        f"{namespace}.b.dlq": 2,
    }
    resource = ConfigResource("TOPIC", f"{namespace}.a")
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})  # must outlive its futures
    config = admin.describe_configs([resource])[resource].result(10)
    assert config["retention.ms"].value == str(6 * 3_600_000)
    assert delete_topics(kafka_bootstrap, [f"{namespace}.b"]) == [f"{namespace}.b", f"{namespace}.b.dlq"]
    assert delete_topics(kafka_bootstrap, [f"{namespace}.b"]) == []


# ------------------------------------------------------------------------------------------ keying


def test_events_of_one_underlying_land_on_one_partition(kafka_bootstrap: str, namespace: str) -> None:
    make_topics(kafka_bootstrap, namespace, 4, OPTIONS_PRINTS, OPTIONS_NBBO)
    events = option_events(per_underlying=5)
    counters = Counters()

    with EventProducer(kafka_bootstrap, counters=counters) as producer:
        producer.produce_many(events, namespace)

    assert counters.value("produced") == len(events)
    for topic in (OPTIONS_PRINTS, OPTIONS_NBBO):
        messages = read_messages(kafka_bootstrap, f"{namespace}.{topic}")
        partitions: dict[bytes | None, set[int]] = defaultdict(set)
        decoded: dict[str, list[AnyEvent]] = defaultdict(list)
        for m in messages:
            partitions[m.key].add(m.partition)
            assert m.value is not None
            event = decode(m.topic, m.value)
            assert m.key == event.key.encode()
            decoded[event.key].append(event)
        assert set(partitions) == {u.encode() for u in UNDERLYINGS}
        assert all(len(p) == 1 for p in partitions.values()), partitions
        assert len({p for ps in partitions.values() for p in ps}) > 1, "all keys on one partition"
        # Per underlying, the partition keeps production order.
        for u in UNDERLYINGS:
            assert decoded[u] == [e for e in events if e.key == u and e.event_type == decoded[u][0].event_type]


def test_undelivered_message_is_raised_at_flush(kafka_bootstrap: str, namespace: str) -> None:
    topic = f"{namespace}.small"
    ensure_topics(kafka_bootstrap, {topic: TopicSpec(1, 60_000, {"max.message.bytes": "1024"})}, with_dlq=False)
    counters = Counters()
    producer = EventProducer(kafka_bootstrap, counters=counters, config={"compression.type": "none"})

    producer.produce_raw(topic, b"k", os.urandom(4096))
    with pytest.raises(DeliveryError, match="1 message"):
        producer.flush(timeout_s=20)
    producer.produce_raw(topic, b"k", b"fits")
    producer.close()

    assert counters.value("delivery_errors", topic=topic) == 1
    assert counters.value("produced", topic=topic) == 1


# ------------------------------------------------------------------------------------------ bytewax


BAD = [
    (b"SPY", b"{not json"),
    (b"QQQ", b"\xff\xfe\x00"),
    (b"AAPL", b'{"event_type": "option_print", "schema_version": 1}'),
    (b"NVDA", None),
]


def _where(dl: DeadLetter) -> tuple[int, int]:
    return (dl.partition or 0, dl.offset or 0)


@pytest.mark.parametrize("workers", [1, 2], ids=["one_worker", "two_workers"])
def test_flow_decodes_events_and_dead_letters_bad_payloads(kafka_bootstrap: str, namespace: str, workers: int) -> None:
    make_topics(kafka_bootstrap, namespace, 4, OPTIONS_PRINTS)
    out_ns = namespace + "-out"
    make_topics(kafka_bootstrap, out_ns, 4, OPTIONS_PRINTS)
    good = [e for e in option_events(per_underlying=3) if isinstance(e, OptionPrint)]
    with EventProducer(kafka_bootstrap) as producer:
        for i, event in enumerate(good):
            producer.produce(event, namespace)
            if i < len(BAD):
                producer.produce_raw(f"{namespace}.{OPTIONS_PRINTS}", *BAD[i])
    COUNTERS.reset()

    flow = Dataflow("kafka_dead_letters")
    stream = kafka_input("read_prints", flow, kafka_bootstrap, [OPTIONS_PRINTS], namespace, tail=False)
    events: list[AnyEvent] = []
    dead: list[DeadLetter] = []
    op.output("events", stream.events, TestingSink(events))
    op.output("dead_letters", stream.dead_letters, TestingSink(dead))
    kafka_output("write_prints", stream.events, kafka_bootstrap, out_ns)
    if workers == 1:
        run_bounded(flow)
    else:
        run_bounded(flow, lambda f: cluster_main(f, [], 0, worker_count_per_proc=2))

    assert sorted(e.id for e in events) == sorted(e.id for e in good)
    assert {d.error for d in dead} == {"invalid_json", "invalid_field", "empty_payload"}
    dlq = read_messages(kafka_bootstrap, f"{namespace}.{OPTIONS_PRINTS}.dlq")
    letters = [DeadLetter.model_validate_json(m.value or b"") for m in dlq]
    assert sorted(letters, key=_where) == sorted(dead, key=_where)
    assert {(m.key, d.key) for m, d in zip(dlq, letters, strict=True)} == {(k, k.decode()) for k, _ in BAD}
    assert all(d.topic == f"{namespace}.{OPTIONS_PRINTS}" and d.reason and d.offset is not None for d in letters)
    assert COUNTERS.value("decoded") == len(good)
    assert COUNTERS.value("dead_lettered") == len(BAD)
    assert COUNTERS.value("produced") == len(good) + len(BAD)
    written = read_messages(kafka_bootstrap, f"{out_ns}.{OPTIONS_PRINTS}")
    rewritten = [decode(m.topic, m.value or b"") for m in written]
    assert sorted(e.id for e in rewritten) == sorted(e.id for e in good)
    assert all(m.key == e.key.encode() for m, e in zip(written, rewritten, strict=True))


def test_flow_over_empty_partitions_ends(kafka_bootstrap: str, namespace: str) -> None:
    make_topics(kafka_bootstrap, namespace, 4, OPTIONS_NBBO)
    flow = Dataflow("kafka_empty")
    stream = kafka_input("read_quotes", flow, kafka_bootstrap, [OPTIONS_NBBO], namespace, tail=False)
    events: list[AnyEvent] = []
    op.output("events", stream.events, TestingSink(events))

    run_bounded(flow)

    assert events == []


# ------------------------------------------------------------------------------------------ reference data


def test_read_snapshot_stops_at_the_end_it_found(kafka_bootstrap: str, namespace: str) -> None:
    make_topics(kafka_bootstrap, namespace, 2, REFDATA_OPTIONS)
    topic = f"{namespace}.{REFDATA_OPTIONS}"
    assert read_snapshot(kafka_bootstrap, topic) == ([], {0: 0, 1: 0})
    events = [open_interest(f"{u:<6}260320C00100000", 100 + i) for i, u in enumerate(UNDERLYINGS)]
    with EventProducer(kafka_bootstrap) as producer:
        producer.produce_many(events, namespace)
    messages, ends = read_snapshot(kafka_bootstrap, topic)
    assert sorted(decode(topic, m.value or b"").id for m in messages) == sorted(e.id for e in events)
    assert [(m.partition, m.offset) for m in messages] == sorted((m.partition, m.offset) for m in messages)
    assert ends == {p: 1 + max((m.offset for m in messages if m.partition == p), default=-1) for p in (0, 1)}


def test_reference_topics_are_read_first_and_streamed_as_well(kafka_bootstrap: str, namespace: str) -> None:
    make_topics(kafka_bootstrap, namespace, 2, OPTIONS_PRINTS, REFDATA_OPTIONS)
    refdata = f"{namespace}.{REFDATA_OPTIONS}"
    early = [open_interest(f"{u:<6}260320C00100000", 100 + i) for i, u in enumerate(UNDERLYINGS)]
    late = [open_interest(f"{u:<6}260320P00100000", 200 + i) for i, u in enumerate(UNDERLYINGS)]
    prints = [e for e in option_events(per_underlying=2) if isinstance(e, OptionPrint)]
    with EventProducer(kafka_bootstrap) as producer:
        producer.produce_many(early, namespace)
        producer.produce_raw(refdata, b"SPY", b"{not json")
        producer.produce_many(prints, namespace)
    COUNTERS.reset()

    flow = Dataflow("kafka_reference")
    stream = kafka_input(
        "read_options",
        flow,
        kafka_bootstrap,
        [OPTIONS_PRINTS, REFDATA_OPTIONS],
        namespace,
        tail=False,
        reference_topics=[REFDATA_OPTIONS],
    )
    # Read before the flow runs: what is published afterwards comes through the stream.
    assert sorted(e.id for e in stream.reference) == sorted(e.id for e in early)
    with EventProducer(kafka_bootstrap) as producer:
        producer.produce_many(late, namespace)
    events: list[AnyEvent] = []
    dead: list[DeadLetter] = []
    op.output("events", stream.events, TestingSink(events))
    op.output("dead_letters", stream.dead_letters, TestingSink(dead))
    run_bounded(flow)

    assert sorted(e.id for e in events) == sorted(e.id for e in prints + early + late)
    assert [d.error for d in dead] == ["invalid_json"]  # the bad reference payload, dead-lettered once
    assert [
        DeadLetter.model_validate_json(m.value or b"") for m in read_messages(kafka_bootstrap, refdata + ".dlq")
    ] == dead
    assert COUNTERS.value("decoded") == len(prints) + len(early) + len(late)


# ------------------------------------------------------------------------------------------ replay


def test_offsets_for_timestamp_and_replay_from_it(kafka_bootstrap: str, namespace: str) -> None:
    make_topics(kafka_bootstrap, namespace, 2, OPTIONS_NBBO)
    topic = f"{namespace}.{OPTIONS_NBBO}"
    events = [e for e in option_events(per_underlying=4) if isinstance(e, OptionNbbo)]
    before, after = events[:10], events[10:]
    with EventProducer(kafka_bootstrap) as producer:
        producer.produce_many(before, namespace)
        producer.flush()
        time.sleep(0.05)
        cut_ms = int(time.time() * 1000)
        time.sleep(0.05)
        producer.produce_many(after, namespace)

    messages = read_messages(kafka_bootstrap, topic)
    expected: dict[int, int] = {}
    for m in sorted(messages, key=lambda m: m.offset):
        if m.timestamp_ms >= cut_ms:
            expected.setdefault(m.partition, m.offset)
    ends = {p: 1 + max((m.offset for m in messages if m.partition == p), default=-1) for p in (0, 1)}
    for p in (0, 1):
        expected.setdefault(p, ends[p])

    assert offsets_for_timestamp(kafka_bootstrap, topic, cut_ms) == expected
    assert offsets_for_timestamp(kafka_bootstrap, topic, 0) == {0: 0, 1: 0}
    assert offsets_for_timestamp(kafka_bootstrap, topic, cut_ms + 3_600_000) == ends

    flow = Dataflow("kafka_replay_from_ts")
    stream = kafka_input(
        "read_quotes", flow, kafka_bootstrap, [OPTIONS_NBBO], namespace, tail=False, start_ts_ms=cut_ms
    )
    replayed: list[AnyEvent] = []
    op.output("events", stream.events, TestingSink(replayed))
    run_bounded(flow)

    assert sorted(e.id for e in replayed) == sorted(e.id for e in after)


def test_flow_fails_when_the_broker_rejects_its_output(kafka_bootstrap: str, namespace: str) -> None:
    topic = f"{namespace}.{OPTIONS_PRINTS}"
    ensure_topics(kafka_bootstrap, {topic: TopicSpec(1, 60_000, {"max.message.bytes": "64"})}, with_dlq=False)
    counters = Counters()
    flow = Dataflow("kafka_rejected")
    prints = op.input("prints", flow, TestingSource([trade(0, "1.25", 10)]))
    kafka_output("write_prints", prints, kafka_bootstrap, namespace, counters=counters)

    # KafkaSink alone ignores delivery reports; sink_config's callback turns them into a failure.
    with pytest.raises(Exception, match="error writing output batch") as info:
        run_main(flow)

    causes: list[BaseException] = []
    cause: BaseException | None = info.value
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__
    assert any(isinstance(c, DeliveryError) and "Message size too large" in str(c) for c in causes), causes

    assert counters.value("delivery_errors", topic=topic) == 1

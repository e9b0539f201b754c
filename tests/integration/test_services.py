"""The real local services are up and do real work: Kafka round trip, ClickHouse DDL/DML, Redis."""

from __future__ import annotations

import time
import uuid

import redis
from clickhouse_driver import Client
from confluent_kafka import Consumer, KafkaError, Message, Producer

from connectors.kafka.admin import ensure_topics, topic_partitions
from deploy import services as deploy_services
from deploy.services import ServicesConfig
from tests.integration.conftest import TopicFactory


def test_kafka_topic_produce_consume(kafka_bootstrap: str, unique_topic: TopicFactory) -> None:
    topic = unique_topic("flowtape.selftest")
    # Creation returns before a fresh broker's metadata shows the topic: ensure_topics waits until it does.
    assert ensure_topics(kafka_bootstrap, [topic], partitions=4, with_dlq=False) == [topic]
    assert topic_partitions(kafka_bootstrap)[topic] == 4

    delivered: list[Message] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        assert err is None, err
        delivered.append(msg)

    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    sent = {f"key-{i}".encode(): f"value-{i}".encode() for i in range(3)}
    for key, value in sent.items():
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert len(delivered) == 3

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"selftest-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received: dict[bytes, bytes] = {}
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while len(received) < 3 and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            got_key, got_value = msg.key(), msg.value()
            assert isinstance(got_key, bytes)
            assert isinstance(got_value, bytes)
            received[got_key] = got_value
    finally:
        consumer.close()
    assert received == sent


def test_clickhouse_version_and_roundtrip(clickhouse_client: Client, clickhouse_database: str) -> None:
    ((version,),) = clickhouse_client.execute("SELECT version()")
    assert int(version.split(".")[0]) >= 18
    ((current,),) = clickhouse_client.execute("SELECT currentDatabase()")
    assert current == clickhouse_database

    clickhouse_client.execute(
        "CREATE TABLE selftest (id String, ts_event Int64, size UInt32) ENGINE = MergeTree ORDER BY id"
    )
    rows = [("a", 1_700_000_000_000_000_000, 10), ("b", 1_700_000_000_000_000_001, 20)]
    clickhouse_client.execute("INSERT INTO selftest (id, ts_event, size) VALUES", rows)
    assert clickhouse_client.execute("SELECT id, ts_event, size FROM selftest ORDER BY id") == rows
    assert clickhouse_client.execute("SELECT sum(size) FROM selftest") == [(30,)]


def test_redis_set_get(redis_client: redis.Redis) -> None:
    redis_client.set("selftest", "42")
    assert redis_client.get("selftest") == b"42"


def test_status_reports_all_running(services: ServicesConfig) -> None:
    result = deploy_services.status(config=services)
    for name in deploy_services.ALL:
        st = result[name]
        assert st.running, st.line()
        assert st.healthy, st.line()
        assert st.pid is not None
    assert result["kafka"].address == services.kafka_bootstrap


def test_second_up_is_a_fast_noop(services: ServicesConfig) -> None:
    before = deploy_services.status(config=services)
    started = time.monotonic()
    result = deploy_services.up(config=services)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"up() on running services took {elapsed:.1f}s"
    for name, st in result.items():
        assert not st.started, name
        assert st.pid == before[name].pid

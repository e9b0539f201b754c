"""Kafka topics: events keyed by underlying as JSON, dead letters to `<topic>.dlq`, topic admin, counters.

- `messages`: pure event <-> message mapping (keys, topics, values, dead letters).
- `io`: `EventProducer`, `read_topic`, `offsets_for_timestamp`, Bytewax `kafka_input` / `kafka_output`.
- `admin`: `wait_for_broker`, `ensure_topics`, `delete_topics`.
- `counters`: process-local I/O counters (`COUNTERS`).
"""

from connectors.kafka.admin import (
    BrokerUnavailable,
    TopicAdminError,
    TopicSpec,
    delete_topics,
    ensure_topics,
    topic_partitions,
    wait_for_broker,
)
from connectors.kafka.counters import COUNTERS, Counters
from connectors.kafka.io import (
    DeliveryError,
    EventProducer,
    KafkaInput,
    ReadMessage,
    SnapshotTimeout,
    TimestampKafkaSource,
    kafka_input,
    kafka_output,
    offsets_for_timestamp,
    read_messages,
    read_snapshot,
    read_topic,
    reference_snapshot,
    sink_config,
)
from connectors.kafka.messages import (
    dead_letter_message,
    decode_message,
    dlq_topic,
    event_topic,
    message_key,
    to_sink_message,
)

__all__ = [
    "COUNTERS",
    "BrokerUnavailable",
    "Counters",
    "DeliveryError",
    "EventProducer",
    "KafkaInput",
    "ReadMessage",
    "SnapshotTimeout",
    "TimestampKafkaSource",
    "TopicAdminError",
    "TopicSpec",
    "dead_letter_message",
    "decode_message",
    "delete_topics",
    "dlq_topic",
    "ensure_topics",
    "event_topic",
    "kafka_input",
    "kafka_output",
    "message_key",
    "offsets_for_timestamp",
    "read_messages",
    "read_snapshot",
    "read_topic",
    "reference_snapshot",
    "sink_config",
    "to_sink_message",
    "topic_partitions",
    "wait_for_broker",
]

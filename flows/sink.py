"""Sink flow: raw and derived Kafka topics -> ClickHouse (server or chDB), in columnar batches, idempotently.

Run: `python -m bytewax.run flows.sink`. Tables are ReplacingMergeTree keyed by event id, so re-reading the
same topics (a restart, a replay) leaves the same rows after FINAL. Undecodable payloads land in the
`dead_letters` table (the options flow already sent them to `<topic>.dlq`).

A row the store refuses (a value that passed validation but that its types cannot hold) is isolated from its
batch and dead-lettered: error `store_refused`, the store's reason, on `<topic>.dlq` and in the `dead_letters`
table; the rest of the batch is stored and the sink goes on. It is never retried, so it cannot stop the sink on
every restart. A store outage is different: the sink waits it out with backoff and drops nothing.
"""

from __future__ import annotations

import logging

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from pydantic import BaseModel

from connectors.bytewax_io import StoreSink
from connectors.clickhouse.store import Refused, Store, insert_or_refuse, open_store
from connectors.kafka.io import EventProducer, kafka_input
from connectors.kafka.messages import dlq_topic
from connectors.settings import Settings
from events.models import AnyEvent, DeadLetter
from events.serde import encode, to_json_line
from events.topics import ALL_TOPICS, namespaced
from flows.collector import tune_collector
from flows.metrics import serve_metrics
from flows.topic_setup import ensure_flow_topics

STORE_REFUSED = "store_refused"
"""Dead-letter error class of a row the store would not take."""
DEAD_LETTERS_TABLE = "dead_letters"

log = logging.getLogger(__name__)


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def refused_letter(topic: str, event: BaseModel, reason: str, namespace: str | None = None) -> DeadLetter:
    """The dead letter of a row the store refused: read from `topic` (bare, namespaced here), with the reason."""
    try:
        payload = to_json_line(event)
    except Exception:  # a row that cannot even be written out is still dead-lettered
        payload = repr(event.__dict__)
    key = getattr(event, "key", None)
    return DeadLetter(
        topic=namespaced(topic, namespace),
        key=_text(key) if isinstance(key, str) else None,
        error=STORE_REFUSED,
        reason=_text(reason),
        payload=_text(payload),
    )


class RefusedRows:
    """Dead-letter what the store refuses: to `<topic>.dlq` (Kafka) and the `dead_letters` table."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._producer: EventProducer | None = None
        self.count = 0

    def __call__(self, topic: str, refused: list[Refused]) -> None:
        if topic == DEAD_LETTERS_TABLE:
            for letter, reason in refused:  # a dead letter the store refuses has nowhere further to go
                log.error("store refused a dead letter (%s): %s", getattr(letter, "topic", "?"), reason)
            return
        letters = [refused_letter(topic, event, reason, self._settings.namespace) for event, reason in refused]
        self.count += len(letters)
        for letter in letters:
            log.warning("store refused a row of %s: %s", letter.topic, letter.reason)
        if self._producer is None:
            self._producer = EventProducer(self._settings.kafka_bootstrap, client_id="flowtape-sink-dlq")
        for letter in letters:
            key = letter.key.encode("utf-8") if letter.key is not None else None
            self._producer.produce_raw(dlq_topic(letter), key, encode(letter))
        self._producer.flush()
        for letter, reason in insert_or_refuse(self._store, DEAD_LETTERS_TABLE, letters):
            log.error("store refused the dead letter of a refused row (%s): %s", getattr(letter, "topic", "?"), reason)


def build_flow(settings: Settings | None = None) -> Dataflow:
    """Build the sink flow over every raw and derived topic."""
    settings = settings or Settings()
    tune_collector(settings.gc_threshold)
    serve_metrics(settings.api_host, settings.metrics_port)
    ensure_flow_topics(settings)
    store = open_store(settings)
    store.ensure_schema()
    flow = Dataflow("flowtape_sink")
    inputs = kafka_input(
        "read_all_topics",
        flow,
        settings.kafka_bootstrap,
        ALL_TOPICS,
        settings.namespace,
        tail=settings.kafka_tail,
        start_ts_ms=settings.replay_from_ts_ms,
        send_dead_letters=False,
    )
    refused = RefusedRows(store, settings)
    events_sink: StoreSink[AnyEvent] = StoreSink(store, batch_rows=settings.sink_batch_rows, on_refused=refused)
    dead_sink: StoreSink[DeadLetter] = StoreSink(store, batch_rows=settings.sink_batch_rows, on_refused=refused)
    op.output("store_events", inputs.events, events_sink)
    op.output("store_dead_letters", inputs.dead_letters, dead_sink)
    return flow


def __getattr__(name: str) -> Dataflow:
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

"""Sink flow: raw and derived Kafka topics -> ClickHouse (server or chDB), in columnar batches, idempotently.

Run: `python -m bytewax.run flows.sink`. Tables are ReplacingMergeTree keyed by event id, so re-reading the
same topics (a restart, a replay) leaves the same rows after FINAL. Undecodable payloads land in the
`dead_letters` table (the options flow already sent them to `<topic>.dlq`).
"""

from __future__ import annotations

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.bytewax_io import StoreSink
from connectors.clickhouse.store import open_store
from connectors.kafka.io import kafka_input
from connectors.settings import Settings
from events.models import AnyEvent, DeadLetter
from events.topics import ALL_TOPICS
from flows.topic_setup import ensure_flow_topics


def build_flow(settings: Settings | None = None) -> Dataflow:
    """Build the sink flow over every raw and derived topic."""
    settings = settings or Settings()
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
    events_sink: StoreSink[AnyEvent] = StoreSink(store, batch_rows=settings.sink_batch_rows)
    dead_sink: StoreSink[DeadLetter] = StoreSink(store, batch_rows=settings.sink_batch_rows)
    op.output("store_events", inputs.events, events_sink)
    op.output("store_dead_letters", inputs.dead_letters, dead_sink)
    return flow


def __getattr__(name: str) -> Dataflow:
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

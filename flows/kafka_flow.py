"""The shape both Kafka engine flows share: raw topics -> keyed engine step -> derived topics."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream

from connectors.kafka.counters import COUNTERS, DEAD_LETTERED
from connectors.kafka.io import dead_letter_output, kafka_input, kafka_output
from connectors.kafka.messages import dead_letter_message
from connectors.settings import Settings
from events.models import AnyEvent, DeadLetter, DerivedEvent
from events.topics import REFERENCE_TOPICS
from flows.baselines_job import load_baselines
from flows.collector import tune_collector
from flows.engine_steps import History, Reference, by_underlying, split_dead_letters
from flows.metrics import serve_metrics
from flows.topic_setup import ensure_flow_topics

EngineStep = Callable[[Stream[AnyEvent], History, Reference, int | None], Stream[DerivedEvent]]
"""Raw events, the volume baselines and the reference topics' snapshot per underlying, and the idle timer in;
derived events out."""


def build_engine_flow(
    name: str, read_step: str, topics: tuple[str, ...], settings: Settings, step: EngineStep
) -> Dataflow:
    """Build `name`: read `topics` (step `read_step`, creating missing topics first; reference topics among them
    are read to their end first, see `connectors.kafka.io`), run `step` with the baselines cached in Redis (each
    engine reads its own scopes), that reference snapshot and the live idle timer, and write the derived
    topics. An event the engine raised on (`flows.engine_guard`) goes to its input topic's `.dlq`."""
    tune_collector(settings.gc_threshold)
    serve_metrics(settings.api_host, settings.metrics_port)
    ensure_flow_topics(settings)
    flow = Dataflow(name)
    inputs = kafka_input(
        read_step,
        flow,
        settings.kafka_bootstrap,
        topics,
        settings.namespace,
        tail=settings.kafka_tail,
        start_ts_ms=settings.replay_from_ts_ms,
        reference_topics=REFERENCE_TOPICS,
    )
    if inputs.reference:
        print(f"flowtape: {len(inputs.reference):,} reference events read before the flow starts", file=sys.stderr)
    history = by_underlying(load_baselines(settings))
    outputs = step(inputs.events, history, by_underlying(inputs.reference), settings.idle_ns)
    derived, dead_letters = split_dead_letters("split_engine_dead_letters", outputs)
    op.inspect("count_engine_dead_letters", dead_letters, _count_dead_letter)
    messages = op.map("engine_dlq_message", dead_letters, partial(dead_letter_message, namespace=settings.namespace))
    dead_letter_output("write_engine_dead_letters", messages, settings.kafka_bootstrap)
    kafka_output("write_derived_topics", derived, settings.kafka_bootstrap, settings.derived_namespace)
    return flow


def _count_dead_letter(step_id: str, letter: DeadLetter) -> None:
    COUNTERS.inc(DEAD_LETTERED, topic=letter.topic, error=letter.error)
    print(f"flowtape: {letter.error} on {letter.topic}: {letter.reason}", file=sys.stderr)

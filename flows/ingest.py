"""Ingest flow: the synthetic market or recorded files -> raw Kafka topics, keyed by underlying.

Run: `python -m bytewax.run flows.ingest`. `FLOWTAPE_INGEST_SOURCE=synthetic` (default; paced by
`FLOWTAPE_INGEST_SPEED`, 0 = as fast as possible) or `files` with `FLOWTAPE_INGEST_FILES=a.dbn.zst:b.jsonl`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from connectors.bytewax_io import IterableSource
from connectors.kafka.io import kafka_output
from connectors.settings import Settings
from events.models import AnyEvent
from flows.inputs import InputStats, check_inputs, read_inputs
from flows.topic_setup import ensure_flow_topics


def source_events(settings: Settings) -> Iterator[AnyEvent]:
    """Yield the configured raw events in event-time order."""
    if settings.ingest_source == "files":
        paths = [Path(p) for p in settings.ingest_files.split(os.pathsep) if p]
        if not paths:
            raise ValueError("FLOWTAPE_INGEST_SOURCE=files needs FLOWTAPE_INGEST_FILES")
        check_inputs(paths)
        yield from read_inputs(paths, InputStats())
        return
    from connectors.synthetic import SyntheticConfig, SyntheticMarket, iter_paced

    market = SyntheticMarket(
        SyntheticConfig(
            seed=settings.synthetic_seed,
            profile=settings.synthetic_profile,
            underlyings=settings.universe,
            duration_s=settings.synthetic_duration_s,
        )
    )
    yield from iter_paced(market.events(), settings.ingest_speed)


def build_flow(settings: Settings | None = None) -> Dataflow:
    """Build the ingest flow (creates missing raw topics first)."""
    settings = settings or Settings()
    ensure_flow_topics(settings)
    flow = Dataflow("flowtape_ingest")
    batch = 256 if settings.ingest_source == "synthetic" and settings.ingest_speed > 0 else 4096
    events = op.input("read_source", flow, IterableSource(lambda: source_events(settings), batch_size=batch))
    kafka_output("write_raw_topics", events, settings.kafka_bootstrap, settings.namespace)
    return flow


def __getattr__(name: str) -> Dataflow:
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

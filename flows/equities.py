"""Equities flow: raw equity topics -> as-of quote join -> eligibility -> dark inference, dark levels and
candles, on Kafka.

Run: `python -m bytewax.run flows.equities` (add `-w N` / `-i/-a` to scale; partitions keyed by underlying).
Settings come from `FLOWTAPE_*` env vars (see `flowtape config`); replay and namespaces as for
`flows.options`. Each stock's average daily volume (`flowtape baselines build`, scope `equity`) is read from
Redis once at start and given to its engine before its first event, like the options flow's baselines.
"""

from __future__ import annotations

from bytewax.dataflow import Dataflow

from connectors.kafka.io import kafka_input, kafka_output
from connectors.settings import Settings
from events.config import EquitiesConfig
from events.topics import EQUITIES_PRINTS, EQUITIES_QUOTES
from flows.baselines_job import load_baselines
from flows.engine_steps import baselines_by_underlying, equities_engine
from flows.topic_setup import ensure_flow_topics

EQUITIES_INPUT_TOPICS: tuple[str, ...] = (EQUITIES_PRINTS, EQUITIES_QUOTES)


def build_flow(settings: Settings | None = None, config: EquitiesConfig | None = None) -> Dataflow:
    """Build the Kafka equities flow (creates missing topics first)."""
    settings = settings or Settings()
    config = config or EquitiesConfig()
    ensure_flow_topics(settings)
    flow = Dataflow("flowtape_equities")
    inputs = kafka_input(
        "read_equity_topics",
        flow,
        settings.kafka_bootstrap,
        EQUITIES_INPUT_TOPICS,
        settings.namespace,
        tail=settings.kafka_tail,
        start_ts_ms=settings.replay_from_ts_ms,
    )
    history = baselines_by_underlying(b for b in load_baselines(settings) if b.scope == "equity")
    derived = equities_engine("run_equities_engine", inputs.events, config, history=history, idle_ns=settings.idle_ns)
    kafka_output("write_derived_topics", derived, settings.kafka_bootstrap, settings.derived_namespace)
    return flow


def __getattr__(name: str) -> Dataflow:
    # `python -m bytewax.run flows.equities` looks up `flow`; build it lazily so importing stays side-effect free.
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

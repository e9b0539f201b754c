"""Options flow: raw option topics -> as-of NBBO join -> packets -> classifiers -> alerts, on Kafka.

Run: `python -m bytewax.run flows.options` (add `-w N` / `-i/-a` to scale; partitions keyed by underlying).
Settings come from `FLOWTAPE_*` env vars (see `flowtape config`); `FLOWTAPE_KAFKA_TAIL=false` stops at the
end of the topics (replay), `FLOWTAPE_OUTPUT_NAMESPACE` writes derived topics under a replay namespace.
Historical volume baselines (`flowtape baselines build`) are read from Redis once at start; each underlying's
engine takes its own before its first event (deterministically, whatever the arrival order), and baselines
published on `refdata.options` later update them like any reference data.
"""

from __future__ import annotations

from bytewax.dataflow import Dataflow

from connectors.kafka.io import kafka_input, kafka_output
from connectors.settings import Settings
from events.config import OptionsConfig
from events.topics import OPTIONS_INPUT_TOPICS
from flows.baselines_job import load_baselines
from flows.engine_steps import baselines_by_underlying, options_engine
from flows.topic_setup import ensure_flow_topics


def build_flow(settings: Settings | None = None, config: OptionsConfig | None = None) -> Dataflow:
    """Build the Kafka options flow (creates missing topics first)."""
    settings = settings or Settings()
    config = config or OptionsConfig()
    ensure_flow_topics(settings)
    flow = Dataflow("flowtape_options")
    inputs = kafka_input(
        "read_option_topics",
        flow,
        settings.kafka_bootstrap,
        OPTIONS_INPUT_TOPICS,
        settings.namespace,
        tail=settings.kafka_tail,
        start_ts_ms=settings.replay_from_ts_ms,
    )
    history = baselines_by_underlying(b for b in load_baselines(settings) if b.scope != "equity")
    derived = options_engine("run_options_engine", inputs.events, config, history=history, idle_ns=settings.idle_ns)
    kafka_output("write_derived_topics", derived, settings.kafka_bootstrap, settings.derived_namespace)
    return flow


def __getattr__(name: str) -> Dataflow:
    # `python -m bytewax.run flows.options` looks up `flow`; build it lazily so importing stays side-effect free.
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

"""Options flow: raw option topics -> as-of NBBO join -> packets -> classifiers -> alerts, on Kafka.

It reads `equities.quotes` as well (the underlying's price at each print; the equities flow reads that topic too).

Run: `python -m bytewax.run flows.options` (add `-w N` / `-i/-a` to scale; partitions keyed by underlying).
Settings come from `FLOWTAPE_*` env vars (see `flowtape config`); `FLOWTAPE_KAFKA_TAIL=false` stops at the
end of the topics (replay), `FLOWTAPE_OUTPUT_NAMESPACE` writes derived topics under a replay namespace.
Historical volume baselines (`flowtape baselines build`) are read from Redis once at start; each underlying's
engine takes its own before its first event (deterministically, whatever the arrival order). `refdata.options`
(definitions, open interest, baselines) is read to its end before the flow starts and applied as of each
event's time; what is published there later updates the engines as it arrives.
"""

from __future__ import annotations

from bytewax.dataflow import Dataflow

from connectors.settings import Settings
from events.config import OptionsConfig
from events.topics import OPTIONS_INPUT_TOPICS
from flows.engine_steps import options_engine
from flows.kafka_flow import build_engine_flow


def build_flow(settings: Settings | None = None, config: OptionsConfig | None = None) -> Dataflow:
    """Build the Kafka options flow (creates missing topics first)."""
    config = config or OptionsConfig()
    return build_engine_flow(
        "flowtape_options",
        "read_option_topics",
        OPTIONS_INPUT_TOPICS,
        settings or Settings(),
        lambda events, history, reference, idle_ns: options_engine(
            "run_options_engine", events, config, history=history, reference=reference, idle_ns=idle_ns
        ),
    )


def __getattr__(name: str) -> Dataflow:
    # `python -m bytewax.run flows.options` looks up `flow`; build it lazily so importing stays side-effect free.
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

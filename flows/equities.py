"""Equities flow: raw equity topics -> as-of quote join -> eligibility -> dark inference, dark levels and
candles, on Kafka.

Run: `python -m bytewax.run flows.equities` (add `-w N` / `-i/-a` to scale; partitions keyed by underlying).
Settings come from `FLOWTAPE_*` env vars (see `flowtape config`); replay and namespaces as for
`flows.options`. Each stock's average daily volume (`flowtape baselines build`, scope `equity`) is read from
Redis once at start and given to its engine before its first event, like the options flow's baselines.
"""

from __future__ import annotations

from bytewax.dataflow import Dataflow

from connectors.settings import Settings
from events.config import EquitiesConfig
from events.topics import EQUITIES_PRINTS, EQUITIES_QUOTES
from flows.engine_steps import equities_engine
from flows.kafka_flow import build_engine_flow

EQUITIES_INPUT_TOPICS: tuple[str, ...] = (EQUITIES_PRINTS, EQUITIES_QUOTES)


def build_flow(settings: Settings | None = None, config: EquitiesConfig | None = None) -> Dataflow:
    """Build the Kafka equities flow (creates missing topics first)."""
    config = config or EquitiesConfig()
    return build_engine_flow(
        "flowtape_equities",
        "read_equity_topics",
        EQUITIES_INPUT_TOPICS,
        settings or Settings(),
        lambda events, history, reference, idle_ns: equities_engine(
            "run_equities_engine", events, config, history=history, reference=reference, idle_ns=idle_ns
        ),
    )


def __getattr__(name: str) -> Dataflow:
    # `python -m bytewax.run flows.equities` looks up `flow`; build it lazily so importing stays side-effect free.
    if name == "flow":
        return build_flow()
    raise AttributeError(name)

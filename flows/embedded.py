"""The in-process dataflow shape shared by `flowtape demo`, `flowtape replay`, benchmarks and flow tests.

Same operators and steps as the Kafka flows (`flows.options` and `flows.equities` side by side); only the
source and sinks differ.
"""

from __future__ import annotations

from collections.abc import Mapping

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source
from bytewax.outputs import DynamicSink

from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, DerivedEvent
from flows.engine_steps import History, equities_engine, is_equity_input, is_option_input, options_engine


def build_embedded_flow(
    source: Source[AnyEvent],
    derived_sinks: Mapping[str, DynamicSink[DerivedEvent]],
    *,
    config: OptionsConfig | None = None,
    raw_sink: DynamicSink[AnyEvent] | None = None,
    name: str = "flowtape_embedded",
    history: History | None = None,
    equities: EquitiesConfig | None = None,
    run_equities: bool = True,
    run_options: bool = True,
) -> Dataflow:
    """Build source -> options engine and equities engine -> each derived sink (step id -> sink), and raw
    events -> raw sink.

    `history`: volume baselines per underlying for the engines to start with (see `engine_steps`).
    `equities`: the equities engine's settings (default: from the environment); `run_equities=False` or
    `run_options=False` runs one side alone (the benchmarks). At least one side runs.
    """
    if not (run_options or run_equities):
        raise ValueError("build_embedded_flow: run_options and run_equities are both off")
    flow = Dataflow(name)
    events = op.input("read_events", flow, source)
    if raw_sink is not None:
        op.output("store_raw_events", events, raw_sink)
    streams: list[Stream[DerivedEvent]] = []
    if run_options:
        option_events = op.filter("select_option_events", events, is_option_input)
        streams.append(options_engine("run_options_engine", option_events, config or OptionsConfig(), history=history))
    if run_equities:
        equity_events = op.filter("select_equity_events", events, is_equity_input)
        streams.append(
            equities_engine("run_equities_engine", equity_events, equities or EquitiesConfig(), history=history)
        )
    derived = streams[0] if len(streams) == 1 else op.merge("options_and_equities", *streams)
    for step_id, sink in derived_sinks.items():
        op.output(step_id, derived, sink)
    return flow

"""The in-process dataflow shape shared by `flowtape demo`, `flowtape replay`, benchmarks and flow tests.

Same operators and steps as the Kafka flows; only the source and sinks differ.
"""

from __future__ import annotations

from collections.abc import Mapping

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import DynamicSink

from events.config import OptionsConfig
from events.models import AnyEvent
from flows.engine_steps import History, is_option_input, options_engine
from operators.options_engine import OptionsOutput


def build_embedded_flow(
    source: Source[AnyEvent],
    derived_sinks: Mapping[str, DynamicSink[OptionsOutput]],
    *,
    config: OptionsConfig | None = None,
    raw_sink: DynamicSink[AnyEvent] | None = None,
    name: str = "flowtape_embedded",
    history: History | None = None,
) -> Dataflow:
    """Build source -> options engine -> each derived sink (step id -> sink), and raw events -> raw sink.

    `history`: volume baselines per underlying for the engines to start with (see `engine_steps`).
    """
    flow = Dataflow(name)
    events = op.input("read_events", flow, source)
    if raw_sink is not None:
        op.output("store_raw_events", events, raw_sink)
    option_events = op.filter("select_option_events", events, is_option_input)
    derived = options_engine("run_options_engine", option_events, config or OptionsConfig(), history=history)
    for step_id, sink in derived_sinks.items():
        op.output(step_id, derived, sink)
    return flow

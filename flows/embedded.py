"""The in-process dataflow shape shared by `flowtape demo`, `flowtape replay`, benchmarks and flow tests.

Same operators and steps as the Kafka flows (`flows.options` and `flows.equities` side by side); only the
source and sinks differ.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeGuard

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source
from bytewax.outputs import DynamicSink

from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, DeadLetter, DerivedEvent
from flows.engine_steps import History, equities_engine, options_engine, split_dead_letters

log = logging.getLogger(__name__)


def is_derived(item: DerivedEvent | DeadLetter) -> TypeGuard[DerivedEvent]:
    """Whether an engine step's output is a derived event (else the dead letter of an event it raised on)."""
    return not isinstance(item, DeadLetter)


def _log_dead_letter(step_id: str, letter: DeadLetter) -> None:
    log.warning("%s: %s on %s: %s", step_id, letter.error, letter.topic, letter.reason)


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
    dead_letter_sink: DynamicSink[DeadLetter] | None = None,
) -> Dataflow:
    """Build source -> options engine and equities engine -> each derived sink (step id -> sink), and raw
    events -> raw sink.

    `history`: volume baselines per underlying for the engines to start with (see `engine_steps`).
    `equities`: the equities engine's settings (default: from the environment); `run_equities=False` or
    `run_options=False` runs one side alone (the benchmarks). At least one side runs. An event an engine raised on
    comes out as a dead letter (`flows.engine_guard`): to `dead_letter_sink`, else logged.
    """
    if not (run_options or run_equities):
        raise ValueError("build_embedded_flow: run_options and run_equities are both off")
    flow = Dataflow(name)
    events = op.input("read_events", flow, source)
    if raw_sink is not None:
        op.output("store_raw_events", events, raw_sink)
    streams: list[Stream[Any]] = []
    # Each engine step selects its own events as it keys them (one call per batch, not one per event).
    if run_options:
        streams.append(options_engine("run_options_engine", events, config or OptionsConfig(), history=history))
    if run_equities:
        streams.append(equities_engine("run_equities_engine", events, equities or EquitiesConfig(), history=history))
    outputs = streams[0] if len(streams) == 1 else op.merge("options_and_equities", *streams)
    derived, dead_letters = split_dead_letters("split_engine_dead_letters", outputs)
    if dead_letter_sink is not None:
        op.output("store_engine_dead_letters", dead_letters, dead_letter_sink)
    else:
        op.inspect("log_engine_dead_letters", dead_letters, _log_dead_letter)
    for step_id, sink in derived_sinks.items():
        op.output(step_id, derived, sink)
    return flow

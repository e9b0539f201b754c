"""The in-process dataflow shape shared by `flowtape demo`, `flowtape replay`, benchmarks and flow tests, and
running it in-process (`run_into`, `run_events`).

Same operators and steps as the Kafka flows (`flows.options` and `flows.equities` side by side); only the
source and sinks differ.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard

import bytewax.operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source
from bytewax.outputs import DynamicSink
from bytewax.testing import cluster_main, run_main

from connectors.bytewax_io import CallbackSink, IterableSource
from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, DeadLetter, DerivedEvent
from events.topics import topic_for
from flows.engine_steps import History, equities_engine, options_engine, split_dead_letters
from flows.spool import sort_key

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


def run_events(
    events: Callable[[], Iterable[AnyEvent]],
    *,
    config: OptionsConfig | None = None,
    workers: int = 1,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = 4096,
    history: History | None = None,
    run_options: bool = True,
    run_equities: bool = True,
    equities: EquitiesConfig | None = None,
    dead_letters: list[DeadLetter] | None = None,
) -> dict[str, list[DerivedEvent]]:
    """Run events through the embedded flow on `workers` workers; return derived events per topic, sorted
    (`run_into` with the events held in memory: for tests and short inputs; a replay spools them).

    `history`: volume baselines per underlying for the engines to start with. `dead_letters` receives the events
    an engine raised on (`flows.engine_guard`), sorted by topic, key and payload (else they are logged).
    """
    collected: dict[str, list[DerivedEvent]] = defaultdict(list)

    def collect(items: list[DerivedEvent]) -> None:
        for item in items:
            collected[topic_for(item.event_type)].append(item)

    run_into(
        events, collect, config=config, workers=workers, on_batch=on_batch, batch_size=batch_size, history=history,
        run_options=run_options, run_equities=run_equities, equities=equities, dead_letters=dead_letters,
    )  # fmt: skip
    return {topic: sorted(items, key=sort_key) for topic, items in collected.items()}


def run_into(
    events: Callable[[], Iterable[AnyEvent]],
    on_derived: Callable[[list[DerivedEvent]], None],
    *,
    config: OptionsConfig | None = None,
    workers: int = 1,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = 4096,
    history: History | None = None,
    run_options: bool = True,
    run_equities: bool = True,
    equities: EquitiesConfig | None = None,
    dead_letters: list[DeadLetter] | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Run events through the embedded flow on `workers` workers, handing each batch of derived events to
    `on_derived` as the flow emits it (in no particular order); `stop`, read before each input batch, ends the
    input early when it answers True (Ctrl-C); see `run_events` for the other arguments."""
    letters: list[DeadLetter] = []

    def collect_dead(items: list[DeadLetter]) -> None:
        letters.extend(items)

    source: IterableSource[AnyEvent] = IterableSource(events, batch_size=batch_size, on_batch=on_batch, stop=stop)
    flow = build_embedded_flow(
        source,
        {"collect_derived": CallbackSink(on_derived)},
        config=config,
        history=history,
        run_options=run_options,
        run_equities=run_equities,
        equities=equities,
        dead_letter_sink=CallbackSink(collect_dead) if dead_letters is not None else None,
    )
    if workers <= 1:
        run_main(flow)  # type: ignore[no-untyped-call]
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)  # type: ignore[no-untyped-call]
    if dead_letters is not None:
        dead_letters.extend(sorted(letters, key=lambda d: (d.topic, d.key or "", d.payload)))

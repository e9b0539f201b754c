"""Bytewax steps that wrap the pure operators as keyed state machines (state keyed by underlying).

Keying single events costs Bytewax a Python call per event in `key_on` and in `key_rm` plus per-item routing
and buffering in `stateful_batch` (measured: about 0.3 us per event, a fifth of what the engine spends on a
quote, and quotes are most of the tape). So the options step keys runs instead: each incoming batch is split
by underlying, in arrival order, and one (underlying, [events...]) item per underlying goes through the
stateful step. An underlying's events reach its engine in the same order as one by one, and on several
workers they are routed by the same key, so outputs are identical; only the item count changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import bytewax.operators as op
from bytewax.dataflow import Stream
from bytewax.operators import StatefulBatchLogic

from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, VolumeBaseline
from operators.equities_engine import EquitiesEngine, EquitiesOutput
from operators.options_engine import OptionsEngine, OptionsOutput
from operators.tape_engine import TapeEngine

Out = TypeVar("Out")

OPTION_EVENT_TYPES = frozenset({"option_print", "option_nbbo", "option_definition", "open_interest", "volume_baseline"})
EQUITY_EVENT_TYPES = frozenset({"equity_print", "equity_quote"})


def is_option_input(event: AnyEvent) -> bool:
    """Return whether an event feeds the options engine."""
    return event.event_type in OPTION_EVENT_TYPES


def is_equity_input(event: AnyEvent) -> bool:
    """Return whether an event feeds the equities engine."""
    return event.event_type in EQUITY_EVENT_TYPES


def group_by_key(events: list[AnyEvent]) -> list[tuple[str, list[AnyEvent]]]:
    """Split a batch into one run of events per partition key, each run in arrival order."""
    runs: dict[str, list[AnyEvent]] = {}
    for event in events:
        key = event.key
        run = runs.get(key)
        if run is None:
            runs[key] = [event]
        else:
            run.append(event)
    return list(runs.items())


def _flatten(items: list[tuple[str, list[Out]]]) -> list[Out]:
    return [output for _, outputs in items for output in outputs]


History = Mapping[str, Sequence[VolumeBaseline]]
"""Historical volume baselines per underlying, loaded once when a flow starts."""


def baselines_by_underlying(baselines: Iterable[VolumeBaseline]) -> dict[str, tuple[VolumeBaseline, ...]]:
    """Group baselines by their underlying (the partition key), keeping their order."""
    grouped: dict[str, list[VolumeBaseline]] = {}
    for baseline in baselines:
        grouped.setdefault(baseline.underlying, []).append(baseline)
    return {underlying: tuple(items) for underlying, items in grouped.items()}


Eng = TypeVar("Eng", bound=TapeEngine[Any])


class _EngineLogic(StatefulBatchLogic[list[AnyEvent], list[Out], Eng]):
    """One engine per underlying; the engine itself is the snapshot (plain, deep-copyable state).

    A new engine takes its underlying's reference events from `history` (the options engine's volume baselines)
    before its first event, so every run (and every worker count) sees them at the same point of the tape; a
    resumed engine already holds them.
    """

    def __init__(self, engine: Eng, resumed: bool, history: Mapping[str, Sequence[AnyEvent]]) -> None:
        self.engine = engine
        self._history = {} if resumed else history

    def on_batch(self, values: list[list[AnyEvent]]) -> tuple[Iterable[list[Out]], bool]:
        if self._history:
            self.engine.on_events(self._history.get(values[0][0].key, ()))
            self._history = {}
        # Usually one run (this underlying's share of one input batch); more when several batches queued up.
        out = self.engine.on_events(values[0]) if len(values) == 1 else self.engine.on_runs(values)
        return ((out,) if out else ()), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[list[Out]], bool]:
        out = self.engine.on_eof()
        return ((out,) if out else ()), StatefulBatchLogic.RETAIN

    def snapshot(self) -> Eng:
        return self.engine


def _keyed_engine(
    step_id: str,
    events: Stream[AnyEvent],
    make: Callable[[], Eng],
    history: Mapping[str, Sequence[AnyEvent]],
) -> Stream[Any]:
    """Key runs of events by underlying, run one engine per underlying, and unkey the outputs."""
    keyed = op.flat_map_batch(f"{step_id}_key_runs_by_underlying", events, group_by_key)

    def build(resume: Eng | None) -> _EngineLogic[Any, Eng]:
        return _EngineLogic(make() if resume is None else resume, resume is not None, history)

    derived = op.stateful_batch(step_id, keyed, build)
    return op.flat_map_batch(f"{step_id}_unkey", derived, _flatten)


def options_engine(
    step_id: str, events: Stream[AnyEvent], config: OptionsConfig, *, history: History | None = None
) -> Stream[OptionsOutput]:
    """Run the options engine over option events keyed by underlying; emit packets, hits, alerts, structures
    and flow context. `history`: volume baselines per underlying, given to each engine before its first event.
    """
    return _keyed_engine(step_id, events, lambda: OptionsEngine(config), history or {})


def equities_engine(step_id: str, events: Stream[AnyEvent], config: EquitiesConfig) -> Stream[EquitiesOutput]:
    """Run the equities engine over equity events keyed by underlying; emit joined trades, dark inferences,
    dark levels and candles (keyed by runs like the options step)."""
    return _keyed_engine(step_id, events, lambda: EquitiesEngine(config), {})

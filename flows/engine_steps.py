"""Bytewax steps that wrap the pure operators as keyed state machines (state keyed by underlying)."""

from __future__ import annotations

from collections.abc import Iterable

import bytewax.operators as op
from bytewax.dataflow import Stream
from bytewax.operators import StatefulBatchLogic

from events.config import OptionsConfig
from events.models import AnyEvent, OpenInterest, OptionDefinition, OptionNbbo, OptionPrint
from operators.options_engine import OptionsEngine, OptionsOutput

OPTION_INPUTS = (OptionPrint, OptionNbbo, OptionDefinition, OpenInterest)


def is_option_input(event: AnyEvent) -> bool:
    """Return whether an event feeds the options engine."""
    return isinstance(event, OPTION_INPUTS)


class _OptionsLogic(StatefulBatchLogic[AnyEvent, OptionsOutput, OptionsEngine]):
    """One OptionsEngine per underlying; the engine itself is the snapshot (plain, deep-copyable state)."""

    def __init__(self, config: OptionsConfig, resume: OptionsEngine | None) -> None:
        self.engine = resume if resume is not None else OptionsEngine(config)

    def on_batch(self, values: list[AnyEvent]) -> tuple[Iterable[OptionsOutput], bool]:
        return self.engine.on_events(values), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[OptionsOutput], bool]:
        return self.engine.on_eof(), StatefulBatchLogic.RETAIN

    def snapshot(self) -> OptionsEngine:
        return self.engine


def options_engine(step_id: str, events: Stream[AnyEvent], config: OptionsConfig) -> Stream[OptionsOutput]:
    """Run the options engine over option events keyed by underlying; emit packets, hits and alerts."""
    keyed = op.key_on(f"{step_id}_key_by_underlying", events, lambda e: e.key)
    derived = op.stateful_batch(step_id, keyed, lambda resume: _OptionsLogic(config, resume))
    return op.key_rm(f"{step_id}_unkey", derived)

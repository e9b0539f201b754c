"""What every keyed engine offers its flow step: raw events in arrival order in, derived events out.

An engine subclasses `TapeEngine` and implements `_consume` (a batch of raw events, outputs appended in order)
and `on_eof`; the entry points below are the same for the options and the equities engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from events.models import AnyEvent

Out = TypeVar("Out")


class TapeEngine(Generic[Out]):
    """Base of the per-underlying engines: one event, a batch, or several batches at a time."""

    def on_event(self, event: AnyEvent) -> list[Out]:
        """Consume one raw event; return the derived events it produced, in order."""
        out: list[Out] = []
        self._consume((event,), out)
        return out

    def on_events(self, events: Sequence[AnyEvent]) -> list[Out]:
        """Consume a batch of raw events in order."""
        out: list[Out] = []
        self._consume(events, out)
        return out

    def on_runs(self, runs: Sequence[Sequence[AnyEvent]]) -> list[Out]:
        """Consume several batches of raw events, in order (as one concatenated batch)."""
        out: list[Out] = []
        for events in runs:
            self._consume(events, out)
        return out

    def on_eof(self) -> list[Out]:
        """End of input: release everything held and return what it closes."""
        raise NotImplementedError

    def _consume(self, events: Sequence[AnyEvent], out: list[Out]) -> None:
        raise NotImplementedError

"""What every keyed engine offers its flow step: raw events in arrival order in, derived events out.

An engine subclasses `TapeEngine` and implements `_consume` (a batch of raw events, outputs appended in order),
`on_eof`, and the idle pair `next_due_ns`/`on_idle`; the entry points below are the same for the options and
the equities engines.

The idle pair serves a live flow's idle timer (ARCHITECTURE "Time and windows"): when an underlying's input has
been quiet for a while, the flow tells its engine how far event time has gone meanwhile (`on_idle`), so a quiet
market still closes its windows. The engine itself never reads a clock, and in replay nobody calls `on_idle`:
only event time moves the watermark there.
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

    @property
    def event_time_ns(self) -> int:
        """The newest event time the engine has seen (or been moved to by `on_idle`); -1 before any."""
        raise NotImplementedError

    def next_due_ns(self) -> int | None:
        """The earliest event time at which `on_idle` would release or close something; None when nothing is
        open. After `on_idle(t)` it is None or later than `t`, so an idle timer never spins.
        """
        raise NotImplementedError

    def on_idle(self, now_ns: int) -> list[Out]:
        """The input has been quiet and event time is taken to have reached `now_ns`: release prints waiting for
        a quote stream that did not come, move the watermark as a print at `now_ns` would, and return what that
        closes. Earlier or equal times do nothing to the watermark.
        """
        raise NotImplementedError

    def _consume(self, events: Sequence[AnyEvent], out: list[Out]) -> None:
        raise NotImplementedError

"""What every keyed engine offers its flow step: raw events in arrival order in, derived events out.

An engine subclasses `TapeEngine` and implements `_consume` (a batch of raw events, outputs appended in order),
`on_eof`, and the idle pair `next_due_ns`/`on_idle`; the entry points below are the same for the options and
the equities engines. Both are `QuoteGatedEngine`s: their prints wait for the quote stream, so the as-of join
sees the same quotes however the print and quote topics interleave.

Reference data read before the input starts (a flow's snapshot of its reference topics) is applied as of its
event time (`schedule_reference`): each event just before the first print at or after its `ts_event` is joined,
so where it lands on the tape does not depend on when its topic was read. When the input brings the same event
again (same id), the engine drops it.

The idle pair serves a live flow's idle timer (ARCHITECTURE "Time and windows"): when an underlying's prints
have been quiet for a while, the flow tells its engine how far event time has gone meanwhile (`on_idle`), so a
quiet market still closes its windows. The engine itself never reads a clock, and in replay nobody calls `on_idle`:
only event time moves the watermark there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

from events.models import AnyEvent, EquityPrint, OptionPrint

Out = TypeVar("Out")
Print = TypeVar("Print", OptionPrint, EquityPrint)


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

    @property
    def print_time_ns(self) -> int:
        """The newest print time the engine has seen (or been moved to by `on_idle`); -1 before any. A quiet
        print stream, not a quiet input, is what an idle timer waits for: quotes keep coming when nothing trades.
        """
        raise NotImplementedError

    def next_due_ns(self) -> int | None:
        """The earliest event time at which `on_idle` would release or close something; None when nothing is
        open. After `on_idle(t)` it is None or later than `t`, so an idle timer never spins.
        """
        raise NotImplementedError

    def on_idle(self, now_ns: int) -> list[Out]:
        """The prints have been quiet and event time is taken to have reached `now_ns`: release prints waiting for
        a quote stream that did not come, move the watermark as a print at `now_ns` would, and return what that
        closes. Earlier or equal times do nothing to the watermark.
        """
        raise NotImplementedError

    def _consume(self, events: Sequence[AnyEvent], out: list[Out]) -> None:
        raise NotImplementedError


MAX_PENDING_PRINTS = 100_000
"""Prints held for the quote stream at most; past it the oldest is joined at once (a feed without quotes)."""
NEVER = 2**63 - 1
"""A time no event reaches (nanoseconds since the epoch fit in a signed 64-bit integer)."""


def _ignore_quote(fields: dict[str, Any], keep_from: int) -> None:
    """The second quote updater of an engine without a second quote stream (never called)."""


class QuoteGatedEngine(TapeEngine[Out], Generic[Print, Out]):
    """A tape engine whose prints wait for their quote stream, so the as-of join never depends on interleaving.

    A print waits until the quote stream of its underlying has passed the print's time (a quote strictly later,
    since several quotes may share a timestamp), or the print carries the provider's quote at trade time
    (`QUOTE_AT_TRADE` set), or input ends (`_drain`) or goes quiet (`on_idle`). Quote history is kept back to
    `_keep_from`: the print watermark minus the engine's lag (`lag_ns`), which the engine's `_process` moves as
    prints advance it.

    A subclass may name a second quote stream (`SECOND_QUOTE_TYPE`, with `_second_quote_updater`): the options
    engine reads its underlying's equity quotes for the underlying price at the print. Once the engine has seen one
    quote of that stream, a print also waits until that stream has passed the print's time (a quote at trade does
    not excuse it: it is the other stream's), so the lookup does not depend on interleaving either. Before its first
    quote the stream is taken to be absent (a tape without it never waits for it); on a Kafka input, prints
    processed before that first quote arrived did not wait for it.

    A subclass names its event types, gives `_quote_updater` (quote fields and `_keep_from` in), `_process` (one
    print, in order) and `_on_watermark` (what moving the print watermark without a print closes, for the idle
    timer), and may take reference events in `_reference`: in the input, at once; scheduled, as of their time.
    """

    QUOTE_TYPE: ClassVar[str]
    PRINT_TYPE: ClassVar[str]
    QUOTE_AT_TRADE: ClassVar[str]
    """The print field that is set when the provider gives the quote in force at the trade."""
    SECOND_QUOTE_TYPE: ClassVar[str | None] = None
    """A second quote stream the prints wait for once it has been seen (None: none)."""

    def __init__(self, lag_ns: int) -> None:
        self._lag_ns = lag_ns
        self._pending: deque[Print] = deque()
        self._quote_wm = -1
        self._second_wm = NEVER  # NEVER until the second quote stream is seen: no print waits for it before
        self._print_wm = -1
        self._keep_from = self._print_wm - lag_ns  # quote history a print at the watermark can need
        self._scheduled: deque[AnyEvent] = deque()
        self._scheduled_ns = NEVER  # ts_event of the next scheduled reference event
        self._scheduled_ids: set[str] = set()  # every event ever scheduled: their copies in the input are dropped
        self.events_in = 0

    def schedule_reference(self, events: Iterable[AnyEvent]) -> None:
        """Take reference events to apply as of their event time: each one just before the first print at or
        after its `ts_event` is joined, or an idle advance reaches it. Events of equal time keep their order.
        The same events arriving in the input later (by id) are dropped: they are applied once, at their time."""
        given: list[AnyEvent] = list(events)
        self._scheduled_ids.update(event.id for event in given)
        merged = sorted((*self._scheduled, *given), key=lambda event: event.ts_event)
        self._scheduled = deque(merged)
        self._scheduled_ns = merged[0].ts_event if merged else NEVER

    @property
    def scheduled_reference(self) -> int:
        """Scheduled reference events not applied yet."""
        return len(self._scheduled)

    @property
    def pending_prints(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------------------- idle timer

    @property
    def event_time_ns(self) -> int:
        newest = max(self._quote_wm, self.print_time_ns)
        return newest if self._second_wm == NEVER else max(newest, self._second_wm)

    @property
    def print_time_ns(self) -> int:
        return max(self._print_wm, max(p.ts_event for p in self._pending)) if self._pending else self._print_wm

    def next_due_ns(self) -> int | None:
        if self._pending:
            return self._pending[0].ts_event
        return self._next_due_ns()

    def on_idle(self, now_ns: int) -> list[Out]:
        out: list[Out] = []
        if now_ns >= self._scheduled_ns:
            self._apply_scheduled(now_ns)
        if now_ns > self._quote_wm:
            self._quote_wm = now_ns
        if self._second_wm != NEVER and now_ns > self._second_wm:
            self._second_wm = now_ns
        self._drain(out)  # the quote stream has been quiet too: join with the quotes there are
        if now_ns > self._print_wm:
            self._print_wm = now_ns
            self._keep_from = now_ns - self._lag_ns
            self._on_watermark(out)
        else:
            due = self._next_due_ns()
            if due is not None and due <= now_ns:
                # Something already behind the watermark (a packet of late prints): close it where it stands.
                self._on_watermark(out)
        return out

    # ---------------------------------------------------------------------------------- internals

    def _consume(self, events: Sequence[AnyEvent], out: list[Out]) -> None:
        # Dispatch on the `event_type` literal, quotes first (they outnumber prints several times over), instead
        # of an isinstance chain; fields are read from the models' `__dict__` (see `QuoteBook.update_fields`).
        update_quote = self._quote_updater()
        quote_type, print_type, at_trade = self.QUOTE_TYPE, self.PRINT_TYPE, self.QUOTE_AT_TRADE
        second_type = self.SECOND_QUOTE_TYPE
        update_second = _ignore_quote if second_type is None else self._second_quote_updater()
        pending = self._pending
        for event in events:
            fields = event.__dict__
            event_type = fields["event_type"]
            if event_type == quote_type:
                update_quote(fields, self._keep_from)
                ts = fields["ts_event"]
                if ts > self._quote_wm:
                    self._quote_wm = ts
                if pending:
                    self._release(out)
            elif event_type == print_type:
                trade = cast(Print, event)
                ts = fields["ts_event"]
                if not pending and (fields[at_trade] is not None or ts < self._quote_wm) and ts < self._second_wm:
                    self._take(trade, out)
                else:
                    pending.append(trade)
                    if len(pending) > MAX_PENDING_PRINTS:
                        self._take(pending.popleft(), out)
                    else:
                        self._release(out)
            elif event_type == second_type:
                update_second(fields, self._keep_from)
                ts = fields["ts_event"]
                if self._second_wm == NEVER or ts > self._second_wm:
                    self._second_wm = ts
                if pending:
                    self._release(out)
            elif fields["id"] not in self._scheduled_ids:
                self._reference(event_type, event)
        self.events_in += len(events)

    def _release(self, out: list[Out]) -> None:
        """Process the waiting prints, in order, up to the first one the quote stream has not passed yet."""
        pending = self._pending
        at_trade = self.QUOTE_AT_TRADE
        while pending:
            fields = pending[0].__dict__
            ts = fields["ts_event"]
            if (ts >= self._quote_wm and fields[at_trade] is None) or ts >= self._second_wm:
                return
            self._take(pending.popleft(), out)

    def _drain(self, out: list[Out]) -> None:
        """Process every waiting print, in order (end of input, or a quote stream gone quiet)."""
        while self._pending:
            self._take(self._pending.popleft(), out)

    def _take(self, trade: Print, out: list[Out]) -> None:
        """Apply the scheduled reference events due at the print's time, then process the print."""
        ts = trade.__dict__["ts_event"]
        if ts >= self._scheduled_ns:
            self._apply_scheduled(ts)
        self._process(trade, out)

    def _apply_scheduled(self, ts: int) -> None:
        scheduled = self._scheduled
        while scheduled and scheduled[0].ts_event <= ts:
            event = scheduled.popleft()
            self._reference(event.event_type, event)
        self._scheduled_ns = scheduled[0].ts_event if scheduled else NEVER

    def _quote_updater(self) -> Callable[[dict[str, Any], int], None]:
        """Return what takes one quote's fields and `_keep_from` (bound once per batch)."""
        raise NotImplementedError

    def _second_quote_updater(self) -> Callable[[dict[str, Any], int], None]:
        """Return what takes one quote of the second stream's fields and `_keep_from` (with `SECOND_QUOTE_TYPE`)."""
        raise NotImplementedError

    def _process(self, trade: Print, out: list[Out]) -> None:
        """Join and process one print, moving the print watermark when it is the newest."""
        raise NotImplementedError

    def _on_watermark(self, out: list[Out]) -> None:
        """The print watermark moved to `_print_wm` without a print (idle timer): close what it closes."""
        raise NotImplementedError

    def _next_due_ns(self) -> int | None:
        """`next_due_ns` when no print is waiting."""
        raise NotImplementedError

    def _reference(self, event_type: str, event: AnyEvent) -> None:
        """Take an event that is neither a quote nor a print (reference data); ignored unless overridden."""

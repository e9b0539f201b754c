"""Bytewax steps that wrap the pure operators as keyed state machines (state keyed by underlying).

Keying single events costs Bytewax a Python call per event in `key_on` and in `key_rm` plus per-item routing
and buffering in `stateful_batch` (measured: about 0.3 us per event, a fifth of what the engine spends on a
quote, and quotes are most of the tape). So the options step keys runs instead: each incoming batch is split
by underlying, in arrival order, and one (underlying, [events...]) item per underlying goes through the
stateful step. An underlying's events reach its engine in the same order as one by one, and on several
workers they are routed by the same key, so outputs are identical; only the item count changes.

Live flows may set an idle timer (`idle_ns`, from `FLOWTAPE_IDLE_CLOSE_MS` while tailing): when an underlying's
prints have been quiet for that much wall time (its quotes may well go on) and its engine has something open,
the step tells the engine how far event time has gone meanwhile (its newest event time plus the wall time since
that input arrived), so a quiet market still closes its packets, structures, flow context and candles. Replays
run without it: only event time moves their watermarks.

An underlying's engine is kept for the whole run, idle or not: even with nothing open (`next_due_ns()` None, no
pending print) it holds state that later output depends on (the underlying's rolling premium window, flow-context
windows up to a day, the latest quotes that price its next print), so dropping it would change results. What
provably does not is dropped inside the engine: an expired contract's state (`OptionsEngine.state_counts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import bytewax.operators as op
from bytewax.dataflow import Stream
from bytewax.operators import StatefulBatchLogic

from events.config import EquitiesConfig, OptionsConfig, QuarantineConfig
from events.models import AnyEvent, DeadLetter, DerivedEvent, VolumeBaseline
from flows import engine_guard
from operators.equities_engine import EquitiesOutput
from operators.kernel import AVAILABLE as KERNEL_AVAILABLE
from operators.kernel import runs_by_key
from operators.kernel.equities import new_equities_engine
from operators.kernel.options import new_options_engine
from operators.options_engine import OptionsOutput
from operators.quarantine import TIMED_TYPES, Quarantine, Rejection, stream_summary
from operators.tape_engine import QuoteGatedEngine

Out = TypeVar("Out")
E = TypeVar("E", bound=AnyEvent)

OPTION_EVENT_TYPES = frozenset(
    {"option_print", "option_nbbo", "equity_quote", "option_definition", "open_interest", "volume_baseline"}
)
"""What the options engine reads: its tape, reference data, and the underlying's equity quotes (the underlying's
price at each print, see `operators.underlying_price`)."""
EQUITY_EVENT_TYPES = frozenset({"equity_print", "equity_quote", "volume_baseline"})
"""What the equities engine reads (equity quotes feed both engines)."""


KEY_FIELDS: Mapping[str, str] = {
    **dict.fromkeys(OPTION_EVENT_TYPES | EQUITY_EVENT_TYPES, "underlying"),
    "equity_quote": "symbol",
    "equity_print": "symbol",
}
"""Event type -> the field holding its partition key (`Event.key`: the underlying; an equity event's symbol)."""
OPTION_KEYS: Mapping[str, str] = {t: f for t, f in KEY_FIELDS.items() if t in OPTION_EVENT_TYPES}
EQUITY_KEYS: Mapping[str, str] = {t: f for t, f in KEY_FIELDS.items() if t in EQUITY_EVENT_TYPES}


def is_option_input(event: AnyEvent) -> bool:
    """Return whether an event feeds the options engine."""
    return event.event_type in OPTION_EVENT_TYPES


def is_equity_input(event: AnyEvent) -> bool:
    """Return whether an event feeds the equities engine."""
    return event.event_type in EQUITY_EVENT_TYPES


def group_by_key(events: Iterable[AnyEvent]) -> list[tuple[str, list[AnyEvent]]]:
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


Run = tuple[list[AnyEvent], int, int]
"""One underlying's share of a batch: its events in arrival order and their `stream_summary` (newest_ns, jump_ns)."""


def runs_of(key_fields: Mapping[str, str], ahead_ns: int) -> Callable[[Sequence[AnyEvent]], list[tuple[str, Run]]]:
    """The keying step of an engine: a batch -> one run per partition key of the events whose type is in
    `key_fields` (type -> key field), each in arrival order, with its quarantine summary (`stream_summary` at
    `ahead_ns`); others are left out. The compiled kernel's `runs_by_key` when built (one call per batch, one
    pass over the events), else `group_by_key` after the same selection."""
    fields = dict(key_fields)
    if KERNEL_AVAILABLE:

        def native(events: Sequence[AnyEvent]) -> list[tuple[str, Run]]:
            return runs_by_key(events, fields, TIMED_TYPES, ahead_ns)

        return native

    def reference(events: Sequence[AnyEvent]) -> list[tuple[str, Run]]:
        runs = group_by_key(event for event in events if event.event_type in fields)
        return [(key, (run, *stream_summary(run, ahead_ns, TIMED_TYPES))) for key, run in runs]

    return reference


def split_dead_letters(step_id: str, outputs: Stream[Any]) -> tuple[Stream[DerivedEvent], Stream[DeadLetter]]:
    """Split an engine step's outputs into derived events and the dead letters of events an engine raised on
    (`flows.engine_guard`), one call per batch on each side (a branch would call Python once per item)."""
    derived = op.flat_map_batch(f"{step_id}_derived", outputs, _derived_only)
    dead_letters = op.flat_map_batch(f"{step_id}_dead_letters", outputs, _dead_letters_only)
    return derived, dead_letters


def _derived_only(items: list[Any]) -> list[DerivedEvent]:
    return [item for item in items if type(item) is not DeadLetter]


def _dead_letters_only(items: list[Any]) -> list[DeadLetter]:
    return [item for item in items if type(item) is DeadLetter]


def quarantine_of(config: QuarantineConfig) -> Callable[[], Quarantine]:
    """What makes one underlying's quarantine with these settings."""

    def make() -> Quarantine:
        return Quarantine(config.quarantine_ahead_ns, config.quarantine_confirm, config.quarantine_max_held)

    return make


def _flatten(items: list[tuple[str, list[Out]]]) -> list[Out]:
    return [output for _, outputs in items for output in outputs]


History = Mapping[str, Sequence[VolumeBaseline]]
"""Historical volume baselines per underlying, loaded once when a flow starts (each engine reads its scopes)."""
Reference = Mapping[str, Sequence[AnyEvent]]
"""Reference events per underlying read before the input starts (a snapshot of the reference topics), applied by
each engine as of their event time (`QuoteGatedEngine.schedule_reference`)."""


def by_underlying(events: Iterable[E]) -> dict[str, tuple[E, ...]]:
    """Group events by their underlying (the partition key), keeping their order."""
    grouped: dict[str, list[E]] = {}
    for event in events:
        grouped.setdefault(event.key, []).append(event)
    return {underlying: tuple(items) for underlying, items in grouped.items()}


Eng = TypeVar("Eng", bound=QuoteGatedEngine[Any, Any])


class _EngineLogic(StatefulBatchLogic[Run, list[Out | DeadLetter], tuple[Eng, Quarantine]]):
    """One engine per underlying behind its quarantine; the pair is the snapshot (plain, deep-copyable state).

    The quarantine (`operators.quarantine`) holds back events stamped too far ahead of the underlying's stream
    until the tape confirms them; what it gives up on comes out as a dead letter (error `quarantined`).

    The engine is called through `flows.engine_guard`: an event it raises on comes out as a dead letter among the
    outputs, and the engine goes on.

    A new engine takes its underlying's reference events from `history` (volume baselines) before its first
    event, and schedules those of `reference` (the reference topics' snapshot) as of their event time, so every
    run (and every worker count) sees them at the same point of the tape. A resumed engine already holds its
    history; it schedules the reference snapshot again (it may hold events a resumed stream will not bring).

    With `idle_ns`, the logic remembers when its last input arrived (wall clock, `clock` in ns) with the engine's
    event time then, and when its last new print arrived, and asks Bytewax to wake it when the engine has
    something due: at least `idle_ns` after that print (quotes do not hold the timer off: they keep coming when
    nothing trades), and no earlier than the engine's next due event time extrapolated at wall-clock speed from
    the last input. Waking, it moves the engine to the extrapolated event time (`TapeEngine.on_idle`); further
    wake-ups come at least `idle_ns` apart.
    """

    def __init__(
        self,
        engine: Eng,
        quarantine: Quarantine,
        resumed: bool,
        history: Mapping[str, Sequence[AnyEvent]],
        idle_ns: int | None = None,
        clock: Callable[[], int] = time.time_ns,
        reference: Reference | None = None,
    ) -> None:
        self.engine = engine
        self.quarantine = quarantine
        self._history = {} if resumed else history
        # Resumed too: the snapshot may hold events the stream, resuming past them, will not bring; re-applying
        # older ones in order ends on the latest, and the engine drops the stream's copies of any of them.
        self._reference = reference or {}
        self._idle_ns = idle_ns
        self._clock = clock
        self._input_wall_ns = -1  # wall time of the last input (-1: none since the logic was built)
        self._input_event_ns = -1  # the engine's event time then
        self._print_wall_ns = -1  # wall time of the last input that brought a new print
        self._print_ns = -1  # the engine's print time then
        self._woken_wall_ns = -1  # wall time of the last idle wake-up since that print

    def on_batch(self, values: list[Run]) -> tuple[Iterable[list[Out | DeadLetter]], bool]:
        if self._history or self._reference:
            key = values[0][0][0].key
            if self._history:
                engine_guard.consume(self.engine, [self._history.get(key, ())])
                self._history = {}
            if self._reference:
                self.engine.schedule_reference(self._reference.get(key, ()))
                self._reference = {}
        # Usually one run (this underlying's share of one input batch); more when several batches queued up.
        rejected: list[Rejection] = []
        admit = self.quarantine.admit
        out = engine_guard.consume(self.engine, [admit(run, rejected, (newest, jump)) for run, newest, jump in values])
        if rejected:
            out.extend(engine_guard.quarantine_dead_letter(rejection) for rejection in rejected)
        if self._idle_ns is not None:
            self._took_input(self._clock())
        return ((out,) if out else ()), StatefulBatchLogic.RETAIN

    def _took_input(self, now: int) -> None:
        """Note that the engine took input at wall time `now`: its event time then, and, when the input moved its
        print time, the start of a new quiet period (quotes do not start one)."""
        self._input_wall_ns = now
        self._input_event_ns = self.engine.event_time_ns
        if self.engine.print_time_ns != self._print_ns:
            self._print_wall_ns = now
            self._print_ns = self.engine.print_time_ns
            self._woken_wall_ns = -1

    def on_eof(self) -> tuple[Iterable[list[Out | DeadLetter]], bool]:
        rejected: list[Rejection] = []
        released = self.quarantine.close(rejected)
        out = engine_guard.consume(self.engine, [released]) if released else []
        out.extend(engine_guard.quarantine_dead_letter(rejection) for rejection in rejected)
        out.extend(engine_guard.on_eof(self.engine))
        return ((out,) if out else ()), StatefulBatchLogic.RETAIN

    def notify_at(self) -> datetime | None:
        wake_ns = self.next_wake_ns()
        return None if wake_ns is None else datetime.fromtimestamp(wake_ns / 1e9, tz=UTC)

    def next_wake_ns(self) -> int | None:
        """Wall time (ns) of the next idle wake-up; None without an idle timer, input or anything due."""
        if self._idle_ns is None or self._input_wall_ns < 0:
            return None
        if self.quarantine.waiting:  # the tape went quiet before it confirmed what waits: settle it then
            return self._input_wall_ns + self._idle_ns
        due = self.engine.next_due_ns()
        if due is None or self._print_wall_ns < 0:
            return None
        quiet_since = self._print_wall_ns if self._woken_wall_ns < 0 else self._woken_wall_ns
        return max(quiet_since + self._idle_ns, self._input_wall_ns + due - self._input_event_ns)

    def on_notify(self) -> tuple[Iterable[list[Out | DeadLetter]], bool]:
        if self._idle_ns is None or self._input_wall_ns < 0:
            return (), StatefulBatchLogic.RETAIN
        now = self._clock()
        settled = self.quarantine.settle()
        if settled:  # what the quarantine held is input arriving now
            out = engine_guard.consume(self.engine, [settled])
            self._took_input(now)
            return ((out,) if out else ()), StatefulBatchLogic.RETAIN
        if self._print_wall_ns < 0:
            return (), StatefulBatchLogic.RETAIN
        self._woken_wall_ns = now
        out = engine_guard.on_idle(self.engine, self._input_event_ns + (now - self._input_wall_ns))
        self._print_ns = self.engine.print_time_ns  # moved by the idle advance, not by a print
        return ((out,) if out else ()), StatefulBatchLogic.RETAIN

    def snapshot(self) -> tuple[Eng, Quarantine]:
        return self.engine, self.quarantine


def _keyed_engine(
    step_id: str,
    events: Stream[AnyEvent],
    make: Callable[[], Eng],
    history: Mapping[str, Sequence[AnyEvent]],
    idle_ns: int | None,
    reference: Reference | None,
    key_fields: Mapping[str, str],
    quarantine: QuarantineConfig | None,
) -> Stream[Any]:
    """Select the engine's events and key runs of them by underlying (`runs_of`), run one engine per underlying
    behind its quarantine, and unkey the outputs."""
    settings = quarantine or QuarantineConfig()
    keyed = op.flat_map_batch(
        f"{step_id}_key_runs_by_underlying", events, runs_of(key_fields, settings.quarantine_ahead_ns)
    )
    new_quarantine = quarantine_of(settings)

    def build(resume: tuple[Eng, Quarantine] | None) -> _EngineLogic[Any, Eng]:
        engine, held = (make(), new_quarantine()) if resume is None else resume
        return _EngineLogic(engine, held, resume is not None, history, idle_ns, reference=reference)

    derived = op.stateful_batch(step_id, keyed, build)
    return op.flat_map_batch(f"{step_id}_unkey", derived, _flatten)


def options_engine(
    step_id: str,
    events: Stream[AnyEvent],
    config: OptionsConfig,
    *,
    history: History | None = None,
    idle_ns: int | None = None,
    reference: Reference | None = None,
    quarantine: QuarantineConfig | None = None,
) -> Stream[OptionsOutput]:
    """Run the options engine over the option events among `events` (`OPTION_EVENT_TYPES`) keyed by underlying;
    emit packets, hits, alerts, structures and flow context. `history`: volume baselines per underlying, given to
    each engine before its first event; `idle_ns`: the live idle timer (None in replay); `reference`: reference
    events read before the input (definitions, open interest, baselines), applied as of their event time;
    `quarantine`: the quarantine's settings (default: from the environment).
    """
    return _keyed_engine(
        step_id, events, lambda: new_options_engine(config), history or {}, idle_ns, reference, OPTION_KEYS,
        quarantine,
    )  # fmt: skip


def equities_engine(
    step_id: str,
    events: Stream[AnyEvent],
    config: EquitiesConfig,
    *,
    history: History | None = None,
    idle_ns: int | None = None,
    reference: Reference | None = None,
    quarantine: QuarantineConfig | None = None,
) -> Stream[EquitiesOutput]:
    """Run the equities engine over the equity events among `events` (`EQUITY_EVENT_TYPES`) keyed by underlying;
    emit joined trades, dark inferences, dark levels and candles (keyed by runs like the options step).
    `history`: volume baselines per underlying (the stock's average daily volume), given to each engine before
    its first event; `idle_ns`: the live idle timer (None in replay); `reference`: reference events read before
    the input, applied as of their event time; `quarantine`: the quarantine's settings (default: from the
    environment).
    """
    return _keyed_engine(
        step_id, events, lambda: new_equities_engine(config), history or {}, idle_ns, reference, EQUITY_KEYS,
        quarantine,
    )  # fmt: skip

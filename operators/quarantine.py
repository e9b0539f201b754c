"""Quarantine of raw events stamped too far ahead of their underlying's stream (ARCHITECTURE "Time and windows").

An engine's watermarks follow the newest event time of its underlying. One event stamped far in the future (a
bad clock, a hostile message: a print dated decades ahead that passes validation) would make every later print
of that underlying late. So the engine step puts each underlying's time-stamped events (prints and quotes,
`TIMED_TYPES`) through a `Quarantine` before the engine sees them. The stream time is the newest `ts_event`
admitted so far.

- An event at most `ahead_ns` past the stream time is admitted at once (an older one too: lateness is the
  engine's business).
- One further ahead is a *suspect*: it and everything of its underlying after it wait, in arrival order, until
  the tape says which stream is right.
  - `confirm` waiting timed events agree with the suspect (their times lie within `ahead_ns` of the earliest of
    them): the stream has moved on (a new session after a weekend, a feed resuming), and everything waiting is
    admitted in arrival order, except waiting events ahead even of that group, which stay suspects.
  - `confirm` waiting timed events continue the stream (within `ahead_ns` of the stream time) first: the
    suspects are set aside and everything else is admitted in arrival order.
- Before anything is admitted the stream has no time: every event waits until `confirm` timed events agree, so
  a bad event placed first cannot set the clock.
- A suspect set aside is admitted later if the stream reaches it (its time comes within `ahead_ns` of the stream
  time); at the end of the input whatever is still aside is rejected with its reason (the flow dead-letters it).
- At the end of the input, waiting events are settled by what there is: suspects fewer than `confirm` are set
  aside (and so rejected); a stream that never got a time takes its largest agreeing group (the earliest on a
  tie).
- A live flow's idle timer settles what waits the same way when the underlying has gone quiet (suspects set aside
  stay aside: more of the tape may come).
- At most `max_held` events wait or are set aside per underlying; past that the oldest suspect set aside is
  rejected, or, waiting, the tape is settled as at the end.

Reference events (definitions, open interest, baselines) carry no stream time; they wait behind a suspect like any
event, so the engine sees every admitted event in arrival order. On a tape without far-ahead events the engine
sees exactly its input, only the first `confirm - 1` timed events of each underlying wait for the next ones.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from events.models import AnyEvent
from events.units import NS_PER_S
from operators.kernel import AVAILABLE as KERNEL_AVAILABLE
from operators.kernel import scan_stream as native_scan_stream
from operators.tape_engine import NEVER

TIMED_TYPES = frozenset({"option_print", "option_nbbo", "equity_print", "equity_quote"})
"""Event types whose `ts_event` moves an engine's watermarks (and so the stream time)."""
REJECTED = "quarantined"
"""The error class of a rejected event's dead letter."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event the quarantine gave up on, with why."""

    event: AnyEvent
    reason: str


def _when(ts_ns: int) -> str:
    try:
        return datetime.fromtimestamp(ts_ns // NS_PER_S, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ts_ns} ns"


def _group(times: Sequence[int], ahead_ns: int) -> tuple[int, int]:
    """Return (size, earliest time) of the largest set of `times` within `ahead_ns` of its earliest member (the
    earliest such set on a tie); (0, -1) when there are none."""
    ordered = sorted(times)
    best, best_start = 0, -1
    end = 0
    for start, first in enumerate(ordered):
        end = max(end, start)
        while end < len(ordered) and ordered[end] - first <= ahead_ns:
            end += 1
        if end - start > best:
            best, best_start = end - start, first
    return best, best_start


def scan_stream(events: Sequence[AnyEvent], clock: int, ahead_ns: int, timed_types: frozenset[str]) -> tuple[int, int]:
    """Walk `events` from the stream time `clock`, moving it to each newer `ts_event` of a type in `timed_types`,
    and stop at the first such event more than `ahead_ns` past it; return (its index, or `len(events)` when there
    is none; the stream time before it). The reference of the kernel's `scan_stream`, which `Quarantine.admit`
    calls when it is built (one call per run on the hot path)."""
    for at, event in enumerate(events):
        fields = event.__dict__
        if fields["event_type"] in timed_types:
            ts = fields["ts_event"]
            if ts > clock:
                if ts > clock + ahead_ns:
                    return at, clock
                clock = ts
    return len(events), clock


_scan = native_scan_stream if KERNEL_AVAILABLE else scan_stream

NONE_NS = -(2**63)
"""A stream summary's time when the run has no timed event."""

StreamSummary = tuple[int, int]
"""(newest_ns, jump_ns) of a run's timed events (`stream_summary`)."""


def stream_summary(events: Sequence[AnyEvent], ahead_ns: int, timed_types: frozenset[str]) -> StreamSummary:
    """Summarise a run's timed events for `Quarantine.admit`: (the largest `ts_event`, the largest `ts_event` of
    those more than `ahead_ns` past every earlier one of the run, the first included); `NONE_NS` for both without
    any. The reference of what the kernel's `runs_by_key` computes while it keys a batch.

    An event of the run is ahead of the stream exactly when it is ahead of the stream time it starts from and of
    every earlier event of the run. So nothing of the run is ahead of a stream at `clock` when `jump_ns <= clock +
    ahead_ns`, and the stream then moves to `max(clock, newest_ns)`: no second pass over the run.
    """
    newest = jump = NONE_NS
    for event in events:
        fields = event.__dict__
        if fields["event_type"] in timed_types:
            ts = fields["ts_event"]
            if newest == NONE_NS or ts > newest + ahead_ns:
                jump = max(jump, ts)
            newest = max(newest, ts)
    return newest, jump


class Quarantine:
    """One underlying's quarantine (module docstring); a keyed state machine, picklable."""

    __slots__ = (
        "_ahead",
        "_aside",
        "_clock",
        "_confirm",
        "_continuing",
        "_max_held",
        "_suspects",
        "_waiting",
        "admitted_late",
        "rejected",
    )

    def __init__(self, ahead_ns: int, confirm: int, max_held: int) -> None:
        if ahead_ns <= 0 or confirm < 1 or max_held < confirm:
            raise ValueError(f"quarantine needs ahead_ns > 0, confirm >= 1, max_held >= confirm: {ahead_ns}, "
                             f"{confirm}, {max_held}")  # fmt: skip
        self._ahead = ahead_ns
        self._confirm = confirm
        self._max_held = max_held
        self._clock = -1
        """The stream time: the newest `ts_event` admitted (-1: none yet)."""
        self._waiting: list[AnyEvent] = []
        """Events behind a suspect (or, before the stream has a time, every event), in arrival order."""
        self._suspects: list[int] = []
        """The times of the waiting suspects, sorted (the stream time does not move while events wait)."""
        self._continuing = 0
        """Waiting timed events that continue the stream (within `ahead_ns` of the stream time)."""
        self._aside: list[AnyEvent] = []
        """Suspects set aside, in arrival order."""
        self.admitted_late = 0
        """Suspects set aside and admitted later, once the stream reached them."""
        self.rejected = 0

    @property
    def stream_ns(self) -> int:
        """The stream time (-1 before any timed event is admitted)."""
        return self._clock

    @property
    def held(self) -> int:
        """Events waiting or set aside."""
        return len(self._waiting) + len(self._aside)

    @property
    def ahead_ns(self) -> int:
        """How far past the stream time an event may be and still be admitted at once."""
        return self._ahead

    def admit(
        self, events: Sequence[AnyEvent], rejected: list[Rejection], summary: StreamSummary | None = None
    ) -> Sequence[AnyEvent]:
        """Return the events of `events` (one underlying's, in arrival order) the engine may take now, in order;
        add what is given up on to `rejected`. `summary`: the run's `stream_summary` (with this quarantine's
        `ahead_ns`) when the keying step computed it, which spares the hot path a pass over the run."""
        if not self._waiting and self._clock >= 0:
            if summary is not None and summary[1] <= self._clock + self._ahead:
                self._clock = max(self._clock, summary[0])
                return self._with_aside(events) if self._aside else events
            at, self._clock = _scan(events, self._clock, self._ahead, TIMED_TYPES)
            if at == len(events):
                return self._with_aside(events) if self._aside else events
            out = list(events[:at])
            self._take(events[at:], out, rejected)
            return out
        out = []
        self._take(events, out, rejected)
        return out

    @property
    def waiting(self) -> int:
        """Events waiting for the tape to decide."""
        return len(self._waiting)

    def settle(self) -> list[AnyEvent]:
        """Decide what waits by what there is, as at the end of the input, keeping the suspects set aside (a live
        flow's idle timer: the underlying went quiet with events waiting); return what is admitted."""
        out: list[AnyEvent] = []
        if self._waiting:
            self._settle(out)
        return out

    def close(self, rejected: list[Rejection]) -> list[AnyEvent]:
        """End of input: settle what waits (module docstring); return what is admitted and reject the rest."""
        out = self.settle()
        for event in self._aside:
            rejected.append(Rejection(event, self._reason(event, "the input ended")))
        self.rejected += len(self._aside)
        self._aside = []
        return out

    # ---------------------------------------------------------------------------------- internals

    def _take(self, events: Sequence[AnyEvent], out: list[AnyEvent], rejected: list[Rejection]) -> None:
        """The slow path: one event at a time, deciding whenever something waits."""
        for event in events:
            fields = event.__dict__
            timed = fields["event_type"] in TIMED_TYPES
            if not self._waiting:
                if not timed:
                    out.append(event)
                    continue
                ts = fields["ts_event"]
                if self._clock >= 0 and ts <= self._clock + self._ahead:
                    out.append(event)
                    if ts > self._clock:
                        self._clock = ts
                        if self._aside:
                            self._reach_aside(out)
                    continue
            self._waiting.append(event)
            if timed:
                self._wait(fields["ts_event"], out)
            if len(self._waiting) + len(self._aside) > self._max_held:
                if self._aside:
                    gone = self._aside.pop(0)
                    rejected.append(Rejection(gone, self._reason(gone, f"{self._max_held:,} events were held")))
                    self.rejected += 1
                else:
                    self._settle(out)

    def _wait(self, ts: int, out: list[AnyEvent]) -> None:
        """Count a timed event that joined the waiting ones, and decide if the tape has now said enough.

        Incremental, so a hostile run of suspects costs O(log n) per event, not a pass over what waits. While events
        wait the stream time stands still, and before this event no group of `confirm` suspects existed (it would
        have been decided). So a group that reaches `confirm` now holds `ts`, and its earliest member lies in
        [ts - ahead_ns, ts], where fewer than `confirm` suspects lie: those are the only starts to try, earliest
        first, as `_group` would find it.
        """
        clock, ahead, confirm = self._clock, self._ahead, self._confirm
        if clock >= 0 and ts <= clock + ahead:
            self._continuing += 1
            if self._continuing >= confirm:
                self._release(clock + ahead, out)  # the stream goes on: the suspects are set aside
            return
        times = self._suspects
        insort(times, ts)
        if len(times) < confirm:
            return
        for at in range(bisect_left(times, ts - ahead), bisect_right(times, ts)):
            start = times[at]
            first = at == 0 or times[at - 1] != start  # the first of equal times counts them all
            if first and bisect_right(times, start + ahead) - at >= confirm:
                self._release(start + ahead, out)  # the suspects' group is the stream
                return

    def _settle(self, out: list[AnyEvent]) -> None:
        """Decide what waits by what there is (the end of the input, an idle underlying, a full hold)."""
        clock = self._clock
        size, start = _group(self._suspects, self._ahead)
        if size >= self._confirm or (clock < 0 and size > 0):
            self._release(start + self._ahead, out)  # the suspects' group is the stream (or there is no other yet)
        elif clock >= 0:
            self._release(clock + self._ahead, out)  # the stream goes on: the suspects are set aside
        else:
            self._release(NEVER, out)  # no timed event waits: only reference data behind nothing

    def _release(self, limit: int, out: list[AnyEvent]) -> None:
        """Admit every waiting event up to `limit` in arrival order, setting aside the timed ones past it."""
        clock = self._clock
        for event in self._waiting:
            fields = event.__dict__
            if fields["event_type"] in TIMED_TYPES:
                ts = fields["ts_event"]
                if ts > limit:
                    self._aside.append(event)
                    continue
                if ts > clock:
                    clock = ts
            out.append(event)
        self._waiting = []
        self._suspects = []
        self._continuing = 0
        self._clock = clock
        if self._aside:
            self._reach_aside(out)

    def _reach_aside(self, out: list[AnyEvent]) -> None:
        """Admit the suspects set aside that the stream time has come within `ahead_ns` of."""
        limit = self._clock + self._ahead
        kept: list[AnyEvent] = []
        for event in self._aside:
            if event.__dict__["ts_event"] <= limit:
                out.append(event)
                self.admitted_late += 1
            else:
                kept.append(event)
        self._aside = kept

    def _with_aside(self, events: Sequence[AnyEvent]) -> list[AnyEvent]:
        out = list(events)
        self._reach_aside(out)
        return out

    def _reason(self, event: AnyEvent, why: str) -> str:
        ts = event.__dict__["ts_event"]
        stream = "no stream time" if self._clock < 0 else f"the stream at {_when(self._clock)}"
        ahead_s = (ts - self._clock) / NS_PER_S if self._clock >= 0 else None
        by = f", {ahead_s:,.0f} s ahead" if ahead_s is not None else ""
        return (
            f"ts_event {_when(ts)} is more than {self._ahead / NS_PER_S:,.0f} s ahead of its underlying's stream "
            f"({stream}{by}) and no {self._confirm} events of the tape agreed with it before {why}"
        )

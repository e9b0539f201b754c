"""The quarantine in front of an engine: far-ahead events wait for the tape to confirm them, nothing else moves."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.models import AnyEvent
from events.units import NS_PER_S
from operators.kernel import AVAILABLE as KERNEL_AVAILABLE
from operators.kernel import runs_by_key
from operators.kernel import scan_stream as native_scan_stream
from operators.quarantine import NONE_NS, TIMED_TYPES, Quarantine, Rejection, _group, scan_stream, stream_summary
from operators.tape_engine import NEVER
from tests.factories import T0, open_interest, quote_ns, trade_ns

DAY = 86_400 * NS_PER_S
AHEAD = DAY
YEARS = 30 * 365 * DAY


def _quarantine(confirm: int = 3, max_held: int = 1_000) -> Quarantine:
    return Quarantine(AHEAD, confirm, max_held)


def _run(q: Quarantine, batches: Sequence[Sequence[AnyEvent]]) -> tuple[list[AnyEvent], list[Rejection]]:
    rejected: list[Rejection] = []
    out: list[AnyEvent] = []
    for batch in batches:
        out.extend(q.admit(batch, rejected))
    out.extend(q.close(rejected))
    return out, rejected


def _print(at_ns: int) -> AnyEvent:
    return trade_ns(at_ns, "1.10", 10)


def _quote(at_ns: int) -> AnyEvent:
    return quote_ns(at_ns, "1.00", "1.10")


def _tape(n: int, start: int = T0, step: int = 50 * 1_000_000) -> list[AnyEvent]:
    """Quotes and prints alternating, `step` ns apart, with a reference event after the first print."""
    events: list[AnyEvent] = []
    for i in range(n):
        at = start + i * step
        events.append(_quote(at) if i % 2 == 0 else _print(at))
        if i == 1:
            events.append(open_interest(at_ms=0))
    return events


def _ids(events: Sequence[AnyEvent]) -> list[str]:
    return [event.id for event in events]


def test_a_clean_tape_passes_whole_and_in_order() -> None:
    tape = _tape(40)
    out, rejected = _run(_quarantine(), [tape[:7], tape[7:8], tape[8:]])
    assert _ids(out) == _ids(tape)
    assert rejected == []


def test_the_first_events_wait_for_confirmation_then_keep_their_order() -> None:
    q, rejected = _quarantine(), []
    tape = _tape(3)  # quote, print, open interest, quote
    assert q.admit(tape[:2], rejected) == [], "two timed events do not confirm a stream time yet"
    assert q.stream_ns == -1
    assert _ids(q.admit(tape[2:], rejected)) == _ids(tape), "the third agrees: all of them, in arrival order"
    assert q.stream_ns == tape[-1].ts_event


def test_a_far_ahead_print_placed_first_cannot_set_the_clock() -> None:
    tape = _tape(30)
    bogus = _print(T0 + YEARS)
    out, rejected = _run(_quarantine(), [[bogus, *tape[:5]], tape[5:]])
    assert _ids(out) == _ids(tape), "the tape without it, in order"
    assert [r.event.id for r in rejected] == [bogus.id]
    assert "ahead of its underlying's stream" in rejected[0].reason


def test_a_far_ahead_print_mid_stream_is_set_aside_and_the_stream_goes_on() -> None:
    tape = _tape(30)
    bogus = [_print(T0 + 2 * DAY), _quote(T0 + YEARS)]
    mixed = [*tape[:10], bogus[0], *tape[10:15], bogus[1], *tape[15:]]
    q = _quarantine()
    out, rejected = _run(q, [mixed[:12], mixed[12:]])
    assert _ids(out) == _ids(tape)
    assert sorted(r.event.id for r in rejected) == sorted(_ids(bogus))
    assert q.rejected == 2


def test_a_jump_the_tape_confirms_is_admitted_in_order() -> None:
    monday = T0 + 3 * DAY  # a weekend: further ahead than a day
    tape = [*_tape(10), *_tape(10, start=monday)]
    out, rejected = _run(_quarantine(), [tape])
    assert _ids(out) == _ids(tape)
    assert rejected == []


def test_a_suspect_the_stream_reaches_later_is_admitted_then() -> None:
    early = _print(T0 + DAY + 10 * NS_PER_S)  # a day and 10 s ahead: suspect, then the stream gets there
    later = _tape(6, start=T0 + DAY)
    q = _quarantine()
    out, rejected = _run(q, [[*_tape(6), early], _tape(4, start=T0 + NS_PER_S), later])
    assert early.id in _ids(out)
    assert rejected == []
    assert q.admitted_late == 1


def test_a_short_stream_is_admitted_at_the_end() -> None:
    tape = _tape(2)
    out, rejected = _run(_quarantine(), [tape])
    assert _ids(out) == _ids(tape)
    assert rejected == []


def test_the_end_rejects_unconfirmed_suspects() -> None:
    tape = _tape(6)
    bogus = _print(T0 + YEARS)
    out, rejected = _run(_quarantine(), [[*tape, bogus, _print(T0 + 6 * 50 * 1_000_000)]])
    assert bogus.id not in _ids(out)
    assert [r.event.id for r in rejected] == [bogus.id]


def test_held_events_are_bounded() -> None:
    q = Quarantine(AHEAD, 3, max_held=5)
    rejected: list[Rejection] = []
    q.admit(_tape(6), rejected)
    for i in range(20):  # suspects that never agree: each a year apart
        q.admit([_print(T0 + (i + 2) * 365 * DAY)], rejected)
        q.admit(_tape(3, start=T0 + (i + 1) * NS_PER_S), rejected)
        assert q.held <= 5
    q.close(rejected)
    assert len(rejected) == 20


def test_the_idle_settle_admits_what_waits_and_keeps_the_suspects_aside() -> None:
    q, rejected = _quarantine(), []
    tape = _tape(2)
    assert q.admit(tape, rejected) == []
    assert _ids(q.settle()) == _ids(tape)
    assert q.waiting == 0


def test_the_state_pickles() -> None:
    q, rejected = _quarantine(), []
    q.admit([*_tape(5), _print(T0 + YEARS)], rejected)
    copy = pickle.loads(pickle.dumps(q))
    assert copy.held == q.held == 1
    assert copy.stream_ns == q.stream_ns


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="confirm"):
        Quarantine(AHEAD, 0, 10)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=60),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=6),
    bogus=st.lists(st.tuples(st.integers(min_value=0, max_value=80), st.integers(2, 60)), max_size=2),
)
def test_far_ahead_events_are_removed_and_nothing_else_changes(
    n: int, cuts: list[int], bogus: list[tuple[int, int]]
) -> None:
    """Whatever the batching, the admitted events are the clean tape in order, once the tape has enough events to
    outvote the bogus ones (at least `confirm` per bogus event)."""
    tape = _tape(n)
    mixed = list(tape)
    planted = []
    for k, (at, years) in enumerate(sorted(bogus, reverse=True)):
        event = _print(T0 + years * 365 * DAY + k)
        planted.append(event)
        mixed.insert(min(at, len(mixed)), event)
    bounds = sorted({0, len(mixed), *(min(c, len(mixed)) for c in cuts)})
    batches = [mixed[a:b] for a, b in pairwise(bounds)]
    out, rejected = _run(_quarantine(), batches)
    timed = sum(1 for e in tape if e.event_type != "open_interest")
    if timed >= 3 * (len(planted) + 1):
        assert _ids(out) == _ids(tape)
        assert sorted(r.event.id for r in rejected) == sorted(_ids(planted))
    assert sorted(_ids(out) + [r.event.id for r in rejected]) == sorted(_ids(mixed)), "nothing is lost"


@pytest.mark.skipif(not KERNEL_AVAILABLE, reason="the compiled kernel is not built")
@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(st.tuples(st.sampled_from(["print", "quote", "oi"]), st.integers(-5, 40)), max_size=40),
    ahead_s=st.integers(1, 20),
)
def test_the_kernel_scan_equals_the_reference(steps: list[tuple[str, int]], ahead_s: int) -> None:
    events: list[AnyEvent] = []
    for kind, offset_s in steps:
        at = T0 + offset_s * NS_PER_S
        events.append(_print(at) if kind == "print" else _quote(at) if kind == "quote" else open_interest(at_ms=0))
    for clock in (T0, T0 + 10 * NS_PER_S):
        args = (events, clock, ahead_s * NS_PER_S, TIMED_TYPES)
        assert native_scan_stream(*args) == scan_stream(*args)


class _Recounting(Quarantine):
    """The decision rule as first written: after every timed arrival, recount what waits and regroup every suspect
    (quadratic on a run of suspects). The incremental `Quarantine._wait` must decide exactly as it does."""

    __slots__ = ()

    def _wait(self, ts: int, out: list[AnyEvent]) -> None:
        self._decide(out, final=False)

    def _settle(self, out: list[AnyEvent]) -> None:
        self._decide(out, final=True)

    def _decide(self, out: list[AnyEvent], final: bool) -> None:
        clock, ahead, confirm = self._clock, self._ahead, self._confirm
        suspects: list[int] = []
        continuing = 0
        for event in self._waiting:
            if event.event_type in TIMED_TYPES:
                if clock >= 0 and event.ts_event <= clock + ahead:
                    continuing += 1
                else:
                    suspects.append(event.ts_event)
        size, start = _group(suspects, ahead)
        if size >= confirm or (final and clock < 0 and size > 0):
            self._release(start + ahead, out)
        elif clock >= 0 and (continuing >= confirm or final):
            self._release(clock + ahead, out)
        elif final:
            self._release(NEVER, out)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["print", "quote", "oi"]), st.integers(-3, 12), st.integers(0, 3)), max_size=60
    ),
    confirm=st.integers(1, 4),
    max_held=st.integers(4, 30),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=4),
)
def test_the_incremental_decision_equals_recounting_everything_that_waits(
    steps: list[tuple[str, int, int]], confirm: int, max_held: int, cuts: list[int]
) -> None:
    """Random tapes whose times jump back and forth by days (so suspects, groups of them and continuing events
    mix), any batching, any settings: the same events are admitted in the same order and the same are rejected."""
    events: list[AnyEvent] = []
    for i, (kind, days, hours) in enumerate(steps):
        at = T0 + days * DAY + hours * 3_600 * NS_PER_S + i
        events.append(_print(at) if kind == "print" else _quote(at) if kind == "quote" else open_interest(at_ms=0))
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    batches = [events[a:b] for a, b in pairwise(bounds)]
    fast, fast_rejected = _run(Quarantine(AHEAD, confirm, max_held), batches)
    slow, slow_rejected = _run(_Recounting(AHEAD, confirm, max_held), batches)
    assert _ids(fast) == _ids(slow)
    assert [(r.event.id, r.reason) for r in fast_rejected] == [(r.event.id, r.reason) for r in slow_rejected]


def test_a_run_of_suspects_that_never_agree_is_decided_in_one_step_each() -> None:
    """Hostile: every event is a suspect and none agree (2 days apart). No arrival regroups the whole waiting list
    (`_settle`, a pass over everything that waits, runs only at the end), so the work per event stays bounded:
    asserted as a call count, not a timing."""
    q = _quarantine(confirm=3, max_held=5_000)
    q.admit(_tape(6), [])
    calls = 0
    real = Quarantine._settle

    def counting(self: Quarantine, out: list[AnyEvent]) -> None:
        nonlocal calls
        calls += 1
        real(self, out)

    Quarantine._settle = counting  # type: ignore[method-assign]
    try:
        hostile = [_print(T0 + (k + 2) * 2 * DAY) for k in range(3_000)]
        rejected: list[Rejection] = []
        assert list(q.admit(hostile, rejected)) == []
    finally:
        Quarantine._settle = real  # type: ignore[method-assign]
    assert calls == 0, "no full regrouping while events arrive"
    assert q.waiting == 3_000
    out = q.close(rejected)
    assert out == []
    assert len(rejected) == 3_000


_STEPS = st.lists(st.tuples(st.sampled_from(["print", "quote", "oi"]), st.integers(-5, 40)), max_size=40)


def _stepped(steps: list[tuple[str, int]]) -> list[AnyEvent]:
    events: list[AnyEvent] = []
    for kind, offset_s in steps:
        at = T0 + offset_s * NS_PER_S
        events.append(_print(at) if kind == "print" else _quote(at) if kind == "quote" else open_interest(at_ms=0))
    return events


@settings(max_examples=150, deadline=None)
@given(steps=_STEPS, ahead_s=st.integers(1, 20), clock_s=st.integers(-10, 50))
def test_a_run_admitted_with_its_summary_is_admitted_as_without_it(
    steps: list[tuple[str, int]], ahead_s: int, clock_s: int
) -> None:
    """The keying step's summary only spares a pass: from any stream time, what is admitted, what waits and the
    stream time after are the same with it and without it."""
    ahead = ahead_s * NS_PER_S
    events = _stepped(steps)
    summary = stream_summary(events, ahead, TIMED_TYPES)
    states = []
    for given_summary in (None, summary):
        q = Quarantine(ahead, 3, 1_000)
        q.admit([_print(T0 + clock_s * NS_PER_S + k) for k in range(3)], [])
        admitted = q.admit(events, [], given_summary)
        states.append((_ids(admitted), q.waiting, q.stream_ns))
    assert states[0] == states[1]


def test_the_summary_of_a_run_without_timed_events_is_empty() -> None:
    assert stream_summary([open_interest(at_ms=0)], AHEAD, TIMED_TYPES) == (NONE_NS, NONE_NS)


@pytest.mark.skipif(not KERNEL_AVAILABLE, reason="the compiled kernel is not built")
@settings(max_examples=100, deadline=None)
@given(steps=_STEPS, ahead_s=st.integers(1, 20))
def test_the_kernel_keying_summarises_each_run_as_the_reference(steps: list[tuple[str, int]], ahead_s: int) -> None:
    events = _stepped(steps)
    ahead = ahead_s * NS_PER_S
    keys = {"option_print": "underlying", "option_nbbo": "underlying", "open_interest": "underlying"}
    for key, (run, newest, jump) in runs_by_key(events, keys, TIMED_TYPES, ahead):
        assert (newest, jump) == stream_summary(run, ahead, TIMED_TYPES), key

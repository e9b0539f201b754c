"""The options step keys runs of events, not single events: same per-underlying order, same outputs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.bytewax_io import CallbackSink
from connectors.settings import Settings
from events.config import EquitiesConfig, OptionsConfig, QuarantineConfig
from events.models import AnyEvent, Candle, ClassifierHit, EquityTrade, Packet
from events.serde import encode
from flows import engine_steps
from flows.baselines_job import load_baselines
from flows.engine_steps import (
    EQUITY_EVENT_TYPES,
    EQUITY_KEYS,
    KERNEL_AVAILABLE,
    KEY_FIELDS,
    OPTION_EVENT_TYPES,
    OPTION_KEYS,
    Run,
    _EngineLogic,
    by_underlying,
    equities_engine,
    group_by_key,
    is_equity_input,
    is_option_input,
    options_engine,
    quarantine_of,
    runs_of,
)
from flows.replay import run_events
from operators.equities_engine import EquitiesEngine
from operators.options_engine import OptionsEngine, OptionsOutput
from operators.quarantine import TIMED_TYPES, Quarantine, stream_summary
from tests.factories import (
    CALL,
    definition,
    equity_print,
    equity_quote,
    occ,
    open_interest,
    quote,
    trade,
    ts,
    volume_baseline,
)
from tests.flows.tapes import two_underlying_tape

QQQ = occ("480", expiry="2026-03-20", root="QQQ")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=14), max_size=60))
def test_group_by_key_keeps_every_event_once_in_arrival_order_per_key(picks: list[int]) -> None:
    tape = two_underlying_tape()
    batch = [tape[i] for i in picks]
    runs = group_by_key(batch)
    assert [key for key, _ in runs] == list(dict.fromkeys(e.key for e in batch)), "keys in first-seen order"
    for key, run in runs:
        assert run == [e for e in batch if e.key == key]
    assert sum(len(run) for _, run in runs) == len(batch)


def test_option_inputs_are_selected_by_event_type() -> None:
    # Equity quotes feed both engines: the options engine reads them for the underlying's price at each print.
    tape: list[AnyEvent] = [*two_underlying_tape(), equity_quote(0, "500.00", "500.01"), equity_print(0, "500", 100)]
    assert [is_option_input(e) for e in tape] == [e.event_type != "equity_print" for e in tape]
    assert [is_equity_input(e) for e in tape] == [e.event_type.startswith("equity_") for e in tape]


def _every_input_kind() -> list[AnyEvent]:
    """Option and equity events of two underlyings, with reference data and an equity quote and print of each."""
    extra: list[AnyEvent] = [
        equity_quote(0, "500.00", "500.01"),
        equity_print(0, "500", 100),
        equity_quote(0, "480.00", "480.01", symbol="QQQ"),
        equity_print(0, "480", 100, symbol="QQQ"),
        open_interest(CALL, 1_000),
        volume_baseline(CALL, 10.0),
        definition(CALL),
    ]
    return [*two_underlying_tape(), *extra]


def test_key_fields_name_each_event_types_partition_key() -> None:
    for event in _every_input_kind():
        assert event.event_type in KEY_FIELDS, event.event_type
        assert getattr(event, KEY_FIELDS[event.event_type]) == event.key, event.event_type
    assert set(OPTION_KEYS) == OPTION_EVENT_TYPES
    assert set(EQUITY_KEYS) == EQUITY_EVENT_TYPES


@pytest.mark.parametrize("native", [True, False], ids=["kernel", "reference"])
@settings(max_examples=100, deadline=None)
@given(picks=st.lists(st.integers(min_value=0, max_value=100), max_size=80))
def test_runs_select_the_engines_events_and_keep_arrival_order_per_key(native: bool, picks: list[int]) -> None:
    tape = _every_input_kind()
    batch = [tape[i % len(tape)] for i in picks]
    for key_fields, selects in ((OPTION_KEYS, is_option_input), (EQUITY_KEYS, is_equity_input)):
        if native and not KERNEL_AVAILABLE:
            pytest.skip("the kernel is not built")
        runs = runs_of(key_fields, AHEAD_NS) if native else _reference_runs(key_fields)
        expected = group_by_key([e for e in batch if selects(e)])
        assert runs(batch) == [(key, (run, *stream_summary(run, AHEAD_NS, TIMED_TYPES))) for key, run in expected]


AHEAD_NS = 60 * 1_000_000_000


def _runs(*runs: list[AnyEvent]) -> list[Run]:
    """What the keying step hands the engine step: runs with their quarantine summaries."""
    return [(run, *stream_summary(run, QuarantineConfig().quarantine_ahead_ns, TIMED_TYPES)) for run in runs]


def _reference_runs(key_fields: Mapping[str, str]) -> Callable[[Sequence[AnyEvent]], list[tuple[str, Run]]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_steps, "KERNEL_AVAILABLE", False)
        return runs_of(key_fields, AHEAD_NS)


def test_batch_size_does_not_change_the_outputs() -> None:
    tape = two_underlying_tape()
    outputs = [run_events(lambda: tape, workers=1, batch_size=size) for size in (1, 3, 4096)]
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]["flow.packets"], "the tape closes packets"


# ------------------------------------------------------------------------------- historical baselines


def _bucket_tape() -> list[AnyEvent]:
    """120 contracts at the ask in the 09:30 bucket on CALL, and a quiet contract on another underlying."""
    return [
        quote(0, "1.00", "1.10"),
        trade(10, "1.10", 120),
        quote(20, "1.00", "1.10"),
        quote(0, "2.00", "2.10", symbol=QQQ),
        trade(15, "2.10", 5, symbol=QQQ),
        quote(30, "2.00", "2.10", symbol=QQQ),
    ]


def _volume_hits(derived: dict[str, list[OptionsOutput]]) -> list[ClassifierHit]:
    return [
        h for h in derived.get("flow.hits", []) if isinstance(h, ClassifierHit) and h.classifier == "unusual_volume"
    ]


def test_history_reaches_each_engine_before_its_first_event() -> None:
    tape = _bucket_tape()
    assert _volume_hits(run_events(lambda: tape)) == [], "no history: the bucket clause abstains"
    history = by_underlying([volume_baseline(CALL, 10.0), volume_baseline(QQQ, 10.0)])
    assert set(history) == {"SPY", "QQQ"}
    runs = [run_events(lambda: tape, history=history, workers=w, batch_size=b) for w, b in ((1, 4096), (2, 1))]
    assert runs[0] == runs[1], "same outputs on 1 and 2 workers, whatever the batching"
    (hit,) = _volume_hits(runs[0])
    assert hit.symbol == CALL
    assert hit.metrics["bucket_baseline_contracts"] == 10.0


# ------------------------------------------------------------------------------- reference snapshot


def _oi_tape() -> list[AnyEvent]:
    """A 300-contract block on CALL at 1 s and at 2 s, and a 120-lot QQQ print (over the new-position floors)."""
    return [
        quote(999, "1.00", "1.10"),
        trade(1_000, "1.10", 300),
        quote(0, "2.00", "2.10", symbol=QQQ),
        trade(1_200, "2.10", 120, symbol=QQQ),
        quote(1_999, "1.00", "1.10"),
        trade(2_000, "1.10", 300),
        quote(2_100, "1.00", "1.10"),
    ]


def _run_with_reference(tape: list[AnyEvent], reference: list[AnyEvent], workers: int) -> list[OptionsOutput]:
    flow = Dataflow("reference_snapshot")
    out: list[OptionsOutput] = []
    stream = op.input("read", flow, TestingSource(tape, batch_size=2))
    derived = options_engine("run_options_engine", stream, OptionsConfig(), reference=by_underlying(reference))
    op.output("out", derived, TestingSink(out))
    if workers == 1:
        run_main(flow)
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)
    return out


@pytest.mark.parametrize("workers", [1, 2], ids=["one_worker", "two_workers"])
def test_the_reference_snapshot_lands_where_the_same_events_would_in_the_input(workers: int) -> None:
    reference: list[AnyEvent] = [open_interest(CALL, 250, at_ms=1_500), open_interest(QQQ, 1, at_ms=0)]
    tape = _oi_tape()
    scheduled = _run_with_reference(tape, reference, workers)
    inline = run_events(lambda: [reference[1], *tape[:4], reference[0], *tape[4:]])
    assert sorted(o.id for o in scheduled) == sorted(o.id for d in inline.values() for o in d)
    # The stream brings the snapshot again, wherever its topic interleaves: its copies change nothing.
    for streamed in ([*tape, *reference], [*reversed(reference), *tape], [*tape[:5], *reference, *tape[5:]]):
        again = _run_with_reference(streamed, reference, workers)
        assert sorted(encode(o) for o in again) == sorted(encode(o) for o in scheduled)
    new_position = [o for o in scheduled if isinstance(o, ClassifierHit) and o.classifier == "new_position_likely"]
    assert {(h.symbol, h.metrics["open_interest_contracts"]) for h in new_position} == {(QQQ, 1), (CALL, 250)}


@pytest.mark.parametrize("resumed", [False, True], ids=["new", "resumed"])
def test_new_and_resumed_engines_schedule_the_reference_snapshot(resumed: bool) -> None:
    # A resumed engine too: the stream no longer carries what the snapshot holds.
    logic = _EngineLogic(
        OptionsEngine(OptionsConfig()), _quarantine(), resumed, {}, reference=by_underlying(_reference())
    )
    logic.on_batch(_runs([quote(999, "1.00", "1.10"), trade(1_000, "1.10", 300), quote(1_001, "1.00", "1.10")]))
    assert logic.engine.open_interest == {CALL: 250}
    assert logic.engine.scheduled_reference == 1, "the later one waits for its time"


def _quarantine() -> Quarantine:
    return quarantine_of(QuarantineConfig())()


def _reference() -> list[AnyEvent]:
    return [open_interest(CALL, 250, at_ms=500), open_interest(CALL, 300, at_ms=5_000)]


def test_load_baselines_is_off_or_tolerates_redis_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_baselines(Settings(baselines="off")) == []
    assert load_baselines(Settings(redis_url="redis://127.0.0.1:1/0")) == []
    err = capsys.readouterr().err
    assert "no volume baselines" in err
    assert "FLOWTAPE_BASELINES=off" in err


# ------------------------------------------------------------------------------------ idle timer

MS = 1_000_000


class _Clock:
    """A wall clock the test moves by hand (ns)."""

    def __init__(self) -> None:
        self.now = 5_000_000 * MS

    def __call__(self) -> int:
        return self.now


def _sweep() -> list[AnyEvent]:
    return [quote(0, "1.00", "1.10"), trade(10, "1.10", 200, venue="XCBO"), trade(20, "1.10", 200, venue="XISE")]


def test_idle_logic_wakes_when_the_quiet_engine_has_something_due() -> None:
    clock = _Clock()
    logic = _EngineLogic(OptionsEngine(OptionsConfig()), _quarantine(), False, {}, idle_ns=1_000 * MS, clock=clock)
    assert logic.next_wake_ns() is None, "nothing has arrived"
    out, _ = logic.on_batch(_runs(_sweep()))
    assert list(out) == []
    arrived = clock.now
    # The packet (last print 20 ms) is due at 20 + 100 ms gap + 250 ms lag: sooner than the idle time, so 1 s.
    assert logic.next_wake_ns() == arrived + 1_000 * MS
    assert logic.notify_at() == datetime.fromtimestamp((arrived + 1_000 * MS) / 1e9, tz=UTC)
    clock.now = arrived + 1_000 * MS
    (closed,), _ = logic.on_notify()
    assert isinstance(closed[0], Packet)
    assert logic.engine.event_time_ns == ts(20) + 1_000 * MS, "event time moved on by the wall time passed"
    assert logic.engine.packets.open_count == 0
    later = logic.next_wake_ns()
    assert later is not None, "flow context still has windows to expire"
    assert later >= clock.now + 1_000 * MS, "wake-ups come at least the idle time apart"


def test_idle_logic_waits_for_what_is_due_beyond_the_idle_time() -> None:
    clock = _Clock()
    logic = _EngineLogic(EquitiesEngine(EquitiesConfig()), _quarantine(), False, {}, idle_ns=100 * MS, clock=clock)
    logic.on_batch(
        _runs([equity_quote(0, "100.00", "100.02"), equity_print(500, "100.01", 300), equity_quote(600, "1", "2")])
    )
    # The 1 s candle ends at 1 000 ms and closes 2 s later: 2.4 s of event time after the newest event (600 ms).
    assert logic.next_wake_ns() == clock.now + 2_400 * MS


def test_quotes_do_not_hold_the_idle_timer_off_a_new_print_does() -> None:
    clock = _Clock()
    logic = _EngineLogic(OptionsEngine(OptionsConfig()), _quarantine(), False, {}, idle_ns=1_000 * MS, clock=clock)
    logic.on_batch(_runs(_sweep()))
    printed = clock.now
    for step in range(1, 10):  # the quotes go on every 100 ms (event time keeping pace), nothing trades
        clock.now = printed + step * 100 * MS
        logic.on_batch(_runs([quote(20 + step * 100, "1.00", "1.10")]))
        assert logic.next_wake_ns() == printed + 1_000 * MS
    clock.now = printed + 1_000 * MS
    (closed,), _ = logic.on_notify()
    assert isinstance(closed[0], Packet)
    assert logic.engine.event_time_ns == ts(920) + 100 * MS, "extrapolated from the last quote's time"
    clock.now += 300 * MS
    logic.on_batch(_runs([trade(1_400, "1.10", 5, venue="XCBO")]))
    assert logic.next_wake_ns() == clock.now + 1_000 * MS, "a new print restarts the quiet period"


def test_a_settle_that_admits_only_quotes_does_not_hold_the_idle_timer_off() -> None:
    """What the quarantine held and the idle timer settles is input like any other: quotes among it do not start
    a new quiet period (only a print does), and the engine's event time is extrapolated from the settle."""
    clock = _Clock()
    logic = _EngineLogic(OptionsEngine(OptionsConfig()), _quarantine(), False, {}, idle_ns=1_000 * MS, clock=clock)
    logic.on_batch(_runs(_sweep()))  # a packet opens: its last print at 20 ms
    printed = clock.now
    clock.now = printed + 200 * MS
    far = quote(40 * 86_400_000, "1.00", "1.10")  # 40 days ahead: a suspect, and a quote behind it waits
    logic.on_batch(_runs([far, quote(220, "1.00", "1.10")]))
    assert logic.quarantine.waiting == 2
    assert logic.next_wake_ns() == clock.now + 1_000 * MS, "the tape went quiet with events waiting"
    clock.now += 1_000 * MS
    out, _ = logic.on_notify()  # the suspect is set aside, the quote admitted: no print among them
    assert list(out) == []
    assert logic.quarantine.waiting == 0
    # The packet is due at 370 ms of event time (20 ms + 100 ms gap + 250 ms lag), 150 ms past the quote just
    # taken; the quiet period still dates from the prints, more than the idle time ago.
    assert logic.next_wake_ns() == clock.now + 150 * MS + 1  # closed once the watermark is past the deadline


def test_replays_have_no_idle_timer() -> None:
    replay = _EngineLogic(OptionsEngine(OptionsConfig()), _quarantine(), False, {})
    replay.on_batch(_runs(_sweep()))
    assert replay.notify_at() is None
    assert replay.on_notify() == ((), False)
    assert Settings(kafka_tail=False).idle_ns is None
    assert Settings(kafka_tail=True, idle_close_ms=0).idle_ns is None
    assert Settings(kafka_tail=True, idle_close_ms=750).idle_ns == 750 * MS


class _StallingPartition(StatefulSourcePartition[AnyEvent, None]):
    """Gives its events at once, then holds the input open (no events, no end) for `stall_s` seconds."""

    def __init__(self, events: list[AnyEvent], stall_s: float, ended: threading.Event) -> None:
        self._events = events
        self._stall_s = stall_s
        self._ended = ended
        self._awake: datetime | None = None

    def next_batch(self) -> list[AnyEvent]:
        if self._awake is None:
            self._awake = datetime.now(tz=UTC) + timedelta(seconds=self._stall_s)
            return self._events
        self._ended.set()
        raise StopIteration

    def next_awake(self) -> datetime | None:
        return self._awake

    def snapshot(self) -> None:
        return None


class _StallingSource(FixedPartitionedSource[AnyEvent, None]):
    def __init__(self, events: list[AnyEvent], stall_s: float, ended: threading.Event) -> None:
        self._args = (events, stall_s, ended)

    def list_parts(self) -> list[str]:
        return ["0"]

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _StallingPartition:
        return _StallingPartition(*self._args)


def test_a_live_flow_closes_a_quiet_underlyings_packets_and_candles_before_input_ends() -> None:
    ended = threading.Event()
    before_end: list[object] = []
    after_end: list[object] = []

    def collect(items: list[object]) -> None:
        (after_end if ended.is_set() else before_end).extend(items)

    tape: list[AnyEvent] = [*_sweep(), equity_quote(0, "100.00", "100.02"), equity_print(500, "100.01", 300)]
    flow = Dataflow("idle_timer")
    events = op.input("tape", flow, _StallingSource(tape, stall_s=2.0, ended=ended))
    options = options_engine(
        "options", op.filter("options_only", events, is_option_input), OptionsConfig(), idle_ns=100 * MS
    )
    config = EquitiesConfig(candle_late_ms=100)
    equities = equities_engine(
        "equities", op.filter("equities_only", events, is_equity_input), config, idle_ns=100 * MS
    )
    op.output("collect", op.merge("derived", options, equities), CallbackSink(collect))
    started = time.monotonic()
    run_main(flow)  # type: ignore[no-untyped-call]
    assert time.monotonic() - started >= 1.5, "the source held the input open"
    assert any(isinstance(o, Packet) for o in before_end), "the packet closed while the input was quiet"
    assert any(isinstance(o, Candle) and o.interval == "1s" for o in before_end), "so did the 1 s candle"
    assert not any(isinstance(o, Packet) for o in after_end)


# ---------------------------------------------------------------------------------- underlying price


def _underlying_tape() -> list[AnyEvent]:
    """SPY with an equity quote stream (and equity prints), QQQ an OPRA-style tape quoted only on its prints."""
    today = "2026-03-02"
    spy_c, spy_p = occ("580", "C", expiry=today), occ("580", "P", expiry=today)
    qqq_c, qqq_p = occ("500", "C", expiry=today, root="QQQ"), occ("500", "P", expiry=today, root="QQQ")
    events: list[AnyEvent] = [
        equity_quote(-5, "580.40", "580.42"),
        quote(0, "2.00", "2.10", symbol=spy_c),
        quote(0, "1.60", "1.70", symbol=spy_p),
        trade(0, "3.10", 5, symbol=qqq_c, nbbo=("3.00", "3.10")),
        trade(10, "2.10", 3, symbol=spy_c),
        equity_print(12, "580.41", 500),
        trade(1_500, "1.80", 4, symbol=qqq_p, nbbo=("1.80", "1.84")),
        equity_quote(1_990, "580.50", "580.52"),
        trade(2_000, "2.10", 450, symbol=spy_c, venue="XISE"),
        trade(2_000, "1.00", 700, symbol=occ("502", "C", expiry=today, root="QQQ"), nbbo=("0.95", "1.00")),
        equity_print(2_010, "580.51", 300),
        equity_quote(2_500, "580.60", "580.62"),
    ]
    return sorted(events, key=lambda e: e.ts_event)


def test_equity_quotes_reach_both_engines_and_the_underlying_is_the_same_on_any_workers_and_batches() -> None:
    tape = _underlying_tape()
    runs = [run_events(lambda: tape, workers=w, batch_size=b) for w, b in ((1, 4096), (1, 1), (1, 3), (2, 2))]
    assert all(r == runs[0] for r in runs[1:])
    packets = [p for p in runs[0]["flow.packets"] if isinstance(p, Packet)]
    by_symbol = {(p.underlying, p.size_contracts): (p.underlying_source, p.underlying_e9) for p in packets}
    assert by_symbol[("SPY", 450)] == ("quote", 580_510_000_000), "the SPY quote in force at 2 s"
    assert by_symbol[("QQQ", 700)] == ("implied", 501_230_000_000), "QQQ by parity: 3.05 - 1.82 + 500"
    trades = [t for t in runs[0]["equities.trades"] if isinstance(t, EquityTrade)]
    assert len(trades) == 2
    assert all(t.placement != "MISSING" for t in trades), "the equities engine still joins them to the quotes"

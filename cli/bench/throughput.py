"""Throughput sections of `flowtape bench` (`[quotes]`, `[tcbbo]`, `[equities]`): options and equities pipeline
throughput in-process (Bytewax, one worker) and the ratio to the same operators driven by a plain Python loop over
the same input, measured in one run (shared, noisy machines).

Three inputs, all from the seeded synthetic market:

- `quotes`: option prints with the NBBO as a separate quote stream (OPRA-style; several quotes per print), as
  the synthetic market emits it, plus its equity tape (which the options flow reads and filters out).
- `tcbbo`: the same prints carrying the NBBO in force at the trade (Databento `tcbbo`), and no quote stream.
- `equities`: the equity prints and consolidated quotes alone, through the equities engine (quote join,
  eligibility, dark inference, dark levels, candles).

Prints/s counts prints per second of wall time, with everything that accompanies them on the tape.

Each input also gets a contract floor: what any CPython implementation of these contracts pays before doing any
operator work. It reads and keys every input event in the flow's batches, keeps the latest quote per symbol,
and builds each derived event the engines emitted, with its id. The field values are taken ready-made, so the
floor is a lower bound. The engines' own logic costs the difference between their time and the floor's.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from bytewax.testing import run_main

from connectors.bytewax_io import CallbackSink, IterableSource
from events.config import EquitiesConfig, OptionsConfig, QuarantineConfig
from events.ids import derived_event_id
from events.models import AnyEvent, DerivedEvent, EquityPrint, OptionNbbo, OptionPrint
from flows.embedded import build_embedded_flow
from flows.engine_steps import (
    EQUITY_KEYS,
    OPTION_KEYS,
    group_by_key,
    is_equity_input,
    is_option_input,
    quarantine_of,
    runs_of,
)
from operators.construct import Constructor
from operators.kernel.equities import new_equities_engine
from operators.kernel.options import new_options_engine
from operators.quarantine import Quarantine, Rejection
from operators.tape_engine import TapeEngine

BATCH_SIZE = 4096
QUOTE_TYPES = frozenset({"option_nbbo", "equity_quote"})


class EngineLoop:
    """Per-underlying engines driven by a plain loop: what the flow does, minus Bytewax.

    It takes the input in batches, keeps the events the engines read, hands each underlying's run of events
    through its quarantine to its engine, and at the end of the input ends every engine. `feed` may be called
    several times (one long tape fed in parts); `finish` ends the input. What the quarantine rejects is counted in
    `rejected`.
    """

    def __init__(
        self,
        key_fields: Mapping[str, str],
        make: Callable[[], TapeEngine[Any]],
        batch_size: int,
        keep: list[Any] | None = None,
    ) -> None:
        settings = QuarantineConfig()
        self._runs = runs_of(key_fields, settings.quarantine_ahead_ns)
        self._make = make
        self._batch_size = batch_size
        self._keep = keep
        self._engines: dict[str, tuple[TapeEngine[Any], Quarantine]] = {}
        self._new_quarantine = quarantine_of(settings)
        self.produced = 0
        """Derived events so far."""
        self.rejected: list[Rejection] = []

    def feed(self, events: Sequence[AnyEvent]) -> None:
        """Run `events` through the engines, in batches of the flow's size."""
        runs, engines, keep = self._runs, self._engines, self._keep
        for start in range(0, len(events), self._batch_size):
            for key, (run, newest, jump) in runs(events[start : start + self._batch_size]):
                pair = engines.get(key)
                if pair is None:
                    pair = engines[key] = (self._make(), self._new_quarantine())
                engine, quarantine = pair
                derived = engine.on_events(quarantine.admit(run, self.rejected, (newest, jump)))
                self.produced += len(derived)
                if keep is not None:
                    keep.extend(derived)

    def finish(self) -> int:
        """End the input (every engine's end of stream); return the derived event count."""
        for engine, quarantine in self._engines.values():
            derived = engine.on_events(quarantine.close(self.rejected))
            derived.extend(engine.on_eof())
            self.produced += len(derived)
            if self._keep is not None:
                self._keep.extend(derived)
        return self.produced


def _engines_loop(
    events: Sequence[AnyEvent],
    key_fields: Mapping[str, str],
    make: Callable[[], TapeEngine[Any]],
    batch_size: int,
    keep: list[Any] | None = None,
) -> int:
    """Drive per-underlying engines over `events` with a plain loop (`EngineLoop`); return the derived event
    count (and put the events in `keep` when given)."""
    loop = EngineLoop(key_fields, make, batch_size, keep)
    loop.feed(events)
    return loop.finish()


def contract_floor(
    events: Sequence[AnyEvent], selects: Callable[[AnyEvent], bool], derived: Sequence[Any], batch_size: int
) -> Callable[[], int]:
    """Return a run of the contract floor (module docstring) for `derived`, the engines' output on `events`.

    The run returns how many events it built.
    """
    constructors: dict[type[Any], Constructor[Any]] = {}
    plan = []
    for event in derived:
        model = type(event)
        constructor = constructors.get(model)
        if constructor is None:
            constructor = constructors[model] = Constructor(model)
        plan.append((constructor.build, event.__dict__, event.event_type, event.id))

    def run() -> int:
        latest: dict[str, tuple[int, int | None, int | None]] = {}
        for start in range(0, len(events), batch_size):
            batch = [event for event in events[start : start + batch_size] if selects(event)]
            for _, run_events in group_by_key(batch):
                for event in run_events:
                    fields = event.__dict__
                    if fields["event_type"] in QUOTE_TYPES:
                        latest[fields["symbol"]] = (fields["ts_event"], fields["bid_e9"], fields["ask_e9"])
        built = [build(fields.copy()) for build, fields, _, _ in plan]
        ids = [derived_event_id(kind, (event_id,)) for _, _, kind, event_id in plan]
        return min(len(built), len(ids))

    return run


def flow_count(tape: Callable[[], Iterable[AnyEvent]], batch_size: int, **flow: Any) -> int:
    """Run the embedded flow (`flow`: `build_embedded_flow` options) on one worker over the events `tape()`
    yields; return the derived count."""
    produced = 0

    def count(items: list[DerivedEvent]) -> None:
        nonlocal produced
        produced += len(items)

    source = IterableSource(tape, batch_size=batch_size)
    run_main(build_embedded_flow(source, {"count_derived": CallbackSink(count)}, **flow))  # type: ignore[no-untyped-call]
    return produced


def _flow_count(events: Sequence[AnyEvent], batch_size: int, **flow: Any) -> int:
    return flow_count(lambda: events, batch_size, **flow)


def plain_loop(
    events: Sequence[AnyEvent], config: OptionsConfig, batch_size: int = BATCH_SIZE, keep: list[Any] | None = None
) -> int:
    """The plain loop of the options engines (same batching and grouping as the flow)."""
    return _engines_loop(events, OPTION_KEYS, lambda: new_options_engine(config), batch_size, keep)


def equities_loop(
    events: Sequence[AnyEvent], config: EquitiesConfig, batch_size: int = BATCH_SIZE, keep: list[Any] | None = None
) -> int:
    """The plain loop of the equities engines (same batching and grouping as the flow)."""
    return _engines_loop(events, EQUITY_KEYS, lambda: new_equities_engine(config), batch_size, keep)


def bytewax_flow(events: Sequence[AnyEvent], config: OptionsConfig, batch_size: int = BATCH_SIZE) -> int:
    """Run the embedded flow's options side on one worker; return the derived event count."""
    return _flow_count(events, batch_size, config=config, run_equities=False)


def equities_flow(events: Sequence[AnyEvent], config: EquitiesConfig, batch_size: int = BATCH_SIZE) -> int:
    """Run the embedded flow's equities side on one worker; return the derived event count."""
    return _flow_count(events, batch_size, equities=config, run_options=False)


def with_nbbo_at_trade(events: Iterable[AnyEvent]) -> list[AnyEvent]:
    """Return the tape as a tcbbo provider gives it: each print carries the NBBO in force at its time (the
    latest quote on its contract at or before it), and there is no quote stream.
    """
    return list(nbbo_at_trade(events))


def nbbo_at_trade(events: Iterable[AnyEvent]) -> Iterator[AnyEvent]:
    """Yield the tape in tcbbo form (`with_nbbo_at_trade`) as it streams; it holds one quote per contract."""
    latest: dict[str, OptionNbbo] = {}
    for event in events:
        if isinstance(event, OptionNbbo):
            seen = latest.get(event.symbol)
            if seen is None or seen.ts_event <= event.ts_event:
                latest[event.symbol] = event
            continue
        quote = latest.get(event.symbol) if isinstance(event, OptionPrint) else None
        if quote is not None and quote.ts_event <= event.ts_event:
            update: dict[str, Any] = {
                "nbbo_bid_e9": quote.bid_e9,
                "nbbo_ask_e9": quote.ask_e9,
                "nbbo_bid_size_contracts": quote.bid_size_contracts,
                "nbbo_ask_size_contracts": quote.ask_size_contracts,
                "nbbo_ts": quote.ts_event,
            }
            event = event.model_copy(update=update)
        yield event


def _timed(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """Return the best wall and CPU seconds over `repeat` runs, and the derived count."""
    best_wall = best_cpu = float("inf")
    produced = 0
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        produced = fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, produced


def run_variant(name: str, events: Sequence[AnyEvent], config: OptionsConfig, repeat: int) -> bool:
    """Measure one input through the plain loop and the flow; print the figures; return whether they agree."""
    prints = sum(isinstance(e, OptionPrint) for e in events)
    options_events = sum(is_option_input(e) for e in events)
    print(
        f"[{name}] {len(events):,} events ({options_events:,} options events, {prints:,} option prints, "
        f"{options_events / prints:.1f} options events per print)"
    )
    return _compare(
        lambda keep: plain_loop(events, config, keep=keep),
        lambda: bytewax_flow(events, config),
        (events, is_option_input),
        prints,
        options_events,
        repeat,
    )


def run_equities_variant(events: Sequence[AnyEvent], config: EquitiesConfig, repeat: int) -> bool:
    """Measure the equity tape through the plain loop and the flow; print the figures."""
    tape = [e for e in events if is_equity_input(e)]
    prints = sum(isinstance(e, EquityPrint) for e in tape)
    print(f"[equities] {len(tape):,} events ({prints:,} equity prints, {len(tape) / prints:.1f} events per print)")
    return _compare(
        lambda keep: equities_loop(tape, config, keep=keep),
        lambda: equities_flow(tape, config),
        (tape, is_equity_input),
        prints,
        len(tape),
        repeat,
    )


def _compare(
    loop: Callable[[list[Any] | None], int],
    flow: Callable[[], int],
    tape: tuple[Sequence[AnyEvent], Callable[[AnyEvent], bool]],
    prints: int,
    events: int,
    repeat: int,
) -> bool:
    """Time the plain loop, the flow and the contract floor of `tape` (its events and what selects the engine's);
    print the figures; return whether all three derived as many events."""
    derived: list[Any] = []
    loop(derived)
    floor = contract_floor(*tape, derived, BATCH_SIZE)
    loop_s, loop_cpu, loop_out = _timed(lambda: loop(None), repeat)
    flow_s, flow_cpu, flow_out = _timed(flow, repeat)
    floor_s, floor_cpu, floor_out = _timed(floor, repeat)
    if not loop_out == flow_out == floor_out:
        print(f"MISMATCH: plain loop produced {loop_out:,} derived events, flow {flow_out:,}, floor {floor_out:,}")
        return False
    figures = (
        ("plain loop", loop_s, loop_cpu, loop_out),
        ("bytewax x1", flow_s, flow_cpu, flow_out),
        ("floor     ", floor_s, floor_cpu, floor_out),
    )
    for label, seconds, cpu, out in figures:
        print(
            f"  {label} : {prints / seconds:>10,.0f} prints/s  {events / seconds:>10,.0f} events/s  "
            f"({seconds:.3f}s wall, {cpu:.3f}s cpu, {out:,} derived)"
        )
    print(f"  ratio flow/loop: {loop_s / flow_s:.2f}")
    print(
        f"  floor/loop: {floor_s / loop_s:.2f} (per print: contract floor {floor_s / prints * 1e6:.1f} us, "
        f"operator logic {(loop_s - floor_s) / prints * 1e6:.1f} us)"
    )
    return True

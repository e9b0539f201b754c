"""`[session cost]`: whether the cost of a print grows with the length of a session.

One long synthetic tape (the options input in tcbbo form) runs once through the plain loop and once through the
flow on one worker. Its event time is cut into three equal thirds, each cut again into `SLICES` equal slices, and
the wall time of each slice is taken at the input boundaries (a time stamp when the input reaches the slice's
first event and one when it has handed over its last), never per print. A third's per-print cost is the median of
its slices' (wall time over option prints): on a shared machine a burst of someone else's work lands in one slice
and moves a third's sum, not its median. The target: the last third's cost within 1.2x of the first's (state that
grows with the session, or windows that keep growing, show as a ratio above 1).

Each slice is generated before its start stamp, so the synthetic market's own cost is never timed, and only one
slice is held in memory at a time. In the flow a slice's span runs from its first event to the first event of the
next: the last batch of each slice is still being processed when the next stamp is taken, so each slice is timed
one batch (4,096 events) off, the same for all.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from cli.bench.throughput import BATCH_SIZE, EngineLoop, flow_count, nbbo_at_trade
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from connectors.synthetic.market import Profile
from events.config import OptionsConfig
from events.models import AnyEvent, OptionPrint
from flows.engine_steps import OPTION_KEYS, is_option_input
from operators.kernel.options import new_options_engine

PARTS = 3
SLICES = 4
"""Slices per third (module docstring)."""


@dataclass(frozen=True)
class SessionCost:
    """Wall seconds and option prints of each slice of the tape (`SLICES` per third, in order), through one
    pipeline."""

    slice_seconds: tuple[float, ...]
    slice_prints: tuple[int, ...]
    derived: int

    def _thirds(self, values: Sequence[float]) -> list[Sequence[float]]:
        return [values[k * SLICES : (k + 1) * SLICES] for k in range(PARTS)]

    @property
    def seconds(self) -> tuple[float, ...]:
        """Wall seconds of each third."""
        return tuple(sum(third) for third in self._thirds(self.slice_seconds))

    @property
    def prints(self) -> tuple[int, ...]:
        """Option prints of each third."""
        return tuple(int(sum(third)) for third in self._thirds(self.slice_prints))

    @property
    def us_per_print(self) -> tuple[float, ...]:
        """Per-print cost of each third: the median of its slices' (slices without prints aside)."""
        costs = [s / p * 1e6 if p else 0.0 for s, p in zip(self.slice_seconds, self.slice_prints, strict=True)]
        thirds = zip(self._thirds(costs), self._thirds(self.slice_prints), strict=True)
        return tuple(
            statistics.median(c for c, p in zip(cost, prints, strict=True) if p) if any(prints) else 0.0
            for cost, prints in thirds
        )

    @property
    def growth(self) -> float:
        """Last third's per-print cost over the first's."""
        first, last = self.us_per_print[0], self.us_per_print[-1]
        return last / first if first else 0.0


def cut(events: Iterable[AnyEvent], bounds: Sequence[int]) -> Iterator[list[AnyEvent]]:
    """Yield the events in `len(bounds) + 1` consecutive parts: part k holds those before `bounds[k]` (ts_event,
    ns) and from the previous bound on. The input is in event time."""
    part: list[AnyEvent] = []
    k = 0
    for event in events:
        while k < len(bounds) and event.ts_event >= bounds[k]:
            yield part
            part = []
            k += 1
        part.append(event)
    yield part
    for _ in range(k, len(bounds)):
        yield []


def slices(market: SyntheticConfig) -> Iterator[list[AnyEvent]]:
    """Yield the options input of the synthetic session in tcbbo form, cut into `PARTS * SLICES` equal slices of
    its event time."""
    span = market.end_ts - market.start_ts
    count = PARTS * SLICES
    bounds = [market.start_ts + span * k // count for k in range(1, count)]
    tape = (e for e in nbbo_at_trade(SyntheticMarket(market, keep_truth=False).events()) if is_option_input(e))
    return cut(tape, bounds)


def _prints(events: Sequence[AnyEvent]) -> int:
    return sum(isinstance(e, OptionPrint) for e in events)


def loop_cost(market: SyntheticConfig, config: OptionsConfig) -> SessionCost:
    """Time each slice of the session through the plain loop of the options engines."""
    loop = EngineLoop(OPTION_KEYS, lambda: new_options_engine(config), BATCH_SIZE)
    seconds: list[float] = []
    prints: list[int] = []
    for part in slices(market):
        prints.append(_prints(part))
        started = time.perf_counter()
        loop.feed(part)
        seconds.append(time.perf_counter() - started)
        del part
    return SessionCost(tuple(seconds), tuple(prints), loop.finish())


def flow_cost(market: SyntheticConfig, config: OptionsConfig) -> SessionCost:
    """Time each slice of the session through the embedded flow's options side on one worker."""
    starts: list[float] = []
    ends: list[float] = []
    prints: list[int] = []

    def tape() -> Iterator[AnyEvent]:
        for part in slices(market):
            prints.append(_prints(part))
            starts.append(time.perf_counter())
            yield from part
            # Resumed for the next event: the flow has taken this slice's last batch.
            ends.append(time.perf_counter())
            del part

    derived = flow_count(tape, BATCH_SIZE, config=config, run_equities=False)
    seconds = tuple(end - start for start, end in zip(starts, ends, strict=True))
    return SessionCost(seconds, tuple(prints), derived)


def _line(label: str, cost: SessionCost) -> str:
    by_third = " / ".join(f"{us:.1f}" for us in cost.us_per_print)
    return f"  {label} per print by third: {by_third} us, last/first: {cost.growth:.2f}"


def run_session_cost(seconds: float, profile: Profile, seed: int, config: OptionsConfig) -> bool:
    """Print the `[session cost]` section; return whether both pipelines derived as many events."""
    market = SyntheticConfig(seed=seed, profile=profile, duration_s=seconds)
    loop = loop_cost(market, config)
    flow = flow_cost(market, config)
    per_third = " / ".join(f"{p:,}" for p in loop.prints)
    print(
        f"[session cost] {seconds:g} s of {profile} in tcbbo form: {sum(loop.prints):,} option prints, "
        f"thirds of {seconds / PARTS:g} s: {per_third} prints"
    )
    print(_line("plain loop", loop))
    print(_line("bytewax x1", flow))
    if loop.derived != flow.derived or loop.prints != flow.prints:
        print(f"MISMATCH: plain loop produced {loop.derived:,} derived events, flow {flow.derived:,}")
        return False
    return True

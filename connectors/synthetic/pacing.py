"""Replay a stream at a multiple of real time: the only place in the synthetic market that reads a clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from events.units import NS_PER_S

MIN_SLEEP_S = 0.001
"""Shorter waits are batched into the next one: sleeping per event would cost more than it paces."""


class _Timed(Protocol):
    @property
    def ts_event(self) -> int: ...


E = TypeVar("E", bound=_Timed)


def iter_paced(
    events: Iterable[E],
    speed: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[E]:
    """Yield events no earlier than their event-time offset from the first one, divided by `speed`.

    `speed` <= 0 yields as fast as possible without reading the clock. `clock` returns seconds.
    """
    if speed <= 0:
        yield from events
        return
    wall_start: float | None = None
    ts_start = 0
    for event in events:
        if wall_start is None:
            wall_start = clock()
            ts_start = event.ts_event
        due = wall_start + (event.ts_event - ts_start) / NS_PER_S / speed
        wait = due - clock()
        if wait >= MIN_SLEEP_S:
            sleep(wait)
        yield event

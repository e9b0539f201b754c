"""The equities engine with its per-print stages in the compiled kernel (`FLOWTAPE_EQUITIES_KERNEL=native`).

`NativeEquitiesEngine` is `EquitiesEngine` with quote gating, the quote join, placement and eligibility done by
`operators.kernel.EquitiesKernel`, one call per batch; what follows each trade (dark inference, dark levels,
candles) and reference data stay the reference engine's own Python. Its output equals `EquitiesEngine`'s on any
tape and any batching (tests/operators/kernel).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from events.config import EquitiesConfig
from events.models import AnyEvent, EquityTrade
from operators.equities_engine import EquitiesEngine, EquitiesOutput
from operators.kernel import AVAILABLE, EquitiesHooks, kernel_records, new_equities_kernel
from operators.tape_engine import NEVER

if TYPE_CHECKING:
    from operators.kernel._native import EquitiesKernel


def new_equities_engine(config: EquitiesConfig, adv_shares: Mapping[str, int] | None = None) -> EquitiesEngine:
    """The equities engine the settings ask for (`equities_kernel`): native when built, else the reference."""
    if config.equities_kernel == "native" and AVAILABLE:
        return NativeEquitiesEngine(config, adv_shares)
    return EquitiesEngine(config, adv_shares)


class NativeEquitiesEngine(EquitiesEngine):
    """`EquitiesEngine` whose per-print stages run in the kernel (module docstring)."""

    def __init__(self, config: EquitiesConfig, adv_shares: Mapping[str, int] | None = None) -> None:
        super().__init__(config, adv_shares)
        self.kernel: EquitiesKernel = new_equities_kernel(config)

    def hooks(self) -> EquitiesHooks:
        """The hooks of one kernel call."""
        return EquitiesHooks(self._due_scheduled, self._scheduled_ids)

    def schedule_reference(self, events: Iterable[AnyEvent]) -> None:
        super().schedule_reference(events)
        self.kernel.set_scheduled_ns(self._scheduled_ns)

    @property
    def pending_prints(self) -> int:
        return self.kernel.pending_count

    @property
    def print_time_ns(self) -> int:
        newest = self.kernel.pending_max_ns
        wm = self.kernel.print_wm
        return wm if newest is None else max(wm, newest)

    def next_due_ns(self) -> int | None:
        first = self.kernel.pending_first_ns
        return first if first is not None else self._next_due_ns()

    def on_idle(self, now_ns: int) -> list[EquitiesOutput]:
        out: list[EquitiesOutput] = []
        records, advanced = self.kernel.idle(now_ns, self.hooks())
        self._act(records, out)
        if advanced:
            self._on_watermark(out)
        else:
            due = self._next_due_ns()
            if due is not None and due <= now_ns:
                self._on_watermark(out)
        return out

    def _consume(self, events: Sequence[AnyEvent], out: list[EquitiesOutput]) -> None:
        self._act(kernel_records(self.kernel.consume, events, self.hooks(), act=lambda r: self._act(r, out)), out)

    def _drain(self, out: list[EquitiesOutput]) -> None:
        self._act(kernel_records(self.kernel.drain, self.hooks(), act=lambda r: self._act(r, out)), out)

    def _act(self, records: list[object], out: list[EquitiesOutput]) -> None:
        """Act on the kernel's records in order: each trade as the reference does after its join."""
        on_trade = self._on_trade
        for record in records:
            if type(record) is EquityTrade:
                on_trade(record, out)
            else:
                event: AnyEvent = record  # type: ignore[assignment]
                self._reference(event.event_type, event)
        kernel = self.kernel
        self._quote_wm = kernel.quote_wm
        self._print_wm = kernel.print_wm
        self._keep_from = kernel.keep_from
        self.events_in = kernel.events_in

    def _due_scheduled(self, ts: int) -> tuple[list[AnyEvent], int]:
        """Pop the scheduled reference events due at `ts` (the kernel returns them in order)."""
        due: list[AnyEvent] = []
        scheduled = self._scheduled
        while scheduled and scheduled[0].ts_event <= ts:
            due.append(scheduled.popleft())
        self._scheduled_ns = scheduled[0].ts_event if scheduled else NEVER
        return due, self._scheduled_ns

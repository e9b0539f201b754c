"""The options engine with its per-print stages in the compiled kernel (`FLOWTAPE_KERNEL=native`).

`NativeOptionsEngine` is `OptionsEngine` with quote gating, the NBBO join, the underlying price and packet
clustering done by `operators.kernel.OptionsKernel`, one call per batch; everything per packet (`_emit` and what
follows it), reference data and the idle timer's decisions stay the reference engine's own Python. Its output
equals `OptionsEngine`'s on any tape and any batching (tests/operators/kernel).

`new_options_engine(config)` is what flows call: the native engine when the setting asks for it and the kernel is
built, else the reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from events.config import OptionsConfig
from events.models import AnyEvent, Packet
from operators.kernel import AVAILABLE, OptionsHooks, new_options_kernel
from operators.options_engine import OptionsEngine, OptionsOutput
from operators.tape_engine import NEVER

if TYPE_CHECKING:
    from operators.kernel._native import OptionsKernel


def new_options_engine(config: OptionsConfig) -> OptionsEngine:
    """The options engine the settings ask for (`kernel`): native when built, else the Python reference."""
    if config.kernel == "native" and AVAILABLE:
        return NativeOptionsEngine(config)
    return OptionsEngine(config)


class _KernelPackets:
    """What `OptionsEngine` reads of its packet clusterer, answered by the kernel (which clusters)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: NativeOptionsEngine) -> None:
        self._engine = engine

    def next_deadline_ns(self) -> int | None:
        return self._engine.kernel.next_deadline_ns()

    @property
    def open_count(self) -> int:
        return self._engine.kernel.open_count

    def flush(self) -> list[Packet]:
        records = self._engine.kernel.flush(self._engine.hooks())
        assert all(type(record) is Packet for record in records), "a flush closes packets only"
        return records


class NativeOptionsEngine(OptionsEngine):
    """`OptionsEngine` whose per-print stages run in the kernel (module docstring)."""

    def __init__(self, config: OptionsConfig) -> None:
        super().__init__(config)
        self.kernel: OptionsKernel = new_options_kernel(config)
        self.packets = _KernelPackets(self)  # type: ignore[assignment]

    def hooks(self) -> OptionsHooks:
        """The hooks of one kernel call."""
        return OptionsHooks(self._due_scheduled, self._scheduled_ids)

    # ------------------------------------------------------------------------------------ inputs

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

    def on_idle(self, now_ns: int) -> list[OptionsOutput]:
        out: list[OptionsOutput] = []
        records, advanced = self.kernel.idle(now_ns, self.hooks())
        self._act(records, out)
        if not advanced:
            due = self._next_due_ns()
            if due is not None and due <= now_ns:
                # Something already behind the watermark (a packet of late prints): close it where it stands.
                self._on_watermark(out)
        return out

    # ---------------------------------------------------------------------------------- internals

    def _consume(self, events: Sequence[AnyEvent], out: list[OptionsOutput]) -> None:
        self._act(self.kernel.consume(events, self.hooks()), out)

    def _drain(self, out: list[OptionsOutput]) -> None:
        self._act(self.kernel.drain(self.hooks()), out)

    def _on_watermark(self, out: list[OptionsOutput]) -> None:
        self._act(self.kernel.close_due(self.hooks()), out)

    def _reference(self, event_type: str, event: AnyEvent) -> None:
        if event_type != "option_definition":  # the kernel took the multiplier and the contract
            super()._reference(event_type, event)

    def _act(self, records: list[object], out: list[OptionsOutput]) -> None:
        """Act on the kernel's records in order, as the reference engine acts between its per-print stages."""
        emit, advance = self._emit, self._advance
        for record in records:
            kind = type(record)
            if kind is Packet:
                emit(record, out)  # type: ignore[arg-type]
            elif kind is int:
                self._keep_from = record  # type: ignore[assignment]
                advance(record, out)  # type: ignore[arg-type]
            else:
                event: AnyEvent = record  # type: ignore[assignment]
                self._reference(event.event_type, event)
        kernel = self.kernel
        self._quote_wm = kernel.quote_wm
        self._second_wm = kernel.second_wm
        self._print_wm = kernel.print_wm
        self._keep_from = kernel.keep_from
        self.late_prints = kernel.late_prints
        self.events_in = kernel.events_in

    def _due_scheduled(self, ts: int) -> tuple[list[AnyEvent], int]:
        """Pop the scheduled reference events due at `ts` (the kernel applies and returns them in order)."""
        due: list[AnyEvent] = []
        scheduled = self._scheduled
        while scheduled and scheduled[0].ts_event <= ts:
            due.append(scheduled.popleft())
        self._scheduled_ns = scheduled[0].ts_event if scheduled else NEVER
        return due, self._scheduled_ns

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

from events.baselines import VolumeBaseline
from events.config import OptionsConfig
from events.models import AnyEvent, FlowContext, Packet
from operators.baselines import RollingWindow, Stats, z_score
from operators.flow_context import FlowContextTracker
from operators.kernel import AVAILABLE, OptionsHooks, kernel_records, new_options_kernel, session_of
from operators.options_engine import OptionsEngine, OptionsOutput
from operators.packet_context import PacketContext, context_of
from operators.repeated_hits import RepeatedHits
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

    @property
    def multiplier_count(self) -> int:
        return self._engine.kernel.contract_counts()[3]

    def flush(self) -> list[Packet]:
        records = self._engine.kernel.flush(self._engine.hooks())
        assert all(type(record) is Packet for record in records), "a flush closes packets only"
        return records


Moments = tuple[int, int, int]
"""A window's (count, sum, sum of squares) before the packet."""
Seen = tuple[float | None, tuple[Moments, Moments] | None, int, int | None, int | None]
"""The kernel's context of a packet: (usual size, (premium, size) window moments when it can matter, day volume,
bucket volume, bucket)."""


class _KernelContexts:
    """`PacketContexts` with its windows and volumes in the kernel (`context.rs`): one call per packet counts it
    and hands back what a classifier or the structure leg rule reads, only for the packets that can use it.
    Reference data (open interest, volume baselines) and the repeated-hits runs stay here; z-scores are computed
    here from the kernel's exact moments (`baselines.z_score`), so the floats are the reference's. The call is
    made where the reference counts the packet, so an expired contract forgotten in between is forgotten in the
    same place."""

    __slots__ = ("_kernel", "_min_samples", "open_interest", "repeats", "volume_baselines")

    def __init__(self, kernel: OptionsKernel, config: OptionsConfig) -> None:
        # The kernel itself, never one of its bound methods: `copy.deepcopy` treats a builtin method as atomic,
        # so a copied engine would go on updating the original's kernel.
        self._kernel = kernel
        self._min_samples = config.z_min_samples
        self.repeats = RepeatedHits.from_config(config)
        self.open_interest: dict[str, int] = {}
        self.volume_baselines: dict[str, VolumeBaseline] = {}

    def on_packet(self, packet: Packet) -> tuple[PacketContext | None, float | None]:
        """`PacketContexts.on_packet`: count a closed packet; return its context (None when it cannot matter)
        and its contract's usual packet size before it (None unless it may be a leg)."""
        fields = packet.__dict__
        seen: Seen | None = self._kernel.packet_context(
            fields["symbol"], fields["underlying"], fields["premium_cents"], fields["size_contracts"],
            fields["ts_event"], session_of,
        )  # fmt: skip
        run = self.repeats.step(packet)
        if seen is None:  # it can neither matter nor be a leg
            return None, None
        usual_size, scores, day_volume, bucket_volume, bucket = seen
        if scores is None:
            return None, usual_size
        (count, total, total_sq), (size_count, size_total, size_sq) = scores
        min_samples = self._min_samples
        ctx = context_of(
            fields["symbol"],
            z_score(fields["premium_cents"], count, total, total_sq, min_samples),
            z_score(fields["size_contracts"], size_count, size_total, size_sq, min_samples),
            day_volume, bucket, bucket_volume, run, self.open_interest, self.volume_baselines,
        )  # fmt: skip
        return ctx, usual_size

    def stats(self, key: str, metric: str) -> Stats | None:
        """`PacketContexts.stats`, from the kernel's window."""
        values = self._kernel.window_values(key, metric)
        if values is None:
            return None
        window = RollingWindow(max(1, len(values)))
        for value in values:
            window.add(value)
        return window.stats()

    def forget(self, symbol: str) -> None:
        self._kernel.forget_contract(symbol)
        self.repeats.forget(symbol)
        self.open_interest.pop(symbol, None)
        self.volume_baselines.pop(symbol, None)

    def state_counts(self) -> dict[str, int]:
        contracts, underlyings = self._kernel.context_counts()
        return {
            "contracts": contracts,
            "underlying_windows": underlyings,
            "repeat_runs": len(self.repeats),
            "open_interest": len(self.open_interest),
            "volume_baselines": len(self.volume_baselines),
        }


Report = tuple[str, int, int, str, list[int]]
"""A flow-context window's report from the kernel: (underlying, window index, end ns, last packet id, sums)."""


class _KernelFlowContext(FlowContextTracker):
    """`FlowContextTracker` with its windows in the kernel (`flow.rs`): the kernel keeps every packet's
    contribution and each window's sums, and reports a window when the tracker would; the event is built here
    (`FlowContextTracker.build`), so it is the reference's own."""

    __slots__ = ("_kernel", "_labels", "_lengths")

    def __init__(self, kernel: OptionsKernel, config: OptionsConfig) -> None:
        super().__init__(config)
        self._kernel = kernel
        self._labels = [label for label, _ in config.flow_context_window_ns]
        self._lengths = [length for _, length in config.flow_context_window_ns]

    def on_packet(self, packet: Packet) -> list[FlowContext]:
        return self._built(self._kernel.flow_packet(packet))

    def advance(self, watermark_ns: int) -> list[FlowContext]:
        return self._built(self._kernel.flow_advance(watermark_ns))

    def flush(self) -> list[FlowContext]:
        return self._built(self._kernel.flow_flush())

    def next_change_ns(self) -> int | None:
        return self._kernel.flow_next_change_ns()

    def current(self, underlying: str) -> list[FlowContext]:
        return self._built(self._kernel.flow_current(underlying))

    def entry_count(self) -> int:
        return self._kernel.flow_entry_count()

    def late_packets(self, underlying: str) -> dict[str, int]:
        return dict(zip(self._labels, self._kernel.flow_late_packets(underlying), strict=False))

    def _built(self, reports: list[Report]) -> list[FlowContext]:
        if not reports:
            return []
        labels, lengths, build = self._labels, self._lengths, self.build
        return [build(u, labels[w], lengths[w], end, last_id, sums) for u, w, end, last_id, sums in reports]


class NativeOptionsEngine(OptionsEngine):
    """`OptionsEngine` whose per-print stages run in the kernel (module docstring)."""

    def __init__(self, config: OptionsConfig) -> None:
        super().__init__(config)
        self.kernel: OptionsKernel = new_options_kernel(config)
        self.packets = _KernelPackets(self)  # type: ignore[assignment]
        self.contexts = _KernelContexts(self.kernel, config)  # type: ignore[assignment]
        self.context = _KernelFlowContext(self.kernel, config)

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
        self._act(kernel_records(self.kernel.consume, events, self.hooks(), act=lambda r: self._act(r, out)), out)

    def _drain(self, out: list[OptionsOutput]) -> None:
        self._act(kernel_records(self.kernel.drain, self.hooks(), act=lambda r: self._act(r, out)), out)

    def _on_watermark(self, out: list[OptionsOutput]) -> None:
        self._act(self.kernel.close_due(self.hooks()), out)

    def _reference(self, event_type: str, event: AnyEvent) -> None:
        if event_type != "option_definition":  # the kernel took the multiplier and the contract
            super()._reference(event_type, event)

    def state_counts(self) -> dict[str, int]:
        counts = super().state_counts()  # the join's and the underlying price's maps are the kernel's
        quotes, chain, prices, _ = self.kernel.contract_counts()
        counts.update(quote_books=quotes, chain_contracts=chain, last_prices=prices)
        return counts

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

"""Per-underlying flow context over sliding event-time windows (BEHAVIOR section 7).

Each window (default 1m, 5m, 1h, 4h, 1d) holds the packets with `ts_event` in (end - length, end], where `end` is
the newest event time seen for the underlying (packet or watermark). Every packet is reduced once to a vector of
integers, kept once per underlying in event-time order; a window is an index into that list (its expired prefix)
and its sums are the running total minus the expired prefix's sums, so sums stay exact. Window starts and sums
are brought up to date only when a window may report, so a packet costs one insertion and a comparison per
window. A window whose content changed is reported at most once per `flow_context_emit_ms` of event time, so a
replay gives the same events with the same ids.

State stays flat over a session (`coarsen`): entries older than `flow_context_exact_ms` before the end are merged
into one entry per `flow_context_step_ms` step, timed at its newest packet, so a long window (1h, 4h, 1d) holds a
few thousand entries, not every packet of the day. A packet then leaves a window longer than the exact horizon
with the newest packet of its step, at most one step late; windows up to the horizon are unaffected. Merging never
crosses a window's start, so every sum stays exact for the entries a window holds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Direction, FlowContext, Packet
from operators.classifiers.common import POOR_QUOTES_COVERAGE

FIELDS: tuple[str, ...] = (
    "packet_count",
    "call_volume_contracts",
    "put_volume_contracts",
    "call_premium_cents",
    "put_premium_cents",
    "buy_premium_cents",
    "sell_premium_cents",
    "bullish_premium_cents",
    "bearish_premium_cents",
    "complex_premium_cents",
    "sweep_count",
    "block_count",
    "at_touch_contracts",
    "quoted_contracts",
    "sweep_contracts",
    "large_premium_cents",
)
"""The integer sums every window keeps, in the order of a packet's contribution vector."""

_I = {name: i for i, name in enumerate(FIELDS)}

AGGRESSIVENESS_FORMULA = (
    "aggressiveness = 0.5 x at_touch_contracts / quoted_contracts + 0.5 x sweep_contracts / "
    "(call_volume_contracts + put_volume_contracts); a term is 0 when its denominator is 0"
)


def sentiment_formula(cfg: OptionsConfig) -> str:
    """Return the sentiment rule with its band, as stated in every event."""
    band = f"{cfg.flow_context_neutral_band:g}"
    return (
        "strength = |bullish_premium_cents - bearish_premium_cents| / (call_premium_cents + put_premium_cents); "
        f"bullish when bullish > bearish and strength >= {band}, bearish when bearish > bullish and strength >= "
        f"{band}, else neutral; bullish = calls bought + puts sold, bearish = puts bought + calls sold, packets "
        "with complex (multi-leg, stock-tied, cross, floor) prints or poor quotes excluded"
    )


def institutional_formula(cfg: OptionsConfig) -> str:
    """Return the institutional score rule with its threshold, as stated in every event."""
    return (
        "institutional_score = large_premium_cents / (call_premium_cents + put_premium_cents), large = block "
        f"packets or packets with premium >= ${cfg.flow_context_large_premium_usd:,}; 0 without premium"
    )


def contribution(packet: Packet, large_premium_cents: int) -> tuple[int, ...]:
    """Return a packet's contribution to every sum of FIELDS (`large_premium_cents`: the institutional size)."""
    fields = packet.__dict__  # once per packet: see nbbo_join.QuoteBook.update_fields
    premium = fields["premium_cents"]
    size = fields["size_contracts"]
    call = fields["right"] == "C"
    side = fields["side"]
    # Complex prints trade away from the single-leg NBBO: their side says nothing about direction. Otherwise
    # `direction_for`: calls bought and puts sold are bullish, unless the side is unknown or quotes are poor.
    directional = (
        fields["complex_prints"] == 0 and side != "unknown" and fields["nbbo_coverage"] >= POOR_QUOTES_COVERAGE
    )
    bullish = directional and (side == "buy") == call
    bearish = directional and not bullish
    size_at = fields["placement_sizes"].get
    at_touch = size_at("AA", 0) + size_at("A", 0) + size_at("B", 0) + size_at("BB", 0)
    kind = fields["kind"]
    sweep = kind == "sweep"
    block = kind == "block"
    return (
        1,
        size if call else 0,
        0 if call else size,
        premium if call else 0,
        0 if call else premium,
        premium if side == "buy" else 0,
        premium if side == "sell" else 0,
        premium if bullish else 0,
        premium if bearish else 0,
        premium if fields["complex_prints"] > 0 else 0,
        int(sweep),
        int(block),
        at_touch,
        at_touch + size_at("MID", 0),
        size if sweep else 0,
        premium if block or premium >= large_premium_cents else 0,
    )


@dataclass(slots=True)
class _Window:
    """One window's view of its underlying's entries: those before `head` are out of it.

    `head` and the expired sums catch up lazily (when the throttle lets the window report, or a late packet lands
    in its expired prefix), so a packet costs a few comparisons per window and no vector arithmetic.
    """

    label: str
    length_ns: int
    head: int = 0
    """Entries with ts <= end - length as of the last catch-up (the expired prefix)."""
    counted: int = 0
    """Entries of the prefix already summed into `expired` (counted <= head)."""
    expired: list[int] = field(default_factory=lambda: [0] * len(FIELDS))
    dirty: bool = False
    last_emit_ns: int = -1
    late_packets: int = 0

    def catch_up(self, times: list[int], end_ns: int) -> None:
        """Move `head` to the window start at `end_ns`; entries leaving the window make it dirty."""
        head = bisect_right(times, end_ns - self.length_ns, self.head)
        if head != self.head:
            self.head = head
            self.dirty = True


@dataclass(slots=True)
class _Underlying:
    """The contributions of one underlying's packets, sorted by `ts_event` and shared by its windows.

    A window's sums are `total - window.expired`. Entries every window has expired are dropped from time to time.
    """

    windows: list[_Window]
    longest: _Window
    shortest_ns: int
    """The shortest window's length: a packet inside it is inside every window."""
    end_ns: int = -1
    due_ns: int = -1
    """The earliest end at which some window's throttle lets it report (min of last emit + emit interval; -1: a
    window never reported)."""
    last_packet_id: str = ""
    times: list[int] = field(default_factory=list)
    values: list[tuple[int, ...]] = field(default_factory=list)
    total: list[int] = field(default_factory=lambda: [0] * len(FIELDS))
    unsummed: list[tuple[int, ...]] = field(default_factory=list)
    """Contributions added since `total` was last brought up to date."""
    coarse: int = 0
    """Entries at the front left by the last `coarsen` (the entries it need not count as new)."""

    def sums(self, window: _Window) -> list[int]:
        """Return the window's sums as of its last catch-up."""
        if self.unsummed:
            self.total = _plus(self.total, self.unsummed)
            self.unsummed.clear()
        if window.counted != window.head:
            window.expired = _plus(window.expired, self.values[window.counted : window.head])
            window.counted = window.head
        return [t - e for t, e in zip(self.total, window.expired, strict=True)]

    def compact(self) -> None:
        """Drop the entries every window has expired (they only cost memory and bisect steps)."""
        for window in self.windows:
            window.catch_up(self.times, self.end_ns)
            self.sums(window)
        dead = min(window.head for window in self.windows)
        if dead:
            gone = next(w.expired for w in self.windows if w.head == dead)
            self.total = [t - g for t, g in zip(self.total, gone, strict=True)]
            for window in self.windows:
                window.expired = [e - g for e, g in zip(window.expired, gone, strict=True)]
                window.head -= dead
                window.counted -= dead
            del self.times[:dead]
            del self.values[:dead]
            self.coarse = max(0, self.coarse - dead)

    def coarsen(self, limit: int, step_ns: int) -> None:
        """Merge the first `limit` entries into one per `step_ns` step of their times (module docstring).

        A merged entry sums its packets' contributions and takes the newest one's time, so the list stays sorted.
        A run of one step never crosses a window's `head` or `counted` (each window's expired prefix and counted
        sums stay what they were), nor makes a sum leave the int64 range the kernel keeps entries in.
        """
        cuts = {w.head for w in self.windows} | {w.counted for w in self.windows}
        times, values = self.times, self.values
        new_times: list[int] = []
        new_values: list[tuple[int, ...]] = []
        moved: dict[int, int] = {}
        i = 0
        while i < limit:
            moved[i] = len(new_times)
            step = times[i] // step_ns
            row = values[i]
            j = i + 1
            while j < limit and j not in cuts and times[j] // step_ns == step:
                merged = tuple(a + b for a, b in zip(row, values[j], strict=True))
                if not all(INT64_MIN <= m <= INT64_MAX for m in merged):
                    break
                row = merged
                j += 1
            new_times.append(times[j - 1])
            new_values.append(row)
            i = j
        shift = limit - len(new_times)
        for window in self.windows:
            window.head = moved[window.head] if window.head < limit else window.head - shift
            window.counted = moved[window.counted] if window.counted < limit else window.counted - shift
        times[:limit] = new_times
        values[:limit] = new_values
        self.coarse = len(new_times)


def _plus(sums: list[int], rows: list[tuple[int, ...]]) -> list[int]:
    return [s + sum(column) for s, column in zip(sums, zip(*rows, strict=True), strict=True)] if rows else sums


COMPACT_MIN_ENTRIES = 4096
"""Entries kept per underlying before the expired prefix is dropped (then at least half of them must be dead), and
new entries past the exact horizon before they are merged into steps (`_Underlying.coarsen`)."""
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class FlowContextTracker:
    """Sliding-window flow context per underlying; a keyed state machine driven by event time.

    Feed every closed packet to `on_packet` and the packet watermark to `advance`; `flush` at end of input.
    """

    __slots__ = (
        "_aggressiveness",
        "_compact_min",
        "_config",
        "_emit_ns",
        "_exact_ns",
        "_institutional",
        "_large_cents",
        "_sentiment",
        "_state",
        "_step_ns",
        "_window_ns",
    )

    def __init__(self, config: OptionsConfig, *, compact_min_entries: int = COMPACT_MIN_ENTRIES) -> None:
        self._config = config
        self._compact_min = compact_min_entries
        self._state: dict[str, _Underlying] = {}
        self._sentiment = sentiment_formula(config)
        self._aggressiveness = AGGRESSIVENESS_FORMULA
        self._institutional = institutional_formula(config)
        # Computed settings, read once per packet: cached.
        self._emit_ns = config.flow_context_emit_ns
        self._exact_ns = config.flow_context_exact_ns
        self._step_ns = config.flow_context_step_ns
        self._large_cents = config.flow_context_large_premium_cents
        self._window_ns = config.flow_context_window_ns

    def on_packet(self, packet: Packet) -> list[FlowContext]:
        """Add a closed packet to every window of its underlying; return the contexts due now."""
        state = self._state.get(packet.underlying)
        if state is None:
            windows = [_Window(label, length) for label, length in self._window_ns]
            longest = max(windows, key=lambda w: w.length_ns)
            shortest = min(w.length_ns for w in windows)
            state = self._state[packet.underlying] = _Underlying(windows, longest, shortest)
        ts = packet.ts_event
        if ts > state.end_ns:
            state.end_ns = ts
        end = state.end_ns
        state.last_packet_id = packet.id
        values = contribution(packet, self._large_cents)
        times = state.times
        # Packets close slightly out of event-time order: keep the entries sorted so expiry stays exact.
        at = len(times) if not times or times[-1] <= ts else bisect_right(times, ts)
        if ts > end - state.shortest_ns:
            for window in state.windows:
                window.dirty = True  # inside every window
        else:
            self._add_late(state, ts, end, at, values)
        if at == len(times):
            times.append(ts)
            state.values.append(values)
        else:
            times.insert(at, ts)
            state.values.insert(at, values)
            if at < state.coarse:
                state.coarse += 1
        state.unsummed.append(values)
        if len(times) > self._compact_min and state.longest.head > len(times) // 2:
            state.compact()
        if times and times[0] <= end - self._exact_ns:
            old = bisect_right(times, end - self._exact_ns)
            if old - state.coarse > self._compact_min:
                state.coarsen(old, self._step_ns)
        return self._due(packet.underlying, state)

    def advance(self, watermark_ns: int) -> list[FlowContext]:
        """Move every underlying's window end to the watermark; return the contexts due (expiries included)."""
        out: list[FlowContext] = []
        for underlying in sorted(self._state):
            state = self._state[underlying]
            if watermark_ns > state.end_ns:
                state.end_ns = watermark_ns
            out.extend(self._due(underlying, state))
        return out

    def flush(self) -> list[FlowContext]:
        """Report every window with unreported changes now, throttle aside (end of input)."""
        out: list[FlowContext] = []
        for underlying in sorted(self._state):
            state = self._state[underlying]
            for window in state.windows:
                window.catch_up(state.times, state.end_ns)
                if window.dirty:
                    out.append(self._emit(underlying, state, window))
        return out

    def next_change_ns(self) -> int | None:
        """The earliest watermark at which `advance` may report something; None when every window is empty and
        reported. A window reports a change (a packet, or an entry of length L leaving at its time + L) once its
        throttle allows. Early is harmless (`advance` then reports nothing): this tells an idle timer when waking
        is worth it.
        """
        due: int | None = None
        for state in self._state.values():
            times = state.times
            for window in state.windows:
                if window.dirty:
                    at = state.end_ns
                elif window.head < len(times):
                    at = times[window.head] + window.length_ns
                else:
                    continue
                if window.last_emit_ns >= 0:
                    at = max(at, window.last_emit_ns + self._emit_ns)
                if due is None or at < due:
                    due = at
        return due

    def current(self, underlying: str) -> list[FlowContext]:
        """Return the context of every window of `underlying` as of its latest event time (for a hot cache)."""
        state = self._state.get(underlying)
        if state is None:
            return []
        for window in state.windows:
            window.catch_up(state.times, state.end_ns)
        return [self._build(underlying, state, window) for window in state.windows]

    def entry_count(self) -> int:
        """Return the packet entries held, over every underlying (each until its longest window has passed it)."""
        return sum(len(state.times) for state in self._state.values())

    def late_packets(self, underlying: str) -> dict[str, int]:
        """Return, per window label, the packets that arrived already outside the window."""
        state = self._state.get(underlying)
        return {w.label: w.late_packets for w in state.windows} if state else {}

    # ---------------------------------------------------------------------------------- internals

    @staticmethod
    def _add_late(state: _Underlying, ts: int, end: int, at: int, values: tuple[int, ...]) -> None:
        """Add a packet that is out of some window already (it closed late, or its window moved on)."""
        times = state.times
        for window in state.windows:
            if ts <= end - window.length_ns:
                # Already out of this window: it joins the expired prefix, the window's content is unchanged.
                window.late_packets += 1
                window.catch_up(times, end)
                window.head += 1
                if at < window.counted:
                    window.expired = [e + v for e, v in zip(window.expired, values, strict=True)]
                    window.counted += 1
            else:
                window.dirty = True

    def _due(self, underlying: str, state: _Underlying) -> list[FlowContext]:
        end = state.end_ns
        if end < state.due_ns:
            return []  # every window's throttle holds it back
        emit_ns = self._emit_ns
        out: list[FlowContext] = []
        for window in state.windows:
            if window.last_emit_ns < 0 or end - window.last_emit_ns >= emit_ns:
                window.catch_up(state.times, end)
                if window.dirty:
                    out.append(self._emit(underlying, state, window))
        return out

    def _emit(self, underlying: str, state: _Underlying, window: _Window) -> FlowContext:
        window.dirty = False
        window.last_emit_ns = state.end_ns
        emits = [w.last_emit_ns for w in state.windows]
        state.due_ns = -1 if min(emits) < 0 else min(emits) + self._emit_ns
        return self._build(underlying, state, window)

    def _build(self, underlying: str, state: _Underlying, window: _Window) -> FlowContext:
        return self.build(underlying, window.label, window.length_ns, state.end_ns, state.last_packet_id,
                          state.sums(window))  # fmt: skip

    def build(
        self, underlying: str, label: str, window_ns: int, end_ns: int, last_packet_id: str, s: Sequence[int]
    ) -> FlowContext:
        """The event of one window of `underlying` ending at `end_ns`, from its sums (`FIELDS` order)."""
        calls, puts = s[_I["call_volume_contracts"]], s[_I["put_volume_contracts"]]
        call_premium, put_premium = s[_I["call_premium_cents"]], s[_I["put_premium_cents"]]
        bullish, bearish = s[_I["bullish_premium_cents"]], s[_I["bearish_premium_cents"]]
        total_premium = call_premium + put_premium
        volume = calls + puts
        strength = abs(bullish - bearish) / total_premium if total_premium else 0.0
        band = self._config.flow_context_neutral_band
        sentiment: Direction = "neutral"
        if strength >= band and bullish != bearish:
            sentiment = "bullish" if bullish > bearish else "bearish"
        quoted = s[_I["quoted_contracts"]]
        touch_share = s[_I["at_touch_contracts"]] / quoted if quoted else 0.0
        sweep_share = s[_I["sweep_contracts"]] / volume if volume else 0.0
        sums = dict(zip(FIELDS, s, strict=True))
        return FlowContext(
            id=derived_event_id("flow_context", (underlying, label, str(end_ns), last_packet_id)),
            ts_event=end_ns,
            underlying=underlying,
            window_label=label,
            window_ns=window_ns,
            **sums,
            put_call_volume_ratio=round(puts / calls, 6) if calls else None,
            put_call_premium_ratio=round(put_premium / call_premium, 6) if call_premium else None,
            net_premium_cents=s[_I["buy_premium_cents"]] - s[_I["sell_premium_cents"]],
            sentiment=sentiment,
            sentiment_strength=round(strength, 6),
            sentiment_formula=self._sentiment,
            aggressiveness=round(0.5 * touch_share + 0.5 * sweep_share, 6),
            aggressiveness_formula=self._aggressiveness,
            institutional_score=round(s[_I["large_premium_cents"]] / total_premium, 6) if total_premium else 0.0,
            institutional_formula=self._institutional,
        )

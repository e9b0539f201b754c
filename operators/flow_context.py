"""Per-underlying flow context over sliding event-time windows (BEHAVIOR section 7).

Each window (default 1m, 5m, 1h, 4h, 1d) holds the packets with `ts_event` in (end - length, end], where `end` is
the newest event time seen for the underlying (packet or watermark). Every packet is reduced once to a vector of
integers; a window keeps a deque of them and their running sums, so sums stay exact and each packet costs O(1)
per window. A window whose content changed is reported at most once per `flow_context_emit_ms` of event time, so a
replay gives the same events with the same ids.
"""

from __future__ import annotations

import operator
from collections import deque
from dataclasses import dataclass, field

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Direction, FlowContext, Packet
from operators.classifiers import direction_for

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
_TOUCH = ("AA", "A", "B", "BB")
_QUOTED = ("AA", "A", "MID", "B", "BB")

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


def contribution(packet: Packet, cfg: OptionsConfig) -> tuple[int, ...]:
    """Return a packet's contribution to every sum of FIELDS."""
    premium = packet.premium_cents
    size = packet.size_contracts
    call = packet.right == "C"
    complex_ = packet.complex_prints > 0
    # Complex prints trade away from the single-leg NBBO: their side says nothing about direction.
    direction = "neutral" if complex_ else direction_for(packet)
    sizes = packet.placement_sizes
    sweep = packet.kind == "sweep"
    block = packet.kind == "block"
    return (
        1,
        size if call else 0,
        0 if call else size,
        premium if call else 0,
        0 if call else premium,
        premium if packet.side == "buy" else 0,
        premium if packet.side == "sell" else 0,
        premium if direction == "bullish" else 0,
        premium if direction == "bearish" else 0,
        premium if complex_ else 0,
        int(sweep),
        int(block),
        sum(sizes.get(p, 0) for p in _TOUCH),
        sum(sizes.get(p, 0) for p in _QUOTED),
        size if sweep else 0,
        premium if block or premium >= cfg.flow_context_large_premium_cents else 0,
    )


@dataclass(slots=True)
class _Window:
    label: str
    length_ns: int
    entries: deque[tuple[int, tuple[int, ...]]] = field(default_factory=deque)
    sums: list[int] = field(default_factory=lambda: [0] * len(FIELDS))
    dirty: bool = False
    last_emit_ns: int = -1
    late_packets: int = 0

    def add(self, ts_ns: int, values: tuple[int, ...]) -> None:
        entries = self.entries
        if not entries or entries[-1][0] <= ts_ns:
            entries.append((ts_ns, values))
        else:
            # Packets close slightly out of event-time order: keep the deque sorted so expiry stays exact.
            i = len(entries) - 1
            while i > 0 and entries[i - 1][0] > ts_ns:
                i -= 1
            entries.insert(i, (ts_ns, values))
        self.sums = list(map(operator.add, self.sums, values))
        self.dirty = True

    def expire(self, end_ns: int) -> None:
        start = end_ns - self.length_ns
        entries = self.entries
        while entries and entries[0][0] <= start:
            _, values = entries.popleft()
            self.sums = list(map(operator.sub, self.sums, values))
            self.dirty = True


@dataclass(slots=True)
class _Underlying:
    windows: list[_Window]
    end_ns: int = -1
    last_packet_id: str = ""


class FlowContextTracker:
    """Sliding-window flow context per underlying; a keyed state machine driven by event time.

    Feed every closed packet to `on_packet` and the packet watermark to `advance`; `flush` at end of input.
    """

    __slots__ = ("_aggressiveness", "_config", "_institutional", "_sentiment", "_state")

    def __init__(self, config: OptionsConfig) -> None:
        self._config = config
        self._state: dict[str, _Underlying] = {}
        self._sentiment = sentiment_formula(config)
        self._aggressiveness = AGGRESSIVENESS_FORMULA
        self._institutional = institutional_formula(config)

    def on_packet(self, packet: Packet) -> list[FlowContext]:
        """Add a closed packet to every window of its underlying; return the contexts due now."""
        state = self._state.get(packet.underlying)
        if state is None:
            windows = [_Window(label, length) for label, length in self._config.flow_context_window_ns]
            state = self._state[packet.underlying] = _Underlying(windows)
        ts = packet.ts_event
        state.end_ns = max(state.end_ns, ts)
        state.last_packet_id = packet.id
        values = contribution(packet, self._config)
        for window in state.windows:
            window.expire(state.end_ns)
            if ts <= state.end_ns - window.length_ns:
                window.late_packets += 1  # already out of this window: adding it would only be undone
            else:
                window.add(ts, values)
        return self._due(packet.underlying, state)

    def advance(self, watermark_ns: int) -> list[FlowContext]:
        """Move every underlying's window end to the watermark; return the contexts due (expiries included)."""
        out: list[FlowContext] = []
        for underlying in sorted(self._state):
            state = self._state[underlying]
            if watermark_ns > state.end_ns:
                state.end_ns = watermark_ns
                for window in state.windows:
                    window.expire(watermark_ns)
            out.extend(self._due(underlying, state))
        return out

    def flush(self) -> list[FlowContext]:
        """Report every window with unreported changes now, throttle aside (end of input)."""
        out: list[FlowContext] = []
        for underlying in sorted(self._state):
            state = self._state[underlying]
            for window in state.windows:
                if window.dirty:
                    out.append(self._emit(underlying, state, window))
        return out

    def current(self, underlying: str) -> list[FlowContext]:
        """Return the context of every window of `underlying` as of its latest event time (for a hot cache)."""
        state = self._state.get(underlying)
        if state is None:
            return []
        return [self._build(underlying, state, window) for window in state.windows]

    def late_packets(self, underlying: str) -> dict[str, int]:
        """Return, per window label, the packets that arrived already outside the window."""
        state = self._state.get(underlying)
        return {w.label: w.late_packets for w in state.windows} if state else {}

    # ---------------------------------------------------------------------------------- internals

    def _due(self, underlying: str, state: _Underlying) -> list[FlowContext]:
        emit_ns = self._config.flow_context_emit_ns
        out: list[FlowContext] = []
        for window in state.windows:
            if window.dirty and (window.last_emit_ns < 0 or state.end_ns - window.last_emit_ns >= emit_ns):
                out.append(self._emit(underlying, state, window))
        return out

    def _emit(self, underlying: str, state: _Underlying, window: _Window) -> FlowContext:
        window.dirty = False
        window.last_emit_ns = state.end_ns
        return self._build(underlying, state, window)

    def _build(self, underlying: str, state: _Underlying, window: _Window) -> FlowContext:
        s = window.sums
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
            id=derived_event_id("flow_context", (underlying, window.label, str(state.end_ns), state.last_packet_id)),
            ts_event=state.end_ns,
            underlying=underlying,
            window_label=window.label,
            window_ns=window.length_ns,
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

"""Per-contract packet clustering and packet features (BEHAVIOR section 3).

Every print is clustered (never filtered first): small child fills are part of a sweep and baselines need the
whole tape. A packet takes prints while the gap to its last print is <= `packet_gap_ms` and its span stays
<= `packet_window_ms`; it closes when the watermark passes `last.ts + packet_gap_ms` or the window is full.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import PLACEMENTS, Packet, PacketKind, Placement, PricePath, Side
from events.units import notional_cents
from operators.nbbo_join import Placed

_BLOCK_FLAGS = frozenset({"cross", "floor"})
_PLACED_WITH_QUOTE: tuple[Placement, ...] = ("AA", "A", "MID", "B", "BB")


@dataclass(slots=True)
class _Open:
    min_ts: int
    max_ts: int
    prints: list[Placed] = field(default_factory=list)
    version: int = 0


class PacketClusterer:
    """Cluster placed prints into packets per contract; closed packets come out in deterministic order."""

    __slots__ = ("_config", "_deadlines", "_multipliers", "_open", "_versions")

    def __init__(self, config: OptionsConfig) -> None:
        self._config = config
        self._open: dict[str, _Open] = {}
        # (deadline_ns, symbol, version): lazily invalidated when a packet grows or closes.
        self._deadlines: list[tuple[int, str, int]] = []
        self._multipliers: dict[str, int] = {}
        # Versions are unique across packets: a stale deadline of a closed packet must never match its successor.
        self._versions = 0

    def set_multiplier(self, symbol: str, multiplier: int) -> None:
        """Record a contract's multiplier from reference data."""
        self._multipliers[symbol] = multiplier

    def add(self, placed: Placed) -> list[Packet]:
        """Add a print; return the packet it closed on its contract, if any."""
        cfg = self._config
        trade = placed.print
        out: list[Packet] = []
        ts = trade.ts_event
        current = self._open.get(trade.symbol)
        # Prints can arrive slightly out of time order (feeds ordered by receive time): a print joins when its
        # gap to the packet's newest print and the resulting span both stay within bounds, whatever the order.
        if current is not None and (
            ts - current.max_ts > cfg.packet_gap_ns
            or max(current.max_ts, ts) - min(current.min_ts, ts) > cfg.packet_window_ns
        ):
            out.append(self._close(trade.symbol))
            current = None
        if current is None:
            current = self._open[trade.symbol] = _Open(min_ts=ts, max_ts=ts)
        current.prints.append(placed)
        current.min_ts = min(current.min_ts, ts)
        current.max_ts = max(current.max_ts, ts)
        self._versions += 1
        current.version = self._versions
        heapq.heappush(self._deadlines, (current.max_ts + cfg.packet_gap_ns, trade.symbol, current.version))
        return out

    def advance(self, watermark_ns: int) -> list[Packet]:
        """Close every packet whose last print is more than `packet_gap_ms` behind the watermark."""
        out: list[Packet] = []
        heap = self._deadlines
        while heap and heap[0][0] < watermark_ns:
            _, symbol, version = heapq.heappop(heap)
            current = self._open.get(symbol)
            if current is not None and current.version == version:
                out.append(self._close(symbol))
        return out

    def flush(self) -> list[Packet]:
        """Close every open packet (end of input), in deadline order."""
        out = self.advance(2**63 - 1)
        for symbol in sorted(self._open):
            out.append(self._close(symbol))
        self._deadlines.clear()
        return out

    @property
    def open_count(self) -> int:
        return len(self._open)

    def _close(self, symbol: str) -> Packet:
        current = self._open.pop(symbol)
        multiplier = self._multipliers.get(symbol)
        return build_packet(current.prints, self._config, multiplier)


def build_packet(prints: list[Placed], config: OptionsConfig, multiplier: int | None = None) -> Packet:
    """Compute a packet's features from its placed prints, taken in event-time order (stable for ties)."""
    prints = sorted(prints, key=lambda p: p.print.ts_event)
    first = prints[0].print
    mult = multiplier or first.multiplier or config.default_multiplier
    counts: dict[str, int] = dict.fromkeys(PLACEMENTS, 0)
    sizes: dict[str, int] = dict.fromkeys(PLACEMENTS, 0)
    venues: dict[str, None] = {}
    conditions: set[str] = set()
    total_size = buy = sell = 0
    notional_e9 = 0
    iso = block_flag = False
    complex_prints = tick_prints = late_prints = 0
    min_px = max_px = first.price_e9
    for placed in prints:
        trade = placed.print
        size = trade.size_contracts
        counts[placed.placement] += 1
        sizes[placed.placement] += size
        venues[trade.venue] = None
        conditions.update(trade.conditions)
        total_size += size
        notional_e9 += trade.price_e9 * size
        min_px = min(min_px, trade.price_e9)
        max_px = max(max_px, trade.price_e9)
        if placed.side == "buy":
            buy += size
        elif placed.side == "sell":
            sell += size
        iso = iso or "iso" in trade.conditions
        block_flag = block_flag or not _BLOCK_FLAGS.isdisjoint(trade.conditions)
        complex_prints += placed.complex
        tick_prints += placed.tick_test
        late_prints += placed.late
    last = prints[-1].print
    premium_cents = notional_cents(notional_e9, 1, mult)
    side = _side(buy, sell, total_size, config.sweep_min_side_ratio)
    kind = _kind(
        print_count=len(prints),
        venue_count=len(venues),
        iso=iso,
        side=side,
        size=total_size,
        premium_cents=premium_cents,
        block_flag=block_flag,
        config=config,
    )
    quote = prints[0].quote
    quoted = sum(sizes[p] for p in _PLACED_WITH_QUOTE)
    return Packet(
        id=derived_event_id("packet", (p.print.id for p in prints)),
        ts_event=last.ts_event,
        symbol=first.symbol,
        underlying=first.underlying,
        root=first.root,
        expiry=first.expiry,
        right=first.right,
        strike_e9=first.strike_e9,
        multiplier=mult,
        kind=kind,
        side=side,
        ts_first=first.ts_event,
        ts_last=last.ts_event,
        span_ns=last.ts_event - first.ts_event,
        print_count=len(prints),
        venue_count=len(venues),
        venues=tuple(venues),
        size_contracts=total_size,
        premium_cents=premium_cents,
        vwap_e9=(notional_e9 + total_size // 2) // total_size,
        first_price_e9=first.price_e9,
        last_price_e9=last.price_e9,
        min_price_e9=min_px,
        max_price_e9=max_px,
        price_path=_path(first.price_e9, last.price_e9),
        placement_counts={k: v for k, v in counts.items() if v},
        placement_sizes={k: v for k, v in sizes.items() if v},
        buy_size_contracts=buy,
        sell_size_contracts=sell,
        nbbo_coverage=quoted / total_size,
        stale_ratio=sizes["STALE"] / total_size,
        bid_e9=quote.bid_e9 if quote else None,
        ask_e9=quote.ask_e9 if quote else None,
        bid_size_contracts=quote.bid_size if quote else None,
        ask_size_contracts=quote.ask_size if quote else None,
        touch_size_ratio=_touch_ratio(side, sizes, quote.bid_size if quote else 0, quote.ask_size if quote else 0),
        conditions=tuple(sorted(conditions)),
        complex_prints=complex_prints,
        tick_test_prints=tick_prints,
        late_prints=late_prints,
        underlying_e9=last.underlying_e9,
        print_ids=tuple(p.print.id for p in prints),
    )


def _side(buy: int, sell: int, total: int, min_ratio: float) -> Side:
    if buy >= min_ratio * total:
        return "buy"
    if sell >= min_ratio * total:
        return "sell"
    return "unknown"


def _kind(
    *,
    print_count: int,
    venue_count: int,
    iso: bool,
    side: Side,
    size: int,
    premium_cents: int,
    block_flag: bool,
    config: OptionsConfig,
) -> PacketKind:
    if print_count == 1:
        if size >= config.block_min_contracts or premium_cents >= config.block_min_premium_cents or block_flag:
            return "block"
        return "single"
    if (venue_count >= 2 or iso) and side != "unknown":
        return "sweep"
    if venue_count == 1:
        return "split"
    return "single"


def _path(first_e9: int, last_e9: int) -> PricePath:
    if last_e9 > first_e9:
        return "rising"
    if last_e9 < first_e9:
        return "falling"
    return "flat"


def _touch_ratio(side: Side, sizes: dict[str, int], bid_size: int, ask_size: int) -> float | None:
    if side == "buy" and ask_size > 0:
        return (sizes["A"] + sizes["AA"]) / ask_size
    if side == "sell" and bid_size > 0:
        return (sizes["B"] + sizes["BB"]) / bid_size
    return None

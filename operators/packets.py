"""Per-contract packet clustering and packet features (BEHAVIOR section 3).

Every print is clustered (never filtered first): small child fills are part of a sweep and baselines need the
whole tape. A packet takes prints while the gap to its last print is <= `packet_gap_ms` and its span stays
<= `packet_window_ms`; it closes when the watermark passes `last.ts + packet_gap_ms` or the window is full.

Each packet carries the underlying's price as of the print that opened it (its first print on a tape in time
order), from the `mark_of` lookup the clusterer is given (`operators.underlying_price`; by default only a price the
provider stamped on the print): one lookup per packet, not per print. `underlying_age_ms` is the age, at that
print, of the oldest quote behind the price.

Packets are built from values this module computed itself, so they are constructed without re-running
validation (which costs more than computing the features), by `operators.construct.Constructor` like every
other derived event. `operators.construct.VALIDATE_EVENTS` switches validation back on: every packet is then
also built through the validating constructor, its id checked against `events.ids`, and must equal the
constructed one field by field, with the same types and the same JSON bytes. The tests run with it on.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Final

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import PLACEMENTS, Packet, PacketKind, PricePath, Side
from events.units import notional_cents
from operators import construct
from operators.construct import Constructor
from operators.nbbo_join import Placed
from operators.underlying_price import UnderlyingMark, stamped_mark

_BLOCK_FLAGS = frozenset({"cross", "floor"})
_UNQUOTED = ("MISSING", "STALE", "CROSSED")
_PLACEMENT_ORDER: dict[str, int] = {placement: index for index, placement in enumerate(PLACEMENTS)}
_print_ts = attrgetter("print.ts_event")

MarkOf = Callable[[dict[str, Any]], UnderlyingMark | None]
"""The underlying's price at a print, from the print's fields (`OptionPrint.__dict__`)."""
_Underlying = tuple[int | None, str | None, int | None, int | None]
"""A packet's underlying fields: price (1e-9), source, age (ms), parity strike (1e-9)."""
_NO_UNDERLYING: Final[_Underlying] = (None, None, None, None)


def _underlying_fields(mark: UnderlyingMark | None, ts_event: int) -> _Underlying:
    if mark is None:
        return _NO_UNDERLYING
    return (mark.price_e9, mark.source, mark.age_ms(ts_event), mark.strike_e9)


_PACKET: Final = Constructor(Packet)
# Every packet's field dict starts as a copy of the model-ordered template and has each value set: copying a
# 44-key dict and storing into it costs about two thirds of building it from a display.
_TEMPLATE: Final[dict[str, Any]] = _PACKET.template()


@dataclass(frozen=True, slots=True)
class PacketParams:
    """The settings `build_packet` reads, resolved once (some are computed properties of the config)."""

    sweep_min_side_ratio: float
    block_min_contracts: int
    block_min_premium_cents: int
    default_multiplier: int

    @classmethod
    def of(cls, config: OptionsConfig) -> PacketParams:
        return cls(
            sweep_min_side_ratio=config.sweep_min_side_ratio,
            block_min_contracts=config.block_min_contracts,
            block_min_premium_cents=config.block_min_premium_cents,
            default_multiplier=config.default_multiplier,
        )


@dataclass(slots=True)
class _Open:
    min_ts: int
    max_ts: int
    prints: list[Placed]
    version: int
    underlying: _Underlying


class PacketClusterer:
    """Cluster placed prints into packets per contract; closed packets come out in deterministic order."""

    __slots__ = (
        "_config",
        "_deadlines",
        "_gap_ns",
        "_mark_of",
        "_multipliers",
        "_open",
        "_params",
        "_versions",
        "_window_ns",
    )

    def __init__(self, config: OptionsConfig, mark_of: MarkOf = stamped_mark) -> None:
        """`mark_of`: the underlying's price at the print that opens a packet."""
        self._config = config
        self._mark_of = mark_of
        self._params = PacketParams.of(config)
        self._gap_ns = config.packet_gap_ns
        self._window_ns = config.packet_window_ns
        self._open: dict[str, _Open] = {}
        # (deadline_ns, symbol, version): lazily invalidated when a packet grows or closes.
        self._deadlines: list[tuple[int, str, int]] = []
        self._multipliers: dict[str, int] = {}
        # Versions are unique across packets: a stale deadline of a closed packet must never match its successor.
        self._versions = 0

    def set_multiplier(self, symbol: str, multiplier: int) -> None:
        """Record a contract's multiplier from reference data."""
        self._multipliers[symbol] = multiplier

    @property
    def multiplier_count(self) -> int:
        """Contracts with a multiplier from reference data."""
        return len(self._multipliers)

    def forget(self, symbol: str) -> None:
        """Drop an expired contract's multiplier."""
        self._multipliers.pop(symbol, None)

    def add(self, placed: Placed) -> list[Packet]:
        """Add a print; return the packet it closed on its contract, if any."""
        trade = placed.print.__dict__  # fields of the print (see nbbo_join.QuoteBook.update_fields)
        symbol = trade["symbol"]
        ts = trade["ts_event"]
        out: list[Packet] = []
        current = self._open.get(symbol)
        # Prints can arrive slightly out of time order (feeds ordered by receive time): a print joins when its
        # gap to the packet's newest print and the resulting span both stay within bounds, whatever the order.
        if current is not None and (
            ts - current.max_ts > self._gap_ns or max(current.max_ts, ts) - min(current.min_ts, ts) > self._window_ns
        ):
            out.append(self._close(symbol))
            current = None
        self._versions += 1
        if current is None:
            under = _underlying_fields(self._mark_of(trade), ts)
            current = self._open[symbol] = _Open(ts, ts, [placed], self._versions, under)
        else:
            current.prints.append(placed)
            if ts < current.min_ts:
                current.min_ts = ts
            if ts > current.max_ts:
                current.max_ts = ts
            current.version = self._versions
        heapq.heappush(self._deadlines, (current.max_ts + self._gap_ns, symbol, self._versions))
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

    def next_deadline_ns(self) -> int | None:
        """The deadline of the packet that closes first (`advance` past it closes it); None when none is open."""
        heap = self._deadlines
        while heap:
            _, symbol, version = heap[0]
            current = self._open.get(symbol)
            if current is not None and current.version == version:
                return heap[0][0]
            heapq.heappop(heap)  # a deadline of a packet that grew or closed since
        return None

    def _close(self, symbol: str) -> Packet:
        current = self._open.pop(symbol)
        return _build(current.prints, self._params, self._multipliers.get(symbol), current.underlying)


def build_packet(
    prints: list[Placed], config: OptionsConfig, multiplier: int | None = None, mark: UnderlyingMark | None = None
) -> Packet:
    """Compute a packet's features from its placed prints, taken in event-time order (stable for ties).

    `mark`: the underlying's price at the first print (default: the price stamped on that print, if any).
    """
    first = min(prints, key=_print_ts).print.__dict__
    if mark is None:
        mark = stamped_mark(first)
    return _build(prints, PacketParams.of(config), multiplier, _underlying_fields(mark, first["ts_event"]))


def _build(prints: list[Placed], params: PacketParams, multiplier: int | None, under: _Underlying) -> Packet:
    if len(prints) == 1:
        packet = _build_single(prints[0], params, multiplier, under)
        if construct.VALIDATE_EVENTS:
            general = _build_many(prints, params, multiplier, under)
            assert packet.model_dump_json() == general.model_dump_json(), "single-print path differs from the general"
        return packet
    return _build_many(sorted(prints, key=_print_ts), params, multiplier, under)


def _build_single(placed: Placed, params: PacketParams, multiplier: int | None, under: _Underlying) -> Packet:
    """`_build_many` for a one-print packet (most packets), with its loops and tallies folded away."""
    event, placement, print_side, quote, tick_test, complex_print, late = placed
    trade = event.__dict__  # fields of the print (see nbbo_join.QuoteBook.update_fields)
    size = trade["size_contracts"]
    price = trade["price_e9"]
    conditions = trade["conditions"]
    mult = multiplier or trade["multiplier"] or params.default_multiplier
    premium_cents = notional_cents(price * size, 1, mult)
    buy = size if print_side == "buy" else 0
    sell = size if print_side == "sell" else 0
    threshold = params.sweep_min_side_ratio * size  # _side, inlined
    side: Side = "buy" if buy >= threshold else "sell" if sell >= threshold else "unknown"
    if (
        size >= params.block_min_contracts
        or premium_cents >= params.block_min_premium_cents
        or (conditions and not _BLOCK_FLAGS.isdisjoint(conditions))
    ):
        kind: PacketKind = "block"
    else:
        kind = "single"
    sizes: dict[str, int] = {placement: size} if size else {}
    ts = trade["ts_event"]
    print_ids = (trade["id"],)
    fields = _TEMPLATE.copy()
    fields["id"] = derived_event_id("packet", print_ids)
    fields["ts_event"] = ts
    fields["symbol"] = trade["symbol"]
    fields["underlying"] = trade["underlying"]
    fields["root"] = trade["root"]
    fields["expiry"] = trade["expiry"]
    fields["right"] = trade["right"]
    fields["strike_e9"] = trade["strike_e9"]
    fields["multiplier"] = mult
    fields["kind"] = kind
    fields["side"] = side
    fields["ts_first"] = ts
    fields["ts_last"] = ts
    fields["span_ns"] = 0
    fields["print_count"] = 1
    fields["venue_count"] = 1
    fields["venues"] = (trade["venue"],)
    fields["size_contracts"] = size
    fields["premium_cents"] = premium_cents
    fields["vwap_e9"] = (price * size + size // 2) // size
    fields["first_price_e9"] = price
    fields["last_price_e9"] = price
    fields["min_price_e9"] = price
    fields["max_price_e9"] = price
    fields["price_path"] = "flat"
    fields["placement_counts"] = {placement: 1}
    fields["placement_sizes"] = sizes
    fields["buy_size_contracts"] = buy
    fields["sell_size_contracts"] = sell
    fields["nbbo_coverage"] = (0 if placement in _UNQUOTED else size) / size
    fields["stale_ratio"] = (size if placement == "STALE" else 0) / size
    fields["bid_e9"] = quote.bid_e9 if quote else None
    fields["ask_e9"] = quote.ask_e9 if quote else None
    fields["bid_size_contracts"] = quote.bid_size if quote else None
    fields["ask_size_contracts"] = quote.ask_size if quote else None
    touch = None  # _touch_ratio, inlined
    if quote is not None:
        if side == "buy" and quote.ask_size > 0:
            touch = (size if placement in ("A", "AA") else 0) / quote.ask_size
        elif side == "sell" and quote.bid_size > 0:
            touch = (size if placement in ("B", "BB") else 0) / quote.bid_size
    fields["touch_size_ratio"] = touch
    fields["conditions"] = tuple(sorted(set(conditions))) if conditions else ()
    fields["complex_prints"] = int(complex_print)
    fields["tick_test_prints"] = int(tick_test)
    fields["late_prints"] = int(late)
    fields["underlying_e9"] = under[0]
    fields["underlying_source"] = under[1]
    fields["underlying_age_ms"] = under[2]
    fields["underlying_strike_e9"] = under[3]
    fields["print_ids"] = print_ids
    return _construct(fields)


def _build_many(prints: list[Placed], params: PacketParams, multiplier: int | None, under: _Underlying) -> Packet:
    """Compute a packet's features from its placed prints, already in event-time order."""
    first = prints[0].print.__dict__  # fields of the prints (see nbbo_join.QuoteBook.update_fields)
    last = prints[-1].print.__dict__
    mult = multiplier or first["multiplier"] or params.default_multiplier
    # Per placement: [prints, contracts], in first-seen order (put in PLACEMENTS order below).
    by_placement: dict[str, list[int]] = {}
    venues: dict[str, None] = {}
    conditions: set[str] = set()
    total_size = buy = sell = notional_e9 = 0
    iso = block_flag = False
    complex_prints = tick_prints = late_prints = 0
    min_px = max_px = first["price_e9"]
    ids: list[str] = []
    for event, placement, print_side, _, tick_test, complex_print, late in prints:
        trade = event.__dict__
        size = trade["size_contracts"]
        price = trade["price_e9"]
        ids.append(trade["id"])
        tally = by_placement.get(placement)
        if tally is None:
            by_placement[placement] = [1, size]
        else:
            tally[0] += 1
            tally[1] += size
        venues[trade["venue"]] = None
        flags = trade["conditions"]
        if flags:
            conditions.update(flags)
            iso = iso or "iso" in flags
            block_flag = block_flag or not _BLOCK_FLAGS.isdisjoint(flags)
        total_size += size
        notional_e9 += price * size
        if price < min_px:
            min_px = price
        elif price > max_px:
            max_px = price
        if print_side == "buy":
            buy += size
        elif print_side == "sell":
            sell += size
        complex_prints += complex_print
        tick_prints += tick_test
        late_prints += late
    if len(by_placement) > 1:
        by_placement = dict(sorted(by_placement.items(), key=lambda item: _PLACEMENT_ORDER[item[0]]))
    sizes: dict[str, int] = {name: tally[1] for name, tally in by_placement.items() if tally[1]}
    premium_cents = notional_cents(notional_e9, 1, mult)
    side = _side(buy, sell, total_size, params.sweep_min_side_ratio)
    kind = _kind(len(prints), len(venues), iso, side, total_size, premium_cents, block_flag, params)
    quote = prints[0].quote
    unquoted = 0
    for name in _UNQUOTED:
        unquoted += sizes.get(name, 0)
    print_ids = tuple(ids)
    fields = _TEMPLATE.copy()
    fields["id"] = derived_event_id("packet", print_ids)
    fields["ts_event"] = last["ts_event"]
    fields["symbol"] = first["symbol"]
    fields["underlying"] = first["underlying"]
    fields["root"] = first["root"]
    fields["expiry"] = first["expiry"]
    fields["right"] = first["right"]
    fields["strike_e9"] = first["strike_e9"]
    fields["multiplier"] = mult
    fields["kind"] = kind
    fields["side"] = side
    fields["ts_first"] = first["ts_event"]
    fields["ts_last"] = last["ts_event"]
    fields["span_ns"] = last["ts_event"] - first["ts_event"]
    fields["print_count"] = len(prints)
    fields["venue_count"] = len(venues)
    fields["venues"] = tuple(venues)
    fields["size_contracts"] = total_size
    fields["premium_cents"] = premium_cents
    fields["vwap_e9"] = (notional_e9 + total_size // 2) // total_size
    fields["first_price_e9"] = first["price_e9"]
    fields["last_price_e9"] = last["price_e9"]
    fields["min_price_e9"] = min_px
    fields["max_price_e9"] = max_px
    fields["price_path"] = _path(first["price_e9"], last["price_e9"])
    fields["placement_counts"] = {name: tally[0] for name, tally in by_placement.items()}
    fields["placement_sizes"] = sizes
    fields["buy_size_contracts"] = buy
    fields["sell_size_contracts"] = sell
    fields["nbbo_coverage"] = (total_size - unquoted) / total_size
    fields["stale_ratio"] = sizes.get("STALE", 0) / total_size
    fields["bid_e9"] = quote.bid_e9 if quote else None
    fields["ask_e9"] = quote.ask_e9 if quote else None
    fields["bid_size_contracts"] = quote.bid_size if quote else None
    fields["ask_size_contracts"] = quote.ask_size if quote else None
    fields["touch_size_ratio"] = _touch_ratio(
        side, sizes, quote.bid_size if quote else 0, quote.ask_size if quote else 0
    )
    fields["conditions"] = tuple(sorted(conditions)) if conditions else ()
    fields["complex_prints"] = complex_prints
    fields["tick_test_prints"] = tick_prints
    fields["late_prints"] = late_prints
    fields["underlying_e9"] = under[0]
    fields["underlying_source"] = under[1]
    fields["underlying_age_ms"] = under[2]
    fields["underlying_strike_e9"] = under[3]
    fields["print_ids"] = print_ids
    return _construct(fields)


def _construct(fields: dict[str, Any]) -> Packet:
    """Make a Packet from computed fields (all of them, in model order) without validating them again."""
    if construct.VALIDATE_EVENTS:
        assert fields["id"] == derived_event_id("packet", fields["print_ids"]), "packet id disagrees with events.ids"
    return _PACKET.build(fields)


def _side(buy: int, sell: int, total: int, min_ratio: float) -> Side:
    if buy >= min_ratio * total:
        return "buy"
    if sell >= min_ratio * total:
        return "sell"
    return "unknown"


def _kind(
    print_count: int,
    venue_count: int,
    iso: bool,
    side: Side,
    size: int,
    premium_cents: int,
    block_flag: bool,
    params: PacketParams,
) -> PacketKind:
    if print_count == 1:
        if size >= params.block_min_contracts or premium_cents >= params.block_min_premium_cents or block_flag:
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
        return (sizes.get("A", 0) + sizes.get("AA", 0)) / ask_size
    if side == "sell" and bid_size > 0:
        return (sizes.get("B", 0) + sizes.get("BB", 0)) / bid_size
    return None

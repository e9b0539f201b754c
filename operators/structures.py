"""Multi-leg structures (BEHAVIOR section 5): shapes, structure events and the detector. The structure classifiers
(section 6) are in `operators.classifiers.structure`.

Candidate legs are packets on one underlying whose spans are at most `structure_window_ms` apart. Packets are
decided one at a time in (ts_first, id) order: the earliest undecided packet (the anchor) either forms a
structure with later candidates or is released alone, so a packet is in at most one structure. A decision waits
until every packet that could still be a candidate has closed, so the result depends on the packets only, not on
how often the watermark moves (late packets and a full buffer aside). A packet that can be no one's leg (unflagged
and not a possible leg, below) is released alone as it arrives and never waits in the book: most packets are such,
and they could neither join a structure nor change one.

- Packets carrying the `multi_leg` condition flag are trusted: the flagged candidates form one structure
  (named by shape when one fits, else `multi_leg`). Flagged and unflagged packets never mix.
- An unflagged packet is a possible leg only when it is significant on its own (timing alone is what coincidence
  imitates on a busy tape): its aggressor side is known, its size is at least `structure_min_leg_contracts` and its
  premium at least `structure_min_leg_premium_usd` (a 160-lot at two cents is no leg), and,
  when its contract's usual packet size is known (the rolling median, passed to `on_packet` by the engine once the
  window has `z_min_samples`), at least `structure_leg_usual_multiple` times that. Smaller, ordinary or
  unknown-side packets stay separate packets.
- Unflagged packets pair only by the rules (vertical, straddle/strangle, ladder, calendar/diagonal/roll, equal
  sizes → multi_leg), between comparable sizes. Several comparable candidates that form no single shape and give
  no unique exact-size partner are mixed evidence: no structure, and they are all released together.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import (
    NetPremium,
    Packet,
    Structure,
    StructureLeg,
    StructureType,
)
from events.units import CENTS_PER_USD, NS_PER_MS, PRICE_SCALE, format_price

MULTI_LEG_FLAG = "multi_leg"
MAX_PENDING_PACKETS = 10_000
"""Undecided packets kept per underlying at most; past it the oldest is decided at once (a stalled watermark)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """A named shape that a set of legs fits, with the rule text and the numbers it read."""

    structure_type: StructureType
    rule: str
    metrics: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- shapes


def leg_order(packet: Packet) -> tuple[date, int, str, str]:
    """Return the sort key of a leg: expiry, strike, right (C before P), packet id."""
    return (packet.expiry, packet.strike_e9, packet.right, packet.id)


def is_flagged(packet: Packet) -> bool:
    """Return whether the venue marked the packet's prints as legs of a multi-leg order."""
    return MULTI_LEG_FLAG in packet.conditions


def size_ratio(legs: Sequence[Packet]) -> float:
    """Return the largest leg size over the smallest (1.0 for equal sizes)."""
    sizes = [p.size_contracts for p in legs]
    return max(sizes) / min(sizes)


def span_gap_ns(legs: Sequence[Packet]) -> int:
    """Return how far apart the legs' spans are: 0 when they all overlap, else latest start - earliest end."""
    return max(0, max(p.ts_first for p in legs) - min(p.ts_last for p in legs))


def _sides(legs: Sequence[Packet]) -> str:
    return "/".join(p.side for p in legs)


def _sizes(legs: Sequence[Packet]) -> str:
    return "/".join(f"{p.size_contracts:,}" for p in legs)


def _common_metrics(legs: Sequence[Packet]) -> dict[str, float]:
    return {
        "legs": float(len(legs)),
        "size_ratio": round(size_ratio(legs), 4),
        "span_gap_ms": span_gap_ns(legs) / NS_PER_MS,
    }


def classify_legs(legs: Sequence[Packet], cfg: OptionsConfig) -> Shape | None:
    """Return the named shape the legs fit (vertical, straddle, strangle, ladder, calendar, diagonal, roll), or None.

    Sizes must be comparable (largest / smallest <= `structure_size_ratio_max`); side conditions apply only when
    both sides are known.
    """
    legs = sorted(legs, key=leg_order)
    if len(legs) < 2 or len({p.symbol for p in legs}) != len(legs):
        return None
    ratio = size_ratio(legs)
    ratio_max = cfg.structure_size_ratio_max
    if ratio > ratio_max:
        return None
    metrics = _common_metrics(legs)
    sizes = f"sizes {_sizes(legs)} (ratio {ratio:.2f} <= {ratio_max:g})"
    if len(legs) >= 3:
        return _ladder(legs, cfg, metrics, sizes)
    a, b = legs
    known = a.side != "unknown" and b.side != "unknown"
    opposite = known and a.side != b.side
    same_side = known and a.side == b.side
    sides = f"sides {_sides(legs)}"
    if a.expiry == b.expiry:
        if a.right == b.right:
            if a.strike_e9 == b.strike_e9 or same_side:
                return None
            metrics["strike_width_usd"] = (b.strike_e9 - a.strike_e9) / PRICE_SCALE
            return Shape(
                "vertical",
                f"vertical: same expiry {a.expiry:%Y-%m-%d}, same right {a.right}, strikes {format_price(a.strike_e9)}/"
                f"{format_price(b.strike_e9)}, {sizes}, {sides} ({'opposite' if opposite else 'not both known'})",
                metrics,
            )
        if opposite:
            return None
        name: StructureType = "straddle" if a.strike_e9 == b.strike_e9 else "strangle"
        strikes = (
            f"strike {format_price(a.strike_e9)}"
            if name == "straddle"
            else "strikes " + "/".join(format_price(p.strike_e9) for p in legs)
        )
        metrics["strike_width_usd"] = abs(b.strike_e9 - a.strike_e9) / PRICE_SCALE
        return Shape(
            name,
            f"{name}: same expiry {a.expiry:%Y-%m-%d}, a call and a put, {strikes}, {sizes}, "
            f"{sides} ({'same' if same_side else 'not both known'})",
            metrics,
        )
    if a.right != b.right:
        return None
    metrics["expiry_gap_days"] = float((b.expiry - a.expiry).days)
    metrics["strike_width_usd"] = (b.strike_e9 - a.strike_e9) / PRICE_SCALE
    expiries = f"expiries {a.expiry:%Y-%m-%d}/{b.expiry:%Y-%m-%d}"
    strikes = "/".join(format_price(p.strike_e9) for p in legs)
    if opposite:
        return Shape(
            "roll",
            f"roll: same right {a.right}, {expiries}, strikes {strikes}, {sizes}, {sides} (opposite: one leg "
            "closed, the other opened)",
            metrics,
        )
    name = "calendar" if a.strike_e9 == b.strike_e9 else "diagonal"
    return Shape(
        name,
        f"{name}: same right {a.right}, {expiries}, strikes {strikes}, {sizes}, {sides} "
        f"({'same' if same_side else 'not both known'})",
        metrics,
    )


def _ladder(legs: list[Packet], cfg: OptionsConfig, metrics: dict[str, float], sizes: str) -> Shape | None:
    first = legs[0]
    if any(p.expiry != first.expiry or p.right != first.right for p in legs):
        return None
    steps = {b.strike_e9 - a.strike_e9 for a, b in pairwise(legs)}
    # The listed strike grid is not known here: adjacent strikes are read as distinct, equally spaced ones.
    if len(steps) != 1 or 0 in steps:
        return None
    step = steps.pop()
    metrics["strike_step_usd"] = step / PRICE_SCALE
    strikes = "/".join(format_price(p.strike_e9) for p in legs)
    return Shape(
        "ladder",
        f"ladder: same expiry {first.expiry:%Y-%m-%d}, same right {first.right}, {len(legs)} adjacent strikes "
        f"{strikes} (step {format_price(step)}), {sizes}, sides {_sides(legs)}",
        metrics,
    )


def _multi_leg(legs: Sequence[Packet], reason: str) -> Shape:
    return Shape("multi_leg", f"multi_leg: {len(legs)} legs, {reason}", _common_metrics(sorted(legs, key=leg_order)))


# ------------------------------------------------------------------------------------------- events


def net_premium(legs: Iterable[Packet]) -> tuple[int | None, NetPremium]:
    """Return the net premium in cents (bought legs pay, sold legs receive) and debit/credit/even/unknown."""
    net = 0
    for leg in legs:
        if leg.side == "unknown":
            return None, "unknown"
        net += leg.premium_cents if leg.side == "buy" else -leg.premium_cents
    return net, ("debit" if net > 0 else "credit" if net < 0 else "even")


def build_structure(legs: Sequence[Packet], shape: Shape, *, flagged: bool, cfg: OptionsConfig) -> Structure:
    """Build the structure event of `legs`; its id follows the legs' packet ids in leg order."""
    ordered = sorted(legs, key=leg_order)
    net, kind = net_premium(ordered)
    window = f"spans {span_gap_ns(ordered) / NS_PER_MS:g} ms apart (<= {cfg.structure_window_ms:,} ms)"
    rule = f"{shape.rule}; {window}"
    if flagged:
        rule = f"{rule}; every leg flagged multi-leg by the venue"
    return Structure(
        id=derived_event_id("structure", (p.id for p in ordered)),
        ts_event=max(p.ts_event for p in ordered),
        underlying=ordered[0].underlying,
        structure_type=shape.structure_type,
        flagged=flagged,
        rule=rule,
        metrics=shape.metrics,
        ts_first=min(p.ts_first for p in ordered),
        ts_last=max(p.ts_last for p in ordered),
        leg_count=len(ordered),
        legs=tuple(
            StructureLeg(
                packet_id=p.id,
                symbol=p.symbol,
                expiry=p.expiry,
                right=p.right,
                strike_e9=p.strike_e9,
                side=p.side,
                kind=p.kind,
                size_contracts=p.size_contracts,
                premium_cents=p.premium_cents,
                vwap_e9=p.vwap_e9,
                nbbo_coverage=p.nbbo_coverage,
                ts_first=p.ts_first,
                ts_last=p.ts_last,
            )
            for p in ordered
        ),
        leg_ids=tuple(p.id for p in ordered),
        size_contracts=sum(p.size_contracts for p in ordered),
        gross_premium_cents=sum(p.premium_cents for p in ordered),
        net_premium_cents=net,
        net_premium=kind,
        print_ids=tuple(i for p in ordered for i in p.print_ids),
    )


# ----------------------------------------------------------------------------------------- detector


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision of the detector: a structure and its legs, or packets released alone (no structure)."""

    structure: Structure | None
    packet_ids: tuple[str, ...]
    """The structure's leg ids, or the ids of the packets released alone."""


@dataclass(slots=True)
class _Book:
    """Undecided packets of one underlying that may be legs; every key list is sorted by (ts_first, id).

    `keys` holds them all; `flagged` and `pairable` (unflagged and a possible leg: `is_possible_leg`) split them by
    the candidates they can have, so a decision reads the few of them in its horizon. `pairable_ids` says which
    undecided packets are in `pairable` (decided once, when the packet arrives).
    """

    keys: list[tuple[int, str]] = field(default_factory=list)
    packets: dict[str, Packet] = field(default_factory=dict)
    flagged: list[tuple[int, str]] = field(default_factory=list)
    pairable: list[tuple[int, str]] = field(default_factory=list)
    pairable_ids: set[str] = field(default_factory=set)

    def candidates(self, packet: Packet) -> list[tuple[int, str]] | None:
        """Return the key list that holds `packet` besides `keys` (None: it can be no one's leg)."""
        if is_flagged(packet):
            return self.flagged
        return self.pairable if packet.id in self.pairable_ids else None

    def remove(self, pid: str) -> Packet:
        """Take the undecided packet `pid` out of the book; return it."""
        packet = self.packets.pop(pid)
        key = (packet.ts_first, pid)
        _delete(self.keys, key)
        candidates = self.candidates(packet)
        if candidates is not None:
            _delete(candidates, key)
        self.pairable_ids.discard(pid)
        return packet


def is_possible_leg(packet: Packet, usual_size_contracts: float | None, cfg: OptionsConfig) -> bool:
    """Return whether an unflagged packet may be a leg of an inferred structure.

    Its side is known, its size is at least `structure_min_leg_contracts`, its premium at least
    `structure_min_leg_premium_usd` and, when the contract's usual (rolling median) packet size is known, its size
    at least `structure_leg_usual_multiple` times it. None: only the floors apply.
    """
    if packet.side == "unknown" or packet.size_contracts < cfg.structure_min_leg_contracts:
        return False
    if packet.premium_cents < cfg.structure_min_leg_premium_usd * CENTS_PER_USD:
        return False
    return (
        usual_size_contracts is None or packet.size_contracts >= cfg.structure_leg_usual_multiple * usual_size_contracts
    )


def _delete(keys: list[tuple[int, str]], key: tuple[int, str]) -> None:
    i = bisect.bisect_left(keys, key)
    if i == len(keys) or keys[i] != key:
        raise AssertionError(f"structure book lost key {key}")
    del keys[i]


class StructureDetector:
    """Group closed packets into structures per underlying; a keyed state machine driven by event time.

    Feed every closed packet to `on_packet`, then call `advance` with the watermark the packets were closed by;
    `flush` at end of input. Structures come out in decision order: anchors earliest (ts_first, id) first, whether one
    call decides them or several do (sorting each call's output by its own time would make the order depend on how
    decisions batch, and the alert book, which raises on the first structure of a leg set, on that order).

    With `log_decisions`, the detector also records every decision in the order it is made (`take_decisions`):
    anchors in (ts_first, id) order, whichever call made them, so the log does not depend on how often the
    watermark moved. It also says which packets were released alone, which the returned structures do not.
    """

    __slots__ = (
        "_books",
        "_config",
        "_decided",
        "_log",
        "_settle_ns",
        "_watermark",
        "late_packets",
        "released_packets",
    )

    def __init__(self, config: OptionsConfig, *, log_decisions: bool = False) -> None:
        self._config = config
        self._log: list[Decision] | None = [] if log_decisions else None
        self._books: dict[str, _Book] = {}
        # A candidate of an anchor starts at most structure_window after the anchor ends and closes at most
        # packet_window + packet_gap after it starts: past that, no candidate can still arrive.
        self._settle_ns = config.structure_window_ns + config.packet_window_ns + config.packet_gap_ns
        self._watermark = -1
        # Decided packet ids (ts_last), so a packet delivered twice is never a leg twice; pruned by the watermark.
        self._decided: dict[str, int] = {}
        self.late_packets = 0
        self.released_packets = 0

    def on_packet(self, packet: Packet, usual_size_contracts: float | None = None) -> list[Structure]:
        """Take a closed packet; return the structures decided because of it (late packets, a full buffer).

        `usual_size_contracts` is the contract's rolling median packet size before this packet (None: unknown, only
        the absolute leg floor applies); see `is_possible_leg`.
        """
        flagged = is_flagged(packet)
        if not flagged and not is_possible_leg(packet, usual_size_contracts, self._config):
            # No one's leg, as anchor or as candidate (most packets): released alone as it arrives. Keeping it in
            # the book would change no structure; it would only hold back the decisions behind it.
            self.released_packets += 1
            return []
        book = self._books.get(packet.underlying)
        if book is None:
            book = self._books[packet.underlying] = _Book()
        if packet.id in book.packets or packet.id in self._decided:
            return []
        if packet.ts_last + self._settle_ns < self._watermark:
            # Its candidates may already be decided without it: it still pairs with whatever is undecided.
            self.late_packets += 1
        key = (packet.ts_first, packet.id)
        bisect.insort(book.keys, key)
        if flagged:
            bisect.insort(book.flagged, key)
        else:
            book.pairable_ids.add(packet.id)
            bisect.insort(book.pairable, key)
        book.packets[packet.id] = packet
        return self._decide_ready(book)

    def advance(self, watermark_ns: int) -> list[Structure]:
        """Decide every anchor whose candidates have all closed by `watermark_ns` (the packet watermark)."""
        if watermark_ns > self._watermark:
            self._watermark = watermark_ns
        out: list[Structure] = []
        for underlying in sorted(self._books):
            out.extend(self._decide_ready(self._books[underlying]))
        self._prune()
        return out

    def flush(self) -> list[Structure]:
        """Decide every undecided packet (end of input)."""
        out: list[Structure] = []
        for underlying in sorted(self._books):
            book = self._books[underlying]
            while book.keys:
                out.extend(self._decide(book))
        self._decided.clear()
        return out

    @property
    def decided_count(self) -> int:
        """Decided packet ids remembered (to drop a copy delivered again); pruned as the watermark moves on."""
        return len(self._decided)

    @property
    def pending_count(self) -> int:
        return sum(len(b.keys) for b in self._books.values())

    def take_decisions(self) -> list[Decision]:
        """Return the decisions made since the last call, in the order they were made (needs `log_decisions`)."""
        if self._log is None:
            raise RuntimeError("StructureDetector was built without log_decisions")
        taken, self._log = self._log, []
        return taken

    def may_pair(self, packet: Packet) -> bool:
        """Return whether `packet` is undecided and may still become a leg (flagged, or a possible leg)."""
        book = self._books.get(packet.underlying)
        if book is None or packet.id not in book.packets:
            return False
        return book.candidates(book.packets[packet.id]) is not None

    def next_decision_ns(self) -> int:
        """Return the watermark past which `advance` has an anchor to decide (-1: nothing is waiting).

        Lets a caller skip `advance` while the watermark stays at or below it; calling anyway is harmless.
        """
        due = -1
        for book in self._books.values():
            if book.keys:
                anchor_due = book.packets[book.keys[0][1]].ts_last + self._settle_ns
                if due < 0 or anchor_due < due:
                    due = anchor_due
        return due

    # ---------------------------------------------------------------------------------- internals

    def _decide_ready(self, book: _Book) -> list[Structure]:
        out: list[Structure] = []
        keys, packets = book.keys, book.packets
        settle, watermark = self._settle_ns, self._watermark
        while keys:
            pid = keys[0][1]
            anchor = packets[pid]
            if anchor.ts_last + settle >= watermark and len(keys) <= MAX_PENDING_PACKETS:
                break
            out.extend(self._decide(book))
        return out

    def _decide(self, book: _Book) -> list[Structure]:
        """Decide the anchor (the earliest undecided packet): a structure with it as a leg, or it alone."""
        cfg = self._config
        anchor = book.packets[book.keys[0][1]]
        candidates = book.candidates(anchor)
        structure: Structure | None = None
        used: Sequence[str] = (anchor.id,)
        if candidates is not None:
            # The anchor is the earliest undecided packet, so it heads its own candidate list too.
            horizon = (anchor.ts_last + cfg.structure_window_ns, "\uffff")
            others = [book.packets[pid] for _, pid in candidates[1 : bisect.bisect_right(candidates, horizon)]]
            if candidates is book.flagged:
                group = [anchor, *others]
                structure = self._flagged(group)
                if structure is None and len(group) > 1:
                    # The venue says these are all legs; if they cannot be split into one structure, none is right.
                    used = [p.id for p in group]
            else:
                structure, mixed = self._unflagged(anchor, others)
                if mixed:
                    # Pairing two of them after dropping the anchor would be a guess too: release them together.
                    used = [anchor.id, *(p.id for p in mixed)]
        if structure is not None:
            used = structure.leg_ids
        for pid in used:
            self._decided[pid] = book.remove(pid).ts_last
        if self._log is not None:
            self._log.append(Decision(structure, tuple(used)))
        if structure is None:
            self.released_packets += len(used)
            return []
        return [structure]

    def _flagged(self, group: list[Packet]) -> Structure | None:
        cfg = self._config
        if len(group) < 2 or len(group) > cfg.structure_max_legs:
            return None
        if len({p.symbol for p in group}) != len(group):
            # Two flagged packets on one contract: two complex orders overlap, legs cannot be told apart.
            return None
        shape = classify_legs(group, cfg) or _multi_leg(group, "no named shape")
        return build_structure(group, shape, flagged=True, cfg=cfg)

    def _unflagged(self, anchor: Packet, others: list[Packet]) -> tuple[Structure | None, list[Packet]]:
        """Return the anchor's structure, or None with the candidates that made the evidence mixed.

        `anchor` and `others` are unflagged possible legs (`is_possible_leg`): sides known, sizes significant.
        """
        cfg = self._config
        ratio_max = cfg.structure_size_ratio_max
        size = anchor.size_contracts
        symbol = anchor.symbol
        # size_ratio((anchor, p)) inline: this runs for every candidate of every anchor.
        comparable = [
            p
            for p in others
            if p.symbol != symbol
            and (size / p.size_contracts if size >= p.size_contracts else p.size_contracts / size) <= ratio_max
        ]
        if not comparable:
            return None, []
        if len(comparable) == 1:
            pair = [anchor, comparable[0]]
            shape = classify_legs(pair, cfg)
            if shape is None and pair[0].size_contracts == pair[1].size_contracts:
                shape = _multi_leg(pair, f"matching sizes {anchor.size_contracts:,}, no named shape")
            return (build_structure(pair, shape, flagged=False, cfg=cfg) if shape else None), []
        group = [anchor, *comparable]
        if len(group) <= cfg.structure_max_legs and len({p.symbol for p in group}) == len(group):
            shape = classify_legs(group, cfg)
            if shape is None and len({p.size_contracts for p in group}) == 1:
                shape = _multi_leg(group, f"matching sizes {anchor.size_contracts:,}, no named shape")
            if shape is not None:
                return build_structure(group, shape, flagged=False, cfg=cfg), []
        # Several comparable candidates that do not form one shape: only a unique exact-size partner is evidence.
        exact = [p for p in comparable if p.size_contracts == anchor.size_contracts and classify_legs((anchor, p), cfg)]
        if len(exact) != 1:
            return None, comparable
        pair = [anchor, exact[0]]
        shape = classify_legs(pair, cfg)
        assert shape is not None
        return build_structure(pair, shape, flagged=False, cfg=cfg), []

    def _prune(self) -> None:
        # A duplicate delivered after this long would find no candidate left anyway.
        horizon = self._watermark - 2 * self._settle_ns
        if len(self._decided) > 1024:
            self._decided = {pid: ts for pid, ts in self._decided.items() if ts >= horizon}

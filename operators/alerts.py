"""Alerts (BEHAVIOR section 6): one per packet or structure with at least one hit, scored 0-100, deduplicated.

The same contract (for a structure: the same set of leg contracts) and classifier within `alert_cooldown_ms` of
the open alert's first raise (`ts_first`) update it (same id, next revision); after that window a new alert opens,
its id derived from the subject that opens it. So a contract that fires all day yields about one alert per
cooldown window.

An alert's size is bounded however many subjects it absorbs. It keeps totals and counts of everything
(`premium_cents`, `size_contracts`, `subject_count`, `print_count`, `hit_count`, placement sizes) and cites:

- `evidence_ids`: at most `alert_max_evidence_ids` print ids, the largest subjects' prints. Packets carry their
  print ids but not each print's size, so "largest" ranks subjects: by size in contracts (descending), then id,
  and takes each one's prints in its own order until the bound. The rank depends on the set of subjects only,
  not on their order.
- `subject_ids` and `hit_ids`: at most `alert_max_subject_ids` each: the first subject's (its hits), then the
  largest subjects' in the same rank.
- `explanations`: the opening subject's, one line for each classifier that joined in a later update, a summary
  line with the totals, and the score line; never every hit's.

A structure's alert speaks for its legs (`on_structure(..., legs=...)`): the legs' packet hits are folded into it
(cited, counted, one line per leg saying what fired on it alone) instead of raising packet alerts of their own, so
a spread never reads as a bullish leg and a bearish leg. Its direction is the structure classifiers' read; only
when no structure classifier fired do the legs' hits decide it, and then only if they agree (else neutral).
The options engine holds a packet's alert while the structure detector may still pair the packet.

Presentation filters live in `events.views` (re-exported here): they decide what a view shows, never what is
computed or stored.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Alert, ClassifierHit, Direction, Packet, Severity, Side, Structure, SubjectType
from events.units import format_price, format_usd
from events.views import FILTER_NAMES, FilterName, FilterProfile, etf_symbols, filter_profile, placement_class, visible

SCORE_WEIGHTS = {"premium": 45, "confidence": 40, "hits": 15}
SCORE_FORMULA = (
    "score = 45 x clamp(log10(premium_usd / 1,000) / 3, 0, 1) + 40 x best confidence + 15 x min(hit count, 3) / 3"
)


def score(premium_cents: int, best_confidence: float, hit_count: int) -> int:
    """Return the 0-100 alert score ($1k premium scores 0 on premium, $1M and above full)."""
    usd = max(premium_cents / 100, 1.0)
    premium_part = min(1.0, max(0.0, math.log10(usd / 1_000) / 3))
    raw = (
        SCORE_WEIGHTS["premium"] * premium_part
        + SCORE_WEIGHTS["confidence"] * best_confidence
        + SCORE_WEIGHTS["hits"] * min(hit_count, 3) / 3
    )
    return max(0, min(100, round(raw)))


def severity(value: int) -> Severity:
    """Return the severity band of a score: low < 45 <= medium < 80 <= high."""
    if value < 45:
        return "low"
    if value < 80:
        return "medium"
    return "high"


def _direction(hits: Sequence[ClassifierHit]) -> tuple[Direction, float]:
    best = max(hits, key=lambda h: (h.confidence, h.classifier))
    return best.direction, best.confidence


@dataclass(frozen=True, slots=True)
class _Subject:
    """A packet or a structure, as raising or updating its alert reads it."""

    key: str
    """What alerts are kept under with the classifier: the contract, or the structure's legs' contracts."""
    id: str
    ts_event: int
    underlying: str
    symbol: str
    subject_type: SubjectType
    kind: str
    side: Side
    premium_cents: int
    size_contracts: int
    print_count: int
    price_e9: int
    bid_e9: int | None
    ask_e9: int | None
    print_ids: tuple[str, ...]
    placement_sizes: dict[str, int]
    headline: Callable[[Direction, tuple[str, ...], int, int, int], str]
    """(direction, classifiers, contracts, premium, times traded) -> the headline."""
    repeats: Callable[[int], str]
    """Times traded -> how an update says it ("3 packets on SPY ...", "the same 2 legs traded 3 times")."""
    hits: tuple[ClassifierHit, ...]
    """The subject's own hits."""
    leg_hits: tuple[ClassifierHit, ...] = ()
    """A structure's: the hits of its legs' packets, folded into its alert."""
    leg_lines: tuple[str, ...] = ()
    """A structure's: one explanation per folded leg."""

    @property
    def all_hits(self) -> tuple[ClassifierHit, ...]:
        return (*self.hits, *self.leg_hits)

    def read(self) -> tuple[Direction, float]:
        """Return the subject's direction and best confidence: its own hits', else its legs' when they agree."""
        if self.hits:
            return _direction(self.hits)
        _, confidence = _direction(self.leg_hits)
        directions = {h.direction for h in self.leg_hits} - {"neutral"}
        return (directions.pop() if len(directions) == 1 else "neutral"), confidence


@dataclass(frozen=True, slots=True)
class _Cited:
    """A subject as an alert may cite it; ranked largest first (size in contracts descending, then id)."""

    rank: tuple[int, str]
    print_ids: tuple[str, ...]
    hit_ids: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.rank[1]


@dataclass(slots=True)
class _Open:
    """An open alert and what its next revision is built from."""

    alert: Alert
    first: _Cited
    opening: tuple[str, ...]
    """The opening subject's explanations (without the score line)."""
    largest: list[_Cited]
    """The largest absorbed subjects, by rank, only as many as citing them needs."""
    joined: tuple[str, ...] = field(default=())
    """One line per classifier that joined after the raise."""


class AlertBook:
    """Open alerts per (contract, classifier), to update within the cooldown instead of raising anew."""

    __slots__ = ("_config", "_expire_after_ns", "_max_evidence", "_max_subjects", "_next_sweep_ns", "_open")

    def __init__(self, config: OptionsConfig) -> None:
        self._config = config
        self._open: dict[tuple[str, str], _Open] = {}
        # Swept for alerts past their horizon once per cooldown of event time: the book holds what was raised
        # within about two cooldowns (plus the slack), however busy or long the session.
        self._next_sweep_ns = -1
        self._max_evidence = config.alert_max_evidence_ids
        self._max_subjects = config.alert_max_subject_ids
        # Subjects reach the book a little out of time order across contracts (the engine holds a packet's alert
        # while a structure may still claim it): keep an alert past its cooldown by that much before dropping it.
        slack = config.structure_window_ns + 2 * config.packet_window_ns + config.packet_gap_ns
        self._expire_after_ns = config.alert_cooldown_ns + slack + config.watermark_lag_ns

    def __len__(self) -> int:
        """Return the number of open alerts held (each until its cooldown has passed)."""
        return len(self._open)

    def on_packet(self, packet: Packet, hits: Sequence[ClassifierHit]) -> Alert | None:
        """Return the new or updated alert for a packet's hits, or None without hits."""
        if not hits:
            return None
        symbol = packet.symbol
        subject = _Subject(
            key=symbol,
            id=packet.id,
            ts_event=packet.ts_event,
            underlying=packet.underlying,
            symbol=symbol,
            subject_type="packet",
            kind=packet.kind,
            side=packet.side,
            premium_cents=packet.premium_cents,
            size_contracts=packet.size_contracts,
            print_count=packet.print_count,
            price_e9=packet.vwap_e9,
            bid_e9=packet.bid_e9,
            ask_e9=packet.ask_e9,
            print_ids=packet.print_ids,
            placement_sizes=packet.placement_sizes,
            headline=partial(_headline, packet),
            repeats=lambda times: f"{times} packets on {symbol.strip()}",
            hits=tuple(hits),
        )
        return self._on_subject(subject)

    def on_structure(
        self,
        structure: Structure,
        hits: Sequence[ClassifierHit],
        legs: Sequence[tuple[Packet, Sequence[ClassifierHit]]] = (),
    ) -> Alert | None:
        """Return the new or updated alert for a structure's hits and its legs' folded hits, or None without any.

        `legs` are the structure's leg packets that fired, with their hits: the alert speaks for them (cites
        and counts their hits, says what fired on each leg alone), so they raise no packet alerts of their own.
        A structure's alert is keyed by its legs' contracts: the same legs traded again within the cooldown
        (a spread worked in pieces) update it; another structure on the underlying raises its own.
        """
        order = {pid: i for i, pid in enumerate(structure.leg_ids)}
        legs = sorted(legs, key=lambda leg: order.get(leg[0].id, len(order)))  # leg order, as the structure reads
        leg_hits = tuple(h for _, found in legs for h in found)
        if not hits and not leg_hits:
            return None
        count = structure.leg_count
        subject = _Subject(
            key="|".join(leg.symbol for leg in structure.legs),
            id=structure.id,
            ts_event=structure.ts_event,
            underlying=structure.underlying,
            symbol=structure.underlying,
            subject_type="structure",
            kind=structure.structure_type,
            side=_structure_side(structure),
            premium_cents=structure.gross_premium_cents,
            size_contracts=structure.size_contracts,
            print_count=len(structure.print_ids),
            price_e9=structure.legs[0].vwap_e9,
            bid_e9=None,
            ask_e9=None,
            print_ids=structure.print_ids,
            placement_sizes={},
            headline=partial(_structure_headline, structure),
            repeats=lambda times: f"the same {count} legs traded {times} times",
            hits=tuple(hits),
            leg_hits=leg_hits,
            leg_lines=tuple(_leg_line(packet, found) for packet, found in legs if found),
        )
        return self._on_subject(subject)

    def _on_subject(self, subject: _Subject) -> Alert:
        cooldown = self._config.alert_cooldown_ns
        classifiers = tuple(dict.fromkeys(h.classifier for h in subject.all_hits))
        previous: _Open | None = None
        for classifier in classifiers:
            candidate = self._open.get((subject.key, classifier))
            if candidate is not None and subject.ts_event - candidate.alert.ts_first <= cooldown:
                previous = candidate
                break
        record = self._raise(subject, classifiers) if previous is None else self._update(previous, subject)
        for classifier in record.alert.classifiers:
            self._open[(subject.key, classifier)] = record
        if subject.ts_event >= self._next_sweep_ns:
            self._expire(subject.ts_event)
            self._next_sweep_ns = subject.ts_event + max(cooldown, 1)
        return record.alert

    def _cite(self, subject: _Subject) -> _Cited:
        return _Cited((-subject.size_contracts, subject.id), subject.print_ids, tuple(h.id for h in subject.all_hits))

    def _citations(self, first: _Cited, largest: list[_Cited]) -> dict[str, tuple[str, ...]]:
        limit = self._max_subjects
        others = [c for c in largest if c.id != first.id]
        return {
            "evidence_ids": tuple(islice((i for c in largest for i in c.print_ids), self._max_evidence)),
            "subject_ids": (first.id, *(c.id for c in others))[:limit],
            "hit_ids": (*first.hit_ids, *(h for c in others for h in c.hit_ids))[:limit],
        }

    def _trim(self, largest: list[_Cited]) -> list[_Cited]:
        """Keep the largest subjects that citing needs: `alert_max_subject_ids` of them, and enough for the prints."""
        kept: list[_Cited] = []
        prints = 0
        for cited in largest:
            if len(kept) >= self._max_subjects and prints >= self._max_evidence:
                break
            kept.append(cited)
            prints += len(cited.print_ids)
        return kept

    def _raise(self, subject: _Subject, classifiers: tuple[str, ...]) -> _Open:
        direction, confidence = subject.read()
        premium = subject.premium_cents
        value = score(premium, confidence, len(classifiers))
        first = self._cite(subject)
        # Hits of one subject share lines (the placement and quote context): say each once.
        opening = tuple(dict.fromkeys((*(e for h in subject.hits for e in h.explanations), *subject.leg_lines)))
        alert = Alert(
            id=derived_event_id("alert", (subject.id,)),
            ts_event=subject.ts_event,
            ts_first=subject.ts_event,
            underlying=subject.underlying,
            symbol=subject.symbol,
            subject_type=subject.subject_type,
            subject_id=subject.id,
            kind=subject.kind,
            side=subject.side,
            direction=direction,
            classifiers=classifiers,
            score=value,
            severity=severity(value),
            confidence=confidence,
            premium_cents=premium,
            size_contracts=subject.size_contracts,
            subject_count=1,
            print_count=subject.print_count,
            hit_count=len(subject.all_hits),
            price_e9=subject.price_e9,
            bid_e9=subject.bid_e9,
            ask_e9=subject.ask_e9,
            headline=subject.headline(direction, classifiers, subject.size_contracts, premium, 1),
            explanations=(*opening, f"Score {value}: {SCORE_FORMULA}."),
            placement_sizes=dict(subject.placement_sizes),
            **self._citations(first, [first]),
        )
        return _Open(alert=alert, first=first, opening=opening, largest=[first])

    def _update(self, record: _Open, subject: _Subject) -> _Open:
        previous = record.alert
        read, confidence = subject.read()
        direction = read if read == previous.direction else "neutral"
        confidence = max(confidence, previous.confidence)
        premium = previous.premium_cents + subject.premium_cents
        size = previous.size_contracts + subject.size_contracts
        hits = subject.all_hits
        classifiers = tuple(dict.fromkeys((*previous.classifiers, *(h.classifier for h in hits))))
        joined = [
            _joined_line(next(h for h in hits if h.classifier == c)) for c in classifiers[len(previous.classifiers) :]
        ]
        record.joined = (*record.joined, *joined)
        cited = self._cite(subject)
        bisect.insort(record.largest, cited, key=lambda c: c.rank)
        record.largest = self._trim(record.largest)
        value = score(premium, confidence, len(classifiers))
        revision = previous.revision + 1
        subjects = previous.subject_count + 1
        prints = previous.print_count + subject.print_count
        hit_count = previous.hit_count + len(hits)
        citations = self._citations(record.first, record.largest)
        cited_prints = len(citations["evidence_ids"])
        evidence = (
            f"; evidence cites {cited_prints:,} of the {prints:,} prints, from the largest"
            if cited_prints < prints
            else ""
        )
        summary = (
            f"Updated alert: {subject.repeats(subjects)} within {self._config.alert_cooldown_ms:,} ms of the first "
            f"raise, {format_usd(premium)} in all ({size:,} contracts, {prints:,} prints, {hit_count:,} hits)"
            f"{evidence}."
        )
        record.alert = previous.model_copy(
            update={
                "revision": revision,
                # Never before an earlier revision: structures are decided in anchor order, and a later-decided
                # one may be stamped earlier than the one that opened the alert.
                "ts_event": max(previous.ts_event, subject.ts_event),
                "classifiers": classifiers,
                "direction": direction,
                "confidence": confidence,
                "score": value,
                "severity": severity(value),
                "premium_cents": premium,
                "size_contracts": size,
                "subject_count": subjects,
                "print_count": prints,
                "hit_count": hit_count,
                "headline": subject.headline(direction, classifiers, size, premium, subjects),
                "explanations": (*record.opening, *record.joined, summary, f"Score {value}: {SCORE_FORMULA}."),
                "placement_sizes": _merge_sizes(previous.placement_sizes, subject.placement_sizes),
                **citations,
            }
        )
        return record

    def _expire(self, now_ns: int) -> None:
        horizon = self._expire_after_ns
        stale = [k for k, r in self._open.items() if now_ns - r.alert.ts_first > horizon]
        for key in stale:
            del self._open[key]


def _joined_line(hit: ClassifierHit) -> str:
    said = f": {hit.explanations[0]}" if hit.explanations else "."
    return f"Also {hit.classifier} ({hit.direction}, confidence {hit.confidence:.2f}){said}"


def _leg_line(packet: Packet, hits: Sequence[ClassifierHit]) -> str:
    verb = {"buy": "bought", "sell": "sold", "unknown": "side unknown,"}[packet.side]
    reads = ", ".join(f"{h.classifier} ({h.direction}, {h.confidence:.2f})" for h in hits)
    return (
        f"Leg {packet.expiry:%m/%d} {format_price(packet.strike_e9)}{packet.right} {verb} {packet.size_contracts:,} "
        f"({format_usd(packet.premium_cents)}): {reads} on the leg alone; folded into this alert, which reads the "
        "structure."
    )


def _headline(
    packet: Packet,
    direction: Direction,
    classifiers: tuple[str, ...],
    size_contracts: int,
    premium_cents: int,
    packets: int = 1,
) -> str:
    times = f" x{packets}" if packets > 1 else ""
    return (
        f"{direction.upper()} {packet.underlying} {packet.expiry:%m/%d} {format_price(packet.strike_e9)}"
        f"{packet.right} {packet.kind}{times}: {size_contracts:,} @ {format_price(packet.vwap_e9, 4)} "
        f"({format_usd(premium_cents)}) [{'/'.join(classifiers)}]"
    )


def _structure_side(structure: Structure) -> Side:
    sides = {leg.side for leg in structure.legs}
    return sides.pop() if len(sides) == 1 else "unknown"


def _structure_headline(
    structure: Structure,
    direction: Direction,
    classifiers: tuple[str, ...],
    size_contracts: int,
    premium_cents: int,
    times: int = 1,
) -> str:
    legs = " / ".join(
        f"{leg.side} {leg.expiry:%m/%d} {format_price(leg.strike_e9)}{leg.right} x{leg.size_contracts:,}"
        for leg in structure.legs
    )
    repeated = f" x{times}" if times > 1 else ""
    return (
        f"{direction.upper()} {structure.underlying} {structure.structure_type}{repeated}: {legs} "
        f"({size_contracts:,} contracts, {format_usd(premium_cents)} gross, {structure.net_premium}) "
        f"[{'/'.join(classifiers)}]"
    )


def _merge_sizes(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    merged = dict(a)
    for placement, size in b.items():
        merged[placement] = merged.get(placement, 0) + size
    return merged


__all__ = [
    "FILTER_NAMES",
    "SCORE_FORMULA",
    "AlertBook",
    "FilterName",
    "FilterProfile",
    "etf_symbols",
    "filter_profile",
    "placement_class",
    "score",
    "severity",
    "visible",
]

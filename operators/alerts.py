"""Alerts (BEHAVIOR section 6): one per packet or structure with at least one hit, scored 0-100, deduplicated.

The same contract (for a structure: the same set of leg contracts) and classifier within `alert_cooldown_ms`
update the open alert (same id, next revision) instead of raising a new one. Presentation filters live in
`events.views` (re-exported here): they decide what a view shows, never what is computed or stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

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


def _direction(hits: list[ClassifierHit]) -> tuple[Direction, float]:
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
    price_e9: int
    bid_e9: int | None
    ask_e9: int | None
    print_ids: tuple[str, ...]
    placement_sizes: dict[str, int]
    headline: Callable[[Direction, tuple[str, ...], int, int, int], str]
    """(direction, classifiers, contracts, premium, times traded) -> the headline."""
    repeats: Callable[[int], str]
    """Times traded -> how an update says it ("3 packets on SPY ...", "the same 2 legs traded 3 times")."""


class AlertBook:
    """Open alerts per (contract, classifier), to update within the cooldown instead of raising anew."""

    __slots__ = ("_config", "_open", "_seen")

    def __init__(self, config: OptionsConfig) -> None:
        self._config = config
        self._open: dict[tuple[str, str], Alert] = {}
        self._seen = 0

    def on_packet(self, packet: Packet, hits: list[ClassifierHit]) -> Alert | None:
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
            price_e9=packet.vwap_e9,
            bid_e9=packet.bid_e9,
            ask_e9=packet.ask_e9,
            print_ids=packet.print_ids,
            placement_sizes=packet.placement_sizes,
            headline=partial(_headline, packet),
            repeats=lambda times: f"{times} packets on {symbol.strip()}",
        )
        return self._on_subject(subject, hits)

    def on_structure(self, structure: Structure, hits: list[ClassifierHit]) -> Alert | None:
        """Return the new or updated alert for a structure's hits, or None without hits.

        A structure's alert is keyed by its legs' contracts: the same legs traded again within the cooldown
        (a spread worked in pieces) update it; another structure on the underlying raises its own.
        """
        if not hits:
            return None
        legs = structure.leg_count
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
            price_e9=structure.legs[0].vwap_e9,
            bid_e9=None,
            ask_e9=None,
            print_ids=structure.print_ids,
            placement_sizes={},
            headline=partial(_structure_headline, structure),
            repeats=lambda times: f"the same {legs} legs traded {times} times",
        )
        return self._on_subject(subject, hits)

    def _on_subject(self, subject: _Subject, hits: list[ClassifierHit]) -> Alert:
        cooldown = self._config.alert_cooldown_ns
        previous: Alert | None = None
        for hit in hits:
            candidate = self._open.get((subject.key, hit.classifier))
            if candidate is not None and subject.ts_event - candidate.ts_event <= cooldown:
                previous = candidate
                break
        alert = self._raise(subject, hits) if previous is None else self._update(previous, subject, hits)
        for classifier in alert.classifiers:
            self._open[(subject.key, classifier)] = alert
        self._seen += 1
        if self._seen % 1024 == 0:
            self._expire(subject.ts_event)
        return alert

    def _raise(self, subject: _Subject, hits: list[ClassifierHit]) -> Alert:
        direction, confidence = _direction(hits)
        premium = subject.premium_cents
        value = score(premium, confidence, len(hits))
        classifiers = tuple(h.classifier for h in hits)
        return Alert(
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
            price_e9=subject.price_e9,
            bid_e9=subject.bid_e9,
            ask_e9=subject.ask_e9,
            headline=subject.headline(direction, classifiers, subject.size_contracts, premium, 1),
            explanations=(*(e for h in hits for e in h.explanations), f"Score {value}: {SCORE_FORMULA}."),
            hit_ids=tuple(h.id for h in hits),
            evidence_ids=subject.print_ids,
            subject_ids=(subject.id,),
            placement_sizes=dict(subject.placement_sizes),
        )

    def _update(self, previous: Alert, subject: _Subject, hits: list[ClassifierHit]) -> Alert:
        direction, confidence = _direction(hits)
        confidence = max(confidence, previous.confidence)
        premium = previous.premium_cents + subject.premium_cents
        size = previous.size_contracts + subject.size_contracts
        classifiers = tuple(dict.fromkeys((*previous.classifiers, *(h.classifier for h in hits))))
        value = score(premium, confidence, len(classifiers))
        revision = previous.revision + 1
        return previous.model_copy(
            update={
                "revision": revision,
                "ts_event": subject.ts_event,
                "classifiers": classifiers,
                "direction": direction if direction == previous.direction else "neutral",
                "confidence": confidence,
                "score": value,
                "severity": severity(value),
                "premium_cents": premium,
                "size_contracts": size,
                "headline": subject.headline(direction, classifiers, size, premium, revision + 1),
                "explanations": (
                    *(e for h in hits for e in h.explanations),
                    f"Updated alert: {subject.repeats(revision + 1)} within "
                    f"{self._config.alert_cooldown_ms:,} ms, {format_usd(premium)} in all.",
                    f"Score {value}: {SCORE_FORMULA}.",
                ),
                "hit_ids": (*previous.hit_ids, *(h.id for h in hits)),
                "evidence_ids": (*previous.evidence_ids, *subject.print_ids),
                "subject_ids": (*previous.subject_ids, subject.id),
                "placement_sizes": _merge_sizes(previous.placement_sizes, subject.placement_sizes),
            }
        )

    def _expire(self, now_ns: int) -> None:
        cooldown = self._config.alert_cooldown_ns
        stale = [k for k, a in self._open.items() if now_ns - a.ts_event > cooldown]
        for key in stale:
            del self._open[key]


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

"""Derived options flow: packets, classifier hits, alerts, structures and flow context (topics `flow.*`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, Strict

from events.models.base import Contract, Event, FieldCheck, OptionContract
from events.models.fields import (
    LEGS_MAX,
    AgeMs,
    Cents,
    Count,
    Direction,
    DurationNs,
    EventId,
    Expiry,
    Flag,
    Ids,
    Metrics,
    Name,
    NetPremium,
    PacketKind,
    PlacementMap,
    Positive,
    PositiveDurationNs,
    PriceE9,
    PricePath,
    QuoteE9,
    QuoteSize,
    Ratio,
    Severity,
    Side,
    SignedCents,
    Stat,
    StructureType,
    SubjectType,
    Symbol,
    Tags,
    Text,
    Texts,
    TsNs,
    UnderlyingSource,
)
from events.symbology import Right, parse_occ


def check_leg(values: Mapping[str, Any]) -> None:
    """Raise ValueError unless a leg's OSI symbol agrees with its expiry, right and strike."""
    occ = parse_occ(values["symbol"])
    if (occ.expiry, occ.right, occ.strike_e9) != (values["expiry"], values["right"], values["strike_e9"]):
        raise ValueError(f"leg symbol {values['symbol']!r} disagrees with expiry/right/strike")


def check_structure(values: Mapping[str, Any]) -> None:
    """Raise ValueError unless leg_count, leg_ids and net_premium describe the legs and net premium."""
    legs, leg_ids = values["legs"], values["leg_ids"]
    if values["leg_count"] != len(legs) or leg_ids != tuple(leg.packet_id for leg in legs):
        raise ValueError("leg_count and leg_ids must describe legs")
    if len(set(leg_ids)) != len(leg_ids):
        raise ValueError("a packet is at most one leg")
    net = values["net_premium_cents"]
    expected: NetPremium = "unknown" if net is None else "debit" if net > 0 else "credit" if net < 0 else "even"
    if values["net_premium"] != expected:
        raise ValueError(f"net_premium {values['net_premium']!r} disagrees with net_premium_cents {net}")


def check_flow_context(values: Mapping[str, Any]) -> None:
    """Raise ValueError unless net premium is buy premium minus sell premium."""
    if values["net_premium_cents"] != values["buy_premium_cents"] - values["sell_premium_cents"]:
        raise ValueError("net_premium_cents must be buy_premium_cents - sell_premium_cents")


class Packet(OptionContract):
    """A cluster of prints on one contract (BEHAVIOR section 3); `ts_event` is its last print's."""

    event_type: Literal["packet"] = "packet"
    multiplier: Positive = 100
    kind: PacketKind
    side: Side
    ts_first: TsNs
    ts_last: TsNs
    span_ns: DurationNs
    print_count: Positive
    venue_count: Positive
    venues: Tags
    size_contracts: Positive
    premium_cents: Cents
    vwap_e9: PriceE9
    first_price_e9: PriceE9
    last_price_e9: PriceE9
    min_price_e9: PriceE9
    max_price_e9: PriceE9
    price_path: PricePath
    placement_counts: PlacementMap = Field(description="prints per placement (AA, A, MID, B, BB, ...)")
    placement_sizes: PlacementMap = Field(description="contracts per placement")
    buy_size_contracts: Count
    sell_size_contracts: Count
    nbbo_coverage: Ratio = Field(description="share of size with a fresh, uncrossed NBBO")
    stale_ratio: Ratio = Field(description="share of size whose NBBO was older than nbbo_max_age_ms")
    bid_e9: QuoteE9 | None = Field(default=None, description="NBBO bid at the first print")
    ask_e9: QuoteE9 | None = None
    bid_size_contracts: QuoteSize | None = None
    ask_size_contracts: QuoteSize | None = None
    touch_size_ratio: Stat | None = Field(
        default=None, description="contracts taken at or through the touch / contracts displayed there"
    )
    conditions: Tags = ()
    complex_prints: Count = Field(default=0, description="multi-leg, stock-tied, cross or floor prints")
    tick_test_prints: Count = Field(default=0, description="prints placed by the tick test (locked market)")
    late_prints: Count = Field(default=0, description="prints that arrived behind the watermark")
    underlying_e9: PriceE9 | None = Field(
        default=None,
        description="underlying price as of the print that opened the packet (see underlying_source); None: unknown",
    )
    underlying_source: UnderlyingSource | None = Field(
        default=None,
        description="quote: the underlying's quote mid (or the provider's price on the print); implied: put-call"
        " parity on the nearest expiry; None: neither was available",
    )
    underlying_age_ms: AgeMs | None = Field(
        default=None, description="age of the oldest quote behind underlying_e9 at the opening print"
    )
    underlying_strike_e9: PriceE9 | None = Field(
        default=None, description="implied: the strike whose call and put gave underlying_e9 by put-call parity"
    )
    print_ids: Ids


class ClassifierHit(Event):
    """One classifier firing on a packet or structure, with the numbers and the rule behind it."""

    event_type: Literal["classifier_hit"] = "classifier_hit"
    underlying: Symbol
    symbol: Symbol = Field(description="contract symbol, or the underlying for structures")
    subject_type: SubjectType
    subject_id: EventId
    classifier: Name
    direction: Direction
    confidence: Ratio
    rule: Text = Field(description="the rule that fired, with its thresholds")
    metrics: Metrics = Field(description="the measured numbers the rule read")
    explanations: Texts
    evidence_ids: Ids = Field(description="ids of the prints behind the hit")
    premium_cents: Cents
    size_contracts: Count

    @property
    def key(self) -> str:
        return self.underlying


MAX_ALERT_IDS = 1_000
"""The most ids an alert may cite in one list (the settings `alert_max_*_ids` are at most this)."""


class Alert(Event):
    """One alert per packet or structure with at least one hit; updates reuse the id with a higher revision.

    Bounded: however many subjects it absorbs, it keeps totals and counts of all of them and cites a bounded
    number of ids (the first subject, then the largest). A structure's alert also speaks for its legs: their
    packets' hits are folded into it instead of raising leg alerts of their own.
    """

    event_type: Literal["alert"] = "alert"
    revision: Count = Field(default=0, description="0 when raised, +1 per update within the cooldown")
    ts_first: TsNs = Field(description="ts_event when the alert was first raised (the cooldown runs from it)")
    underlying: Symbol
    symbol: Symbol
    subject_type: SubjectType
    subject_id: EventId
    kind: Name
    side: Side
    direction: Direction
    classifiers: Tags
    score: Annotated[int, Strict(), Field(ge=0, le=100)]
    severity: Severity
    confidence: Ratio
    premium_cents: Cents = Field(description="premium of every absorbed subject (a structure's gross premium)")
    size_contracts: Count = Field(description="contracts of every absorbed subject")
    subject_count: Positive = Field(description="packets or structures absorbed (1 when raised)")
    print_count: Positive = Field(description="prints of every absorbed subject")
    hit_count: Positive = Field(description="classifier hits absorbed, a structure's folded leg hits included")
    price_e9: PriceE9 = Field(description="VWAP of the subject")
    bid_e9: QuoteE9 | None = Field(default=None, description="NBBO bid cited (at the first print)")
    ask_e9: QuoteE9 | None = None
    headline: Text
    explanations: Texts
    hit_ids: tuple[EventId, ...] = Field(
        max_length=MAX_ALERT_IDS,
        description="the first subject's hits (a structure's with its legs'), then the largest subjects' "
        "(at most alert_max_subject_ids)",
    )
    evidence_ids: tuple[EventId, ...] = Field(
        max_length=MAX_ALERT_IDS,
        description="print ids of the largest subjects, largest first (at most alert_max_evidence_ids)",
    )
    subject_ids: tuple[EventId, ...] = Field(
        max_length=MAX_ALERT_IDS,
        description="the first subject, then the largest absorbed (at most alert_max_subject_ids)",
    )
    placement_sizes: PlacementMap = Field(
        default_factory=dict,
        description="contracts per placement (AA, A, MID, B, BB, MISSING, STALE, CROSSED) over every merged subject",
    )

    @property
    def key(self) -> str:
        return self.underlying


class StructureLeg(Contract):
    """One leg of a structure: the packet it is, with the figures the structure rules read."""

    packet_id: EventId
    symbol: Symbol
    expiry: Expiry
    right: Right
    strike_e9: PriceE9
    side: Side
    kind: PacketKind
    size_contracts: Positive
    premium_cents: Cents
    vwap_e9: PriceE9
    nbbo_coverage: Ratio = Field(description="share of the leg's size with a fresh, uncrossed NBBO")
    ts_first: TsNs
    ts_last: TsNs

    field_checks: ClassVar[tuple[FieldCheck, ...]] = (check_leg,)


class Structure(Event):
    """Packets on one underlying traded together as one multi-leg position (BEHAVIOR section 5).

    `ts_event` is its last leg's. Legs are ordered by expiry, strike, right (C before P), packet id.
    """

    event_type: Literal["structure"] = "structure"
    underlying: Symbol
    structure_type: StructureType
    flagged: Flag = Field(description="every leg carried a multi-leg condition flag (the venue said so)")
    rule: Text = Field(description="the rule that matched, with its numbers")
    metrics: Metrics = Field(description="the measured numbers the rule read")
    ts_first: TsNs
    ts_last: TsNs
    leg_count: Annotated[int, Strict(), Field(ge=2, le=LEGS_MAX)]
    legs: Annotated[tuple[StructureLeg, ...], Field(max_length=LEGS_MAX)]
    leg_ids: Annotated[tuple[EventId, ...], Field(max_length=LEGS_MAX)] = Field(
        description="the legs' packet ids, in leg order"
    )
    size_contracts: Positive = Field(description="contracts over every leg")
    gross_premium_cents: Cents = Field(description="premium over every leg, whatever its side")
    net_premium_cents: SignedCents | None = Field(
        description="bought legs' premium minus sold legs' (> 0 debit paid, < 0 credit received); "
        "None when a leg's side is unknown"
    )
    net_premium: NetPremium
    print_ids: Ids = Field(description="every leg's print ids, in leg order")

    field_checks: ClassVar[tuple[FieldCheck, ...]] = (check_structure,)

    @property
    def key(self) -> str:
        return self.underlying


class FlowContext(Event):
    """One underlying's options flow over one sliding window ending at `ts_event` (BEHAVIOR section 7).

    Sums cover packets with `ts_event` in (ts_event - window_ns, ts_event]. Premiums in cents, sizes in
    contracts; the scores' formulas are stated in the event itself.
    """

    event_type: Literal["flow_context"] = "flow_context"
    underlying: Symbol
    window_label: Name = Field(description="window label (1m, 5m, 1h, 4h, 1d)")
    window_ns: PositiveDurationNs
    packet_count: Count
    call_volume_contracts: Count
    put_volume_contracts: Count
    call_premium_cents: Cents
    put_premium_cents: Cents
    put_call_volume_ratio: Stat | None = Field(description="put / call contracts; None without call volume")
    put_call_premium_ratio: Stat | None = Field(description="put / call premium; None without call premium")
    buy_premium_cents: Cents = Field(description="premium of buyer-initiated packets")
    sell_premium_cents: Cents = Field(description="premium of seller-initiated packets")
    net_premium_cents: SignedCents = Field(
        description="buyer-initiated minus seller-initiated premium (unknown side ignored)"
    )
    bullish_premium_cents: Cents = Field(description="calls bought and puts sold (complex prints excluded)")
    bearish_premium_cents: Cents = Field(description="puts bought and calls sold (complex prints excluded)")
    complex_premium_cents: Cents = Field(description="premium of packets with multi-leg/complex prints")
    sweep_count: Count
    block_count: Count
    at_touch_contracts: Count = Field(description="contracts placed at or through the touch (AA, A, B, BB)")
    quoted_contracts: Count = Field(description="contracts with a fresh, uncrossed NBBO (AA, A, MID, B, BB)")
    sweep_contracts: Count
    large_premium_cents: Cents = Field(description="premium of blocks and packets at or above the large size")
    sentiment: Direction
    sentiment_strength: Ratio
    sentiment_formula: Text
    aggressiveness: Ratio
    aggressiveness_formula: Text
    institutional_score: Ratio
    institutional_formula: Text

    field_checks: ClassVar[tuple[FieldCheck, ...]] = (check_flow_context,)

    @property
    def key(self) -> str:
        return self.underlying

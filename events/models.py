"""One pydantic model per topic payload. Immutable, validated when built, JSON on the wire.

Every model carries `event_type` (a literal naming the payload, so any JSON line is self-describing),
`schema_version`, a deterministic `id` (see `events.ids`) and `ts_event` in integer nanoseconds.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, model_validator

from events.symbology import Right, parse_occ

SCHEMA_VERSION: Literal[1] = 1

# ------------------------------------------------------------------------------------------ bounds
# Every number a payload carries is bounded well inside what it is stored as (Int64, Float64), so a payload
# that validated can never overflow a flow's arithmetic or a sink's column. The bounds are generous for real
# markets; anything beyond them is a broken or hostile input, dead-lettered at the edge.

TS_MIN_NS = 946_684_800_000_000_000
"""Earliest timestamp accepted: 2000-01-01T00:00:00Z, in ns since the epoch."""
TS_MAX_NS = 4_102_444_800_000_000_000
"""First timestamp refused: 2100-01-01T00:00:00Z (timestamps are < this)."""
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)
"""Calendar dates (expiries, sessions) lie within the same years as timestamps."""
DURATION_MAX_NS = TS_MAX_NS - TS_MIN_NS
"""Longest duration or age a payload may state (the whole timestamp range)."""
PRICE_MAX_E9 = 10**16
"""Highest price, fixed-point 1e-9: $10,000,000 a share or contract."""
SIZE_MAX = 10**9
"""Largest size of one print or one quote side, in contracts or shares."""
MULTIPLIER_MAX = 10_000
"""Largest contract multiplier (shares per contract; 100 for standard equity options)."""
QUANTITY_MAX = 10**12
"""Largest count or size summed over many prints (derived events): contracts, shares, prints, packets."""
CENTS_MAX = 10**15
"""Largest money amount, in cents ($10 trillion), either sign."""
PRINT_NOTIONAL_MAX_CENTS = CENTS_MAX
"""Largest notional of one print (price x size x multiplier), so every print's premium is a storable amount
(without it, the price and size bounds alone would allow 1e22 cents)."""
SEQUENCE_MAX = 10**18
"""Largest provider sequence number or numeric instrument id (fits Int64)."""
STAT_MAX = 1e18
"""Largest magnitude of a float statistic; NaN and infinities are refused everywhere."""
ID_MAX_LENGTH = 64
SYMBOL_MAX_LENGTH = 32
LABEL_MAX_LENGTH = 64
"""Venues, providers, condition flags, classifier names, labels."""
TEXT_MAX_LENGTH = 4_096
"""Rules, headlines, explanations, formulas."""
TAGS_MAX = 64
"""Most items in a tuple of labels (conditions, venues, classifiers, excluded reasons)."""
TEXTS_MAX = 256
"""Most explanations on one event; most entries in one metrics dict."""
IDS_MAX = 100_000
"""Most ids one derived event cites (a packet's prints, a structure's prints)."""
LEGS_MAX = 64
"""Most legs of one structure."""
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""Every string: no C0 control characters (NUL, ESC, newline, ...), DEL or C1 controls."""


def _text(max_length: int, min_length: int = 0) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)


def exact_int(value: object) -> object:
    """Refuse booleans and floats where a literal integer is expected (pydantic's Literal takes True for 1)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"Input should be an integer, got {type(value).__name__}")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date_text(value: object) -> object:
    """Take a date, or its text exactly as YYYY-MM-DD (JSON); strict date validation does the rest."""
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise ValueError("Input should be a valid date in the format YYYY-MM-DD")
        return date.fromisoformat(value)
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(exact_int)]
TsNs = Annotated[int, Strict(), Field(ge=TS_MIN_NS, lt=TS_MAX_NS, description="nanoseconds since the UNIX epoch")]
Day = Annotated[date, BeforeValidator(date_text), Strict(), Field(ge=DATE_MIN, le=DATE_MAX)]
PriceE9 = Annotated[int, Strict(), Field(gt=0, le=PRICE_MAX_E9, description="price, fixed-point 1e-9")]
QuoteE9 = Annotated[
    int, Strict(), Field(ge=0, le=PRICE_MAX_E9, description="quote price, fixed-point 1e-9 (0 = no bid)")
]
Size = Annotated[int, Strict(), Field(gt=0, le=SIZE_MAX)]
"""Size of one print: contracts or shares."""
QuoteSize = Annotated[int, Strict(), Field(ge=0, le=SIZE_MAX)]
"""Size of one quote side (0: nothing displayed)."""
Multiplier = Annotated[int, Strict(), Field(gt=0, le=MULTIPLIER_MAX)]
Sequence = Annotated[int, Strict(), Field(ge=0, le=SEQUENCE_MAX)]
Count = Annotated[int, Strict(), Field(ge=0, le=QUANTITY_MAX)]
Positive = Annotated[int, Strict(), Field(gt=0, le=QUANTITY_MAX)]
Cents = Annotated[int, Strict(), Field(ge=0, le=CENTS_MAX)]
SignedCents = Annotated[int, Strict(), Field(ge=-CENTS_MAX, le=CENTS_MAX)]
DurationNs = Annotated[int, Strict(), Field(ge=0, le=DURATION_MAX_NS)]
SignedDurationNs = Annotated[int, Strict(), Field(ge=-DURATION_MAX_NS, le=DURATION_MAX_NS)]
Ratio = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Stat = Annotated[float, Strict(), Field(ge=-STAT_MAX, le=STAT_MAX, allow_inf_nan=False)]
"""A float statistic (z-score, ratio, measured number): finite and bounded."""
Volume = Annotated[float, Strict(), Field(ge=0.0, le=float(QUANTITY_MAX), allow_inf_nan=False)]
"""A mean volume: contracts or shares, finite, non-negative."""
EventId = Annotated[str, _text(ID_MAX_LENGTH, 1)]
Symbol = Annotated[str, _text(SYMBOL_MAX_LENGTH, 1)]
Label = Annotated[str, _text(LABEL_MAX_LENGTH)]
Name = Annotated[str, _text(LABEL_MAX_LENGTH, 1)]
"""A label that must not be empty (provider, classifier, ...)."""
Text = Annotated[str, _text(TEXT_MAX_LENGTH)]
Tags = Annotated[tuple[Label, ...], Field(max_length=TAGS_MAX)]
Texts = Annotated[tuple[Text, ...], Field(max_length=TEXTS_MAX)]
Ids = Annotated[tuple[EventId, ...], Field(max_length=IDS_MAX)]
Metrics = Annotated[dict[Name, Stat], Field(max_length=TEXTS_MAX)]
PlacementMap = Annotated[dict[Name, Count], Field(max_length=TAGS_MAX)]
Flag = Annotated[bool, Strict()]
PositiveDurationNs = Annotated[int, Strict(), Field(gt=0, le=DURATION_MAX_NS)]
AgeMs = Annotated[int, Strict(), Field(ge=0, le=DURATION_MAX_NS // 1_000_000)]
Rank = Annotated[int, Strict(), Field(ge=1, le=QUANTITY_MAX)]


def check_notional(price_e9: int, size: int, multiplier: int) -> None:
    """Raise ValueError if one print's notional (price x size x multiplier) exceeds PRINT_NOTIONAL_MAX_CENTS."""
    if price_e9 * size * multiplier > PRINT_NOTIONAL_MAX_CENTS * 10_000_000:
        raise ValueError(
            f"notional of price_e9 {price_e9} x size {size} x multiplier {multiplier} exceeds "
            f"{PRINT_NOTIONAL_MAX_CENTS} cents"
        )


Side = Literal["buy", "sell", "unknown"]
Placement = Literal["AA", "A", "MID", "B", "BB", "MISSING", "STALE", "CROSSED"]
PLACEMENTS: tuple[Placement, ...] = ("AA", "A", "MID", "B", "BB", "MISSING", "STALE", "CROSSED")
PacketKind = Literal["sweep", "split", "block", "single"]
PricePath = Literal["rising", "falling", "flat"]
Direction = Literal["bullish", "bearish", "neutral"]
Severity = Literal["low", "medium", "high"]
SubjectType = Literal["packet", "structure"]
StructureType = Literal["vertical", "straddle", "strangle", "ladder", "calendar", "diagonal", "roll", "multi_leg"]
NetPremium = Literal["debit", "credit", "even", "unknown"]
UnderlyingSource = Literal["quote", "implied"]
"""Where a packet's underlying price came from: the underlying's own quote, or put-call parity on its chain."""

CONSOLIDATED_VENUE = "NBBO"


class Event(BaseModel):
    """Base of every payload: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    event_type: str
    schema_version: SchemaVersion = SCHEMA_VERSION
    id: EventId
    ts_event: TsNs

    @property
    def key(self) -> str:
        """Return the partition key (the underlying symbol)."""
        raise NotImplementedError


class _OptionContract(Event):
    """Fields shared by events about one option contract; `symbol` must agree with the parsed fields."""

    symbol: Symbol = Field(description="OCC/OSI symbol, 21 characters, root space-padded")
    underlying: Symbol
    root: Symbol
    expiry: Day
    right: Right
    strike_e9: PriceE9

    @model_validator(mode="after")
    def _symbol_matches_fields(self) -> _OptionContract:
        occ = parse_occ(self.symbol)
        if (occ.root, occ.expiry, occ.right, occ.strike_e9) != (
            self.root,
            self.expiry,
            self.right,
            self.strike_e9,
        ):
            raise ValueError(
                f"symbol {self.symbol!r} disagrees with root/expiry/right/strike "
                f"({self.root}, {self.expiry}, {self.right}, {self.strike_e9})"
            )
        return self

    @property
    def key(self) -> str:
        return self.underlying


# ---------------------------------------------------------------------------------------------- raw


class OptionPrint(_OptionContract):
    """One option trade as reported by the tape."""

    event_type: Literal["option_print"] = "option_print"
    provider: Name
    ts_recv: TsNs | None = None
    sequence: Sequence = 0
    multiplier: Multiplier = Field(default=100, description="shares per contract (reference data, else 100)")
    venue: Label = Field(description="venue code (MIC-like)")
    venue_id: Label = Field(description="the provider's own venue identity (e.g. Databento publisher_id)")
    price_e9: PriceE9
    size_contracts: Size
    conditions: Tags = Field(default=(), description="canonical condition flags")
    raw_conditions: Label = ""
    nbbo_bid_e9: QuoteE9 | None = Field(
        default=None,
        description="quote bid at trade time, when the provider gives it: the NBBO (tcbbo), or for a venue-level"
        " schema (tbbo) the trading venue's own book just before the trade",
    )
    nbbo_ask_e9: QuoteE9 | None = None
    nbbo_bid_size_contracts: QuoteSize | None = None
    nbbo_ask_size_contracts: QuoteSize | None = None
    nbbo_ts: TsNs | None = Field(default=None, description="ts_event of the quote given with the trade")
    underlying_e9: PriceE9 | None = Field(default=None, description="underlying price at the print, when known")

    @model_validator(mode="after")
    def _notional_is_bounded(self) -> OptionPrint:
        check_notional(self.price_e9, self.size_contracts, self.multiplier)
        return self


class OptionNbbo(Event):
    """A top-of-book quote for one option contract: consolidated (venue `NBBO`) or one venue's book."""

    event_type: Literal["option_nbbo"] = "option_nbbo"
    provider: Name
    ts_recv: TsNs | None = None
    sequence: Sequence = 0
    symbol: Symbol
    underlying: Symbol
    venue: Label = CONSOLIDATED_VENUE
    bid_e9: QuoteE9
    ask_e9: QuoteE9
    bid_size_contracts: QuoteSize
    ask_size_contracts: QuoteSize

    @property
    def key(self) -> str:
        return self.underlying


class EquityPrint(Event):
    """One equity trade, lit or off-exchange (reported to a FINRA TRF/ADF)."""

    event_type: Literal["equity_print"] = "equity_print"
    provider: Name
    ts_recv: TsNs | None = None
    sequence: Sequence = 0
    symbol: Symbol
    venue: Label
    venue_id: Label
    off_exchange: Flag = Field(description="reported to a FINRA facility (TRF/ADF)")
    price_e9: PriceE9
    size_shares: Size
    conditions: Tags = ()
    raw_conditions: Label = ""
    bid_e9: QuoteE9 | None = Field(
        default=None,
        description="bid at trade time, when given: the consolidated quote, or (a single venue's tbbo) that venue's",
    )
    ask_e9: QuoteE9 | None = None

    @model_validator(mode="after")
    def _notional_is_bounded(self) -> EquityPrint:
        check_notional(self.price_e9, self.size_shares, 1)
        return self

    @property
    def key(self) -> str:
        return self.symbol


class EquityQuote(Event):
    """A top-of-book equity quote (consolidated unless `venue` says otherwise)."""

    event_type: Literal["equity_quote"] = "equity_quote"
    provider: Name
    ts_recv: TsNs | None = None
    sequence: Sequence = 0
    symbol: Symbol
    venue: Label = CONSOLIDATED_VENUE
    bid_e9: QuoteE9
    ask_e9: QuoteE9
    bid_size_shares: QuoteSize
    ask_size_shares: QuoteSize

    @property
    def key(self) -> str:
        return self.symbol


class OptionDefinition(_OptionContract):
    """Reference data for one option contract."""

    event_type: Literal["option_definition"] = "option_definition"
    provider: Name
    ts_recv: TsNs | None = None
    multiplier: Multiplier = 100
    instrument_id: Sequence | None = Field(default=None, description="the provider's numeric instrument id")
    venue: Label = ""


class OpenInterest(Event):
    """Prior-day open interest for one option contract."""

    event_type: Literal["open_interest"] = "open_interest"
    provider: Name
    ts_recv: TsNs | None = None
    symbol: Symbol
    underlying: Symbol
    open_interest_contracts: Count
    ts_ref: TsNs | None = Field(default=None, description="the session the figure refers to, when given")
    venue: Label = ""

    @property
    def key(self) -> str:
        return self.underlying


BUCKET_MINUTES = 5
SESSION_BUCKETS = 78
"""5-minute buckets of the regular session, 09:30-16:00 America/New_York."""


class VolumeBaseline(Event):
    """Mean volume of one contract, underlying or stock over the last `sessions` sessions, per 5-minute bucket.

    Reference data made by the daily job (`flowtape baselines build`), cached in Redis and fed to the flows as
    events, so a replay sees the baselines it ran with. Scopes `contract` and `underlying` count option
    contracts (the options engine's `unusual_volume`); scope `equity` counts the stock's shares, its
    `day_volume_mean` being the average daily volume that scales dark-inference confidence.
    """

    event_type: Literal["volume_baseline"] = "volume_baseline"
    scope: Literal["contract", "underlying", "equity"]
    subject: Symbol = Field(description="the contract's OSI symbol, or the underlying (scopes underlying, equity)")
    underlying: Symbol
    as_of: Day = Field(description="the last session included")
    sessions: Annotated[int, Strict(), Field(gt=0, le=100_000)] = Field(
        description="sessions in the window (sessions without prints count as 0)"
    )
    day_volume_mean: Volume = Field(description="mean contracts (scope equity: shares) per regular session")
    bucket_volume_mean: tuple[Volume, ...] = Field(
        min_length=SESSION_BUCKETS,
        max_length=SESSION_BUCKETS,
        description=f"mean volume per {BUCKET_MINUTES}-minute bucket from 09:30 New York, {SESSION_BUCKETS} values",
    )

    @property
    def key(self) -> str:
        return self.underlying


OptionRefdata = Annotated[OptionDefinition | OpenInterest | VolumeBaseline, Field(discriminator="event_type")]
RawEvent = OptionPrint | OptionNbbo | EquityPrint | EquityQuote | OptionDefinition | OpenInterest | VolumeBaseline


# ------------------------------------------------------------------------------------------ derived


class Packet(_OptionContract):
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


class StructureLeg(BaseModel):
    """One leg of a structure: the packet it is, with the figures the structure rules read."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    packet_id: EventId
    symbol: Symbol
    expiry: Day
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

    @model_validator(mode="after")
    def _symbol_matches_fields(self) -> StructureLeg:
        occ = parse_occ(self.symbol)
        if (occ.expiry, occ.right, occ.strike_e9) != (self.expiry, self.right, self.strike_e9):
            raise ValueError(f"leg symbol {self.symbol!r} disagrees with expiry/right/strike")
        return self


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

    @model_validator(mode="after")
    def _legs_agree(self) -> Structure:
        if self.leg_count != len(self.legs) or self.leg_ids != tuple(leg.packet_id for leg in self.legs):
            raise ValueError("leg_count and leg_ids must describe legs")
        if len(set(self.leg_ids)) != len(self.leg_ids):
            raise ValueError("a packet is at most one leg")
        net = self.net_premium_cents
        expected: NetPremium = "unknown" if net is None else "debit" if net > 0 else "credit" if net < 0 else "even"
        if self.net_premium != expected:
            raise ValueError(f"net_premium {self.net_premium!r} disagrees with net_premium_cents {net}")
        return self

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

    @model_validator(mode="after")
    def _net_is_buy_minus_sell(self) -> FlowContext:
        if self.net_premium_cents != self.buy_premium_cents - self.sell_premium_cents:
            raise ValueError("net_premium_cents must be buy_premium_cents - sell_premium_cents")
        return self

    @property
    def key(self) -> str:
        return self.underlying


DarkKind = Literal["absorbed_block", "stealth_accumulation", "distribution"]


class EquityTrade(Event):
    """One equity print joined as-of to the consolidated quote and classified for eligibility (BEHAVIOR 2, 8).

    Placement follows the options rule (section 2) against the consolidated quote in force at the print
    (never a later one). `side` is unknown for prints whose price was not set against that quote (average
    price, prior reference price, late, ...: see `excluded_reasons`). `ts_event` is the print's.
    """

    event_type: Literal["equity_trade"] = "equity_trade"
    print_id: EventId
    sequence: Sequence = Field(description="the print's sequence: orders prints with the same ts_event")
    symbol: Symbol
    underlying: Symbol
    venue: Label
    off_exchange: Flag = Field(description="reported to a FINRA facility (TRF/ADF)")
    price_e9: PriceE9
    size_shares: Positive
    notional_cents: Cents
    conditions: Tags = Field(description="canonical condition flags of the print")
    placement: Placement
    side: Side
    tick_test: Flag = Field(description="locked market: placed by the tick test against the previous print")
    bid_e9: QuoteE9 | None = Field(description="consolidated bid at the print (None without a quote)")
    ask_e9: QuoteE9 | None
    bid_size_shares: QuoteSize | None
    ask_size_shares: QuoteSize | None
    quote_age_ns: SignedDurationNs | None = Field(description="print time minus the quote's time; None without a quote")
    stale: Flag = Field(description="the quote was older than equity_quote_max_age_ms")
    round_lot_shares: Positive = Field(description="the round lot at the print's price and date")
    size_eligible: Flag = Field(description="counts for size rules (dark inference, dark levels)")
    last_sale_eligible: Flag = Field(description="may set a candle's open/high/low/close")
    excluded_reasons: Tags = Field(
        description="flags that took size or last-sale eligibility away (odd_lot also when the size says so)"
    )

    @property
    def key(self) -> str:
        return self.underlying


class DarkInference(Event):
    """An inference from off-exchange prints (BEHAVIOR section 8), with the rule, its numbers and the prints.

    `ts_event` is the last evidence print's. `evidence_ids` are the prints' ids, in time order.
    """

    event_type: Literal["dark_inference"] = "dark_inference"
    underlying: Symbol
    kind: DarkKind
    direction: Direction
    confidence: Ratio
    rule: Text = Field(description="the rule that fired, with its thresholds")
    metrics: Metrics = Field(description="the measured numbers the rule read")
    explanations: Texts
    evidence_ids: Ids = Field(description="ids of the prints behind the inference")
    ts_first: TsNs
    ts_last: TsNs
    print_count: Positive
    size_shares: Positive
    notional_cents: Cents
    vwap_e9: PriceE9
    adv_shares: Count | None = Field(description="the underlying's average daily volume used, when known")

    @property
    def key(self) -> str:
        return self.underlying


class DarkLevel(Event):
    """A price level where off-exchange volume concentrates during one session (BEHAVIOR section 8).

    One id per (underlying, session, level); each update raises `revision`. `rank` is the level's place by
    notional among the session's levels (1 = most), None once it fell out of the published top levels.
    """

    event_type: Literal["dark_level"] = "dark_level"
    revision: Count = Field(description="0 when first published, +1 per update")
    underlying: Symbol
    session_date: Day = Field(description="the New York calendar date of the prints")
    price_e9: PriceE9 = Field(description="the level: print prices rounded to dark_level_tick_cents")
    tick_cents: Positive
    size_shares: Positive = Field(description="off-exchange shares at the level this session")
    notional_cents: Cents
    print_count: Positive
    rank: Rank | None = Field(description="1 = largest notional; None when out of the top levels")
    session_notional_cents: Cents = Field(description="off-exchange notional over every level of the session")
    notional_share: Ratio = Field(description="notional_cents / session_notional_cents")
    ts_first: TsNs = Field(description="the first print at the level")
    ts_last: TsNs = Field(description="the last print at the level")

    @property
    def key(self) -> str:
        return self.underlying


class Candle(Event):
    """An event-time OHLCV window of one underlying's equity prints (BEHAVIOR section 9).

    Windows are [window_start_ns, window_end_ns), aligned to the interval from the epoch. `ts_event` is the
    window's last print. OHLC come from last-sale-eligible prints only (None without one); volume, notional
    and trade count from every print. `late_prints` counts prints of this interval that arrived after their
    own window had closed, since the previous candle of the interval was published.
    """

    event_type: Literal["candle"] = "candle"
    underlying: Symbol
    interval: Name = Field(description="interval label (1s, 5s, 1m, 5m, 15m)")
    window_start_ns: TsNs
    window_end_ns: TsNs
    open_e9: PriceE9 | None
    high_e9: PriceE9 | None
    low_e9: PriceE9 | None
    close_e9: PriceE9 | None
    volume_shares: Positive
    notional_cents: Cents
    trade_count: Positive
    last_sale_trades: Count = Field(description="prints that set open/high/low/close")
    off_exchange_volume_shares: Count
    off_exchange_trades: Count
    late_prints: Count = Field(description="prints that missed their closed window, since the previous candle")
    late_volume_shares: Count

    @property
    def key(self) -> str:
        return self.underlying


class DeadLetter(BaseModel):
    """A payload that failed validation, with the reason; published to `<topic>.dlq`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: Literal["dead_letter"] = "dead_letter"
    schema_version: Literal[1] = SCHEMA_VERSION
    topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    error: str = Field(description="error class: invalid_json, invalid_field, unknown_event_type, ...")
    field: str | None = Field(default=None, description="dotted path of the offending field, when known")
    reason: str
    payload: str = Field(description="the original payload (utf-8, or base64 prefixed with 'b64:')")


DerivedEvent = (
    Packet | ClassifierHit | Alert | Structure | FlowContext | EquityTrade | DarkInference | DarkLevel | Candle
)
AnyEvent = RawEvent | DerivedEvent

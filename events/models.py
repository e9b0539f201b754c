"""One pydantic model per topic payload. Immutable, validated when built, JSON on the wire.

Every model carries `event_type` (a literal naming the payload, so any JSON line is self-describing),
`schema_version`, a deterministic `id` (see `events.ids`) and `ts_event` in integer nanoseconds.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.symbology import Right, parse_occ

SCHEMA_VERSION: Literal[1] = 1

TsNs = Annotated[int, Field(gt=0, description="nanoseconds since the UNIX epoch")]
PriceE9 = Annotated[int, Field(gt=0, description="price, fixed-point 1e-9")]
QuoteE9 = Annotated[int, Field(ge=0, description="quote price, fixed-point 1e-9 (0 = no bid)")]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]
Ratio = Annotated[float, Field(ge=0.0, le=1.0)]
EventId = Annotated[str, Field(min_length=1, max_length=64)]
Symbol = Annotated[str, Field(min_length=1, max_length=32)]

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
    schema_version: Literal[1] = SCHEMA_VERSION
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
    expiry: date
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
    provider: str
    ts_recv: TsNs | None = None
    sequence: Count = 0
    multiplier: Positive = Field(default=100, description="shares per contract (reference data, else 100)")
    venue: str = Field(description="venue code (MIC-like)")
    venue_id: str = Field(description="the provider's own venue identity (e.g. Databento publisher_id)")
    price_e9: PriceE9
    size_contracts: Positive
    conditions: tuple[str, ...] = Field(default=(), description="canonical condition flags")
    raw_conditions: str = ""
    nbbo_bid_e9: int | None = Field(
        default=None,
        description="quote bid at trade time, when the provider gives it: the NBBO (tcbbo), or for a venue-level"
        " schema (tbbo) the trading venue's own book just before the trade",
    )
    nbbo_ask_e9: int | None = None
    nbbo_bid_size_contracts: int | None = None
    nbbo_ask_size_contracts: int | None = None
    nbbo_ts: int | None = Field(default=None, description="ts_event of the quote given with the trade")
    underlying_e9: int | None = Field(default=None, description="underlying price at the print, when known")


class OptionNbbo(Event):
    """A top-of-book quote for one option contract: consolidated (venue `NBBO`) or one venue's book."""

    event_type: Literal["option_nbbo"] = "option_nbbo"
    provider: str
    ts_recv: TsNs | None = None
    sequence: Count = 0
    symbol: Symbol
    underlying: Symbol
    venue: str = CONSOLIDATED_VENUE
    bid_e9: QuoteE9
    ask_e9: QuoteE9
    bid_size_contracts: Count
    ask_size_contracts: Count

    @property
    def key(self) -> str:
        return self.underlying


class EquityPrint(Event):
    """One equity trade, lit or off-exchange (reported to a FINRA TRF/ADF)."""

    event_type: Literal["equity_print"] = "equity_print"
    provider: str
    ts_recv: TsNs | None = None
    sequence: Count = 0
    symbol: Symbol
    venue: str
    venue_id: str
    off_exchange: bool = Field(description="reported to a FINRA facility (TRF/ADF)")
    price_e9: PriceE9
    size_shares: Positive
    conditions: tuple[str, ...] = ()
    raw_conditions: str = ""
    bid_e9: int | None = Field(
        default=None,
        description="bid at trade time, when given: the consolidated quote, or (a single venue's tbbo) that venue's",
    )
    ask_e9: int | None = None

    @property
    def key(self) -> str:
        return self.symbol


class EquityQuote(Event):
    """A top-of-book equity quote (consolidated unless `venue` says otherwise)."""

    event_type: Literal["equity_quote"] = "equity_quote"
    provider: str
    ts_recv: TsNs | None = None
    sequence: Count = 0
    symbol: Symbol
    venue: str = CONSOLIDATED_VENUE
    bid_e9: QuoteE9
    ask_e9: QuoteE9
    bid_size_shares: Count
    ask_size_shares: Count

    @property
    def key(self) -> str:
        return self.symbol


class OptionDefinition(_OptionContract):
    """Reference data for one option contract."""

    event_type: Literal["option_definition"] = "option_definition"
    provider: str
    ts_recv: TsNs | None = None
    multiplier: Positive = 100
    instrument_id: int | None = Field(default=None, description="the provider's numeric instrument id")
    venue: str = ""


class OpenInterest(Event):
    """Prior-day open interest for one option contract."""

    event_type: Literal["open_interest"] = "open_interest"
    provider: str
    ts_recv: TsNs | None = None
    symbol: Symbol
    underlying: Symbol
    open_interest_contracts: Count
    ts_ref: int | None = Field(default=None, description="the session the figure refers to, when given")
    venue: str = ""

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
    as_of: date = Field(description="the last session included")
    sessions: Positive = Field(description="sessions in the window (sessions without prints count as 0)")
    day_volume_mean: float = Field(ge=0, description="mean contracts (scope equity: shares) per regular session")
    bucket_volume_mean: tuple[float, ...] = Field(
        description=f"mean volume per {BUCKET_MINUTES}-minute bucket from 09:30 New York, {SESSION_BUCKETS} values"
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
    span_ns: Count
    print_count: Positive
    venue_count: Positive
    venues: tuple[str, ...]
    size_contracts: Positive
    premium_cents: Count
    vwap_e9: PriceE9
    first_price_e9: PriceE9
    last_price_e9: PriceE9
    min_price_e9: PriceE9
    max_price_e9: PriceE9
    price_path: PricePath
    placement_counts: dict[str, int] = Field(description="prints per placement (AA, A, MID, B, BB, ...)")
    placement_sizes: dict[str, int] = Field(description="contracts per placement")
    buy_size_contracts: Count
    sell_size_contracts: Count
    nbbo_coverage: Ratio = Field(description="share of size with a fresh, uncrossed NBBO")
    stale_ratio: Ratio = Field(description="share of size whose NBBO was older than nbbo_max_age_ms")
    bid_e9: int | None = Field(default=None, description="NBBO bid at the first print")
    ask_e9: int | None = None
    bid_size_contracts: int | None = None
    ask_size_contracts: int | None = None
    touch_size_ratio: float | None = Field(
        default=None, description="contracts taken at or through the touch / contracts displayed there"
    )
    conditions: tuple[str, ...] = ()
    complex_prints: Count = Field(default=0, description="multi-leg, stock-tied, cross or floor prints")
    tick_test_prints: Count = Field(default=0, description="prints placed by the tick test (locked market)")
    late_prints: Count = Field(default=0, description="prints that arrived behind the watermark")
    underlying_e9: int | None = Field(
        default=None,
        description="underlying price as of the print that opened the packet (see underlying_source); None: unknown",
    )
    underlying_source: UnderlyingSource | None = Field(
        default=None,
        description="quote: the underlying's quote mid (or the provider's price on the print); implied: put-call"
        " parity on the nearest expiry; None: neither was available",
    )
    underlying_age_ms: int | None = Field(
        default=None, ge=0, description="age of the oldest quote behind underlying_e9 at the opening print"
    )
    underlying_strike_e9: int | None = Field(
        default=None, description="implied: the strike whose call and put gave underlying_e9 by put-call parity"
    )
    print_ids: tuple[EventId, ...]


class ClassifierHit(Event):
    """One classifier firing on a packet or structure, with the numbers and the rule behind it."""

    event_type: Literal["classifier_hit"] = "classifier_hit"
    underlying: Symbol
    symbol: Symbol = Field(description="contract symbol, or the underlying for structures")
    subject_type: SubjectType
    subject_id: EventId
    classifier: str
    direction: Direction
    confidence: Ratio
    rule: str = Field(description="the rule that fired, with its thresholds")
    metrics: dict[str, float] = Field(description="the measured numbers the rule read")
    explanations: tuple[str, ...]
    evidence_ids: tuple[EventId, ...] = Field(description="ids of the prints behind the hit")
    premium_cents: Count
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
    kind: str
    side: Side
    direction: Direction
    classifiers: tuple[str, ...]
    score: Annotated[int, Field(ge=0, le=100)]
    severity: Severity
    confidence: Ratio
    premium_cents: Count = Field(description="premium of every absorbed subject (a structure's gross premium)")
    size_contracts: Count = Field(description="contracts of every absorbed subject")
    subject_count: Positive = Field(description="packets or structures absorbed (1 when raised)")
    print_count: Positive = Field(description="prints of every absorbed subject")
    hit_count: Positive = Field(description="classifier hits absorbed, a structure's folded leg hits included")
    price_e9: PriceE9 = Field(description="VWAP of the subject")
    bid_e9: int | None = Field(default=None, description="NBBO bid cited (at the first print)")
    ask_e9: int | None = None
    headline: str
    explanations: tuple[str, ...]
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
    placement_sizes: dict[str, int] = Field(
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
    expiry: date
    right: Right
    strike_e9: PriceE9
    side: Side
    kind: PacketKind
    size_contracts: Positive
    premium_cents: Count
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
    flagged: bool = Field(description="every leg carried a multi-leg condition flag (the venue said so)")
    rule: str = Field(description="the rule that matched, with its numbers")
    metrics: dict[str, float] = Field(description="the measured numbers the rule read")
    ts_first: TsNs
    ts_last: TsNs
    leg_count: Annotated[int, Field(ge=2)]
    legs: tuple[StructureLeg, ...]
    leg_ids: tuple[EventId, ...] = Field(description="the legs' packet ids, in leg order")
    size_contracts: Positive = Field(description="contracts over every leg")
    gross_premium_cents: Count = Field(description="premium over every leg, whatever its side")
    net_premium_cents: int | None = Field(
        description="bought legs' premium minus sold legs' (> 0 debit paid, < 0 credit received); "
        "None when a leg's side is unknown"
    )
    net_premium: NetPremium
    print_ids: tuple[EventId, ...] = Field(description="every leg's print ids, in leg order")

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
    window_label: str = Field(description="window label (1m, 5m, 1h, 4h, 1d)")
    window_ns: Positive
    packet_count: Count
    call_volume_contracts: Count
    put_volume_contracts: Count
    call_premium_cents: Count
    put_premium_cents: Count
    put_call_volume_ratio: float | None = Field(description="put / call contracts; None without call volume")
    put_call_premium_ratio: float | None = Field(description="put / call premium; None without call premium")
    buy_premium_cents: Count = Field(description="premium of buyer-initiated packets")
    sell_premium_cents: Count = Field(description="premium of seller-initiated packets")
    net_premium_cents: int = Field(description="buyer-initiated minus seller-initiated premium (unknown side ignored)")
    bullish_premium_cents: Count = Field(description="calls bought and puts sold (complex prints excluded)")
    bearish_premium_cents: Count = Field(description="puts bought and calls sold (complex prints excluded)")
    complex_premium_cents: Count = Field(description="premium of packets with multi-leg/complex prints")
    sweep_count: Count
    block_count: Count
    at_touch_contracts: Count = Field(description="contracts placed at or through the touch (AA, A, B, BB)")
    quoted_contracts: Count = Field(description="contracts with a fresh, uncrossed NBBO (AA, A, MID, B, BB)")
    sweep_contracts: Count
    large_premium_cents: Count = Field(description="premium of blocks and packets at or above the large size")
    sentiment: Direction
    sentiment_strength: Ratio
    sentiment_formula: str
    aggressiveness: Ratio
    aggressiveness_formula: str
    institutional_score: Ratio
    institutional_formula: str

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
    sequence: Count = Field(description="the print's sequence: orders prints with the same ts_event")
    symbol: Symbol
    underlying: Symbol
    venue: str
    off_exchange: bool = Field(description="reported to a FINRA facility (TRF/ADF)")
    price_e9: PriceE9
    size_shares: Positive
    notional_cents: Count
    conditions: tuple[str, ...] = Field(description="canonical condition flags of the print")
    placement: Placement
    side: Side
    tick_test: bool = Field(description="locked market: placed by the tick test against the previous print")
    bid_e9: int | None = Field(description="consolidated bid at the print (None without a quote)")
    ask_e9: int | None
    bid_size_shares: int | None
    ask_size_shares: int | None
    quote_age_ns: int | None = Field(description="print time minus the quote's time; None without a quote")
    stale: bool = Field(description="the quote was older than equity_quote_max_age_ms")
    round_lot_shares: Positive = Field(description="the round lot at the print's price and date")
    size_eligible: bool = Field(description="counts for size rules (dark inference, dark levels)")
    last_sale_eligible: bool = Field(description="may set a candle's open/high/low/close")
    excluded_reasons: tuple[str, ...] = Field(
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
    rule: str = Field(description="the rule that fired, with its thresholds")
    metrics: dict[str, float] = Field(description="the measured numbers the rule read")
    explanations: tuple[str, ...]
    evidence_ids: tuple[EventId, ...] = Field(description="ids of the prints behind the inference")
    ts_first: TsNs
    ts_last: TsNs
    print_count: Positive
    size_shares: Positive
    notional_cents: Count
    vwap_e9: PriceE9
    adv_shares: int | None = Field(description="the underlying's average daily volume used, when known")

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
    session_date: date = Field(description="the New York calendar date of the prints")
    price_e9: PriceE9 = Field(description="the level: print prices rounded to dark_level_tick_cents")
    tick_cents: Positive
    size_shares: Positive = Field(description="off-exchange shares at the level this session")
    notional_cents: Count
    print_count: Positive
    rank: int | None = Field(ge=1, description="1 = largest notional; None when out of the top levels")
    session_notional_cents: Count = Field(description="off-exchange notional over every level of the session")
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
    interval: str = Field(description="interval label (1s, 5s, 1m, 5m, 15m)")
    window_start_ns: TsNs
    window_end_ns: TsNs
    open_e9: int | None
    high_e9: int | None
    low_e9: int | None
    close_e9: int | None
    volume_shares: Positive
    notional_cents: Count
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

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
    nbbo_bid_e9: int | None = Field(default=None, description="NBBO bid at trade time, when the provider gives it")
    nbbo_ask_e9: int | None = None
    nbbo_bid_size_contracts: int | None = None
    nbbo_ask_size_contracts: int | None = None
    nbbo_ts: int | None = Field(default=None, description="ts_event of the NBBO given with the trade")
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
    bid_e9: int | None = Field(default=None, description="consolidated bid at trade time, when given")
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


OptionRefdata = Annotated[OptionDefinition | OpenInterest, Field(discriminator="event_type")]
RawEvent = OptionPrint | OptionNbbo | EquityPrint | EquityQuote | OptionDefinition | OpenInterest


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
    underlying_e9: int | None = None
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


class Alert(Event):
    """One alert per packet or structure with at least one hit; updates reuse the id with a higher revision."""

    event_type: Literal["alert"] = "alert"
    revision: Count = Field(default=0, description="0 when raised, +1 per update within the cooldown")
    ts_first: TsNs = Field(description="ts_event when the alert was first raised")
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
    premium_cents: Count
    size_contracts: Count
    price_e9: PriceE9 = Field(description="VWAP of the subject")
    bid_e9: int | None = Field(default=None, description="NBBO bid cited (at the first print)")
    ask_e9: int | None = None
    headline: str
    explanations: tuple[str, ...]
    hit_ids: tuple[EventId, ...]
    evidence_ids: tuple[EventId, ...]
    subject_ids: tuple[EventId, ...] = Field(description="every packet/structure merged into this alert")

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


DerivedEvent = Packet | ClassifierHit | Alert
AnyEvent = RawEvent | DerivedEvent

"""Response models, separate from the event contracts: what clients see, with units in names.

Prices come both as the stored fixed-point `_e9` integers and as exact decimals (JSON strings, dollars);
money both as integer cents and as decimal dollars.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from events.models import Alert
from events.units import NS_PER_US, e9_to_decimal

ComponentStatus = Literal["ok", "error", "not_configured"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cents_to_usd(cents: int) -> Decimal:
    """Return integer cents as exact dollars with two decimals."""
    return Decimal(cents).scaleb(-2)


def e9_or_none(value_e9: int | None) -> Decimal | None:
    """Return a fixed-point 1e-9 price as exact dollars, None staying None (a side the quote lacks)."""
    return None if value_e9 is None else e9_to_decimal(value_e9)


def ns_to_utc(ts_ns: int) -> datetime:
    """Return a nanosecond timestamp as a UTC datetime, truncated to microseconds, for display."""
    return _EPOCH + timedelta(microseconds=ts_ns // NS_PER_US)


class AlertOut(BaseModel):
    """One alert at its latest revision."""

    model_config = ConfigDict(frozen=True)

    id: str
    revision: int = Field(description="0 when raised, +1 per update")
    ts_event: int = Field(description="ns since the epoch of the latest update")
    ts_first: int = Field(description="ns since the epoch when the alert was first raised")
    time_first_utc: datetime = Field(description="ts_first as a UTC time, for display")
    underlying: str
    symbol: str = Field(description="OCC/OSI contract symbol")
    subject_type: str
    subject_id: str
    kind: str
    side: str
    direction: str
    classifiers: list[str]
    score: int = Field(description="0-100")
    severity: str
    confidence: float
    premium_cents: int
    premium_usd: Decimal = Field(description="premium in dollars, exact")
    size_contracts: int
    subject_count: int = Field(description="packets or structures absorbed (1 when raised)")
    print_count: int = Field(description="prints of every absorbed subject")
    hit_count: int = Field(description="classifier hits absorbed, a structure's folded leg hits included")
    price_e9: int = Field(description="VWAP of the subject, fixed-point 1e-9")
    price: Decimal = Field(description="VWAP of the subject in dollars, exact")
    bid_e9: int | None = None
    bid: Decimal | None = Field(default=None, description="NBBO bid cited, dollars")
    ask_e9: int | None = None
    ask: Decimal | None = Field(default=None, description="NBBO ask cited, dollars")
    headline: str
    explanations: list[str]
    hit_ids: list[str] = Field(description="the first subject's hits, then the largest subjects' (bounded)")
    evidence_ids: list[str] = Field(description="print ids of the largest subjects, largest first (bounded)")
    subject_ids: list[str] = Field(description="the first subject, then the largest absorbed (bounded)")

    @classmethod
    def from_alert(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id,
            revision=alert.revision,
            ts_event=alert.ts_event,
            ts_first=alert.ts_first,
            time_first_utc=ns_to_utc(alert.ts_first),
            underlying=alert.underlying,
            symbol=alert.symbol,
            subject_type=alert.subject_type,
            subject_id=alert.subject_id,
            kind=alert.kind,
            side=alert.side,
            direction=alert.direction,
            classifiers=list(alert.classifiers),
            score=alert.score,
            severity=alert.severity,
            confidence=alert.confidence,
            premium_cents=alert.premium_cents,
            premium_usd=cents_to_usd(alert.premium_cents),
            size_contracts=alert.size_contracts,
            subject_count=alert.subject_count,
            print_count=alert.print_count,
            hit_count=alert.hit_count,
            price_e9=alert.price_e9,
            price=e9_to_decimal(alert.price_e9),
            bid_e9=alert.bid_e9,
            bid=e9_or_none(alert.bid_e9),
            ask_e9=alert.ask_e9,
            ask=e9_or_none(alert.ask_e9),
            headline=alert.headline,
            explanations=list(alert.explanations),
            hit_ids=list(alert.hit_ids),
            evidence_ids=list(alert.evidence_ids),
            subject_ids=list(alert.subject_ids),
        )


class AlertPage(BaseModel):
    """A page of alerts, newest first; pass `next_cursor` back as `cursor` for the next page."""

    items: list[AlertOut]
    next_cursor: str | None = Field(description="opaque; null on the last page")


class ComponentHealth(BaseModel):
    status: ComponentStatus
    detail: str | None = Field(default=None, description="error text, or what is not configured")
    version: str | None = None
    backend: str | None = None


class Health(BaseModel):
    """Overall `ok` when every backend the running mode uses answers, else `degraded`. When a token is set, a
    request without it gets `status` alone (no versions, hosts or errors)."""

    status: Literal["ok", "degraded"]
    store: ComponentHealth | None = None
    redis: ComponentHealth | None = None
    kafka: ComponentHealth | None = None
    elapsed_ms: int | None = None


class ErrorOut(BaseModel):
    """An error answer: what was wrong."""

    detail: str


class StoreUnavailableOut(BaseModel):
    """The store did not answer (503): retry later."""

    detail: Literal["store unavailable"]
    error: str = Field(description="the store's first error line")


class QuoteOut(BaseModel):
    """The quote a print is read against: bid and ask as fixed-point integers and exact dollars."""

    ts_event: int | None = Field(description="ns since the epoch of the quote (null: the provider gave none)")
    bid_e9: int | None
    bid: Decimal | None
    ask_e9: int | None
    ask: Decimal | None
    bid_size_contracts: int | None
    ask_size_contracts: int | None


class PrintOut(BaseModel):
    """One member print of an alert's subject, with the quote it is read against."""

    id: str
    ts_event: int
    symbol: str
    venue: str
    price_e9: int
    price: Decimal
    size_contracts: int
    conditions: list[str]
    quote_source: Literal["print", "quote_stream", "none"] = Field(
        description="print: the NBBO the provider gave with the trade (tcbbo); quote_stream: the latest stored "
        "consolidated quote at or before the print; none: no quote is stored for it"
    )
    quote: QuoteOut | None


class AlertDetail(BaseModel):
    """An alert with everything it cites: its hits, its packets or structure, and every member print with the
    quote it is read against. Hits, packets and the structure are the stored events as the topics carry them."""

    alert: AlertOut
    hits: list[dict[str, Any]] = Field(description="the classifier hits the alert cites (flow.hits events)")
    packets: list[dict[str, Any]] = Field(description="its packets, or its structure's legs (flow.packets events)")
    structure: dict[str, Any] | None = Field(description="its structure (flow.structures event), for a structure")
    prints: list[PrintOut] = Field(description="every member print of those packets that is stored, in time order")
    missing_prints: int = Field(description="member prints the store does not hold (raw prints not stored)")

"""Builders for stored events in storage and API tests: packets, classifier hits, alerts, dead letters."""

from __future__ import annotations

from events.ids import derived_event_id, raw_event_id
from events.models import (
    Alert,
    ClassifierHit,
    DeadLetter,
    EquityPrint,
    EquityQuote,
    OpenInterest,
    OptionDefinition,
    Packet,
)
from events.symbology import parse_occ
from events.units import NS_PER_MS, price_e9

T0 = 1_772_461_800_000_000_000  # 2026-03-02 14:30:00 UTC, a session open
CALL = "SPY   260320C00580000"
PUT = "QQQ   260320P00500000"


def ts(ms: float) -> int:
    """Return T0 + ms as integer nanoseconds."""
    return T0 + round(ms * NS_PER_MS)


def print_ids(symbol: str, at_ms: float, n: int) -> tuple[str, ...]:
    return tuple(raw_event_id("test", "trades", symbol, ts(at_ms) + i, i) for i in range(n))


def packet(at_ms: float = 0.0, *, symbol: str = CALL, prints: int = 4, size: int = 420) -> Packet:
    """Build a buy-side sweep of `prints` prints over 4 venues at $2.45-$2.50, closed at T0 + at_ms."""
    occ = parse_occ(symbol)
    ids = print_ids(symbol, at_ms, prints)
    vwap = price_e9("2.4750")
    return Packet(
        id=derived_event_id("packet", ids),
        ts_event=ts(at_ms) + 80 * NS_PER_MS,
        symbol=symbol,
        underlying=occ.underlying,
        root=occ.root,
        expiry=occ.expiry,
        right=occ.right,
        strike_e9=occ.strike_e9,
        kind="sweep",
        side="buy",
        ts_first=ts(at_ms),
        ts_last=ts(at_ms) + 80 * NS_PER_MS,
        span_ns=80 * NS_PER_MS,
        print_count=prints,
        venue_count=4,
        venues=("XCBO", "XISX", "XPHL", "AMXO"),
        size_contracts=size,
        premium_cents=size * 100 * 2475 // 10,
        vwap_e9=vwap,
        first_price_e9=price_e9("2.45"),
        last_price_e9=price_e9("2.50"),
        min_price_e9=price_e9("2.45"),
        max_price_e9=price_e9("2.50"),
        price_path="rising",
        placement_counts={"A": prints - 1, "AA": 1},
        placement_sizes={"A": size - 20, "AA": 20},
        buy_size_contracts=size,
        sell_size_contracts=0,
        nbbo_coverage=1.0,
        stale_ratio=0.0,
        bid_e9=price_e9("2.40"),
        ask_e9=price_e9("2.45"),
        bid_size_contracts=120,
        ask_size_contracts=85,
        touch_size_ratio=4.94,
        conditions=("iso",),
        underlying_e9=price_e9("578.12"),
        underlying_source="implied",
        underlying_age_ms=412,
        underlying_strike_e9=price_e9("578"),
        print_ids=ids,
    )


def hit(subject: Packet, classifier: str = "large_sweep") -> ClassifierHit:
    """Build a bullish classifier hit on a packet, citing its numbers."""
    return ClassifierHit(
        id=derived_event_id("hit", (classifier, subject.id)),
        ts_event=subject.ts_event,
        underlying=subject.underlying,
        symbol=subject.symbol,
        subject_type="packet",
        subject_id=subject.id,
        classifier=classifier,
        direction="bullish",
        confidence=0.72,
        rule="sweep with print_count >= 3 and (premium_usd >= 40000 or premium_z >= 2)",
        metrics={"print_count": float(subject.print_count), "premium_usd": subject.premium_cents / 100},
        explanations=(f"{subject.print_count} prints across {subject.venue_count} venues at the ask",),
        evidence_ids=subject.print_ids,
        premium_cents=subject.premium_cents,
        size_contracts=subject.size_contracts,
    )


def alert(
    at_ms: float = 0.0,
    *,
    symbol: str = CALL,
    revision: int = 0,
    severity: str = "high",
    score: int | None = None,
    ts_first: int | None = None,
    alert_id: str | None = None,
    premium_cents: int = 10_395_000,
) -> Alert:
    """Build an alert on a sweep; revisions keep id and ts_first and move ts_event."""
    subject = packet(at_ms, symbol=symbol)
    first = ts(at_ms) if ts_first is None else ts_first
    found = hit(subject)
    default_score = {"low": 30, "medium": 60, "high": 88}[severity]
    return Alert(
        id=alert_id or derived_event_id("alert", (subject.id,)),
        ts_event=first + revision * 1_000 * NS_PER_MS,
        revision=revision,
        ts_first=first,
        underlying=subject.underlying,
        symbol=subject.symbol,
        subject_type="packet",
        subject_id=subject.id,
        kind="sweep",
        side="buy",
        direction="bullish",
        classifiers=("large_sweep",),
        score=default_score if score is None else score,
        severity=severity,
        confidence=0.72,
        premium_cents=premium_cents,
        size_contracts=420,
        subject_count=revision + 1,
        print_count=len(subject.print_ids),
        hit_count=revision + 1,
        price_e9=price_e9("2.475"),
        bid_e9=price_e9("2.40"),
        ask_e9=price_e9("2.45"),
        headline=f"{subject.underlying} bullish sweep: 420 contracts, ${premium_cents / 100:,.0f}",
        explanations=("4 prints across 4 venues at or above the ask", "premium above 40k USD"),
        hit_ids=(found.id,),
        evidence_ids=subject.print_ids,
        subject_ids=(subject.id,),
    )


def dead_letter(offset: int = 7) -> DeadLetter:
    return DeadLetter(
        topic="options.prints",
        partition=1,
        offset=offset,
        key="SPY",
        error="invalid_field",
        field="price_e9",
        reason="Input should be greater than 0",
        payload='{"event_type":"option_print","price_e9":-1}',
    )


def equity_print(at_ms: float = 0.0, *, off_exchange: bool = True, size: int = 2_500) -> EquityPrint:
    """Build a SPY print at $578.12 reported to a FINRA TRF (or lit with off_exchange=False)."""
    return EquityPrint(
        id=raw_event_id("test", "equity_trades", "SPY", ts(at_ms), 1),
        provider="test",
        ts_event=ts(at_ms),
        ts_recv=ts(at_ms) + 35_000,
        sequence=1,
        symbol="SPY",
        venue="FINN" if off_exchange else "XNYS",
        venue_id="131" if off_exchange else "XNYS",
        off_exchange=off_exchange,
        price_e9=price_e9("578.12"),
        size_shares=size,
        conditions=("odd_lot",) if size < 100 else (),
        raw_conditions="@",
        bid_e9=price_e9("578.11"),
        ask_e9=price_e9("578.13"),
    )


def equity_quote(at_ms: float = 0.0) -> EquityQuote:
    return EquityQuote(
        id=raw_event_id("test", "equity_quotes", "SPY", ts(at_ms), 2),
        provider="test",
        ts_event=ts(at_ms),
        sequence=2,
        symbol="SPY",
        bid_e9=price_e9("578.11"),
        ask_e9=price_e9("578.13"),
        bid_size_shares=300,
        ask_size_shares=500,
    )


def definition(symbol: str = CALL) -> OptionDefinition:
    occ = parse_occ(symbol)
    return OptionDefinition(
        id=raw_event_id("test", "definitions", symbol, ts(-60_000), 0),
        provider="test",
        ts_event=ts(-60_000),
        symbol=symbol,
        underlying=occ.underlying,
        root=occ.root,
        expiry=occ.expiry,
        right=occ.right,
        strike_e9=occ.strike_e9,
        instrument_id=1_234_567,
        venue="OPRA",
    )


def open_interest(symbol: str = CALL, contracts: int = 18_250) -> OpenInterest:
    return OpenInterest(
        id=raw_event_id("test", "statistics", symbol, ts(-60_000), 9),
        provider="test",
        ts_event=ts(-60_000),
        symbol=symbol,
        underlying=parse_occ(symbol).underlying,
        open_interest_contracts=contracts,
        ts_ref=ts(-86_400_000),
    )

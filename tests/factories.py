"""Small builders for events in tests: readable arguments (dollars, milliseconds), exact contracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from itertools import count
from typing import Any

from events.baselines import volume_baseline_id
from events.calendar import SESSION_BUCKETS
from events.config import EquitiesConfig, OptionsConfig
from events.ids import derived_event_id, raw_event_id
from events.models import (
    Alert,
    AnyEvent,
    Candle,
    ClassifierHit,
    DarkInference,
    DarkLevel,
    EquityPrint,
    EquityQuote,
    EquityTrade,
    FlowContext,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    Packet,
    PacketKind,
    Placement,
    Side,
    Structure,
    VolumeBaseline,
)
from events.models.registry import BY_EVENT_TYPE
from events.symbology import format_occ, parse_occ
from events.units import NS_PER_MS, notional_cents, price_e9
from operators.equities_engine import EquitiesEngine, EquitiesOutput
from operators.flow_context import FlowContextTracker
from operators.nbbo_join import Placed, Quote, side_of
from operators.options_engine import OptionsEngine
from operators.structures import StructureDetector

T0 = 1_772_461_800_000_000_000  # 2026-03-02 14:30:00 UTC, a session open
CALL = "SPY   260320C00580000"
PUT = "SPY   260320P00570000"

_seq = count(1)


def ts(ms: float) -> int:
    """Return T0 + ms as integer nanoseconds."""
    return T0 + round(ms * NS_PER_MS)


def trade(
    at_ms: float,
    price: str,
    size: int,
    *,
    symbol: str = CALL,
    venue: str = "XCBO",
    conditions: tuple[str, ...] = (),
    nbbo: tuple[str, str] | None = None,
) -> OptionPrint:
    """Build an option print at T0 + at_ms."""
    return trade_ns(ts(at_ms), price, size, symbol=symbol, venue=venue, conditions=conditions, nbbo=nbbo)


def trade_ns(
    ts_event: int,
    price: str,
    size: int,
    *,
    symbol: str = CALL,
    venue: str = "XCBO",
    conditions: tuple[str, ...] = (),
    nbbo: tuple[str, str] | None = None,
    nbbo_sizes: tuple[int, int] | None = None,
    multiplier: int = 100,
    underlying_price: str | None = None,
) -> OptionPrint:
    """Build an option print at an exact `ts_event` (ns), for tests on nanosecond boundaries."""
    occ = parse_occ(symbol)
    seq = next(_seq)
    extra: dict[str, Any] = {}
    if nbbo is not None:
        extra = {"nbbo_bid_e9": price_e9(nbbo[0]), "nbbo_ask_e9": price_e9(nbbo[1]), "nbbo_ts": ts_event}
    if nbbo_sizes is not None:
        extra["nbbo_bid_size_contracts"], extra["nbbo_ask_size_contracts"] = nbbo_sizes
    if underlying_price is not None:
        extra["underlying_e9"] = price_e9(underlying_price)
    return OptionPrint(
        id=raw_event_id("test", "trades", symbol, ts_event, seq),
        provider="test",
        ts_event=ts_event,
        sequence=seq,
        symbol=symbol,
        underlying=occ.underlying,
        root=occ.root,
        expiry=occ.expiry,
        right=occ.right,
        strike_e9=occ.strike_e9,
        multiplier=multiplier,
        venue=venue,
        venue_id=venue,
        price_e9=price_e9(price),
        size_contracts=size,
        conditions=conditions,
        **extra,
    )


def quote(
    at_ms: float, bid: str, ask: str, *, symbol: str = CALL, bid_size: int = 50, ask_size: int = 50, venue: str = "NBBO"
) -> OptionNbbo:
    """Build an option quote at T0 + at_ms."""
    return quote_ns(ts(at_ms), bid, ask, symbol=symbol, bid_size=bid_size, ask_size=ask_size, venue=venue)


def quote_ns(
    ts_event: int,
    bid: str,
    ask: str,
    *,
    symbol: str = CALL,
    bid_size: int = 50,
    ask_size: int = 50,
    venue: str = "NBBO",
) -> OptionNbbo:
    """Build an option quote at an exact `ts_event` (ns)."""
    occ = parse_occ(symbol)
    seq = next(_seq)
    return OptionNbbo(
        id=raw_event_id("test", "nbbo", symbol, ts_event, seq),
        provider="test",
        ts_event=ts_event,
        sequence=seq,
        symbol=symbol,
        underlying=occ.underlying,
        venue=venue,
        bid_e9=price_e9(bid),
        ask_e9=price_e9(ask),
        bid_size_contracts=bid_size,
        ask_size_contracts=ask_size,
    )


def definition(symbol: str = CALL, *, multiplier: int = 100, at_ms: float = 0) -> OptionDefinition:
    """Build reference data for one contract."""
    occ = parse_occ(symbol)
    ts_event = ts(at_ms)
    return OptionDefinition(
        id=raw_event_id("test", "definition", symbol, ts_event, 0),
        provider="test",
        ts_event=ts_event,
        symbol=symbol,
        underlying=occ.underlying,
        root=occ.root,
        expiry=occ.expiry,
        right=occ.right,
        strike_e9=occ.strike_e9,
        multiplier=multiplier,
    )


def open_interest(symbol: str = CALL, contracts: int = 1_000, *, at_ms: float = 0) -> OpenInterest:
    """Build a prior-day open interest figure for one contract."""
    ts_event = ts(at_ms)
    return OpenInterest(
        id=raw_event_id("test", "open_interest", symbol, ts_event, 0),
        provider="test",
        ts_event=ts_event,
        symbol=symbol,
        underlying=parse_occ(symbol).underlying,
        open_interest_contracts=contracts,
    )


def volume_baseline(
    symbol: str = CALL, bucket_mean: float = 10.0, *, as_of: date = date(2026, 2, 27), sessions: int = 30
) -> VolumeBaseline:
    """Build a contract's historical volume baseline: `bucket_mean` contracts in every 5-minute bucket."""
    return VolumeBaseline(
        id=volume_baseline_id("contract", symbol, as_of, sessions),
        ts_event=ts(-86_400_000),
        scope="contract",
        subject=symbol,
        underlying=parse_occ(symbol).underlying,
        as_of=as_of,
        sessions=sessions,
        day_volume_mean=bucket_mean * SESSION_BUCKETS,
        bucket_volume_mean=(bucket_mean,) * SESSION_BUCKETS,
    )


def equity_adv(
    stock: str = "SPY", adv_shares: float = 1_000_000.0, *, as_of: date = date(2026, 2, 27)
) -> VolumeBaseline:
    """Build a stock's share-volume baseline (scope `equity`): `adv_shares` a session, spread evenly."""
    return VolumeBaseline(
        id=volume_baseline_id("equity", stock, as_of, 30),
        ts_event=ts(-86_400_000),
        scope="equity",
        subject=stock,
        underlying=stock,
        as_of=as_of,
        sessions=30,
        day_volume_mean=adv_shares,
        bucket_volume_mean=(adv_shares / SESSION_BUCKETS,) * SESSION_BUCKETS,
    )


def equity_print(
    at_ms: float,
    price: str,
    size: int,
    *,
    symbol: str = "SPY",
    venue: str = "FINN",
    off_exchange: bool = True,
    conditions: tuple[str, ...] = (),
    quote: tuple[str, str] | None = None,
) -> EquityPrint:
    """Build an equity print at T0 + at_ms (off-exchange by default; `quote` is the provider's bid/ask at trade)."""
    return equity_print_ns(
        ts(at_ms),
        price_e9(price),
        size,
        symbol=symbol,
        venue=venue,
        off_exchange=off_exchange,
        conditions=conditions,
        quote=quote,
    )


def equity_print_ns(
    ts_event: int,
    price: int,
    size: int,
    *,
    symbol: str = "SPY",
    venue: str = "FINN",
    off_exchange: bool = True,
    conditions: tuple[str, ...] = (),
    quote: tuple[str, str] | None = None,
    sequence: int | None = None,
) -> EquityPrint:
    """Build an equity print at an exact time (ns) and fixed-point price."""
    seq = next(_seq) if sequence is None else sequence
    return EquityPrint(
        id=raw_event_id("test", "equity_trades", symbol, ts_event, seq),
        provider="test",
        ts_event=ts_event,
        sequence=seq,
        symbol=symbol,
        venue=venue,
        venue_id=venue,
        off_exchange=off_exchange,
        price_e9=price,
        size_shares=size,
        conditions=conditions,
        bid_e9=None if quote is None else price_e9(quote[0]),
        ask_e9=None if quote is None else price_e9(quote[1]),
    )


def equity_quote(at_ms: float, bid: str, ask: str, *, symbol: str = "SPY", size: int = 300) -> EquityQuote:
    """Build a consolidated equity quote at T0 + at_ms."""
    return equity_quote_ns(ts(at_ms), price_e9(bid), price_e9(ask), symbol=symbol, size=size)


def equity_quote_ns(ts_event: int, bid: int, ask: int, *, symbol: str = "SPY", size: int = 300) -> EquityQuote:
    """Build a consolidated equity quote at an exact time (ns) and fixed-point prices."""
    seq = next(_seq)
    return EquityQuote(
        id=raw_event_id("test", "equity_quotes", symbol, ts_event, seq),
        provider="test",
        ts_event=ts_event,
        sequence=seq,
        symbol=symbol,
        bid_e9=bid,
        ask_e9=ask,
        bid_size_shares=size,
        ask_size_shares=size,
    )


def equity_trade(
    at_ms: float,
    price: str,
    size: int,
    *,
    symbol: str = "SPY",
    placement: Placement = "MID",
    side: Side | None = None,
    quote: tuple[str, str] | None = ("580.10", "580.14"),
    quote_age_ms: float = 5,
    off_exchange: bool = True,
    last_sale_eligible: bool = True,
    size_eligible: bool = True,
    excluded_reasons: tuple[str, ...] = (),
    tick_test: bool = False,
    venue: str = "FINN",
    sequence: int | None = None,
) -> EquityTrade:
    """Build a validated joined equity print with a given placement (side follows it unless given), skipping the
    join: the input of the dark, dark-level and candle operators."""
    ts_event = ts(at_ms)
    seq = next(_seq) if sequence is None else sequence
    print_id = raw_event_id("test", "equity_trades", symbol, ts_event, seq)
    px = price_e9(price)
    return EquityTrade(
        id=derived_event_id("equity_trade", (print_id,)),
        ts_event=ts_event,
        print_id=print_id,
        sequence=seq,
        symbol=symbol,
        underlying=symbol,
        venue=venue,
        off_exchange=off_exchange,
        price_e9=px,
        size_shares=size,
        notional_cents=notional_cents(px, size),
        conditions=(),
        placement=placement,
        side=side_of(placement) if side is None else side,
        tick_test=tick_test,
        bid_e9=None if quote is None else price_e9(quote[0]),
        ask_e9=None if quote is None else price_e9(quote[1]),
        bid_size_shares=None if quote is None else 300,
        ask_size_shares=None if quote is None else 300,
        quote_age_ns=None if quote is None else round(quote_age_ms * NS_PER_MS),
        stale=placement == "STALE",
        round_lot_shares=40,
        size_eligible=size_eligible,
        last_sale_eligible=last_sale_eligible,
        excluded_reasons=excluded_reasons,
    )


def equities_outputs() -> list[EquitiesOutput]:
    """Run a small equity tape through the engine: a midpoint dark block ($2.9M), a lit print, then end of input.

    Gives one of each equities output: the trades, an absorbed_block inference, a dark level and candles.
    """
    engine = EquitiesEngine(EquitiesConfig())
    tape: list[EquityPrint | EquityQuote] = [
        equity_quote(0, "580.10", "580.14"),
        equity_print(5, "580.12", 5_000),
        equity_print(10, "580.14", 100, venue="XNAS", off_exchange=False),
        equity_quote(20, "580.11", "580.15"),
    ]
    return engine.on_events(tape) + engine.on_eof()


def equity_trade_example() -> EquityTrade:
    return next(o for o in equities_outputs() if isinstance(o, EquityTrade))


def dark_inference_example() -> DarkInference:
    return next(o for o in equities_outputs() if isinstance(o, DarkInference))


def dark_level_example() -> DarkLevel:
    return next(o for o in equities_outputs() if isinstance(o, DarkLevel))


def candle_example() -> Candle:
    return next(o for o in equities_outputs() if isinstance(o, Candle))


def placed(
    print_: OptionPrint,
    placement: Placement = "A",
    *,
    side: Side | None = None,
    quote: Quote | None = None,
    tick_test: bool = False,
    complex_print: bool = False,
    late: bool = False,
) -> Placed:
    """Wrap a print with a given placement (side follows the placement unless given), skipping the join."""
    return Placed(
        print_,
        placement,
        side_of(placement) if side is None else side,
        quote,
        tick_test,
        complex_print,
        late,
    )


def packet(symbol: str = CALL, *, at_ms: float = 30, **overrides: Any) -> Packet:
    """Build a validated packet: by default a 3-print, 3-venue buy sweep of 300 contracts at $2.00 ($60k).

    Any field can be overridden; the id follows `print_ids` unless given.
    """
    occ = parse_occ(symbol)
    ts_last = ts(at_ms)
    print_ids = overrides.get("print_ids", tuple(f"{symbol.strip()}-{at_ms}-{i}" for i in range(3)))
    fields: dict[str, Any] = {
        "id": derived_event_id("packet", print_ids),
        "ts_event": ts_last,
        "symbol": symbol,
        "underlying": occ.underlying,
        "root": occ.root,
        "expiry": occ.expiry,
        "right": occ.right,
        "strike_e9": occ.strike_e9,
        "multiplier": 100,
        "kind": "sweep",
        "side": "buy",
        "ts_first": ts_last - 20 * NS_PER_MS,
        "ts_last": ts_last,
        "span_ns": 20 * NS_PER_MS,
        "print_count": 3,
        "venue_count": 3,
        "venues": ("XCBO", "XISE", "XPHL"),
        "size_contracts": 300,
        "premium_cents": 6_000_000,
        "vwap_e9": price_e9("2.00"),
        "first_price_e9": price_e9("2.00"),
        "last_price_e9": price_e9("2.00"),
        "min_price_e9": price_e9("2.00"),
        "max_price_e9": price_e9("2.00"),
        "price_path": "flat",
        "placement_counts": {"A": 3},
        "placement_sizes": {"A": 300},
        "buy_size_contracts": 300,
        "sell_size_contracts": 0,
        "nbbo_coverage": 1.0,
        "stale_ratio": 0.0,
        "bid_e9": price_e9("1.90"),
        "ask_e9": price_e9("2.00"),
        "bid_size_contracts": 50,
        "ask_size_contracts": 50,
        "print_ids": print_ids,
    }
    fields.update(overrides)
    return Packet.model_validate(fields)


def occ(strike: str, right: str = "C", *, expiry: str = "2026-03-20", root: str = "SPY") -> str:
    """Return the OSI symbol of a contract from readable parts: occ("585", "P", expiry="2026-04-17")."""
    return format_occ(root, date.fromisoformat(expiry), right, price_e9(strike))


def leg(
    symbol: str = CALL,
    *,
    side: Side = "buy",
    size: int = 100,
    price: str = "2.00",
    at_ms: float = 30,
    span_ms: float = 20,
    kind: PacketKind = "single",
    conditions: tuple[str, ...] = (),
    nbbo_coverage: float = 1.0,
    **overrides: Any,
) -> Packet:
    """Build a packet with consistent figures (premium = price x size x 100, side sizes and placements agree).

    It closes at T0 + at_ms after spanning `span_ms`; complex conditions (multi_leg, ...) count its prints as complex.
    """
    vwap = price_e9(price)
    placement = {"buy": "A", "sell": "B", "unknown": "MID"}[side]
    prints = 1 if kind in ("single", "block") else 3
    complex_prints = prints if {"multi_leg", "stock_tied", "cross", "floor"} & set(conditions) else 0
    quoted = round(size * nbbo_coverage)
    sizes = {placement: quoted, "MISSING": size - quoted} if quoted < size else {placement: size}
    fields: dict[str, Any] = {
        "kind": kind,
        "side": side,
        "ts_first": ts(at_ms) - round(span_ms * NS_PER_MS),
        "span_ns": round(span_ms * NS_PER_MS),
        "print_count": prints,
        "venue_count": 3 if kind == "sweep" else 1,
        "venues": ("XCBO", "XISE", "XPHL") if kind == "sweep" else ("XCBO",),
        "size_contracts": size,
        "premium_cents": notional_cents(vwap, size, 100),
        "vwap_e9": vwap,
        "first_price_e9": vwap,
        "last_price_e9": vwap,
        "min_price_e9": vwap,
        "max_price_e9": vwap,
        "placement_counts": {k: prints for k, v in sizes.items() if v},
        "placement_sizes": {k: v for k, v in sizes.items() if v},
        "buy_size_contracts": quoted if side == "buy" else 0,
        "sell_size_contracts": quoted if side == "sell" else 0,
        "nbbo_coverage": nbbo_coverage,
        "conditions": conditions,
        "complex_prints": complex_prints,
        "print_ids": tuple(f"{symbol.strip()}-{at_ms}-{side}-{size}-{i}" for i in range(prints)),
    }
    fields.update(overrides)
    return packet(symbol, at_ms=at_ms, **fields)


def structure(*legs: Packet) -> Structure:
    """Run legs through the structure detector and return the one structure they form.

    By default a debit call vertical: bought 100 580 calls at $5.00, sold 100 585 calls at $2.50.
    """
    if not legs:
        legs = (leg(occ("580"), side="buy", price="5.00"), leg(occ("585"), side="sell", price="2.50"))
    detector = StructureDetector(OptionsConfig())
    for p in legs:
        detector.on_packet(p)
    (found,) = detector.flush()
    return found


def flow_context(*packets: Packet, window: str = "1m") -> FlowContext:
    """Run packets through the flow-context tracker and return one window's context after the last one.

    By default one bought call sweep (`packet()`).
    """
    tracker = FlowContextTracker(OptionsConfig())
    for p in packets or (packet(),):
        tracker.on_packet(p)
    (found,) = [c for c in tracker.current(packets[0].underlying if packets else "SPY") if c.window_label == window]
    return found


# ------------------------------------------------------------------------------------- one of each


@cache
def derived_examples() -> tuple[Packet, ClassifierHit, Alert]:
    """Run a real sweep through the engine: one packet, its large_sweep hit and its alert."""
    engine = OptionsEngine(OptionsConfig())
    tape: list[AnyEvent] = [
        quote(0, "1.00", "1.10"),
        trade(10, "1.10", 200, venue="XCBO", conditions=("iso",)),
        trade(20, "1.10", 200, venue="XISE", conditions=("iso",)),
        trade(30, "1.12", 200, venue="XPHL", conditions=("iso",)),
        quote(40, "1.05", "1.15"),
    ]
    out = [o for o in engine.on_events(tape) + engine.on_eof() if not isinstance(o, FlowContext)]
    first, hit, alert = out[0], out[1], out[-1]  # 600 contracts for $66k: an unusual_spike hit comes second
    assert isinstance(first, Packet)
    assert isinstance(hit, ClassifierHit)
    assert isinstance(alert, Alert)
    return first, hit, alert


EXAMPLES: dict[str, Callable[[], AnyEvent]] = {
    "option_print": lambda: trade(10, "1.10", 200, nbbo=("1.00", "1.10")),
    "option_nbbo": lambda: quote(0, "1.00", "1.10"),
    "equity_print": lambda: equity_print(5, "580.12", 2_500),
    "equity_quote": lambda: equity_quote(0, "580.10", "580.14"),
    "option_definition": lambda: definition(CALL, multiplier=10),
    "open_interest": lambda: open_interest(CALL, 12_345),
    "volume_baseline": volume_baseline,
    "packet": lambda: derived_examples()[0],
    "classifier_hit": lambda: derived_examples()[1],
    "alert": lambda: derived_examples()[2],
    "structure": structure,
    "flow_context": flow_context,
    "equity_trade": equity_trade_example,
    "dark_inference": dark_inference_example,
    "dark_level": dark_level_example,
    "candle": candle_example,
}
"""One realistic event of every registered type, by event type."""

EVENT_TYPES: tuple[str, ...] = tuple(sorted(BY_EVENT_TYPE))
"""Every event type of the model registry (`events.models.registry`)."""
if set(EXAMPLES) != set(EVENT_TYPES):
    raise TypeError(f"tests.factories.EXAMPLES must cover the registry: {set(EXAMPLES) ^ set(EVENT_TYPES)}")


def example(event_type: str) -> AnyEvent:
    """Return one realistic event of a registered type."""
    return EXAMPLES[event_type]()

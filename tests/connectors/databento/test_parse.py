"""Parsing of single DBN records into flowtape events, on records built with `databento_dbn`'s own classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import databento_dbn as dbn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.databento.parse import (
    OccurrenceCounter,
    ParseContext,
    Skip,
    SymbolMap,
    parse_record,
)
from events.models import (
    CONSOLIDATED_VENUE,
    EquityPrint,
    EquityQuote,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    RawEvent,
)
from events.serde import decode, encode
from events.topics import topic_for
from tests.connectors.databento import (
    DAY,
    EMLD,
    EQUS_MINI,
    IID,
    OPRA_PUB,
    OSI,
    PUT_IID,
    PUT_OSI,
    RECV_DELAY_NS,
    SIP_FINN,
    SIP_XNAS,
    STRIKE_E9,
    T0,
    UNDEF,
    XISX,
    XNAS_ITCH,
    bbo,
    cbbo,
    cmbp1,
    definition,
    mbp1,
    metadata,
    statistic,
    trade,
)


def options(schema: str | None = None) -> ParseContext:
    """Return an OPRA context that knows the call and the put."""
    symbols = SymbolMap()
    symbols.insert(IID, OSI)
    symbols.insert(PUT_IID, PUT_OSI)
    return ParseContext("OPRA.PILLAR", schema, symbols)


def equities(dataset: str, schema: str | None = None) -> ParseContext:
    """Return an equities context where IID is QQQ."""
    symbols = SymbolMap()
    symbols.insert(IID, "QQQ")
    return ParseContext(dataset, schema, symbols)


def only(events: tuple[RawEvent, ...], kind: type[RawEvent]) -> RawEvent:
    """Return the single event of one type."""
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, events
    return found[0]


@dataclass(frozen=True)
class Case:
    record: dbn.DBNRecord
    ctx: ParseContext = field(default_factory=options)
    event_types: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


CASES: dict[str, Case] = {
    # options: prints
    "opra-trade": Case(trade(), options("trades"), ("option_print",)),
    "opra-trade-undefined-price": Case(trade(price=UNDEF), options("trades"), (), (Skip.UNDEFINED_PRICE,)),
    "opra-trade-zero-price": Case(trade(price=0), options("trades"), (), (Skip.UNDEFINED_PRICE,)),
    "opra-trade-zero-size": Case(trade(size=0), options("trades"), (), (Skip.ZERO_SIZE,)),
    "opra-trade-undefined-ts": Case(
        trade(ts_event=dbn.UNDEF_TIMESTAMP), options("trades"), (), (Skip.UNDEFINED_TS_EVENT,)
    ),
    "opra-trade-unknown-instrument": Case(trade(instrument_id=1), options("trades"), (), (Skip.UNRESOLVED_SYMBOL,)),
    "opra-trade-unparsable-symbol": Case(
        trade(instrument_id=IID), equities("OPRA.PILLAR", "trades"), (), (Skip.UNPARSABLE_SYMBOL,)
    ),
    "opra-trade-unknown-publisher": Case(trade(publisher_id=9_999), options("trades"), ("option_print",)),
    "opra-tbbo": Case(mbp1(), options("tbbo"), ("option_print",)),
    "opra-tbbo-bad-book": Case(
        mbp1(flags=dbn.F_MAYBE_BAD_BOOK), options("tbbo"), ("option_print",), (Skip.MAYBE_BAD_BOOK,)
    ),
    "opra-tbbo-negative-quote": Case(mbp1(bid=-1), options("tbbo"), ("option_print",), (Skip.NEGATIVE_QUOTE,)),
    "opra-tcbbo": Case(cmbp1(), options("tcbbo"), ("option_print",)),
    "opra-cmbp1-trade": Case(cmbp1(rtype=dbn.RType.CMBP_1), options("cmbp-1"), ("option_print",)),
    "opra-cmbp1-add": Case(cmbp1(rtype=dbn.RType.CMBP_1, action=dbn.Action.ADD), options("cmbp-1"), ("option_nbbo",)),
    # options: books
    "opra-mbp1-add": Case(mbp1(action=dbn.Action.ADD), options("mbp-1"), ("option_nbbo",)),
    "opra-mbp1-cancel": Case(mbp1(action=dbn.Action.CANCEL), options("mbp-1"), ("option_nbbo",)),
    "opra-mbp1-modify": Case(mbp1(action=dbn.Action.MODIFY), options("mbp-1"), ("option_nbbo",)),
    "opra-mbp1-clear": Case(mbp1(action=dbn.Action.CLEAR, bid=UNDEF, ask=UNDEF), options("mbp-1"), ("option_nbbo",)),
    "opra-mbp1-trade": Case(mbp1(), options("mbp-1"), ("option_print",)),
    "opra-mbp1-fill": Case(mbp1(action=dbn.Action.FILL), options("mbp-1"), (), (Skip.UNSUPPORTED_ACTION,)),
    "opra-mbp1-none": Case(mbp1(action=dbn.Action.NONE), options("mbp-1"), (), (Skip.UNSUPPORTED_ACTION,)),
    "opra-mbp1-bad-book": Case(
        mbp1(action=dbn.Action.ADD, flags=dbn.F_MAYBE_BAD_BOOK), options("mbp-1"), (), (Skip.MAYBE_BAD_BOOK,)
    ),
    "opra-mbp1-unresolved": Case(
        mbp1(action=dbn.Action.ADD, instrument_id=1), options("mbp-1"), (), (Skip.UNRESOLVED_SYMBOL,)
    ),
    "opra-mbp1-mixed-file": Case(mbp1(action=dbn.Action.ADD), options(None), ("option_nbbo",)),
    "opra-cbbo-1s": Case(cbbo(), options("cbbo-1s"), ("option_nbbo",)),
    "opra-cbbo-1s-empty": Case(cbbo(bid=UNDEF, ask=UNDEF), options("cbbo-1s"), ("option_nbbo",)),
    "opra-cbbo-1s-undefined-interval": Case(
        cbbo(ts_recv=dbn.UNDEF_TIMESTAMP), options("cbbo-1s"), (), (Skip.UNDEFINED_TS_EVENT,)
    ),
    "opra-bbo-1s": Case(bbo(), options("bbo-1s"), ("option_nbbo",)),
    # options: reference data
    "opra-definition-call": Case(definition(), options("definition"), ("option_definition",)),
    "opra-definition-put": Case(
        definition(raw_symbol=PUT_OSI, instrument_class=dbn.InstrumentClass.PUT),
        options("definition"),
        ("option_definition",),
    ),
    "opra-definition-undefined-strike-and-expiry": Case(
        definition(strike_price=UNDEF, expiration=dbn.UNDEF_TIMESTAMP), options("definition"), ("option_definition",)
    ),
    "opra-definition-strike-disagrees": Case(
        definition(strike_price=STRIKE_E9 + 1_000_000_000), options("definition"), (), (Skip.INVALID_EVENT,)
    ),
    "opra-definition-right-disagrees": Case(
        definition(instrument_class=dbn.InstrumentClass.PUT), options("definition"), (), (Skip.INVALID_EVENT,)
    ),
    "opra-definition-deleted": Case(
        definition(action=dbn.SecurityUpdateAction.DELETE), options("definition"), (), (Skip.DEFINITION_DELETED,)
    ),
    "opra-definition-not-an-option": Case(
        definition(instrument_class=dbn.InstrumentClass.STOCK), options("definition"), (), (Skip.NOT_AN_OPTION,)
    ),
    "opra-definition-unparsable": Case(
        definition(raw_symbol="AAPL"), options("definition"), (), (Skip.UNPARSABLE_SYMBOL,)
    ),
    "opra-open-interest": Case(statistic(), options("statistics"), ("open_interest",)),
    "opra-settlement-price": Case(
        statistic(stat_type=dbn.StatType.SETTLEMENT_PRICE), options("statistics"), (), (Skip.UNSUPPORTED_STATISTIC,)
    ),
    "opra-open-interest-deleted": Case(
        statistic(update_action=dbn.StatUpdateAction.DELETE), options("statistics"), (), (Skip.STATISTIC_DELETED,)
    ),
    "opra-open-interest-undefined": Case(
        statistic(quantity=dbn.UNDEF_STAT_QUANTITY), options("statistics"), (), (Skip.UNDEFINED_QUANTITY,)
    ),
    # equities
    "sip-trade-lit": Case(trade(publisher_id=SIP_XNAS), equities("EQUS.SIP", "trades"), ("equity_print",)),
    "sip-trade-trf": Case(trade(publisher_id=SIP_FINN), equities("EQUS.SIP", "trades"), ("equity_print",)),
    "itch-trade-unknown-instrument": Case(
        trade(publisher_id=XNAS_ITCH, instrument_id=1), equities("XNAS.ITCH", "trades"), (), (Skip.UNRESOLVED_SYMBOL,)
    ),
    "itch-tbbo": Case(mbp1(publisher_id=XNAS_ITCH), equities("XNAS.ITCH", "tbbo"), ("equity_print",)),
    "mini-tbbo": Case(mbp1(publisher_id=EQUS_MINI), equities("EQUS.MINI", "tbbo"), ("equity_quote", "equity_print")),
    "mini-mbp1-trade": Case(mbp1(publisher_id=EQUS_MINI), equities("EQUS.MINI", "mbp-1"), ("equity_print",)),
    "mini-mbp1-clear": Case(
        mbp1(publisher_id=EQUS_MINI, action=dbn.Action.CLEAR, bid=UNDEF, ask=UNDEF),
        equities("EQUS.MINI", "mbp-1"),
        ("equity_quote",),
    ),
    "itch-mbp1-add": Case(
        mbp1(publisher_id=XNAS_ITCH, action=dbn.Action.ADD), equities("XNAS.ITCH", "mbp-1"), ("equity_quote",)
    ),
    "itch-definition": Case(
        definition(raw_symbol="NVDA", instrument_class=dbn.InstrumentClass.STOCK, publisher_id=XNAS_ITCH),
        equities("XNAS.ITCH", "definition"),
        (),
        (Skip.EQUITY_DEFINITION,),
    ),
    "itch-statistic": Case(statistic(publisher_id=XNAS_ITCH), equities("XNAS.ITCH"), (), (Skip.UNSUPPORTED_STATISTIC,)),
    # records that are not market data
    "symbol-mapping": Case(
        dbn.SymbolMappingMsg(
            publisher_id=OPRA_PUB,
            instrument_id=IID,
            ts_event=T0,
            stype_in=dbn.SType.RAW_SYMBOL,
            stype_in_symbol=OSI,
            stype_out=dbn.SType.INSTRUMENT_ID,
            stype_out_symbol=OSI,
            start_ts=T0,
            end_ts=T0 + 1,
        ),
        skipped=(Skip.CONTROL_RECORD,),
    ),
    "system-heartbeat": Case(dbn.SystemMsg(ts_event=T0, msg="Heartbeat"), skipped=(Skip.CONTROL_RECORD,)),
    "gateway-error": Case(dbn.ErrorMsg(ts_event=T0, err="oops"), skipped=(Skip.CONTROL_RECORD,)),
    "ohlcv": Case(
        dbn.OHLCVMsg(
            rtype=dbn.RType.OHLCV_1S,
            publisher_id=EMLD,
            instrument_id=IID,
            ts_event=T0,
            open=1,
            high=1,
            low=1,
            close=1,
            volume=1,
        ),
        skipped=(Skip.UNSUPPORTED_RECORD,),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_record_gives_expected_events_and_skips(case: Case) -> None:
    parsed = parse_record(case.record, case.ctx)
    assert tuple(e.event_type for e in parsed.events) == case.event_types
    assert parsed.skipped == case.skipped


@pytest.mark.parametrize(
    "case", [c for c in CASES.values() if c.event_types], ids=[k for k, c in CASES.items() if c.event_types]
)
def test_events_round_trip_through_serde(case: Case) -> None:
    for event in parse_record(case.record, case.ctx).events:
        assert decode(topic_for(event.event_type), encode(event)) == event


def test_option_print_fields_come_from_the_record_and_the_symbol() -> None:
    (event,) = parse_record(trade(sequence=41), options("trades")).events
    assert isinstance(event, OptionPrint)
    assert (event.symbol, event.underlying, event.root) == (OSI, "AAPL", "AAPL")
    assert (event.expiry, event.right, event.strike_e9, event.multiplier) == (date(2025, 2, 21), "C", STRIKE_E9, 100)
    assert (event.venue, event.venue_id, event.provider) == ("EMLD", str(EMLD), "databento")
    assert (event.ts_event, event.ts_recv, event.sequence) == (T0, T0 + RECV_DELAY_NS, 41)
    assert (event.price_e9, event.size_contracts) == (240_000_000, 5)
    assert (event.conditions, event.raw_conditions) == ((), "")
    assert event.nbbo_bid_e9 is None
    assert event.nbbo_ts is None


def test_unknown_publisher_keeps_the_print_with_a_distinct_venue_code() -> None:
    (event,) = parse_record(trade(publisher_id=9_999), options("trades")).events
    assert isinstance(event, OptionPrint)
    assert (event.venue, event.venue_id) == ("PUB9999", "9999")


def test_bad_ts_recv_flag_drops_ts_recv_only() -> None:
    (event,) = parse_record(trade(flags=dbn.F_BAD_TS_RECV), options("trades")).events
    assert event.ts_recv is None
    assert event.ts_event == T0


def test_tbbo_print_carries_its_venues_book_as_the_quote_at_trade_and_feeds_no_book() -> None:
    # A venue's quote seen only when it trades is consumed by that trade: it places that trade and nothing else.
    (print_,) = parse_record(mbp1(publisher_id=XISX), options("tbbo")).events
    assert isinstance(print_, OptionPrint)
    assert print_.venue == "XISX" != CONSOLIDATED_VENUE
    assert (print_.nbbo_bid_e9, print_.nbbo_ask_e9) == (230_000_000, 250_000_000)
    assert (print_.nbbo_bid_size_contracts, print_.nbbo_ask_size_contracts) == (3, 4)
    assert print_.nbbo_ts == print_.ts_event == T0


def test_tbbo_with_an_empty_book_gives_a_print_without_quote() -> None:
    (print_,) = parse_record(mbp1(bid=UNDEF, ask=UNDEF), options("tbbo")).events
    assert isinstance(print_, OptionPrint)
    assert (print_.nbbo_bid_e9, print_.nbbo_ask_e9, print_.nbbo_ts) == (None, None, None)


def test_mbp1_trade_is_placed_against_the_venue_books_not_its_record() -> None:
    # mbp-1 streams every venue's book as quotes: its trades join them as of their time.
    (print_,) = parse_record(mbp1(publisher_id=XISX), options("mbp-1")).events
    assert isinstance(print_, OptionPrint)
    assert print_.nbbo_ask_e9 is None


def test_tcbbo_print_carries_the_nbbo_at_trade_time() -> None:
    (event,) = parse_record(cmbp1(), options("tcbbo")).events
    assert isinstance(event, OptionPrint)
    assert (event.nbbo_bid_e9, event.nbbo_ask_e9) == (230_000_000, 250_000_000)
    assert (event.nbbo_bid_size_contracts, event.nbbo_ask_size_contracts) == (7, 9)
    assert event.nbbo_ts == event.ts_event == T0
    assert event.venue == "EMLD"


@pytest.mark.parametrize(
    ("bid", "ask", "expected"),
    [
        pytest.param(UNDEF, UNDEF, (None, None), id="no-nbbo"),
        pytest.param(UNDEF, 250_000_000, (0, 250_000_000), id="no-bid"),
        pytest.param(230_000_000, UNDEF, (230_000_000, 0), id="no-ask"),
    ],
)
def test_tcbbo_undefined_sides(bid: int, ask: int, expected: tuple[int | None, int | None]) -> None:
    (event,) = parse_record(cmbp1(bid=bid, ask=ask), options("tcbbo")).events
    assert isinstance(event, OptionPrint)
    assert (event.nbbo_bid_e9, event.nbbo_ask_e9) == expected


def test_tcbbo_bad_book_keeps_the_print_without_nbbo() -> None:
    parsed = parse_record(cmbp1(flags=dbn.F_MAYBE_BAD_BOOK), options("tcbbo"))
    (event,) = parsed.events
    assert isinstance(event, OptionPrint)
    assert event.nbbo_bid_e9 is None
    assert parsed.skipped == (Skip.MAYBE_BAD_BOOK,)


def test_cmbp1_book_update_is_the_nbbo() -> None:
    (event,) = parse_record(cmbp1(rtype=dbn.RType.CMBP_1, action=dbn.Action.MODIFY), options("cmbp-1")).events
    assert isinstance(event, OptionNbbo)
    assert (event.venue, event.bid_e9, event.ask_e9) == (CONSOLIDATED_VENUE, 230_000_000, 250_000_000)


def test_mbp1_quote_is_the_venue_book() -> None:
    (event,) = parse_record(mbp1(action=dbn.Action.ADD, publisher_id=XISX), options("mbp-1")).events
    assert isinstance(event, OptionNbbo)
    assert (event.venue, event.symbol, event.underlying) == ("XISX", OSI, "AAPL")
    assert (event.ts_event, event.sequence) == (T0, 713_382)


def test_cleared_book_quotes_zero_on_both_sides() -> None:
    (event,) = parse_record(mbp1(action=dbn.Action.CLEAR, bid=UNDEF, ask=UNDEF), options("mbp-1")).events
    assert isinstance(event, OptionNbbo)
    assert (event.bid_e9, event.ask_e9) == (0, 0)


def test_cbbo_snapshot_is_consolidated_and_valid_at_the_interval_end() -> None:
    (event,) = parse_record(cbbo(), options("cbbo-1s")).events
    assert isinstance(event, OptionNbbo)
    assert event.venue == CONSOLIDATED_VENUE
    # ts_event of a cbbo record is its last trade's time; the quote holds at the interval end.
    assert event.ts_event == event.ts_recv == 1_740_061_801_000_000_000
    assert (event.bid_e9, event.ask_e9, event.bid_size_contracts, event.ask_size_contracts) == (
        100_000_000,
        250_000_000,
        1,
        4,
    )


def test_bbo_snapshot_is_the_venue_book_at_the_interval_end() -> None:
    (event,) = parse_record(bbo(), options("bbo-1s")).events
    assert isinstance(event, OptionNbbo)
    assert (event.venue, event.ts_event, event.sequence) == ("XISX", 1_740_061_801_000_000_000, 11)


@pytest.mark.parametrize(
    ("raw", "instrument_class", "right"),
    [
        pytest.param(OSI, dbn.InstrumentClass.CALL, "C", id="call"),
        pytest.param(PUT_OSI, dbn.InstrumentClass.PUT, "P", id="put"),
    ],
)
def test_definition_fields(raw: str, instrument_class: dbn.InstrumentClass, right: str) -> None:
    (event,) = parse_record(definition(raw_symbol=raw, instrument_class=instrument_class), options()).events
    assert isinstance(event, OptionDefinition)
    assert (event.symbol, event.underlying, event.root, event.right) == (raw, "AAPL", "AAPL", right)
    assert (event.expiry, event.strike_e9) == (date(2025, 2, 21), STRIKE_E9)
    assert (event.multiplier, event.instrument_id, event.venue) == (100, IID, "OPRA")


def test_definition_without_underlying_uses_the_root_map() -> None:
    raw = "SPXW  250221C05000000"
    record = definition(raw_symbol=raw, underlying="", strike_price=5_000 * 10**9)
    (event,) = parse_record(record, options()).events
    assert isinstance(event, OptionDefinition)
    assert (event.root, event.underlying) == ("SPXW", "SPX")


def test_prints_take_underlying_and_multiplier_from_a_seen_definition() -> None:
    raw = "AAPL1 250221C00250000"  # an adjusted root: only the definition knows its underlying
    ctx = ParseContext("OPRA.PILLAR", "trades")
    defn = dbn.InstrumentDefMsg(
        publisher_id=OPRA_PUB,
        instrument_id=IID,
        ts_event=T0 - 1,
        ts_recv=T0,
        min_price_increment=UNDEF,
        display_factor=UNDEF,
        raw_symbol=raw,
        asset="AAPL1",
        security_type="OPT",
        instrument_class=dbn.InstrumentClass.CALL,
        security_update_action=dbn.SecurityUpdateAction.ADD,
        underlying="AAPL",
        contract_multiplier=150,
    )
    ctx.symbols.observe(defn)
    (event,) = parse_record(trade(), ctx).events
    assert isinstance(event, OptionPrint)
    assert (event.root, event.underlying, event.multiplier) == ("AAPL1", "AAPL", 150)


def test_open_interest_is_one_event_per_reporting_venue() -> None:
    ctx = options("statistics")
    events = [parse_record(statistic(publisher_id=p), ctx).events[0] for p in (EMLD, XISX)]
    assert all(isinstance(e, OpenInterest) for e in events)
    assert [e.venue for e in events] == ["EMLD", "XISX"]
    assert len({e.id for e in events}) == 2
    first = events[0]
    assert isinstance(first, OpenInterest)
    assert (first.open_interest_contracts, first.symbol, first.underlying, first.ts_ref) == (57_924, OSI, "AAPL", None)


@pytest.mark.parametrize(
    ("dataset", "publisher_id", "venue", "off_exchange"),
    [
        pytest.param("EQUS.SIP", SIP_XNAS, "XNAS", False, id="sip-nasdaq"),
        pytest.param("EQUS.SIP", SIP_FINN, "FINN", True, id="sip-trf-carteret"),
        pytest.param("EQUS.SIP", 133, "XADF", True, id="sip-adf"),
        pytest.param("EQUS.PLUS", 55, "FINY", True, id="plus-nyse-trf"),
        pytest.param("XNAS.BASIC", 83, "FINC", True, id="basic-trf-chicago"),
        pytest.param("EQUS.MINI", EQUS_MINI, "EQUS", False, id="mini"),
        pytest.param("XNAS.ITCH", XNAS_ITCH, "XNAS", False, id="itch"),
    ],
)
def test_equity_print_venue_and_off_exchange(dataset: str, publisher_id: int, venue: str, off_exchange: bool) -> None:
    (event,) = parse_record(trade(publisher_id=publisher_id, size=300), equities(dataset, "trades")).events
    assert isinstance(event, EquityPrint)
    assert (event.symbol, event.venue, event.venue_id, event.off_exchange) == (
        "QQQ",
        venue,
        str(publisher_id),
        off_exchange,
    )
    assert (event.size_shares, event.conditions, event.bid_e9) == (300, (), None)


def test_equity_tbbo_of_a_consolidated_product_gives_the_nbbo_as_a_quote_too() -> None:
    quote, print_ = parse_record(mbp1(publisher_id=EQUS_MINI), equities("EQUS.MINI", "tbbo")).events
    assert isinstance(quote, EquityQuote)
    assert isinstance(print_, EquityPrint)
    assert quote.venue == CONSOLIDATED_VENUE
    assert (quote.bid_e9, quote.ask_e9, quote.bid_size_shares, quote.ask_size_shares) == (
        230_000_000,
        250_000_000,
        3,
        4,
    )
    assert (print_.bid_e9, print_.ask_e9) == (230_000_000, 250_000_000)


def test_equity_tbbo_of_one_venue_places_its_print_against_that_venues_book_only() -> None:
    (print_,) = parse_record(mbp1(publisher_id=XNAS_ITCH), equities("XNAS.ITCH", "tbbo")).events
    assert isinstance(print_, EquityPrint)
    assert print_.venue == "XNAS"
    assert (print_.bid_e9, print_.ask_e9) == (230_000_000, 250_000_000)


# ----------------------------------------------------------------------------------------------- ids


def _id(record: dbn.DBNRecord, ctx: ParseContext, occurrence: int = 0) -> str:
    return parse_record(record, ctx, occurrence=occurrence).events[-1].id


def test_ids_are_deterministic() -> None:
    assert _id(trade(), options("trades")) == _id(trade(), options("trades"))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param((trade(), "trades", 0), (trade(publisher_id=XISX), "trades", 0), id="publisher"),
        pytest.param((trade(), "trades", 0), (trade(sequence=1), "trades", 0), id="sequence"),
        pytest.param((trade(), "trades", 0), (trade(ts_event=T0 + 1), "trades", 0), id="ts-event"),
        pytest.param((trade(), "trades", 0), (trade(instrument_id=PUT_IID), "trades", 0), id="instrument"),
        pytest.param((trade(), "trades", 0), (trade(), "trades", 1), id="occurrence"),
        pytest.param((trade(), "trades", 0), (cmbp1(), "tcbbo", 0), id="consolidated-schema"),
    ],
)
def test_ids_differ_by_provider_identity(
    left: tuple[dbn.DBNRecord, str, int], right: tuple[dbn.DBNRecord, str, int]
) -> None:
    (lrec, lschema, locc), (rrec, rschema, rocc) = left, right
    assert _id(lrec, options(lschema), locc) != _id(rrec, options(rschema), rocc)


@pytest.mark.parametrize(
    ("ctx", "record"),
    [
        pytest.param(options("tbbo"), mbp1(), id="opra-tbbo"),
        pytest.param(options("mbp-1"), mbp1(), id="opra-mbp1-trade"),
        pytest.param(equities("XNAS.ITCH", "tbbo"), mbp1(publisher_id=XNAS_ITCH), id="itch-tbbo"),
        pytest.param(equities("EQUS.MINI", "tbbo"), mbp1(publisher_id=EQUS_MINI), id="mini-tbbo"),
    ],
)
def test_a_venue_trade_has_one_id_whichever_schema_brings_it(ctx: ParseContext, record: dbn.MBP1Msg) -> None:
    trades = ParseContext(ctx.dataset, "trades", ctx.symbols)
    same = trade(publisher_id=record.publisher_id, ts_event=record.ts_event, sequence=record.sequence)
    assert _id(record, ctx) == _id(same, trades)
    assert _id(record, ctx, 1) == _id(same, trades, 1)
    assert _id(record, ctx) != _id(same, trades, 1)


def test_occurrence_counter_numbers_repeated_identities() -> None:
    counter = OccurrenceCounter()
    same = [trade(), trade(price=250_000_000), trade()]
    assert [counter.count(r) for r in same] == [0, 1, 2]
    assert counter.count(trade(publisher_id=XISX)) == 0
    assert counter.count(mbp1(action=dbn.Action.ADD)) == 0  # a book update is another identity
    assert counter.count(mbp1()) == 3, "a trade is numbered among trades, whichever record brings it"


def test_occurrence_counter_names_snapshots_by_interval_end() -> None:
    counter = OccurrenceCounter()
    # Two intervals with no new trade share ts_event (the last trade) but not their interval end.
    assert [counter.count(cbbo(ts_recv=t)) for t in (T0 + 1, T0 + 2, T0 + 2)] == [0, 0, 1]


def test_occurrence_counter_forgets_old_identities_only() -> None:
    counter = OccurrenceCounter(window=4)
    for i in range(9):
        counter.count(trade(ts_event=T0 + i))
    assert counter.count(trade(ts_event=T0 + 8)) == 1  # recent: remembered
    assert counter.count(trade(ts_event=T0)) == 0  # evicted: counted afresh


# ------------------------------------------------------------------------------------------- symbols

NS_PER_DAY = 86_400 * 10**9


def _day_ns(day: date) -> int:
    return (day - date(1970, 1, 1)).days * NS_PER_DAY


def test_symbol_map_from_raw_symbol_metadata_is_dated() -> None:
    symbols = SymbolMap()
    assert symbols.insert_metadata(metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID})) == 1
    assert symbols.resolve(IID, _day_ns(DAY)) == OSI
    assert symbols.resolve(IID, _day_ns(DAY) + NS_PER_DAY - 1) == OSI
    assert symbols.resolve(IID, _day_ns(DAY) + NS_PER_DAY) is None  # end date is exclusive
    assert symbols.resolve(IID, _day_ns(DAY) - 1) is None
    assert symbols.resolve(PUT_IID, _day_ns(DAY)) is None


def test_symbol_map_ignores_parent_symbology_metadata() -> None:
    symbols = SymbolMap()
    meta = metadata("OPRA.PILLAR", dbn.Schema.TRADES, {"AAPL.OPT": IID}, stype_in=dbn.SType.PARENT)
    assert symbols.insert_metadata(meta) == 0
    assert symbols.resolve(IID, T0) is None


def test_symbol_map_falls_back_to_definitions() -> None:
    symbols = SymbolMap()
    symbols.observe(definition(raw_symbol=PUT_OSI, instrument_id=PUT_IID))
    assert symbols.resolve(PUT_IID, T0) == PUT_OSI
    info = symbols.definition(PUT_IID)
    assert info is not None
    assert (info.underlying, info.multiplier) == ("AAPL", None)
    assert len(symbols) == 1


def test_symbol_map_takes_in_stream_mappings_and_later_inserts_win() -> None:
    symbols = SymbolMap()
    symbols.insert(IID, "OLD")
    mapping = dbn.SymbolMappingMsg(
        publisher_id=OPRA_PUB,
        instrument_id=IID,
        ts_event=T0,
        stype_in=dbn.SType.PARENT,
        stype_in_symbol="AAPL.OPT",
        stype_out=dbn.SType.INSTRUMENT_ID,
        stype_out_symbol=OSI,
        start_ts=T0,
        end_ts=dbn.UNDEF_TIMESTAMP,
    )
    symbols.observe(mapping)
    assert symbols.resolve(IID, T0) == OSI
    assert symbols.resolve(IID, T0 - 1) == "OLD"


@settings(max_examples=300, deadline=None)
@given(
    intervals=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 30), st.sampled_from(["A", "B", "C"])), max_size=6),
    ts=st.integers(0, 90),
    probes=st.lists(st.integers(0, 90), max_size=20),
)
def test_the_interval_around_a_time_resolves_to_one_symbol(
    intervals: list[tuple[int, int, str]], ts: int, probes: list[int]
) -> None:
    """What `_contract` caches per instrument holds over the interval `SymbolMap.interval` gives: every time in it
    resolves to the symbol the time itself resolves to, whatever the overlaps and the order of inserts."""
    symbols = SymbolMap()
    for start, length, symbol in intervals:
        symbols.insert(7, symbol, start, start + length)
    lo, hi = symbols.interval(7, ts)
    assert lo <= ts < hi
    for t in probes:
        if lo <= t < hi:
            assert symbols.resolve(7, t) == symbols.resolve(7, ts), (t, lo, hi)


def test_a_cached_contract_follows_a_symbol_map_change() -> None:
    """A mapping inserted mid-file (a live recording's SymbolMappingMsg) is seen by the next record of the id."""
    ctx = ParseContext(dataset="OPRA.PILLAR", schema="trades")
    ctx.symbols.insert(IID, "SPY   260320C00580000")
    first = parse_record(trade(ts_event=T0), ctx)
    ctx.symbols.insert(IID, "QQQ   260320P00400000", T0 + 1)
    second = parse_record(trade(ts_event=T0 + 5, sequence=2), ctx)
    assert [e.symbol for e in first.events] == ["SPY   260320C00580000"]  # type: ignore[attr-defined]
    assert [e.symbol for e in second.events] == ["QQQ   260320P00400000"]  # type: ignore[attr-defined]

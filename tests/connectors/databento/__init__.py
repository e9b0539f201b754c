"""Builders of real `databento_dbn` records and DBN files for the Databento connector tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import databento_dbn as dbn
import zstandard

OSI = "AAPL  250221C00250000"
PUT_OSI = "AAPL  250221P00250000"
IID = 16783963
PUT_IID = 16783964
DAY = date(2025, 2, 20)
T0 = 1_740_061_800_817_657_088  # 2025-02-20T14:30:00.817657088Z
RECV_DELAY_NS = 209_435
EXPIRATION_NS = 1_740_096_000_000_000_000  # 2025-02-21T00:00:00Z
STRIKE_E9 = 250_000_000_000

EMLD, XISX, OPRA_PUB = 23, 26, 30
XNAS_ITCH, EQUS_MINI = 2, 95
SIP_XNAS, SIP_FINN = 124, 130
UNDEF = dbn.UNDEF_PRICE


def _recv(ts_event: int) -> int:
    return T0 + RECV_DELAY_NS if ts_event == dbn.UNDEF_TIMESTAMP else ts_event + RECV_DELAY_NS


def trade(
    *,
    publisher_id: int = EMLD,
    instrument_id: int = IID,
    ts_event: int = T0,
    price: int = 240_000_000,
    size: int = 5,
    sequence: int = 713_382,
    flags: int = 0,
) -> dbn.TradeMsg:
    """Return a `trades` record."""
    return dbn.TradeMsg(
        publisher_id=publisher_id,
        instrument_id=instrument_id,
        ts_event=ts_event,
        price=price,
        size=size,
        action=dbn.Action.TRADE,
        side=dbn.Side.NONE,
        depth=0,
        ts_recv=_recv(ts_event),
        flags=flags,
        sequence=sequence,
    )


def mbp1(
    *,
    action: dbn.Action = dbn.Action.TRADE,
    publisher_id: int = EMLD,
    instrument_id: int = IID,
    ts_event: int = T0,
    price: int = 240_000_000,
    size: int = 5,
    bid: int = 230_000_000,
    ask: int = 250_000_000,
    bid_size: int = 3,
    ask_size: int = 4,
    sequence: int = 713_382,
    flags: int = 0,
) -> dbn.MBP1Msg:
    """Return an `mbp-1` (or `tbbo`, for a trade) record with the given top of book."""
    return dbn.MBP1Msg(
        publisher_id=publisher_id,
        instrument_id=instrument_id,
        ts_event=ts_event,
        price=price,
        size=size,
        action=action,
        side=dbn.Side.NONE,
        depth=0,
        ts_recv=ts_event + RECV_DELAY_NS,
        flags=flags,
        sequence=sequence,
        levels=dbn.BidAskPair(bid_px=bid, ask_px=ask, bid_sz=bid_size, ask_sz=ask_size, bid_ct=1, ask_ct=1),
    )


def cmbp1(
    *,
    rtype: dbn.RType = dbn.RType.TCBBO,
    action: dbn.Action = dbn.Action.TRADE,
    publisher_id: int = EMLD,
    ts_event: int = T0,
    price: int = 240_000_000,
    size: int = 5,
    bid: int = 230_000_000,
    ask: int = 250_000_000,
    flags: int = 0,
) -> dbn.CMBP1Msg:
    """Return a `tcbbo` (default) or `cmbp-1` record: a trade with the consolidated BBO before it."""
    return dbn.CMBP1Msg(
        rtype=rtype,
        publisher_id=publisher_id,
        instrument_id=IID,
        ts_event=ts_event,
        price=price,
        size=size,
        action=action,
        side=dbn.Side.NONE,
        ts_recv=ts_event + RECV_DELAY_NS,
        flags=flags,
        levels=dbn.ConsolidatedBidAskPair(bid_px=bid, ask_px=ask, bid_sz=7, ask_sz=9, bid_pb=XISX, ask_pb=EMLD),
    )


def cbbo(*, ts_recv: int = 1_740_061_801_000_000_000, bid: int = 100_000_000, ask: int = 250_000_000) -> dbn.CBBOMsg:
    """Return a `cbbo-1s` snapshot whose last trade was before the interval end."""
    return dbn.CBBOMsg(
        rtype=dbn.RType.CBBO_1S,
        publisher_id=OPRA_PUB,
        instrument_id=IID,
        ts_event=T0,
        price=240_000_000,
        size=1,
        side=dbn.Side.NONE,
        ts_recv=ts_recv,
        levels=dbn.ConsolidatedBidAskPair(bid_px=bid, ask_px=ask, bid_sz=1, ask_sz=4, bid_pb=EMLD, ask_pb=EMLD),
    )


def bbo(*, ts_recv: int = 1_740_061_801_000_000_000) -> dbn.BBOMsg:
    """Return a `bbo-1s` snapshot of one venue's book."""
    return dbn.BBOMsg(
        rtype=dbn.RType.BBO_1S,
        publisher_id=XISX,
        instrument_id=IID,
        ts_event=dbn.UNDEF_TIMESTAMP,
        price=UNDEF,
        size=0,
        side=dbn.Side.NONE,
        ts_recv=ts_recv,
        sequence=11,
        levels=dbn.BidAskPair(bid_px=180_000_000, ask_px=220_000_000, bid_sz=3, ask_sz=3),
    )


def definition(
    *,
    raw_symbol: str = OSI,
    instrument_id: int = IID,
    instrument_class: dbn.InstrumentClass = dbn.InstrumentClass.CALL,
    strike_price: int = STRIKE_E9,
    expiration: int = EXPIRATION_NS,
    underlying: str = "AAPL",
    action: dbn.SecurityUpdateAction = dbn.SecurityUpdateAction.ADD,
    publisher_id: int = OPRA_PUB,
    ts_event: int = 1_740_051_008_943_644_160,
) -> dbn.InstrumentDefMsg:
    """Return an OPRA `definition` record (multiplier left undefined, as OPRA does)."""
    return dbn.InstrumentDefMsg(
        publisher_id=publisher_id,
        instrument_id=instrument_id,
        ts_event=ts_event,
        ts_recv=ts_event + RECV_DELAY_NS,
        min_price_increment=UNDEF,
        display_factor=UNDEF,
        raw_symbol=raw_symbol,
        asset="AAPL",
        security_type="OPT",
        instrument_class=instrument_class,
        security_update_action=action,
        expiration=expiration,
        strike_price=strike_price,
        underlying=underlying,
    )


def statistic(
    *,
    stat_type: dbn.StatType = dbn.StatType.OPEN_INTEREST,
    quantity: int = 57_924,
    publisher_id: int = EMLD,
    update_action: dbn.StatUpdateAction = dbn.StatUpdateAction.NEW,
) -> dbn.StatMsg:
    """Return a `statistics` record (open interest by default)."""
    return dbn.StatMsg(
        publisher_id=publisher_id,
        instrument_id=IID,
        ts_event=1_740_051_008_943_644_160,
        ts_recv=1_740_051_008_943_854_625,
        ts_ref=dbn.UNDEF_TIMESTAMP,
        price=UNDEF,
        quantity=quantity,
        stat_type=stat_type,
        sequence=111_763,
        update_action=update_action,
    )


@dataclass(frozen=True)
class _Interval:
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class _Mapping:
    raw_symbol: str
    intervals: list[_Interval]


def metadata(
    dataset: str,
    schema: dbn.Schema | None,
    symbols: dict[str, int],
    *,
    stype_in: dbn.SType = dbn.SType.RAW_SYMBOL,
    day: date = DAY,
) -> dbn.Metadata:
    """Return DBN metadata mapping each raw symbol to its instrument id for one day."""
    next_day = date.fromordinal(day.toordinal() + 1)
    return dbn.Metadata(
        dataset=dataset,
        start=T0 - 10**12,
        stype_in=stype_in,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=list(symbols),
        mappings=[_Mapping(raw, [_Interval(day, next_day, str(iid))]) for raw, iid in symbols.items()],
        end=T0 + 10**12,
    )


def write_dbn(
    path: Path, meta: dbn.Metadata, records: Sequence[dbn.DBNRecord], *, compress: bool | None = None
) -> Path:
    """Write a DBN file (zstd-compressed when the name ends in `.zst`, unless `compress` says otherwise)."""
    body = bytes(meta) + b"".join(bytes(r) for r in records)
    if compress if compress is not None else path.name.endswith(".zst"):
        body = zstandard.ZstdCompressor().compress(body)
    path.write_bytes(body)
    return path

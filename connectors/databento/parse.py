"""Databento DBN records → flowtape raw events. Pure: no I/O, no clock.

One record gives zero or more events (`Parsed`); what it could not give is named by a skip reason, never
raised, so a reader can count reasons and keep going. Prices and timestamps are DBN's own int 1e-9 and int
ns, used as they are.

What each record becomes (BEHAVIOR §1):

- `trades` → print. `tbbo` → print carrying the venue's own book just before the trade as its quote at trade
  (never the NBBO, and never a quote event: a venue's quote seen only when it trades is consumed by that
  trade, so it must not feed a book). `mbp-1` → the venue's quote for book actions, a print for trades.
- A venue's trade has one id whichever schema brings it (`trades`, `tbbo`, `mbp-1`): same publisher,
  instrument, ts_event, sequence and occurrence give the same id, so a reader can count it once.
- `tcbbo` / `cmbp-1` → print carrying the consolidated BBO (the NBBO at trade time); `cmbp-1` book
  actions → consolidated quote.
- `cbbo-1s/1m` → consolidated quote; `bbo-1s/1m` → the venue's quote. Both are snapshots valid at the
  interval end (`ts_recv`), which becomes the quote's `ts_event`; their forward-filled last sale is not a
  print.
- `definition` → option definition (equity definitions only feed the symbol map).
- `statistics` stat type 9 → open interest, one per reporting venue.

Equities carry the publisher's off-exchange status; a quote from a consolidated equity product (EQUS.MINI,
the SIP processors) is the consolidated quote (venue `NBBO`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple, cast

import msgspec
from databento_dbn import (
    F_BAD_TS_RECV,
    F_MAYBE_BAD_BOOK,
    UNDEF_PRICE,
    UNDEF_STAT_QUANTITY,
    BBOMsg,
    CBBOMsg,
    CMBP1Msg,
    DBNRecord,
    ErrorMsg,
    InstrumentDefMsg,
    MBP1Msg,
    Metadata,
    StatMsg,
    SymbolMappingMsg,
    SystemMsg,
    TradeMsg,
)

from connectors.venues import is_consolidated, is_off_exchange, venue_code
from events.ids import raw_event_id
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
from events.symbology import OccSymbol, Right, parse_occ
from events.units import NS_PER_S
from events.wire import Checked

PROVIDER = "databento"
DEFAULT_MULTIPLIER = 100
OPEN_INTEREST_STAT_TYPE = 9

_MAX_TS = 2**63  # anything at or above is DBN's undefined timestamp (or would overflow Int64 storage)
_UNDEF_I32 = 2**31 - 1  # DBN's undefined 32-bit quantity (e.g. an OPRA definition's contract_multiplier)
_NS_PER_DAY = 86_400 * NS_PER_S
_EPOCH = date(1970, 1, 1)

CONSOLIDATED_SCHEMAS = frozenset({"tcbbo", "cmbp-1", "cbbo-1s", "cbbo-1m"})
"""Schemas whose book is the consolidated BBO across venues."""
VENUE_TRADE_SCHEMAS = frozenset({"trades", "tbbo", "mbp-1"})
"""Schemas that carry each venue's trades with the venue's own sequence: one trade, one id, across them."""
CONSOLIDATED_TRADE_SCHEMAS = frozenset({"tcbbo", "cmbp-1"})
"""Schemas carrying trades with the consolidated BBO and no venue sequence: their ids match no venue schema's."""
TRADE_ID_SCHEMA = "trades"
"""The schema named in the id of a venue trade, whichever of `VENUE_TRADE_SCHEMAS` brought it."""

# Events are built with the contracts' checks through `events.wire` (a refused one is skipped as invalid).
_PRINT = Checked(OptionPrint)
_NBBO = Checked(OptionNbbo)
_EQUITY_PRINT = Checked(EquityPrint)
_EQUITY_QUOTE = Checked(EquityQuote)
_DEFINITION = Checked(OptionDefinition)
_OPEN_INTEREST = Checked(OpenInterest)

_BOOK_ACTIONS = frozenset("ACMR")  # add, cancel, modify, clear: the top of book changed


class Skip:
    """Skip reasons: why a record (or part of it) produced no event."""

    UNSUPPORTED_RECORD = "unsupported_record"
    CONTROL_RECORD = "control_record"
    UNSUPPORTED_ACTION = "unsupported_action"
    UNRESOLVED_SYMBOL = "unresolved_symbol"
    UNPARSABLE_SYMBOL = "unparsable_symbol"
    UNDEFINED_TS_EVENT = "undefined_ts_event"
    UNDEFINED_PRICE = "undefined_price"
    ZERO_SIZE = "zero_size"
    NEGATIVE_QUOTE = "negative_quote"
    MAYBE_BAD_BOOK = "maybe_bad_book"
    NOT_AN_OPTION = "not_an_option"
    EQUITY_DEFINITION = "equity_definition"
    DEFINITION_DELETED = "definition_deleted"
    UNSUPPORTED_STATISTIC = "unsupported_statistic"
    STATISTIC_DELETED = "statistic_deleted"
    UNDEFINED_QUANTITY = "undefined_quantity"
    INVALID_EVENT = "invalid_event"


# ------------------------------------------------------------------------------------------ symbols


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """What a definition record says about an instrument beyond its symbol."""

    symbol: str
    underlying: str | None
    multiplier: int | None


class SymbolMap:
    """instrument_id → raw symbol, by time: from DBN metadata, symbol-mapping records and definitions.

    Mapping intervals win (they are dated); a definition seen for the id is the fallback, which is what
    resolves files requested with parent symbology (`AAPL.OPT`), whose metadata never names the contracts.
    """

    __slots__ = ("_definitions", "_intervals", "version")

    def __init__(self) -> None:
        self._intervals: dict[int, list[tuple[int, int, str]]] = {}
        self._definitions: dict[int, InstrumentInfo] = {}
        self.version = 0
        """Bumped by every change, so what is cached from the map can tell it is still right."""

    def insert(self, instrument_id: int, symbol: str, start_ns: int = 0, end_ns: int = _MAX_TS) -> None:
        """Map `instrument_id` to `symbol` for `start_ns <= ts < end_ns`; later inserts win on overlap."""
        self._intervals.setdefault(instrument_id, []).append((start_ns, end_ns, symbol))
        self.version += 1

    def insert_metadata(self, metadata: Metadata) -> int:
        """Insert the metadata's mappings when one side is the raw symbol; return the intervals inserted."""
        stypes = (
            _code(metadata.stype_in) if metadata.stype_in is not None else None,
            _code(metadata.stype_out),
        )
        if stypes == ("raw_symbol", "instrument_id"):
            raw_is_key = True
        elif stypes == ("instrument_id", "raw_symbol"):
            raw_is_key = False
        else:
            return 0  # parent/continuous symbology: the metadata never names the instruments
        inserted = 0
        for key, intervals in metadata.mappings.items():
            for interval in intervals:
                out = str(interval["symbol"])
                if not out:
                    continue
                try:
                    instrument_id = int(out if raw_is_key else key)
                except ValueError:
                    continue
                self.insert(
                    instrument_id,
                    key if raw_is_key else out,
                    _date_ns(interval["start_date"]),
                    _date_ns(interval["end_date"]),
                )
                inserted += 1
        return inserted

    def insert_mapping_msg(self, msg: SymbolMappingMsg) -> None:
        """Insert a symbol-mapping record (live recordings carry these in-stream)."""
        # Same rule as databento's InstrumentMap: the output symbol, unless it is the numeric id itself.
        symbol = msg.stype_in_symbol if msg.stype_out_symbol.isdigit() else msg.stype_out_symbol
        start = msg.start_ts if msg.start_ts < _MAX_TS else 0
        end = msg.end_ts if msg.end_ts < _MAX_TS else _MAX_TS
        self.insert(msg.instrument_id, symbol, start, end)

    def insert_definition(self, msg: InstrumentDefMsg) -> None:
        """Remember a definition's raw symbol, underlying and multiplier for its instrument id."""
        symbol = msg.raw_symbol.strip()
        if not symbol:
            return
        multiplier = msg.contract_multiplier if 0 < msg.contract_multiplier < _UNDEF_I32 else None
        underlying = msg.underlying.strip() or None
        self._definitions[msg.instrument_id] = InstrumentInfo(symbol, underlying, multiplier)
        self.version += 1

    def observe(self, record: DBNRecord) -> None:
        """Learn from a record that names instruments (symbol mapping, definition); ignore any other."""
        if isinstance(record, SymbolMappingMsg):
            self.insert_mapping_msg(record)
        elif isinstance(record, InstrumentDefMsg):
            self.insert_definition(record)

    def resolve(self, instrument_id: int, ts_ns: int) -> str | None:
        """Return the raw symbol of `instrument_id` at `ts_ns`, or None when nothing maps it."""
        intervals = self._intervals.get(instrument_id)
        if intervals:
            for start, end, symbol in reversed(intervals):
                if start <= ts_ns < end:
                    return symbol
        info = self._definitions.get(instrument_id)
        return info.symbol if info is not None else None

    def interval(self, instrument_id: int, ts_ns: int) -> tuple[int, int]:
        """Return [lo, hi) around `ts_ns` over which `resolve(instrument_id, ts)` gives one answer: the mapping
        interval in force (the later inserted winning), or the gap between intervals it falls in."""
        lo, hi = 0, _MAX_TS
        for start, end, _ in reversed(self._intervals.get(instrument_id, ())):
            if start <= ts_ns < end:
                return max(lo, start), min(hi, end)
            # An interval not in force narrows the span to the side of `ts_ns` it lies on (it may win there).
            if end <= ts_ns:
                lo = max(lo, end)
            elif start > ts_ns:
                hi = min(hi, start)
        return lo, hi

    def definition(self, instrument_id: int) -> InstrumentInfo | None:
        """Return what a definition said about `instrument_id`, if one was seen."""
        return self._definitions.get(instrument_id)

    def __len__(self) -> int:
        return len(self._intervals.keys() | self._definitions.keys())


def _date_ns(value: date | str) -> int:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return (day - _EPOCH).days * _NS_PER_DAY


# ------------------------------------------------------------------------------------ parse results


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a record does not say about itself: its file's dataset and schema, and the symbol map."""

    dataset: str
    schema: str | None = None
    symbols: SymbolMap = field(default_factory=SymbolMap)
    is_options: bool = field(init=False)
    contracts: dict[int, tuple[int, int, int, _Contract | str]] = field(default_factory=dict, init=False)
    """instrument_id -> (symbol map version, ts_lo, ts_hi, what `_contract` gave for times in [lo, hi))."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_options", self.dataset.startswith("OPRA."))


class Parsed(NamedTuple):
    """The events a record produced, in emit order, and the reasons for any part that produced none (a named
    tuple: one per record, so cheap to make)."""

    events: tuple[RawEvent, ...] = ()
    skipped: tuple[str, ...] = ()


def _skip(reason: str) -> Parsed:
    return Parsed(skipped=(reason,))


class OccurrenceCounter:
    """Number records that share a provider identity, so their event ids differ.

    OPRA stamps every message of a block with the block's timestamp and sequence number, and consolidated
    records carry no sequence at all: two fills of one contract can share (publisher, instrument, ts_event,
    sequence). The first gets 0, the next 1, ... Duplicates arrive together, so only the most recent
    `window` identities are remembered; the count depends only on the record stream, so replays agree.
    """

    __slots__ = ("_seen", "_window")

    def __init__(self, window: int = 1 << 16) -> None:
        self._seen: dict[tuple[object, ...], int] = {}
        self._window = window

    def count(self, record: DBNRecord) -> int:
        """Return how many earlier records had the same identity as `record`."""
        # Interval snapshots are named by their interval end (see `_parse_snapshot`), other records by ts_event.
        # (The record classes are final: `type(...) is` is exact.)
        kind: object = type(record)
        ts = cast(CBBOMsg, record).ts_recv if kind is CBBOMsg or kind is BBOMsg else record.ts_event
        # A venue's trade is numbered among trades only, whether a `trades` or an `mbp-1`/`tbbo` record brings
        # it (OPRA blocks mix book updates and trades under one sequence): its id is then the same in each.
        if kind is MBP1Msg and _code(cast(MBP1Msg, record).action) == "T":
            kind = TradeMsg
        key = (kind, record.publisher_id, record.instrument_id, ts, getattr(record, "sequence", 0))
        seen = self._seen.get(key, -1) + 1
        self._seen[key] = seen
        if len(self._seen) > 2 * self._window:
            for old in list(islice(self._seen, self._window)):
                del self._seen[old]
        return seen


# ------------------------------------------------------------------------------------------ helpers


class _Contract(NamedTuple):
    raw: str
    occ: OccSymbol
    osi: str
    underlying: str
    multiplier: int


@lru_cache(maxsize=1 << 16)
def _occ(symbol: str) -> OccSymbol | None:
    try:
        return parse_occ(symbol)
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)
def _option_contract(raw: str, underlying: str | None, multiplier: int | None) -> _Contract | None:
    # Cached: formatting the OSI symbol costs more than building the event around it.
    occ = _occ(raw)
    if occ is None:
        return None
    return _Contract(raw, occ, occ.osi, underlying or occ.underlying, multiplier or DEFAULT_MULTIPLIER)


def _code(value: object) -> str:
    # databento_dbn's enums are native classes, not enum.Enum: read their value when they have one.
    code = getattr(value, "value", value)
    return code if isinstance(code, str) else str(code)


def _number(value: object) -> int | None:
    number = getattr(value, "value", value)
    return number if isinstance(number, int) else None


def _ts(value: int) -> int | None:
    return value if 0 < value < _MAX_TS else None


def _ts_recv(record: TradeMsg | MBP1Msg | CMBP1Msg | CBBOMsg | BBOMsg | StatMsg | InstrumentDefMsg) -> int | None:
    flags = getattr(record, "flags", 0)
    return None if flags & F_BAD_TS_RECV else _ts(record.ts_recv)


def _event_id(
    ctx: ParseContext,
    schema: str,
    publisher_id: int,
    instrument: str,
    ts_event: int,
    sequence: int,
    occurrence: int,
    part: str = "",
) -> str:
    # The publisher is part of the channel: OPRA venues share timestamps and block sequence numbers.
    channel = f"{ctx.dataset}.{schema}:{publisher_id}{part}"
    if occurrence:
        instrument = f"{instrument}#{occurrence}"
    return raw_event_id(PROVIDER, channel, instrument, ts_event, sequence)


def _symbol_ts(record: DBNRecord) -> int:
    # Databento dates its symbol mappings by the record's index time (ts_recv), falling back to ts_event.
    ts_recv = getattr(record, "ts_recv", 0)
    return ts_recv if 0 < ts_recv < _MAX_TS else record.ts_event


def _contract(record: DBNRecord, ctx: ParseContext) -> _Contract | str:
    # Cached per instrument for the mapping interval the time falls in, while the symbol map is unchanged: the
    # answer depends on nothing else.
    instrument_id, ts = record.instrument_id, _symbol_ts(record)
    cached = ctx.contracts.get(instrument_id)
    version = ctx.symbols.version
    if cached is not None and cached[0] == version and cached[1] <= ts < cached[2]:
        return cached[3]
    found = _resolve_contract(instrument_id, ts, ctx)
    lo, hi = ctx.symbols.interval(instrument_id, ts)
    ctx.contracts[instrument_id] = (version, lo, hi, found)
    return found


def _resolve_contract(instrument_id: int, ts: int, ctx: ParseContext) -> _Contract | str:
    raw = ctx.symbols.resolve(instrument_id, ts)
    if raw is None:
        return Skip.UNRESOLVED_SYMBOL
    info = ctx.symbols.definition(instrument_id)
    if info is not None and info.symbol == raw.strip():
        contract = _option_contract(raw, info.underlying, info.multiplier)
    else:
        contract = _option_contract(raw, None, None)
    return contract if contract is not None else Skip.UNPARSABLE_SYMBOL


def _equity_symbol(record: DBNRecord, ctx: ParseContext) -> str:
    raw = ctx.symbols.resolve(record.instrument_id, _symbol_ts(record))
    return raw.strip() if raw else ""


class _Book(NamedTuple):
    bid_e9: int
    ask_e9: int
    bid_size: int
    ask_size: int
    empty: bool


def _book(record: MBP1Msg | CMBP1Msg | CBBOMsg | BBOMsg) -> _Book | str:
    bid, ask = record.bid_px_00, record.ask_px_00
    if bid < 0 or (ask < 0):
        return Skip.NEGATIVE_QUOTE
    bid_undef, ask_undef = bid >= UNDEF_PRICE, ask >= UNDEF_PRICE
    return _Book(
        0 if bid_undef else bid,
        0 if ask_undef else ask,
        record.bid_sz_00,
        record.ask_sz_00,
        bid_undef and ask_undef,
    )


# ------------------------------------------------------------------------------------------ records


class _Out:
    """Collects a record's events and skip reasons."""

    __slots__ = ("events", "skipped")

    def __init__(self) -> None:
        self.events: list[RawEvent] = []
        self.skipped: list[str] = []

    def add(self, model: Checked, values: dict[str, Any]) -> None:
        try:
            self.events.append(model.make(values))
        except (msgspec.ValidationError, ValueError):  # the contract refuses the values
            self.skipped.append(Skip.INVALID_EVENT)

    def result(self) -> Parsed:
        return Parsed(tuple(self.events), tuple(self.skipped))


def _quote(
    record: MBP1Msg | CMBP1Msg | CBBOMsg | BBOMsg,
    ctx: ParseContext,
    schema: str,
    ts_event: int,
    occurrence: int,
    out: _Out,
    part: str = "",
) -> None:
    """Add the record's top of book as a quote event (venue book or consolidated)."""
    if record.flags & F_MAYBE_BAD_BOOK:
        out.skipped.append(Skip.MAYBE_BAD_BOOK)
        return
    book = _book(record)
    if isinstance(book, str):
        out.skipped.append(book)
        return
    publisher_id = record.publisher_id
    consolidated = schema in CONSOLIDATED_SCHEMAS or (not ctx.is_options and is_consolidated(publisher_id))
    venue = CONSOLIDATED_VENUE if consolidated else venue_code(publisher_id)
    sequence = getattr(record, "sequence", 0)
    ts_recv = _ts_recv(record)
    if ctx.is_options:
        contract = _contract(record, ctx)
        if isinstance(contract, str):
            out.skipped.append(contract)
            return
        event_id = _event_id(ctx, schema, publisher_id, contract.raw, ts_event, sequence, occurrence, part)
        out.add(
            _NBBO,
            {
                "id": event_id,
                "ts_event": ts_event,
                "provider": PROVIDER,
                "ts_recv": ts_recv,
                "sequence": sequence,
                "symbol": contract.osi,
                "underlying": contract.underlying,
                "venue": venue,
                "bid_e9": book.bid_e9,
                "ask_e9": book.ask_e9,
                "bid_size_contracts": book.bid_size,
                "ask_size_contracts": book.ask_size,
            },
        )
        return
    symbol = _equity_symbol(record, ctx)
    if not symbol:
        out.skipped.append(Skip.UNRESOLVED_SYMBOL)
        return
    event_id = _event_id(ctx, schema, publisher_id, symbol, ts_event, sequence, occurrence, part)
    out.add(
        _EQUITY_QUOTE,
        {
            "id": event_id,
            "ts_event": ts_event,
            "provider": PROVIDER,
            "ts_recv": ts_recv,
            "sequence": sequence,
            "symbol": symbol,
            "venue": venue,
            "bid_e9": book.bid_e9,
            "ask_e9": book.ask_e9,
            "bid_size_shares": book.bid_size,
            "ask_size_shares": book.ask_size,
        },
    )


def _trade(
    record: TradeMsg | MBP1Msg | CMBP1Msg,
    ctx: ParseContext,
    schema: str,
    occurrence: int,
    out: _Out,
) -> None:
    """Add the record's trade as a print, with the record's book as its quote at trade when the record's book is
    the consolidated BBO, or (`tbbo`) the trading venue's own book just before the trade."""
    ts_event = _ts(record.ts_event)
    if ts_event is None:
        out.skipped.append(Skip.UNDEFINED_TS_EVENT)
        return
    price, size = record.price, record.size
    if not 0 < price < UNDEF_PRICE:
        out.skipped.append(Skip.UNDEFINED_PRICE)
        return
    if size <= 0:
        out.skipped.append(Skip.ZERO_SIZE)
        return
    publisher_id = record.publisher_id
    book: _Book | None = None
    if not isinstance(record, TradeMsg) and (
        schema in CONSOLIDATED_SCHEMAS or schema == "tbbo" or (not ctx.is_options and is_consolidated(publisher_id))
    ):
        if record.flags & F_MAYBE_BAD_BOOK:
            out.skipped.append(Skip.MAYBE_BAD_BOOK)
        else:
            given = _book(record)
            if isinstance(given, str):
                out.skipped.append(given)
            elif not given.empty:
                book = given
    sequence = getattr(record, "sequence", 0)
    ts_recv = _ts_recv(record)
    venue = venue_code(publisher_id)
    id_schema = TRADE_ID_SCHEMA if schema in VENUE_TRADE_SCHEMAS else schema
    if ctx.is_options:
        contract = _contract(record, ctx)
        if isinstance(contract, str):
            out.skipped.append(contract)
            return
        event_id = _event_id(ctx, id_schema, publisher_id, contract.raw, ts_event, sequence, occurrence)
        occ = contract.occ
        out.add(
            _PRINT,
            {
                "id": event_id,
                "ts_event": ts_event,
                "provider": PROVIDER,
                "ts_recv": ts_recv,
                "sequence": sequence,
                "symbol": contract.osi,
                "underlying": contract.underlying,
                "root": occ.root,
                "expiry": occ.expiry,
                "right": occ.right,
                "strike_e9": occ.strike_e9,
                "multiplier": contract.multiplier,
                "venue": venue,
                "venue_id": str(publisher_id),
                "price_e9": price,
                "size_contracts": size,
                # The book given with the trade is the one just before it: as of the trade (tcbbo: the NBBO;
                # tbbo: the trading venue's own book, the quote the trade executed against).
                "nbbo_bid_e9": book.bid_e9 if book else None,
                "nbbo_ask_e9": book.ask_e9 if book else None,
                "nbbo_bid_size_contracts": book.bid_size if book else None,
                "nbbo_ask_size_contracts": book.ask_size if book else None,
                "nbbo_ts": ts_event if book else None,
            },
        )
        return
    symbol = _equity_symbol(record, ctx)
    if not symbol:
        out.skipped.append(Skip.UNRESOLVED_SYMBOL)
        return
    event_id = _event_id(ctx, id_schema, publisher_id, symbol, ts_event, sequence, occurrence)
    out.add(
        _EQUITY_PRINT,
        {
            "id": event_id,
            "ts_event": ts_event,
            "provider": PROVIDER,
            "ts_recv": ts_recv,
            "sequence": sequence,
            "symbol": symbol,
            "venue": venue,
            "venue_id": str(publisher_id),
            "off_exchange": is_off_exchange(ctx.dataset, publisher_id),
            "price_e9": price,
            "size_shares": size,
            "bid_e9": book.bid_e9 if book else None,
            "ask_e9": book.ask_e9 if book else None,
        },
    )


def _parse_trade(record: TradeMsg, ctx: ParseContext, occurrence: int) -> Parsed:
    out = _Out()
    _trade(record, ctx, "trades", occurrence, out)
    return out.result()


def _parse_mbp1(record: MBP1Msg, ctx: ParseContext, occurrence: int) -> Parsed:
    # tbbo and mbp-1 share the record type; only the file's schema tells them apart.
    schema = "tbbo" if ctx.schema == "tbbo" else "mbp-1"
    return _parse_book_event(record, ctx, schema, occurrence, venue_quote_on_trade=schema == "tbbo")


def _parse_cmbp1(record: CMBP1Msg, ctx: ParseContext, occurrence: int) -> Parsed:
    return _parse_book_event(record, ctx, str(record.rtype), occurrence, venue_quote_on_trade=False)


def _parse_book_event(
    record: MBP1Msg | CMBP1Msg,
    ctx: ParseContext,
    schema: str,
    occurrence: int,
    *,
    venue_quote_on_trade: bool,
) -> Parsed:
    out = _Out()
    action = _code(record.action)
    if action == "T":
        if venue_quote_on_trade and not ctx.is_options and is_consolidated(record.publisher_id):
            ts_event = _ts(record.ts_event)
            if ts_event is not None:
                # A consolidated product's tbbo (EQUS.MINI) gives the NBBO just before the trade: a quote for
                # the book too, emitted before the print. A venue's book stays on its print only.
                _quote(record, ctx, schema, ts_event, occurrence, out, part=":bbo")
        _trade(record, ctx, schema, occurrence, out)
    elif action in _BOOK_ACTIONS:
        ts_event = _ts(record.ts_event)
        if ts_event is None:
            return _skip(Skip.UNDEFINED_TS_EVENT)
        _quote(record, ctx, schema, ts_event, occurrence, out)
    else:
        return _skip(Skip.UNSUPPORTED_ACTION)
    return out.result()


def _parse_snapshot(record: CBBOMsg | BBOMsg, ctx: ParseContext, occurrence: int) -> Parsed:
    # Interval snapshots are valid at the interval end; ts_event there is the last trade's time.
    ts_event = _ts(record.ts_recv)
    if ts_event is None:
        return _skip(Skip.UNDEFINED_TS_EVENT)
    out = _Out()
    _quote(record, ctx, str(record.rtype), ts_event, occurrence, out)
    return out.result()


def _parse_definition(record: InstrumentDefMsg, ctx: ParseContext, occurrence: int) -> Parsed:
    if not ctx.is_options:
        return _skip(Skip.EQUITY_DEFINITION)
    instrument_class = _code(record.instrument_class)
    if instrument_class not in ("C", "P"):
        return _skip(Skip.NOT_AN_OPTION)
    right: Right = "C" if instrument_class == "C" else "P"
    if _code(record.security_update_action) == "D":
        return _skip(Skip.DEFINITION_DELETED)
    ts_event = _ts(record.ts_event)
    if ts_event is None:
        return _skip(Skip.UNDEFINED_TS_EVENT)
    raw = record.raw_symbol
    occ = _occ(raw)
    if occ is None:
        return _skip(Skip.UNPARSABLE_SYMBOL)
    expiration = _ts(record.expiration)
    expiry = datetime.fromtimestamp(expiration // NS_PER_S, UTC).date() if expiration else occ.expiry
    strike_e9 = record.strike_price if 0 < record.strike_price < UNDEF_PRICE else occ.strike_e9
    multiplier = record.contract_multiplier
    publisher_id = record.publisher_id
    event_id = _event_id(ctx, "definition", publisher_id, raw, ts_event, 0, occurrence)
    out = _Out()
    out.add(
        _DEFINITION,
        {
            "id": event_id,
            "ts_event": ts_event,
            "provider": PROVIDER,
            "ts_recv": _ts_recv(record),
            "symbol": occ.osi,
            "underlying": record.underlying.strip() or occ.underlying,
            "root": occ.root,
            "expiry": expiry,
            "right": right,
            "strike_e9": strike_e9,
            # OPRA leaves the multiplier undefined: the contract default applies.
            "multiplier": multiplier if 0 < multiplier < _UNDEF_I32 else DEFAULT_MULTIPLIER,
            "instrument_id": record.instrument_id,
            "venue": venue_code(publisher_id),
        },
    )
    return out.result()


def _parse_statistic(record: StatMsg, ctx: ParseContext, occurrence: int) -> Parsed:
    if not ctx.is_options or _number(record.stat_type) != OPEN_INTEREST_STAT_TYPE:
        return _skip(Skip.UNSUPPORTED_STATISTIC)
    if _number(record.update_action) == 2:  # StatUpdateAction.DELETE
        return _skip(Skip.STATISTIC_DELETED)
    quantity = record.quantity
    if not 0 <= quantity < UNDEF_STAT_QUANTITY:
        return _skip(Skip.UNDEFINED_QUANTITY)
    ts_event = _ts(record.ts_event)
    if ts_event is None:
        return _skip(Skip.UNDEFINED_TS_EVENT)
    contract = _contract(record, ctx)
    if isinstance(contract, str):
        return _skip(contract)
    publisher_id = record.publisher_id
    event_id = _event_id(ctx, "statistics", publisher_id, contract.raw, ts_event, record.sequence, occurrence)
    out = _Out()
    out.add(
        _OPEN_INTEREST,
        {
            "id": event_id,
            "ts_event": ts_event,
            "provider": PROVIDER,
            "ts_recv": _ts_recv(record),
            "symbol": contract.osi,
            "underlying": contract.underlying,
            "open_interest_contracts": quantity,
            "ts_ref": _ts(record.ts_ref),
            "venue": venue_code(publisher_id),
        },
    )
    return out.result()


def _parse_control(record: DBNRecord, ctx: ParseContext, occurrence: int) -> Parsed:
    return _skip(Skip.CONTROL_RECORD)


_PARSERS: dict[type, Callable[[DBNRecord, ParseContext, int], Parsed]] = {
    TradeMsg: _parse_trade,  # type: ignore[dict-item]
    MBP1Msg: _parse_mbp1,  # type: ignore[dict-item]
    CMBP1Msg: _parse_cmbp1,  # type: ignore[dict-item]
    CBBOMsg: _parse_snapshot,  # type: ignore[dict-item]
    BBOMsg: _parse_snapshot,  # type: ignore[dict-item]
    InstrumentDefMsg: _parse_definition,  # type: ignore[dict-item]
    StatMsg: _parse_statistic,  # type: ignore[dict-item]
    SymbolMappingMsg: _parse_control,
    SystemMsg: _parse_control,
    ErrorMsg: _parse_control,
}


def partition_key(record: DBNRecord, ctx: ParseContext) -> str | None:
    """Return the partition key (`Event.key`) of the events `record` would give, without building them: the
    option contract's underlying, or the equity's symbol; None for a record that names no instrument the symbol
    map resolves (control records, unresolved ids). A reader that keeps one partition of a file skips the
    records of other keys before parsing them (see `connectors.databento.files.read_dbn`)."""
    if isinstance(record, InstrumentDefMsg):
        if not ctx.is_options:
            return record.raw_symbol.strip() or None
        occ = _occ(record.raw_symbol)
        return None if occ is None else (record.underlying.strip() or occ.underlying)
    if ctx.is_options:
        contract = _contract(record, ctx)
        return None if isinstance(contract, str) else contract.underlying
    return _equity_symbol(record, ctx) or None


def parse_record(record: DBNRecord, ctx: ParseContext, *, occurrence: int = 0) -> Parsed:
    """Return the events one DBN record gives (possibly none, with the reasons).

    `occurrence` numbers records sharing one provider identity (see `OccurrenceCounter`); 0 for the first.
    """
    parser = _PARSERS.get(type(record))
    if parser is None:
        return _skip(Skip.UNSUPPORTED_RECORD)
    return parser(record, ctx, occurrence)

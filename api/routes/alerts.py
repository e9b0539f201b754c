"""GET /alerts: the latest alerts, newest first, with a stable cursor, through a presentation filter view; and
GET /alerts/{id}: one alert with everything it cites, down to the quote each member print is read against.

A view (`smart-money`, `balanced`, `all`; BEHAVIOR section 6) decides what is shown, never what is computed
or stored: the route reads pages from the store and keeps the alerts the view shows, scanning at most
`MAX_SCAN_PAGES` store pages per request. When it stops early, `next_cursor` continues the scan.
"""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.deps import StoreDep
from api.schemas import AlertDetail, AlertOut, AlertPage, ErrorOut, PrintOut, QuoteOut, e9_or_none
from connectors.clickhouse.store import MAX_ALERTS_PAGE, MAX_IDS, InvalidCursor, Store, encode_cursor
from events.config import OptionsConfig
from events.models import Alert, OptionNbbo, OptionPrint, Packet, Severity, Structure
from events.units import e9_to_decimal
from events.views import FilterName, etf_symbols, filter_profile, visible

router = APIRouter(prefix="/alerts", tags=["alerts"])

UNDERLYING_PATTERN = r"^[A-Z0-9.\-]{1,16}$"

Underlying = Annotated[
    str | None,
    Query(pattern=UNDERLYING_PATTERN, max_length=16, description="underlying symbol, e.g. SPY or BRK.B"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_ALERTS_PAGE, description="page size")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")]
SeverityFilter = Annotated[Severity | None, Query(description="only alerts of this severity")]
View = Annotated[
    FilterName,
    Query(
        description="presentation filter: smart-money hides small, ETF, bid-side, mid and unquoted prints; "
        "balanced halves its floors; all shows everything (FLOWTAPE_SMART_MONEY_* settings)"
    ),
]

MAX_SCAN_PAGES = 20
"""Store pages one request reads at most while a view hides alerts."""


@router.get(
    "",
    response_model=AlertPage,
    summary="Latest alerts, newest first",
    responses={400: {"model": ErrorOut, "description": "a cursor this API did not return"}},
)
def list_alerts(
    store: StoreDep,
    underlying: Underlying = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    severity: SeverityFilter = None,
    view: View = "all",
) -> AlertPage:
    """Return alerts by (ts_first, id) descending, each at its latest revision, as the view shows them."""
    config = OptionsConfig()
    profile = filter_profile(view, config)
    etfs = etf_symbols(config)
    shown: list[Alert] = []
    scan = cursor
    try:
        for _ in range(MAX_SCAN_PAGES):
            page = store.latest_alerts(underlying, limit, scan, severity=severity)
            for alert in page.items:
                if view == "all" or visible(alert, profile, etf_symbols=etfs):
                    shown.append(alert)
                    if len(shown) == limit:
                        more = alert is not page.items[-1] or page.next_cursor is not None
                        next_cursor = encode_cursor(alert.ts_first, alert.id) if more else None
                        return AlertPage(items=[AlertOut.from_alert(a) for a in shown], next_cursor=next_cursor)
            scan = page.next_cursor
            if scan is None:
                break
    except InvalidCursor as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    return AlertPage(items=[AlertOut.from_alert(a) for a in shown], next_cursor=scan)


AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the alert's id (32 hex characters)")]


@router.get(
    "/{alert_id}",
    response_model=AlertDetail,
    summary="One alert with its hits, packets or structure, member prints and their quotes",
    responses={404: {"model": ErrorOut, "description": "no alert with this id is stored"}},
)
def alert_detail(store: StoreDep, alert_id: AlertId) -> AlertDetail:
    """Return the alert at its latest revision with what it cites: its hits; its packets, or its structure and
    the structure's leg packets; and every stored member print of those packets, in time order, each with the
    quote it is read against (the NBBO given with the trade, else the latest stored consolidated quote at or
    before it)."""
    found = store.events_by_id("flow_alerts", [alert_id])
    if not found:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"no alert {alert_id}")
    alert = cast(Alert, found[0])
    hits = store.events_by_id("flow_hits", list(alert.hit_ids)[:MAX_IDS])
    structure: Structure | None = None
    packet_ids: list[str] = list(alert.subject_ids)
    if alert.subject_type == "structure":
        structures = [cast(Structure, s) for s in store.events_by_id("flow_structures", packet_ids[:MAX_IDS])]
        structure = next((s for s in structures if s.id == alert.subject_id), structures[0] if structures else None)
        packet_ids = [leg for s in structures for leg in s.leg_ids]
    packets = [cast(Packet, p) for p in store.events_by_id("flow_packets", list(dict.fromkeys(packet_ids))[:MAX_IDS])]
    print_ids = list(dict.fromkeys(pid for packet in packets for pid in packet.print_ids))[:MAX_IDS]
    prints = sorted(
        (cast(OptionPrint, p) for p in store.events_by_id("options_prints", print_ids)),
        key=lambda p: (p.ts_event, p.id),
    )
    return AlertDetail(
        alert=AlertOut.from_alert(alert),
        hits=[hit.model_dump(mode="json") for hit in hits],
        packets=[packet.model_dump(mode="json") for packet in packets],
        structure=None if structure is None else structure.model_dump(mode="json"),
        prints=[_print_out(store, p) for p in prints],
        missing_prints=len(print_ids) - len(prints),
    )


def _print_out(store: Store, trade: OptionPrint) -> PrintOut:
    source: Literal["print", "quote_stream", "none"] = "none"
    quote: QuoteOut | None = None
    if trade.nbbo_bid_e9 is not None or trade.nbbo_ask_e9 is not None:
        source = "print"
        quote = _quote(
            trade.nbbo_ts, trade.nbbo_bid_e9, trade.nbbo_ask_e9, trade.nbbo_bid_size_contracts,
            trade.nbbo_ask_size_contracts,
        )  # fmt: skip
    else:
        nbbo: OptionNbbo | None = store.quote_as_of(trade.symbol, trade.ts_event)
        if nbbo is not None:
            source = "quote_stream"
            quote = _quote(nbbo.ts_event, nbbo.bid_e9, nbbo.ask_e9, nbbo.bid_size_contracts, nbbo.ask_size_contracts)
    return PrintOut(
        id=trade.id,
        ts_event=trade.ts_event,
        symbol=trade.symbol,
        venue=trade.venue,
        price_e9=trade.price_e9,
        price=e9_to_decimal(trade.price_e9),
        size_contracts=trade.size_contracts,
        conditions=list(trade.conditions),
        quote_source=source,
        quote=quote,
    )


def _quote(ts: int | None, bid: int | None, ask: int | None, bid_size: int | None, ask_size: int | None) -> QuoteOut:
    return QuoteOut(
        ts_event=ts,
        bid_e9=bid,
        bid=e9_or_none(bid),
        ask_e9=ask,
        ask=e9_or_none(ask),
        bid_size_contracts=bid_size,
        ask_size_contracts=ask_size,
    )

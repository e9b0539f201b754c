"""GET /alerts: the latest alerts, newest first, with a stable cursor, through a presentation filter view.

A view (`smart-money`, `balanced`, `all`; BEHAVIOR section 6) decides what is shown, never what is computed
or stored: the route reads pages from the store and keeps the alerts the view shows, scanning at most
`MAX_SCAN_PAGES` store pages per request. When it stops early, `next_cursor` continues the scan.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import StoreDep
from api.schemas import AlertOut, AlertPage, ErrorOut
from connectors.clickhouse.store import MAX_ALERTS_PAGE, InvalidCursor, encode_cursor
from events.config import OptionsConfig
from events.models import Alert, Severity
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

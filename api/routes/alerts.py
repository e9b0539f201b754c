"""GET /alerts: the latest alerts, newest first, with a stable cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import StoreDep
from api.schemas import AlertOut, AlertPage
from connectors.clickhouse.store import MAX_ALERTS_PAGE, InvalidCursor
from events.models import Severity

router = APIRouter(prefix="/alerts", tags=["alerts"])

UNDERLYING_PATTERN = r"^[A-Z0-9.\-]{1,16}$"

Underlying = Annotated[
    str | None,
    Query(pattern=UNDERLYING_PATTERN, max_length=16, description="underlying symbol, e.g. SPY or BRK.B"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_ALERTS_PAGE, description="page size")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")]
SeverityFilter = Annotated[Severity | None, Query(description="only alerts of this severity")]


@router.get("", response_model=AlertPage, summary="Latest alerts, newest first")
def list_alerts(
    store: StoreDep,
    underlying: Underlying = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    severity: SeverityFilter = None,
) -> AlertPage:
    """Return alerts by (ts_first, id) descending, each at its latest revision."""
    try:
        page = store.latest_alerts(underlying, limit, cursor, severity=severity)
    except InvalidCursor as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    return AlertPage(items=[AlertOut.from_alert(a) for a in page.items], next_cursor=page.next_cursor)

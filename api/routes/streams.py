"""One router per stored stream: its events, newest first, with stable cursors, filtered by its own columns.

Every stream answers the same four reads, on (ts_event, id) so that a cursor never skips or repeats a row,
ties included (`Store.read_page`):

- latest: no cursor, newest first;
- history: `before=<cursor>`, older than the cursor, newest first;
- replay: `after=<cursor>`, newer than the cursor, oldest first (a live client catching up);
- range: `from_ns` (inclusive) and/or `to_ns` (exclusive), oldest first (`after` pages on through it).

Items are the events as their topics carry them. Filters are the stream's own text columns, by equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from api.deps import StoreDep
from api.schemas import ErrorOut
from connectors.clickhouse.store import MAX_ALERTS_PAGE

FILTER_PATTERN = r"^[A-Za-z0-9 ._:\-]{1,40}$"
"""What a filter value may hold (symbols, venues, kinds)."""


@dataclass(frozen=True)
class Stream:
    """A stored stream served under `/<path>`: its table and the columns it may be filtered by."""

    path: str
    table: str
    title: str
    filters: tuple[str, ...]


STREAMS: tuple[Stream, ...] = (
    Stream("prints/options", "options_prints", "Option prints", ("underlying", "symbol", "right", "venue")),
    Stream("quotes/options", "options_nbbo", "Option quotes (NBBO and venue)", ("underlying", "symbol", "venue")),
    Stream("prints/equities", "equities_prints", "Equity prints", ("symbol", "venue")),
    Stream("quotes/equities", "equities_quotes", "Equity quotes", ("symbol", "venue")),
    Stream(
        "trades/equities",
        "equities_trades",
        "Equity prints joined to their quote",
        ("underlying", "symbol", "side", "venue"),
    ),
    Stream("packets", "flow_packets", "Packets", ("underlying", "symbol", "side", "kind", "right")),
    Stream("hits", "flow_hits", "Classifier hits", ("underlying", "symbol", "classifier", "direction")),
    Stream("structures", "flow_structures", "Multi-leg structures", ("underlying", "structure_type")),
    Stream("flow-context", "flow_context", "Flow context per underlying and window", ("underlying",)),
    Stream("dark/inferences", "dark_inferences", "Dark-pool inferences", ("underlying", "kind", "direction")),
    Stream("dark/levels", "dark_levels", "Dark-pool price levels", ("underlying",)),
    Stream("candles", "equities_candles", "1 s candles of the last-sale eligible tape", ("underlying",)),
)


class EventPageOut(BaseModel):
    """A page of a stream's events; pass `next_cursor` back as `before` (newest-first reads) or `after`
    (replay and range reads) for the next page."""

    items: list[dict[str, Any]] = Field(description="the events as their topic carries them")
    next_cursor: str | None = Field(description="opaque; null on the last page")


Limit = Annotated[int, Query(ge=1, le=MAX_ALERTS_PAGE, description="page size")]
Cursor = Annotated[str | None, Query(max_length=200, description="a `next_cursor` this API returned")]
Ns = Annotated[int | None, Query(ge=0, lt=2**63, description="ns since the epoch")]


def stream_router(stream: Stream) -> APIRouter:
    """The router of one stream: `GET /<path>` with its filters as query parameters."""
    router = APIRouter(prefix=f"/{stream.path}", tags=[stream.path.split("/")[0]])

    @router.get(
        "",
        response_model=EventPageOut,
        name=f"read_{stream.table}",
        summary=f"{stream.title}: latest, history, replay or range",
        responses={
            400: {
                "model": ErrorOut,
                "description": "a cursor this API did not return, both cursors, or a filter value no event can hold",
            }
        },
        openapi_extra={
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"only events of this {name}",
                    "schema": {"type": "string", "pattern": FILTER_PATTERN},
                }
                for name in stream.filters
            ]
        },
    )
    def read(
        request: Request,
        store: StoreDep,
        limit: Limit = 50,
        before: Cursor = None,
        after: Cursor = None,
        from_ns: Ns = None,
        to_ns: Ns = None,
    ) -> EventPageOut:
        equal: dict[str, str] = {}
        for name in stream.filters:
            value = request.query_params.get(name)
            if value is not None:
                if not _matches(value):
                    raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{name}: not a value this stream holds")
                equal[name] = value
        try:
            page = store.read_page(
                stream.table, equal=equal, before=before, after=after, from_ns=from_ns, to_ns=to_ns, limit=limit
            )
        except ValueError as exc:  # a cursor this API did not return (`InvalidCursor`), or both cursors
            raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
        return EventPageOut(items=[e.model_dump(mode="json") for e in page.items], next_cursor=page.next_cursor)

    return router


def _matches(value: str) -> bool:
    return re.fullmatch(FILTER_PATTERN, value) is not None


ROUTERS: tuple[APIRouter, ...] = tuple(stream_router(stream) for stream in STREAMS)
"""One router per stream, mounted by the app."""

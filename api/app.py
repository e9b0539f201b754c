"""The FastAPI app factory, and `serve`, which refuses to bind off loopback without a token."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline

from api.deps import AppState, StoreFactory, require_token
from api.metrics import ApiMetrics, instrument, metrics_response
from api.routes import alerts, health, streams
from api.schemas import ErrorOut, StoreUnavailableOut
from connectors.clickhouse.store import Store, StoreError, open_store
from connectors.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
RESOURCE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "a token is set and the request lacks it (`Authorization: Bearer`)"},
    503: {"model": StoreUnavailableOut, "description": "the store did not answer; retry later"},
}
"""Answers every resource route may give besides its own, for the OpenAPI schema."""


def create_app(
    store_factory: StoreFactory | None = None,
    settings: Settings | None = None,
    *,
    check_kafka: bool = False,
    check_redis: bool = True,
) -> FastAPI:
    """Build the app; binding is `serve`'s job.

    The store comes from `store_factory` on first use (the caller owns it and closes it), or else is
    opened from `settings` on first use and closed at shutdown. `check_kafka`: report the broker in
    /health (deployments that run one); `check_redis=False`: the running mode needs no Redis (the demo), so
    /health does not report it, nor count it against `ok`.
    """
    settings = settings or Settings()
    resolved = settings
    factory = store_factory or (lambda: open_store(resolved))
    state = AppState(
        settings, factory, check_kafka=check_kafka, owns_store=store_factory is None, check_redis=check_redis
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    # Swagger UI and ReDoc from files installed with the app (fastapi-offline), not from a CDN: /docs works offline.
    app = FastAPIOffline(
        title="flowtape",
        summary="Explainable options-flow and off-exchange print analysis",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.flowtape = state

    @app.exception_handler(StoreError)
    async def store_unavailable(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": "store unavailable", "error": str(exc).splitlines()[0][:300]},
        )

    metrics = ApiMetrics()
    instrument(app, metrics)

    @app.get(
        "/metrics",
        summary="The API's figures (Prometheus text format)",
        response_class=PlainTextResponse,
        dependencies=[Depends(require_token)],
        responses={401: RESOURCE_RESPONSES[401]},
    )
    def api_metrics() -> Response:
        """Requests served and their latency per route and status, and answers the store could not give (503)."""
        return metrics_response(metrics)

    app.include_router(health.router)
    # Every resource router needs the token when one is set; /health (status only without it) and /docs stay open.
    app.include_router(alerts.router, dependencies=[Depends(require_token)], responses=RESOURCE_RESPONSES)
    for router in streams.ROUTERS:
        app.include_router(router, dependencies=[Depends(require_token)], responses=RESOURCE_RESPONSES)
    return app


def is_loopback(host: str) -> bool:
    """Return True for a loopback address or name (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Raise ValueError if the API would bind off loopback without a token."""
    if not is_loopback(settings.api_host) and (settings.api_token is None or not settings.api_token.get_secret_value()):
        raise ValueError(
            f"refusing to bind {settings.api_host}: binding off loopback requires FLOWTAPE_API_TOKEN "
            "(clients then send `Authorization: Bearer <token>`)"
        )


def serve(settings: Settings | None = None, store: Store | None = None, *, check_kafka: bool = False) -> None:
    """Run the API with uvicorn on `api_host:api_port` (loopback unless a token is set).

    `store`: serve from this open store (e.g. the embedded one a flow writes to); default: open the one
    the settings name.
    """
    import uvicorn

    settings = settings or Settings()
    check_bind(settings)
    given = store
    app = create_app(None if given is None else (lambda: given), settings, check_kafka=check_kafka)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info")

"""GET /metrics: the API's own figures in the Prometheus text format.

Per route (its path template, so ids do not make series of their own) and status: requests served and their
latency; and how often the store did not answer. Each app has a registry of its own (tests build many apps).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Request latency buckets (seconds): the page targets are tens of milliseconds."""


class ApiMetrics:
    """The API's counters and histograms, on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "flowtape_api_requests", "requests served, by route and status", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "flowtape_api_request_seconds",
            "time to answer a request, by route",
            ["route"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.store_unavailable = Counter(
            "flowtape_api_store_unavailable", "requests answered 503: the store did not answer", registry=self.registry
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _route_of(request: Request) -> str:
    """The path template the request matched (`/alerts/{alert_id}`; the router notes the route in the scope), or
    `unmatched` (a 404 for a path no route serves)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def instrument(app: FastAPI, metrics: ApiMetrics) -> None:
    """Count and time every request the app answers."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_of(request)
        metrics.requests.labels(route=route, status=str(response.status_code)).inc()
        metrics.latency.labels(route=route).observe(time.perf_counter() - started)
        if response.status_code == 503:
            metrics.store_unavailable.inc()
        return response


def metrics_response(metrics: ApiMetrics) -> Response:
    return Response(content=metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

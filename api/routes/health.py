"""GET /health: the state of each backend, answered within about 1.5 s whatever is down."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import AppState, StateDep, has_token
from api.schemas import ComponentHealth, Health
from connectors.settings import Settings

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 1.5
REDIS_TIMEOUT_S = 0.5
KAFKA_TIMEOUT_S = 1.0


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def check_store(state: AppState) -> ComponentHealth:
    try:
        info: dict[str, Any] = state.store().health()
    except Exception as exc:  # opening the store failed: report it, /health must answer
        return ComponentHealth(status="error", detail=_short(exc))
    ok = info.get("status") == "ok"
    return ComponentHealth(
        status="ok" if ok else "error",
        detail=None if ok else str(info.get("error", "unknown error")),
        version=info.get("version"),
        backend=info.get("backend"),
    )


def check_redis(settings: Settings, enabled: bool = True) -> ComponentHealth:
    if not enabled:
        return ComponentHealth(status="not_configured", detail="not used in this mode")
    if not settings.redis_url:
        return ComponentHealth(status="not_configured", detail="FLOWTAPE_REDIS_URL is empty")
    import redis

    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    try:
        client.ping()
        version = client.info("server").get("redis_version")
    except Exception as exc:
        return ComponentHealth(status="error", detail=_short(exc))
    finally:
        client.close()
    return ComponentHealth(status="ok", version=str(version) if version else None)


def check_kafka(settings: Settings, enabled: bool) -> ComponentHealth:
    if not enabled:
        return ComponentHealth(status="not_configured", detail="no broker in this deployment")
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "socket.timeout.ms": int(KAFKA_TIMEOUT_S * 1000),
            "log_level": 0,  # an unreachable broker is the answer, not a log line
        }
    )
    try:
        meta = admin.list_topics(timeout=KAFKA_TIMEOUT_S)
    except Exception as exc:
        return ComponentHealth(status="error", detail=_short(exc))
    return ComponentHealth(status="ok", detail=f"{len(meta.brokers)} broker(s), {len(meta.topics)} topics")


async def _bounded(name: str, fn: Any, *args: Any) -> ComponentHealth:
    try:
        result: ComponentHealth = await asyncio.wait_for(asyncio.to_thread(fn, *args), CHECK_TIMEOUT_S)
    except TimeoutError:
        return ComponentHealth(status="error", detail=f"{name}: no answer within {CHECK_TIMEOUT_S} s")
    return result


@router.get("/health", response_model=Health, summary="Backend status")
async def health(state: StateDep, request: Request) -> Health | JSONResponse:
    """Check the store and, when the running mode uses them, Redis and Kafka, concurrently; `degraded` if any of
    those fails."""
    started = time.perf_counter()
    store, cache, broker = await asyncio.gather(
        _bounded("store", check_store, state),
        _bounded("redis", check_redis, state.settings, state.check_redis),
        _bounded("kafka", check_kafka, state.settings, state.check_kafka),
    )
    ok = all(c.status != "error" for c in (store, cache, broker))
    if not has_token(request, state.settings):  # up or down only: no versions, hosts or error texts
        return JSONResponse({"status": "ok" if ok else "degraded"})
    return Health(
        status="ok" if ok else "degraded",
        store=store,
        redis=cache,
        kafka=broker,
        elapsed_ms=round((time.perf_counter() - started) * 1000),
    )

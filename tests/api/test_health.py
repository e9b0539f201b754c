"""GET /health: every backend's state, fast even when they are down."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from connectors.clickhouse.store import EmbeddedStore, ServerStore
from tests.api.conftest import ClientFactory

UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1


def test_all_configured_backends_ok(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["store"]["status"] == "ok"
    assert body["store"]["backend"] == "chdb"
    assert body["store"]["version"].startswith("26.")
    assert body["redis"]["status"] == "not_configured"
    assert body["kafka"]["status"] == "not_configured"


def test_unreachable_redis_degrades_quickly(make_client: ClientFactory) -> None:
    client = make_client(redis_url=f"redis://{UNREACHABLE}/0")
    started = time.perf_counter()
    body = client.get("/health").json()
    assert time.perf_counter() - started < 2.0
    assert body["status"] == "degraded"
    assert body["redis"]["status"] == "error"
    assert body["store"]["status"] == "ok"


def test_a_mode_without_redis_is_ok_with_redis_unreachable(make_client: ClientFactory) -> None:
    # The demo serves from chDB and needs no Redis: an absent one is not a degraded service.
    body = make_client(check_redis=False, redis_url=f"redis://{UNREACHABLE}/0").get("/health").json()
    assert body["status"] == "ok"
    assert body["redis"]["status"] == "not_configured"
    assert body["redis"]["detail"] == "not used in this mode"


def test_unreachable_kafka_degrades_quickly(make_client: ClientFactory) -> None:
    client = make_client(check_kafka=True, kafka_bootstrap=UNREACHABLE)
    started = time.perf_counter()
    body = client.get("/health").json()
    assert time.perf_counter() - started < 2.0
    assert body["status"] == "degraded"
    assert body["kafka"]["status"] == "error"


def test_dead_clickhouse_server_degrades_quickly(make_client: ClientFactory) -> None:
    dead = ServerStore(host="127.0.0.1", port=1, database="flowtape")
    try:
        client = make_client(dead)
        started = time.perf_counter()
        body = client.get("/health").json()
        assert time.perf_counter() - started < 2.0
    finally:
        dead.close()
    assert body["status"] == "degraded"
    assert body["store"]["status"] == "error"
    assert body["store"]["backend"] == "clickhouse"
    assert client.get("/alerts").status_code == 503


def test_closed_store_is_an_error_not_a_crash(make_client: ClientFactory, chdb_store: EmbeddedStore) -> None:
    closed = chdb_store.for_database("closed_for_health")
    closed.close()
    body = make_client(closed).get("/health").json()
    assert (body["status"], body["store"]["status"]) == ("degraded", "error")
    assert "closed" in body["store"]["detail"]


@pytest.mark.parametrize("path", ["/health", "/docs"])
def test_open_without_token(make_client: ClientFactory, path: str) -> None:
    assert make_client(api_token="t0ken").get(path).status_code == 200


def test_without_the_token_health_says_only_up_or_down(make_client: ClientFactory) -> None:
    client = make_client(api_token="s3cret-token", redis_url=f"redis://{UNREACHABLE}/0")
    assert client.get("/health").json() == {"status": "degraded"}, "no versions, hosts or error texts"
    assert client.get("/health", headers={"Authorization": "Bearer wrong"}).json() == {"status": "degraded"}
    full = client.get("/health", headers={"Authorization": "Bearer s3cret-token"}).json()
    assert full["status"] == "degraded"
    assert full["redis"]["status"] == "error"
    assert full["store"]["version"]

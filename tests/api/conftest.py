"""API fixtures: the app on a real embedded store (the session's one chDB path, a database per test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from connectors.clickhouse.store import EmbeddedStore, Store
from connectors.settings import Settings
from tests.connectors.clickhouse.store_contract import chdb_fresh_store, chdb_store

__all__ = ["chdb_fresh_store", "chdb_store"]

ClientFactory = Callable[..., TestClient]


@pytest.fixture
def store(chdb_fresh_store: EmbeddedStore) -> EmbeddedStore:
    return chdb_fresh_store


def offline_settings(**overrides: object) -> Settings:
    """Settings with no Redis and no token unless a test asks for them."""
    values: dict[str, object] = {"redis_url": "", "api_token": None}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_client(store: EmbeddedStore) -> Iterator[ClientFactory]:
    """Return `make(store=..., check_kafka=..., **settings)` → a started TestClient; all closed at the end."""
    clients: list[TestClient] = []

    def make(
        serving: Store | None = None, *, check_kafka: bool = False, check_redis: bool = True, **overrides: object
    ) -> TestClient:
        chosen = store if serving is None else serving
        app = create_app(
            lambda: chosen, offline_settings(**overrides), check_kafka=check_kafka, check_redis=check_redis
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()

"""Dependencies: the settings, the store (opened lazily, once per app) and the bearer-token check."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from connectors.clickhouse.store import Store
from connectors.settings import Settings

StoreFactory = Callable[[], Store]


class AppState:
    """What the app holds between requests: settings, the store factory and the store once opened."""

    def __init__(
        self,
        settings: Settings,
        store_factory: StoreFactory,
        *,
        check_kafka: bool,
        owns_store: bool,
        check_redis: bool = True,
    ) -> None:
        self.settings = settings
        self.check_kafka = check_kafka
        self.check_redis = check_redis
        self._store_factory = store_factory
        self._owns_store = owns_store
        self._store: Store | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        """Return the store, opening it on first use (a dead server must not stop the API starting)."""
        with self._lock:
            if self._store is None:
                self._store = self._store_factory()
            return self._store

    def opened_store(self) -> Store | None:
        return self._store

    def close(self) -> None:
        """Forget the store; close it only if the app opened it (a given factory's caller owns its store)."""
        with self._lock:
            if self._store is not None and self._owns_store:
                self._store.close()
            self._store = None


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.flowtape
    return state


def get_settings(request: Request) -> Settings:
    return get_state(request).settings


def get_store(request: Request) -> Store:
    return get_state(request).store()


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def has_token(request: Request, settings: Settings) -> bool:
    """Whether the request may see everything: no token is configured, or it sends `Authorization: Bearer
    <api_token>`."""
    if settings.api_token is None:
        return True
    expected = settings.api_token.get_secret_value()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), expected.encode())


def require_token(request: Request, settings: SettingsDep) -> None:
    """Require `Authorization: Bearer <api_token>` when a token is configured."""
    if not has_token(request, settings):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )

"""`flowtape api`: serve the REST API from the configured store (chDB path or ClickHouse server)."""

from __future__ import annotations

from connectors.clickhouse.store import open_store
from connectors.settings import Settings


def run_api(port: int | None = None) -> int:
    """Serve until interrupted."""
    from api.app import serve

    settings = Settings()
    if port is not None:
        settings = settings.model_copy(update={"api_port": port})
    store = open_store(settings)
    store.ensure_schema()
    serve(settings, store, check_kafka=True)
    return 0

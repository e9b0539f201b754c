"""The store contract on the real ClickHouse server (Debian's 18.16), plus the checked-in DDL file there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from clickhouse_driver import Client
from fastapi.testclient import TestClient

from api.app import create_app
from connectors.clickhouse import schema
from connectors.clickhouse import store as store_module
from connectors.clickhouse.store import ServerStore
from connectors.settings import Settings
from deploy.services import ServicesConfig
from tests.connectors.clickhouse import factories as f
from tests.connectors.clickhouse.store_contract import StoreContract, stored


@pytest.fixture
def store(services: ServicesConfig, clickhouse_database: str) -> Iterator[ServerStore]:
    """A ServerStore on a database of its own (named after the session's), schema applied."""
    server = ServerStore(
        host=services.host, port=services.clickhouse_port, database=f"{clickhouse_database}_{uuid.uuid4().hex[:8]}"
    )
    server.ensure_schema()
    yield server
    server.drop_database()
    server.close()


class TestServerStore(StoreContract):
    def test_it_is_the_18_16_server(self, store: ServerStore) -> None:
        assert store.health()["version"].startswith("18.16")


def test_checked_in_ddl_file_applies(clickhouse_client: Client, clickhouse_database: str) -> None:
    database = f"{clickhouse_database}_ddl"
    text = schema.DDL_FILE.read_text(encoding="utf-8").replace(f"`{schema.DEFAULT_DATABASE}`", f"`{database}`")
    code = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    statements = [s.strip() for s in code.split(";") if s.strip()]
    assert len(statements) == 1 + len(schema.TABLES)
    try:
        for statement in statements:
            clickhouse_client.execute(statement)
            clickhouse_client.execute(statement)  # IF NOT EXISTS: applying twice is harmless
        tables = clickhouse_client.execute(f"SHOW TABLES FROM `{database}`")
        assert sorted(t for (t,) in tables) == sorted(schema.TABLES)
        columns = clickhouse_client.execute(
            "SELECT name, type FROM system.columns WHERE database = %(db)s AND table = 'flow_alerts'",
            {"db": database},
        )
        assert tuple(columns) == tuple((c.name, c.type) for c in schema.TABLES["flow_alerts"].columns)
    finally:
        clickhouse_client.execute(f"DROP DATABASE IF EXISTS `{database}`")


def test_same_batch_twice_same_rows_after_final(store: ServerStore) -> None:
    alerts = [f.alert(i * 1_000) for i in range(20)]
    store.insert("flow.alerts", alerts)
    store.insert("flow.alerts", alerts)
    assert stored(store, "flow_alerts") == sorted(alerts, key=lambda a: a.id)
    raw = store.query(f"SELECT count() AS n FROM {store.table('flow_alerts')}", {})
    assert raw[0]["n"] in (20, 40)  # before a background merge both copies exist; FINAL shows one


def test_cli_applies_the_ddl_to_the_server(
    services: ServicesConfig,
    clickhouse_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = f"{clickhouse_database}_cli"
    monkeypatch.setenv("FLOWTAPE_CLICKHOUSE_HOST", services.host)
    monkeypatch.setenv("FLOWTAPE_CLICKHOUSE_PORT", str(services.clickhouse_port))
    try:
        assert store_module.main(["apply", "--store", "clickhouse", "--database", database]) == 0
        assert f"clickhouse: database {database}: {len(schema.TABLES)} tables" in capsys.readouterr().out
    finally:
        cleanup = ServerStore(host=services.host, port=services.clickhouse_port, database=database)
        cleanup.drop_database()
        cleanup.close()


def test_api_on_the_server_with_real_redis(
    store: ServerStore, services: ServicesConfig, redis_client: redis.Redis
) -> None:
    store.insert("flow.alerts", [f.alert(0), f.alert(1_000)])
    db = redis_client.connection_pool.connection_kwargs["db"]
    settings = Settings(redis_url=f"redis://{services.host}:{services.redis_port}/{db}", api_token=None)
    with TestClient(create_app(lambda: store, settings)) as client:
        health = client.get("/health").json()
        assert health["status"] == "ok"
        assert health["store"]["version"].startswith("18.16")
        assert health["redis"]["status"] == "ok"
        first = client.get("/alerts", params={"underlying": "SPY", "limit": 1}).json()
        second = client.get("/alerts", params={"underlying": "SPY", "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [f.alert(1_000).id, f.alert(0).id]
    assert second["next_cursor"] is None

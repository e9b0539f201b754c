"""The store contract on embedded chDB, plus what only chDB has: one path per process."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.clickhouse import store as store_module
from connectors.clickhouse.schema import TABLES, render_ddl
from connectors.clickhouse.store import (
    ChdbPathInUse,
    EmbeddedStore,
    StoreError,
    open_store,
)
from connectors.settings import Settings
from tests.connectors.clickhouse import factories as f
from tests.connectors.clickhouse.store_contract import StoreContract, fresh_database_name


@pytest.fixture
def store(chdb_fresh_store: EmbeddedStore) -> EmbeddedStore:
    return chdb_fresh_store


class TestEmbeddedStore(StoreContract):
    pass


def test_a_second_path_in_this_process_is_refused(chdb_store: EmbeddedStore, tmp_path: Path) -> None:
    with pytest.raises(ChdbPathInUse, match="one path per process"):
        EmbeddedStore(tmp_path / "other")
    assert chdb_store.health()["status"] == "ok"


def test_stores_on_one_path_share_the_engine(chdb_store: EmbeddedStore) -> None:
    name = fresh_database_name()
    first = chdb_store.for_database(name)
    second = EmbeddedStore(chdb_store.path, name)
    try:
        first.ensure_schema()
        first.insert("flow.alerts", [f.alert(0)])
        assert second.count("flow.alerts") == 1
        second.close()
        assert first.count("flow.alerts") == 1
    finally:
        first.drop_database()
        first.close()
        second.close()


def test_a_closed_store_refuses_work(chdb_store: EmbeddedStore) -> None:
    closed = chdb_store.for_database(fresh_database_name())
    closed.close()
    closed.close()
    with pytest.raises(StoreError, match="closed"):
        closed.query("SELECT 1 AS one", {})
    assert chdb_store.query("SELECT 1 AS one", {}) == [{"one": 1}]


def test_sql_errors_are_store_errors(chdb_fresh_store: EmbeddedStore) -> None:
    with pytest.raises(StoreError, match="chdb"):
        chdb_fresh_store.query(f"SELECT nope FROM {chdb_fresh_store.table('flow_alerts')}", {})


def test_open_store_follows_the_settings(chdb_store: EmbeddedStore) -> None:
    settings = Settings(store="chdb", chdb_path=chdb_store.path, clickhouse_database=fresh_database_name())
    opened = open_store(settings)
    try:
        assert isinstance(opened, EmbeddedStore)
        assert (opened.path, opened.database) == (chdb_store.path, settings.clickhouse_database)
    finally:
        opened.close()


def test_cli_applies_the_ddl(
    chdb_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = fresh_database_name()
    monkeypatch.setenv("FLOWTAPE_CHDB_PATH", str(chdb_store.path))
    assert store_module.main(["apply", "--store", "chdb", "--database", database]) == 0
    assert f"chdb: database {database}: {len(TABLES)} tables" in capsys.readouterr().out
    view = chdb_store.for_database(database)
    try:
        assert view.count("flow.alerts") == 0
    finally:
        view.drop_database()
        view.close()


def test_cli_prints_the_ddl(capsys: pytest.CaptureFixture[str]) -> None:
    assert store_module.main(["ddl", "--database", "flowtape"]) == 0
    out = capsys.readouterr().out
    assert all(statement in out for statement in render_ddl("flowtape"))

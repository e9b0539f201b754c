"""`flowtape retention`: the cutoff, and the command on a real store (chDB; the server runs the store contract)."""

from __future__ import annotations

from datetime import date

import pytest

import cli.retention
from cli.main import main
from connectors.clickhouse import schema
from connectors.clickhouse.store import EmbeddedStore
from tests.connectors.clickhouse import factories as f
from tests.connectors.clickhouse.store_contract import chdb_fresh_store, chdb_store, stored

__all__ = ["chdb_fresh_store", "chdb_store"]


def test_the_cutoff_is_keep_days_before_today() -> None:
    assert cli.retention.cutoff(0, date(2026, 3, 10)) == date(2026, 3, 10)
    assert cli.retention.cutoff(7, date(2026, 3, 10)) == date(2026, 3, 3)
    with pytest.raises(ValueError, match="at least 0"):
        cli.retention.cutoff(-1)


@pytest.fixture
def store(chdb_fresh_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> EmbeddedStore:
    # The command opens (and closes) a store of its own on the test's database.
    monkeypatch.setattr(
        cli.retention, "open_store", lambda settings: chdb_fresh_store.for_database(chdb_fresh_store.database)
    )
    return chdb_fresh_store


def test_retention_lists_then_drops_the_days_before_the_cutoff(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store.insert("flow.packets", [f.packet(0), f.packet(86_400_000)])  # 2026-03-02 and 2026-03-03
    table = schema.table_for(f.packet(0)).name
    monkeypatch.setattr(cli.retention, "cutoff", lambda keep_days: date(2026, 3, 3))
    assert main(["retention", "--keep-days", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would drop 1 day(s) of {table}: 2026-03-02 .. 2026-03-02" in out
    assert "would drop 1" in out.splitlines()[-1]
    assert len(stored(store, table)) == 2
    assert main(["retention", "--keep-days", "1"]) == 0
    assert "dropped 1" in capsys.readouterr().out.splitlines()[-1]
    assert stored(store, table) == [f.packet(86_400_000)]


def test_negative_keep_days_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--keep-days", "-3"]) == 2
    assert "--keep-days must be at least 0, got -3" in capsys.readouterr().err

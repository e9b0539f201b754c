"""chDB fixtures: one engine path for the whole test session, a fresh database per test."""

from __future__ import annotations

from tests.connectors.clickhouse.store_contract import chdb_fresh_store, chdb_store

__all__ = ["chdb_fresh_store", "chdb_store"]

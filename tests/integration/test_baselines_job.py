"""The daily baselines job on real services: prints in ClickHouse -> baselines in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import redis

from connectors.clickhouse.store import ServerStore
from connectors.redis_cache import BaselineCache
from deploy.services import ServicesConfig
from events.calendar import NEW_YORK
from events.units import NS_PER_S, price_e9
from flows.baselines_job import compute
from tests.factories import equity_print_ns, trade_ns

CALL = "SPY   260320C00580000"


def ny(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).timestamp()) * NS_PER_S


@pytest.fixture
def store(services: ServicesConfig, clickhouse_database: str) -> Iterator[ServerStore]:
    store = ServerStore(host=services.host, port=services.clickhouse_port, database=clickhouse_database)
    store.ensure_schema()
    yield store
    store.close()


def test_baselines_from_clickhouse_into_redis(store: ServerStore, redis_client: redis.Redis) -> None:
    prints = [
        trade_ns(ny("2026-03-02 09:31:00"), "1.00", 10, symbol=CALL),
        trade_ns(ny("2026-03-02 09:32:00"), "1.00", 30, symbol=CALL),
        trade_ns(ny("2026-03-03 15:59:00"), "1.00", 20, symbol=CALL),
        trade_ns(ny("2026-03-04 20:00:00"), "1.00", 999, symbol=CALL),  # after the close: not in any bucket
    ]
    store.insert("options.prints", prints)
    store.insert("options.prints", prints)  # idempotent: FINAL sees each print once
    stock = [
        equity_print_ns(ny("2026-03-02 09:30:00"), price_e9("580.00"), 300_000, symbol="SPY"),
        equity_print_ns(
            ny("2026-03-04 15:59:59"), price_e9("581.00"), 100_000, symbol="SPY", venue="XNAS", off_exchange=False
        ),
        equity_print_ns(ny("2026-03-04 18:00:00"), price_e9("581.00"), 999_999, symbol="SPY"),  # extended hours
    ]
    store.insert("equities.prints", stock)
    baselines = compute(store, as_of=date(2026, 3, 4), sessions=30)
    assert [b.scope for b in baselines] == ["contract", "equity", "underlying"]
    adv = next(b for b in baselines if b.scope == "equity")
    assert (adv.subject, adv.sessions, adv.day_volume_mean) == ("SPY", 2, 200_000.0), "regular-session shares"
    contract = next(b for b in baselines if b.scope == "contract")
    assert contract.sessions == 2
    assert contract.day_volume_mean == 30.0
    assert contract.bucket_volume_mean[0] == 20.0
    assert contract.bucket_volume_mean[77] == 10.0

    cache = BaselineCache(redis_client)
    assert cache.write(baselines) == len(baselines)
    assert cache.read(["SPY"]) == baselines

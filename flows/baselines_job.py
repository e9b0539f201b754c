"""The daily job's figures (`flowtape baselines build`, `cli/baselines.py`): per option contract and per
underlying, contracts per 5-minute bucket of the session and per session over the last N sessions; per stock,
shares likewise (its average daily volume); computed from ClickHouse history, cached in Redis, and loaded by the
flows when they start (`load_baselines`).
"""

from __future__ import annotations

import sys
from datetime import date, datetime

import redis

from connectors.clickhouse.store import Store
from connectors.redis_cache import BaselineCache
from connectors.settings import Settings
from events.baselines import VolumeBaseline
from events.calendar import BUCKET_NS, NEW_YORK, close_ns
from events.units import NS_PER_S
from operators.volume_baselines import (
    VolumeRow,
    build_baselines,
    build_equity_baselines,
    window_start,
)

SLOT_NS = BUCKET_NS
# Calendar days read for N sessions: weekends and holidays included, with room to spare.
CALENDAR_DAYS_PER_SESSION = 1.6

VOLUME_SQL = """
SELECT symbol, underlying, intDiv(ts_event, {slot:Int64}) * {slot:Int64} AS slot_start, sum(size_contracts) AS volume
FROM {table} FINAL
WHERE ts_event >= {start:Int64} AND ts_event < {end:Int64}
GROUP BY symbol, underlying, slot_start
ORDER BY symbol, slot_start
"""

EQUITY_VOLUME_SQL = """
SELECT symbol, intDiv(ts_event, {slot:Int64}) * {slot:Int64} AS slot_start, sum(size_shares) AS volume
FROM {table} FINAL
WHERE ts_event >= {start:Int64} AND ts_event < {end:Int64}
GROUP BY symbol, slot_start
ORDER BY symbol, slot_start
"""


def fetch_volume(store: Store, start_ns: int, end_ns: int) -> list[VolumeRow]:
    """Return contracts per contract and 5-minute slot between two times (ClickHouse does the summing)."""
    sql = VOLUME_SQL.replace("{table}", store.table("options_prints"))
    rows = store.query(sql, {"slot": SLOT_NS, "start": start_ns, "end": end_ns})
    return [VolumeRow(r["symbol"], r["underlying"], int(r["slot_start"]), int(r["volume"])) for r in rows]


def fetch_equity_volume(store: Store, start_ns: int, end_ns: int) -> list[VolumeRow]:
    """Return shares per stock and 5-minute slot between two times (every print: consolidated volume)."""
    sql = EQUITY_VOLUME_SQL.replace("{table}", store.table("equities_prints"))
    rows = store.query(sql, {"slot": SLOT_NS, "start": start_ns, "end": end_ns})
    return [VolumeRow(r["symbol"], r["symbol"], int(r["slot_start"]), int(r["volume"])) for r in rows]


def compute(store: Store, as_of: date, sessions: int) -> list[VolumeBaseline]:
    """Compute the option and equity baselines for the `sessions` sessions up to and including `as_of`."""
    first = window_start(as_of, int(sessions * CALENDAR_DAYS_PER_SESSION) + 7)
    start_ns = int(datetime.combine(first, datetime.min.time(), tzinfo=NEW_YORK).timestamp()) * NS_PER_S
    end_ns = close_ns(as_of) + 1
    options = build_baselines(fetch_volume(store, start_ns, end_ns), as_of, sessions)
    equities = build_equity_baselines(fetch_equity_volume(store, start_ns, end_ns), as_of, sessions)
    return sorted([*options, *equities], key=lambda b: (b.scope, b.subject))


def load_baselines(settings: Settings) -> list[VolumeBaseline]:
    """Return every cached baseline for a flow to start with (`FLOWTAPE_BASELINES=redis`), else none.

    Redis being down does not stop a flow: it runs without history (the bucket clause of unusual_volume
    abstains) and says so on stderr.
    """
    if settings.baselines == "off":
        return []
    cache = BaselineCache.from_url(settings.redis_url)
    try:
        baselines = cache.read()
    except redis.RedisError as err:
        print(
            f"flowtape: no volume baselines ({settings.redis_url} unreachable: {err}); unusual_volume runs on open "
            "interest only and dark inference without average daily volume. Start Redis or set "
            "FLOWTAPE_BASELINES=off to silence this.",
            file=sys.stderr,
        )
        return []
    finally:
        cache.close()
    print(f"flowtape: {len(baselines):,} volume baselines from {settings.redis_url}", file=sys.stderr)
    return baselines

"""`flowtape baselines build`: the daily job. Per option contract and per underlying, contracts per 5-minute
bucket of the session and per session over the last N sessions; per stock, shares likewise (its average daily
volume); from ClickHouse history into Redis (`flows.baselines_job` computes them).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from connectors.clickhouse.store import open_store
from connectors.redis_cache import BaselineCache
from connectors.settings import Settings
from events.calendar import NEW_YORK
from flows.baselines_job import compute


def main(argv: Sequence[str] | None = None) -> int:
    """Build the baselines and write them to Redis."""
    parser = argparse.ArgumentParser(prog="flowtape baselines", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    build = sub.add_parser("build", help="compute from ClickHouse history and write to Redis")
    build.add_argument("--as-of", type=date.fromisoformat, default=None, help="last session (default: today, NY)")
    build.add_argument("--sessions", type=int, default=30, help="sessions in the window")
    show = sub.add_parser("show", help="print the cached baselines of an underlying")
    show.add_argument("underlying")
    args = parser.parse_args(argv)
    settings = Settings()
    cache = BaselineCache.from_url(settings.redis_url)
    try:
        if args.action == "show":
            for baseline in cache.read([args.underlying.upper()]):
                print(f"{baseline.scope:<10} {baseline.subject:<22} day mean {baseline.day_volume_mean:>12,.1f}")
            return 0
        as_of = args.as_of or datetime.now(tz=NEW_YORK).date()
        store = open_store(settings)
        try:
            baselines = compute(store, as_of, args.sessions)
        finally:
            store.close()
        written = cache.write(baselines)
        scopes = Counter(b.scope for b in baselines)
        print(
            f"baselines as of {as_of}: {scopes['contract']:,} contracts, {scopes['underlying']:,} underlyings, "
            f"{scopes['equity']:,} stocks (average daily volume), {written:,} fields written to Redis",
            file=sys.stderr,
        )
        return 0
    finally:
        cache.close()

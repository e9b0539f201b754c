"""`flowtape retention --keep-days N`: drop the stored days older than N days before today (UTC), in every table.

Tables are partitioned by the UTC day of their event time (`day`), so retention drops whole partitions: cheap on
the server and in chDB alike, and nothing of a day that is kept is touched. `--dry-run` lists what would go.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from connectors.clickhouse.store import open_store
from connectors.settings import Settings


def cutoff(keep_days: int, today: date | None = None) -> date:
    """The first day kept: `keep_days` days before today (UTC); 0 keeps today alone."""
    if keep_days < 0:
        raise ValueError(f"--keep-days must be at least 0, got {keep_days}")
    return (today or datetime.now(tz=UTC).date()) - timedelta(days=keep_days)


def run_retention(args: argparse.Namespace) -> int:
    """Drop (or list, with --dry-run) the days before the cutoff; print one line per table and a total."""
    first_kept = cutoff(args.keep_days)
    store = open_store(Settings())
    where = f"{store.backend}, database {store.database}"
    try:
        dropped = store.drop_days_before(first_kept, dry_run=args.dry_run)
    finally:
        store.close()
    verb = "would drop" if args.dry_run else "dropped"
    per_table = Counter(table for table, _ in dropped)
    for table, count in sorted(per_table.items()):
        days = sorted(day for t, day in dropped if t == table)
        print(f"{verb} {count} day(s) of {table}: {days[0]} .. {days[-1]}")
    print(f"retention: days before {first_kept} ({where}): {verb} {len(dropped)}")
    return 0

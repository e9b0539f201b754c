"""Topic definitions: every topic of `events.topics` and its `.dlq`, with partitions and retention.

Raw topics keep hours (ClickHouse is the long-term store), derived topics and dead letters a week.
Keep the partition count a multiple of the number of Bytewax processes.

    python -m deploy.topics create [--bootstrap HOST:PORT] [--partitions N] [--namespace NS]
    python -m deploy.topics delete --namespace NS
    python -m deploy.topics list [--namespace NS]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from connectors.kafka.admin import (
    DAY_MS,
    DEFAULT_PARTITIONS,
    DLQ_RETENTION_MS,
    HOUR_MS,
    TopicSpec,
    delete_topics,
    ensure_topics,
    wait_for_broker,
)
from connectors.settings import Settings
from events.topics import ALL_TOPICS, DERIVED_TOPICS, INGEST_INPUT, RAW_TOPICS, dlq, namespaced

RAW_RETENTION_MS = 6 * HOUR_MS
DERIVED_RETENTION_MS = 7 * DAY_MS

TOPICS: dict[str, TopicSpec] = {
    **{t: TopicSpec(DEFAULT_PARTITIONS, RAW_RETENTION_MS) for t in RAW_TOPICS},
    **{t: TopicSpec(DEFAULT_PARTITIONS, DERIVED_RETENTION_MS) for t in DERIVED_TOPICS},
    **{dlq(t): TopicSpec(DEFAULT_PARTITIONS, DLQ_RETENTION_MS) for t in (*ALL_TOPICS, INGEST_INPUT)},
}
"""Base topic name -> spec, dead-letter topics included."""


def topic_specs(namespace: str | None = None, partitions: int | None = None) -> dict[str, TopicSpec]:
    """Return every topic (namespaced if given) -> spec, with `partitions` overriding the default."""
    return {
        namespaced(name, namespace): TopicSpec(
            partitions if partitions is not None else spec.partitions, spec.retention_ms, spec.config
        )
        for name, spec in TOPICS.items()
    }


def topic_names(namespace: str | None = None) -> list[str]:
    """Return every topic name (namespaced if given), dead-letter topics included, sorted."""
    return sorted(topic_specs(namespace))


def main(argv: Sequence[str] | None = None) -> int:
    """Create, delete or list flowtape's topics."""
    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m deploy.topics", description=main.__doc__)
    parser.add_argument("action", choices=("create", "delete", "list"))
    parser.add_argument("--bootstrap", default=settings.kafka_bootstrap)
    parser.add_argument("--partitions", type=int, default=settings.kafka_partitions)
    parser.add_argument("--namespace", default=settings.namespace)
    parser.add_argument("--timeout-s", type=float, default=30.0)
    args = parser.parse_args(argv)
    specs = topic_specs(args.namespace or None, args.partitions)
    if args.action == "list":
        for name, spec in sorted(specs.items()):
            print(f"{name}\tpartitions={spec.partitions}\tretention.ms={spec.retention_ms}")
        return 0
    wait_for_broker(args.bootstrap, args.timeout_s)
    if args.action == "create":
        created = ensure_topics(args.bootstrap, specs, with_dlq=False, timeout_s=args.timeout_s)
        print(f"created {len(created)} topic(s), {len(specs) - len(created)} already present")
    else:
        if not args.namespace:
            parser.error("delete needs --namespace (refusing to delete the live topics)")
        deleted = delete_topics(args.bootstrap, specs, with_dlq=False, timeout_s=args.timeout_s)
        print(f"deleted {len(deleted)} topic(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

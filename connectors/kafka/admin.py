"""Topic administration: wait for the broker, create topics (and their dead-letter topics), delete them.

Partition counts: keep every topic's partition count a multiple of the number of Bytewax processes that
read it (`-i/-a`); uneven splits hit an open stall bug, and the partition is the unit of parallelism of
`KafkaSource`. All topics of one flow should share one count so keys land on matching partitions.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from events.topics import DLQ_SUFFIX, dlq

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
DEFAULT_PARTITIONS = 4
DLQ_RETENTION_MS = 7 * DAY_MS


class BrokerUnavailable(TimeoutError):
    """The Kafka-API broker did not answer in time."""


class TopicAdminError(RuntimeError):
    """Creating or deleting a topic failed for a reason other than 'already there' / 'not there'."""


@dataclass(frozen=True)
class TopicSpec:
    """How one topic is created: partitions and time retention in ms (plus any other topic config)."""

    partitions: int = DEFAULT_PARTITIONS
    retention_ms: int = DAY_MS
    config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.partitions <= 0:
            raise ValueError(f"partitions must be positive, got {self.partitions}")
        if self.retention_ms <= 0 and self.retention_ms != -1:
            raise ValueError(f"retention_ms must be positive (or -1 for unlimited), got {self.retention_ms}")

    def topic_config(self) -> dict[str, str]:
        """Return the broker-side topic config of this spec."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": "delete", **self.config}


def admin_client(bootstrap: str) -> AdminClient:
    """Return an admin client; it holds no socket worth closing beyond garbage collection."""
    return AdminClient({"bootstrap.servers": bootstrap})


def _addresses(bootstrap: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bootstrap server must be host:port, got {server!r}")
        out.append((host.strip("[]"), int(port)))
    return out


def _tcp_open(bootstrap: str, timeout_s: float) -> bool:
    for host, port in _addresses(bootstrap):
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return True
        except OSError:
            continue
    return False


def wait_for_broker(bootstrap: str, timeout_s: float = 30.0) -> None:
    """Block until the broker accepts connections and answers a metadata request, or raise BrokerUnavailable.

    Probes the TCP port first so an absent broker does not flood stderr with librdkafka connect errors.
    """
    deadline = time.monotonic() + timeout_s
    last_error = "port closed"
    while True:
        remaining_s = deadline - time.monotonic()
        if _tcp_open(bootstrap, timeout_s=max(0.1, min(1.0, remaining_s))):
            try:
                metadata = admin_client(bootstrap).list_topics(timeout=max(0.5, min(5.0, remaining_s)))
            except KafkaException as exc:
                last_error = f"metadata request failed: {exc}"
            else:
                if metadata.brokers:
                    return
                last_error = "metadata lists no brokers"
        if time.monotonic() >= deadline:
            raise BrokerUnavailable(
                f"Kafka broker at {bootstrap} not ready after {timeout_s:g} s ({last_error}); "
                "start the local services with `python -m deploy.services up`"
            )
        time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))


def _with_dlqs(specs: dict[str, TopicSpec]) -> dict[str, TopicSpec]:
    out = dict(specs)
    for name, spec in specs.items():
        if not name.endswith(DLQ_SUFFIX):
            out.setdefault(dlq(name), TopicSpec(partitions=spec.partitions, retention_ms=DLQ_RETENTION_MS))
    return out


def _as_specs(topics: Mapping[str, TopicSpec] | Iterable[str], partitions: int | None) -> dict[str, TopicSpec]:
    if isinstance(topics, str):
        raise TypeError("topics must be an iterable of names or a mapping, not a string")
    specs = dict(topics) if isinstance(topics, Mapping) else {name: TopicSpec() for name in topics}
    if partitions is not None:
        specs = {
            name: TopicSpec(partitions=partitions, retention_ms=spec.retention_ms, config=spec.config)
            for name, spec in specs.items()
        }
    return specs


def topic_partitions(bootstrap: str, timeout_s: float = 10.0) -> dict[str, int]:
    """Return the partition count of every topic on the broker."""
    metadata = admin_client(bootstrap).list_topics(timeout=timeout_s)
    return {name: len(meta.partitions) for name, meta in metadata.topics.items()}


def _wait_all(futures: Mapping[str, Future[None]], ignore: int, what: str, timeout_s: float) -> list[str]:
    """Wait for admin futures; return the names that succeeded, skip those failing with `ignore`."""
    done: list[str] = []
    failures: list[str] = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and err.code() == ignore:
                continue
            failures.append(f"{name}: {exc}")
        else:
            done.append(name)
    if failures:
        raise TopicAdminError(f"{what} failed: " + "; ".join(failures))
    return sorted(done)


def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, TopicSpec] | Iterable[str],
    partitions: int | None = None,
    *,
    with_dlq: bool = True,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the topics that do not exist yet (and their `.dlq` topics); return the names created.

    `topics` is a mapping name -> TopicSpec, or plain names (DEFAULT_PARTITIONS, one day retention).
    `partitions`, when given, overrides every spec. Existing topics are left as they are (a partition
    count differing from the spec is logged, not changed); a concurrent creation is not an error.
    """
    specs = _as_specs(topics, partitions)
    if with_dlq:
        specs = _with_dlqs(specs)
    if not specs:
        return []
    client = admin_client(bootstrap)
    existing = {name: len(meta.partitions) for name, meta in client.list_topics(timeout=timeout_s).topics.items()}
    for name, count in existing.items():
        if name in specs and count != specs[name].partitions:
            log.warning("topic %s has %d partitions, spec says %d: left unchanged", name, count, specs[name].partitions)
    missing = [
        NewTopic(
            name, num_partitions=spec.partitions, replication_factor=replication_factor, config=spec.topic_config()
        )
        for name, spec in sorted(specs.items())
        if name not in existing
    ]
    if not missing:
        return []
    futures = client.create_topics(missing, request_timeout=timeout_s, operation_timeout=timeout_s)
    created = _wait_all(futures, KafkaError.TOPIC_ALREADY_EXISTS, "create topics", timeout_s)
    _wait_visible(client, created, timeout_s)
    return created


def _wait_visible(client: AdminClient, names: list[str], timeout_s: float) -> None:
    """Wait until metadata shows the created topics with leaders, so producers do not race creation."""
    deadline = time.monotonic() + timeout_s
    pending = set(names)
    while pending:
        metadata = client.list_topics(timeout=max(0.5, deadline - time.monotonic()))
        for name in list(pending):
            meta = metadata.topics.get(name)
            if (
                meta is not None
                and meta.error is None
                and meta.partitions
                and all(p.leader >= 0 for p in meta.partitions.values())
            ):
                pending.discard(name)
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise TopicAdminError(f"topics not visible after {timeout_s:g} s: {sorted(pending)}")
        time.sleep(0.05)


def delete_topics(
    bootstrap: str, topics: Iterable[str], *, with_dlq: bool = True, timeout_s: float = 30.0
) -> list[str]:
    """Delete topics (and their `.dlq` topics); missing topics are skipped. Return the names deleted."""
    if isinstance(topics, str):
        raise TypeError("topics must be an iterable of names, not a string")
    names = set(topics)
    if with_dlq:
        names |= {dlq(name) for name in names if not name.endswith(DLQ_SUFFIX)}
    if not names:
        return []
    client = admin_client(bootstrap)
    present = set(client.list_topics(timeout=timeout_s).topics) & names
    if not present:
        return []
    futures = client.delete_topics(sorted(present), request_timeout=timeout_s, operation_timeout=timeout_s)
    return _wait_all(futures, KafkaError.UNKNOWN_TOPIC_OR_PART, "delete topics", timeout_s)

"""Fixtures for integration tests against the real local Kafka, ClickHouse and Redis.

The services are started once per session with ``deploy.services.up()`` (a no-op when ``flowtape services
up`` already ran). Each session gets its own ClickHouse database and its own Redis logical database, and
each test its own topic names, so concurrent sessions on the shared services do not collide. Without the
services the tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn, Protocol

import pytest
import redis
from clickhouse_driver import Client

from deploy import services as deploy_services
from deploy.services import ServiceError, ServicesConfig

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

# Redis database claims live in db 0 under this prefix; they expire if a session dies without cleanup.
_REDIS_CLAIM_PREFIX = "flowtape:test-db-claim:"
_REDIS_CLAIM_TTL_S = 6 * 3600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as ``integration``."""
    for item in items:
        if item.path.parent == HERE or HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


def _in_ci() -> bool:
    return bool(os.environ.get("CI"))


def _unavailable(reason: str) -> NoReturn:
    # In CI these tests are the point of the run: a missing service must fail it, never skip silently.
    if _in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


class TopicFactory(Protocol):
    """Return a fresh Kafka topic name starting with ``prefix``."""

    def __call__(self, prefix: str = "test") -> str: ...


@pytest.fixture(scope="session")
def services() -> ServicesConfig:
    """Start (or find running) Kafka, ClickHouse and Redis; return their config."""
    # The repo root, not the cwd: the same services whichever directory pytest runs from.
    cfg = ServicesConfig.from_env(default_state_dir=REPO_ROOT / ".flowtape")
    try:
        deploy_services.up(config=cfg)
    except ServiceError as exc:
        _unavailable(f"local services unavailable (try `python -m deploy.services up`):\n{exc}")
    return cfg


@pytest.fixture(scope="session")
def kafka_bootstrap(services: ServicesConfig) -> str:
    """Return ``bootstrap.servers`` for the local broker, e.g. ``127.0.0.1:19092``."""
    return services.kafka_bootstrap


@pytest.fixture(scope="session")
def clickhouse_database(services: ServicesConfig) -> Iterator[str]:
    """Create a database for this session on the local ClickHouse server; drop it at the end."""
    name = f"flowtape_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = Client(host=services.host, port=services.clickhouse_port)
    try:
        admin.execute(f"CREATE DATABASE {name}")
        yield name
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
    finally:
        admin.disconnect()


@pytest.fixture(scope="session")
def clickhouse_client(services: ServicesConfig, clickhouse_database: str) -> Iterator[Client]:
    """Return a clickhouse_driver Client bound to this session's fresh database."""
    client = Client(host=services.host, port=services.clickhouse_port, database=clickhouse_database)
    try:
        yield client
    finally:
        client.disconnect()


def _claim_redis_db(control: redis.Redis, token: str) -> int:
    """Claim a logical database no other live session uses (15 down to 8 with Redis' default 16)."""
    configured = control.config_get("databases").get("databases")
    count = int(configured) if configured is not None else 16
    for db in range(count - 1, count // 2 - 1, -1):
        if control.set(f"{_REDIS_CLAIM_PREFIX}{db}", token, nx=True, ex=_REDIS_CLAIM_TTL_S):
            return db
    raise RuntimeError(f"all Redis test databases {count // 2}..{count - 1} are claimed by other sessions")


@pytest.fixture(scope="session")
def redis_client(services: ServicesConfig) -> Iterator[redis.Redis]:
    """Return a Redis client on a logical database of this session's own, flushed at start."""
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    control = redis.Redis(host=services.host, port=services.redis_port, db=0)
    try:
        db = _claim_redis_db(control, token)
        client = redis.Redis(host=services.host, port=services.redis_port, db=db)
        try:
            client.flushdb()
            yield client
        finally:
            client.close()
            claim = f"{_REDIS_CLAIM_PREFIX}{db}"
            if control.get(claim) == token.encode():
                control.delete(claim)
    finally:
        control.close()


def _slug(text: str) -> str:
    # Topic names allow [A-Za-z0-9._-]; avoid "_" too, since Kafka treats "." and "_" as colliding.
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "test"


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest, kafka_bootstrap: str) -> Iterator[TopicFactory]:
    """Return ``make(prefix)`` giving fresh topic names; topics created under them are deleted afterwards."""
    made: list[str] = []
    test_slug = _slug(request.node.name)

    def make(prefix: str = "test") -> str:
        if not re.fullmatch(r"[A-Za-z0-9.-]+", prefix):
            raise ValueError(f"topic prefix {prefix!r}: use letters, digits, '.' and '-'")
        name = f"{prefix}.{test_slug}.{uuid.uuid4().hex[:12]}"
        made.append(name)
        return name

    yield make

    if made:
        _delete_topics(kafka_bootstrap, made)


def _delete_topics(bootstrap: str, names: list[str]) -> None:
    """Delete the topics that exist among ``names`` (best effort: keeps the shared broker tidy)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    doomed = [n for n in names if n in existing]
    if not doomed:
        return
    for future in admin.delete_topics(doomed, operation_timeout=30).values():
        # Already gone, or the broker is busy: leftovers are harmless.
        with contextlib.suppress(Exception):
            future.result(timeout=30)

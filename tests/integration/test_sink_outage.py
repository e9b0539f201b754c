"""A ClickHouse outage during a live `flows.sink` run: the sink waits it out, loses nothing, and resumes on its own.

The ClickHouse server is stopped for `OUTAGE_S` while events keep arriving on the topics; the sink (a real
`python -m bytewax.run flows.sink` on the real broker) must still be running when the server comes back, and the
store must then hold every event of the topics, each once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bytewax.testing import run_main

from connectors.clickhouse.store import ServerStore, StoreError
from connectors.kafka.admin import delete_topics
from connectors.kafka.io import read_topic
from connectors.settings import Settings
from deploy import services as deploy_services
from deploy.services import ServicesConfig
from deploy.topics import topic_names
from events.topics import RAW_TOPICS, namespaced
from flows import ingest

OUTAGE_S = 60.0
RESUME_S = 120.0


def _settings(services: ServicesConfig, kafka_bootstrap: str, namespace: str, database: str, seed: int) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=2,
        namespace=namespace,
        kafka_tail=False,
        store="clickhouse",
        clickhouse_host=services.host,
        clickhouse_port=services.clickhouse_port,
        clickhouse_database=database,
        ingest_source="synthetic",
        ingest_speed=0,
        synthetic_seed=seed,
        synthetic_duration_s=5.0,
        redis_url="",
        baselines="off",
    )


def _on_topics(settings: Settings) -> dict[str, int]:
    """Distinct events per raw topic (the store keeps one row per id: a message repeated is one event)."""
    counts: dict[str, int] = {}
    for topic in RAW_TOPICS:
        messages = read_topic(settings.kafka_bootstrap, namespaced(topic, settings.namespace))
        counts[topic] = len({json.loads(value or b"{}")["id"] for _, value in messages})
    return counts


def _stored(settings: Settings) -> dict[str, int] | None:
    """Rows per raw topic in the store, or None while it does not answer."""
    try:
        store = ServerStore.from_settings(settings)
        try:
            return {t: store.count(t) for t in RAW_TOPICS}
        finally:
            store.close()
    except StoreError:
        return None


def _wait_for(settings: Settings, want: dict[str, int], timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    got: dict[str, int] | None = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the sink exited ({proc.returncode})"
        got = _stored(settings)
        if got == want:
            return
        time.sleep(1.0)
    raise AssertionError(f"the store holds {got}, the topics {want}")


@pytest.fixture
def namespace(kafka_bootstrap: str) -> Iterator[str]:
    name = f"it{uuid.uuid4().hex[:10]}"
    yield name
    delete_topics(kafka_bootstrap, topic_names(name))


@pytest.mark.slow
def test_a_store_outage_during_a_sink_run_loses_nothing_and_the_sink_resumes(
    services: ServicesConfig, kafka_bootstrap: str, clickhouse_database: str, namespace: str, tmp_path: Path
) -> None:
    database = f"{clickhouse_database}_outage"
    before = _settings(services, kafka_bootstrap, namespace, database, seed=5)
    during = _settings(services, kafka_bootstrap, namespace, database, seed=6)
    run_main(ingest.build_flow(before))
    env = {
        **os.environ,
        "FLOWTAPE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "FLOWTAPE_NAMESPACE": namespace,
        "FLOWTAPE_KAFKA_PARTITIONS": "2",
        "FLOWTAPE_KAFKA_TAIL": "true",
        "FLOWTAPE_STORE": "clickhouse",
        "FLOWTAPE_CLICKHOUSE_HOST": services.host,
        "FLOWTAPE_CLICKHOUSE_PORT": str(services.clickhouse_port),
        "FLOWTAPE_CLICKHOUSE_DATABASE": database,
        "FLOWTAPE_REDIS_URL": "",
        "FLOWTAPE_STATE_DIR": str(tmp_path / "state"),
    }
    log_path = tmp_path / "sink.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bytewax.run", "flows.sink"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(before, _on_topics(before), RESUME_S, proc)  # the first batch is stored
            deploy_services.down(["clickhouse"], config=services)
            try:
                run_main(ingest.build_flow(during))  # more events arrive while the store is away
                time.sleep(OUTAGE_S)
                assert proc.poll() is None, "the sink exited during the outage:\n" + log_path.read_text()
            finally:
                deploy_services.up(["clickhouse"], config=services)
            _wait_for(before, _on_topics(before), RESUME_S, proc)  # every event of both batches, each once
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- sink log ---\n{log_path.read_text()[-4000:]}") from None
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

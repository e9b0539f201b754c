"""End to end on real services: synthetic market -> Kafka -> flows.options -> Kafka -> flows.sink ->
ClickHouse server -> API. Also: a malformed payload goes to the dead-letter topic and the flow keeps going,
and the Kafka path gives the same derived events as the in-process run of the same input.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from bytewax.testing import run_main
from fastapi.testclient import TestClient

from api.app import create_app
from connectors.clickhouse.store import ServerStore
from connectors.kafka.admin import delete_topics
from connectors.kafka.io import EventProducer, read_topic
from connectors.settings import Settings
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from deploy.services import ServicesConfig
from deploy.topics import topic_names
from events.topics import OPTIONS_PRINTS, dlq, namespaced
from flows import ingest, options, sink
from flows.replay import run_events
from tests.factories import trade

SYNTHETIC_S = 20.0
# A well-formed print but for one field: the dead letter must name exactly that field.
BAD_PAYLOAD = trade(100, "1.00", 1).model_dump_json().replace('"size_contracts":1', '"size_contracts":"many"').encode()


@dataclass(frozen=True)
class PipelineRun:
    settings: Settings
    market_config: SyntheticConfig


@pytest.fixture(scope="module")
def pipeline(services: ServicesConfig, kafka_bootstrap: str, clickhouse_database: str) -> Iterator[PipelineRun]:
    """Run ingest, options and sink flows once over 20 s of the synthetic market, to the end of the topics."""
    namespace = f"it{uuid.uuid4().hex[:10]}"
    market_config = SyntheticConfig(seed=11, duration_s=SYNTHETIC_S)
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=2,
        namespace=namespace,
        kafka_tail=False,
        store="clickhouse",
        clickhouse_host=services.host,
        clickhouse_port=services.clickhouse_port,
        clickhouse_database=clickhouse_database,
        ingest_source="synthetic",
        ingest_speed=0,
        synthetic_seed=market_config.seed,
        synthetic_duration_s=SYNTHETIC_S,
        synthetic_underlyings=",".join(market_config.underlyings),
    )
    run_main(ingest.build_flow(settings))
    with EventProducer(kafka_bootstrap) as producer:
        producer.produce_raw(namespaced(OPTIONS_PRINTS, namespace), b"SPY", BAD_PAYLOAD)
        producer.flush()
    run_main(options.build_flow(settings))
    run_main(sink.build_flow(settings))
    yield PipelineRun(settings, market_config)
    delete_topics(kafka_bootstrap, topic_names(namespace))


def _kafka_alerts(run: PipelineRun) -> list[dict[str, object]]:
    topic = namespaced("flow.alerts", run.settings.namespace)
    return [json.loads(value or b"null") for _, value in read_topic(run.settings.kafka_bootstrap, topic)]


def test_planted_sweep_alert_reaches_the_api(pipeline: PipelineRun) -> None:
    market = SyntheticMarket(pipeline.market_config)
    for _ in market.events():
        pass
    sweeps = [label for label in market.labels if label.expected_kind == "sweep"]
    assert sweeps, "the synthetic session planted no sweep"
    store = ServerStore.from_settings(pipeline.settings)
    try:
        client = TestClient(create_app(store_factory=lambda: store, settings=pipeline.settings))
        with client:
            body = client.get("/alerts", params={"limit": 500}).json()
    finally:
        store.close()
    items = body["items"]
    planted = sweeps[0]
    matching = [a for a in items if set(planted.print_ids) <= set(a["evidence_ids"])]
    assert matching, f"no alert cites the planted sweep's prints ({planted.symbol} at {planted.ts_start})"
    assert "large_sweep" in matching[0]["classifiers"]


def test_kafka_path_equals_in_process_run(pipeline: PipelineRun) -> None:
    expected = run_events(lambda: SyntheticMarket(pipeline.market_config).events())
    want = sorted((a.id, a.revision) for a in expected.get("flow.alerts", []))
    got = sorted((str(a["id"]), int(str(a["revision"]))) for a in _kafka_alerts(pipeline))
    assert want
    assert got == want


def test_malformed_payload_goes_to_dead_letter_topic(pipeline: PipelineRun) -> None:
    topic = dlq(namespaced(OPTIONS_PRINTS, pipeline.settings.namespace))
    letters = [json.loads(value or b"null") for _, value in read_topic(pipeline.settings.kafka_bootstrap, topic)]
    assert len(letters) == 1
    assert letters[0]["field"] == "size_contracts"
    assert letters[0]["payload"] == BAD_PAYLOAD.decode()
    # ...and the flow kept going past it: alerts exist (checked above) and the sink stored them.


def test_sink_is_idempotent(pipeline: PipelineRun) -> None:
    store = ServerStore.from_settings(pipeline.settings)
    try:
        before = store.count("flow.alerts")
        run_main(sink.build_flow(pipeline.settings))
        assert store.count("flow.alerts") == before
        assert before > 0
    finally:
        store.close()

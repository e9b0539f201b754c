"""End to end on real services: synthetic market -> Kafka -> flows.options (with volume baselines from Redis)
and flows.equities (with average daily volumes from Redis) -> Kafka -> flows.sink -> ClickHouse server -> API.
The planted scenarios land their expected alerts in ClickHouse; a malformed payload goes to the dead-letter
topic and the flow keeps going; the Kafka path gives the same derived events as the in-process run of the same
input and baselines.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
import redis
from bytewax.testing import run_main
from fastapi.testclient import TestClient

from api.app import create_app
from connectors.clickhouse.store import ServerStore
from connectors.kafka.admin import delete_topics
from connectors.kafka.io import EventProducer, read_topic
from connectors.redis_cache import BaselineCache
from connectors.settings import Settings
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from deploy.services import ServicesConfig
from deploy.topics import topic_names
from events.models import SESSION_BUCKETS, OptionDefinition, VolumeBaseline
from events.topics import OPTIONS_PRINTS, dlq, namespaced
from flows import equities, ingest, options, sink
from flows.engine_steps import by_underlying
from flows.replay import run_events
from operators.volume_baselines import session_bucket
from tests.factories import trade

SYNTHETIC_S = 20.0
# A well-formed print but for one field: the dead letter must name exactly that field.
BAD_PAYLOAD = trade(100, "1.00", 1).model_dump_json().replace('"size_contracts":1', '"size_contracts":"many"').encode()


@dataclass(frozen=True)
class PipelineRun:
    settings: Settings
    market_config: SyntheticConfig
    baselines: tuple[VolumeBaseline, ...]


ADV_SHARES = 40_000_000


def quiet_history(market_config: SyntheticConfig) -> tuple[VolumeBaseline, ...]:
    """A history in which every contract of the market traded 0.1 contracts per 5 minutes: any 50 lots in a
    bucket are unusual (the 5-minute clause of unusual_volume); and every stock 40M shares a session (its ADV)."""
    market = SyntheticMarket(market_config)
    stocks = tuple(
        VolumeBaseline(
            id=f"it-adv-{stock}",
            ts_event=market_config.start_ts - 1,
            scope="equity",
            subject=stock,
            underlying=stock,
            as_of=date(2026, 2, 27),
            sessions=30,
            day_volume_mean=float(ADV_SHARES),
            bucket_volume_mean=(ADV_SHARES / SESSION_BUCKETS,) * SESSION_BUCKETS,
        )
        for stock in market_config.underlyings
    )
    return stocks + tuple(
        VolumeBaseline(
            id=f"it-baseline-{d.symbol.replace(' ', '_')}",
            ts_event=market_config.start_ts - 1,
            scope="contract",
            subject=d.symbol,
            underlying=d.underlying,
            as_of=date(2026, 2, 27),
            sessions=30,
            day_volume_mean=0.1 * SESSION_BUCKETS,
            bucket_volume_mean=(0.1,) * SESSION_BUCKETS,
        )
        for d in market.refdata()
        if isinstance(d, OptionDefinition)
    )


@pytest.fixture(scope="module")
def pipeline(
    services: ServicesConfig, kafka_bootstrap: str, clickhouse_database: str, redis_client: redis.Redis
) -> Iterator[PipelineRun]:
    """Cache baselines in Redis, then run ingest, options and sink flows once over 20 s of the synthetic market,
    to the end of the topics."""
    namespace = f"it{uuid.uuid4().hex[:10]}"
    market_config = SyntheticConfig(seed=11, duration_s=SYNTHETIC_S)
    baselines = quiet_history(market_config)
    BaselineCache(redis_client).write(baselines)
    redis_db = redis_client.connection_pool.connection_kwargs["db"]
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
        redis_url=f"redis://{services.host}:{services.redis_port}/{redis_db}",
        baselines="redis",
    )
    run_main(ingest.build_flow(settings))
    with EventProducer(kafka_bootstrap) as producer:
        producer.produce_raw(namespaced(OPTIONS_PRINTS, namespace), b"SPY", BAD_PAYLOAD)
        producer.flush()
    run_main(options.build_flow(settings))
    run_main(equities.build_flow(settings))
    run_main(sink.build_flow(settings))
    yield PipelineRun(settings, market_config, baselines)
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
    history = by_underlying(pipeline.baselines)
    expected = run_events(lambda: SyntheticMarket(pipeline.market_config).events(), history=history)
    want = sorted((a.id, a.revision) for a in expected.get("flow.alerts", []))
    got = sorted((str(a["id"]), int(str(a["revision"]))) for a in _kafka_alerts(pipeline))
    assert want
    assert got == want


def test_baselines_drive_the_bucket_clause(pipeline: PipelineRun) -> None:
    """The baselines cached in Redis drive the 5-minute clause; the synthetic feed's own history, published on
    refdata.options (read before the flow starts), replaces them for the contracts it covers."""
    published = {
        b.subject: b for b in SyntheticMarket(pipeline.market_config).refdata() if isinstance(b, VolumeBaseline)
    }
    store = ServerStore.from_settings(pipeline.settings)
    try:
        rows = store.query(
            f"SELECT symbol, ts_event, metrics FROM {store.table('flow_hits')} FINAL "
            "WHERE classifier = 'unusual_volume'",
            {},
        )
    finally:
        store.close()
    read: Counter[str] = Counter()
    for row in rows:
        metrics = json.loads(str(row["metrics"]))
        if "bucket_baseline_contracts" not in metrics:
            continue
        where = session_bucket(int(str(row["ts_event"])))
        assert where is not None
        baseline = published.get(str(row["symbol"]))
        want = 0.1 if baseline is None else round(baseline.bucket_volume_mean[where[1]], 4)
        assert metrics["bucket_baseline_contracts"] == want, row
        assert metrics["bucket_volume_contracts"] >= max(50, 5 * want)
        read["redis" if baseline is None else "refdata"] += 1
    assert read["redis"], "no unusual_volume hit read the 5-minute baseline cached in Redis"
    assert read["refdata"], "no unusual_volume hit read a baseline published on refdata.options"


def test_planted_scenarios_land_their_expected_alerts_in_clickhouse(pipeline: PipelineRun) -> None:
    market = SyntheticMarket(pipeline.market_config)
    for _ in market.events():
        pass
    store = ServerStore.from_settings(pipeline.settings)
    try:
        rows = store.query(f"SELECT classifiers, evidence_ids FROM {store.table('flow_alerts')} FINAL", {})
    finally:
        store.close()
    alerts = [(set(r["classifiers"]), set(r["evidence_ids"])) for r in rows]
    expected = [(label, c) for label in market.labels for c in label.expected_classifiers]
    assert len(expected) >= 10, "the session plants enough scenarios to mean something"
    missing = [
        (label.scenario, c)
        for label, c in expected
        if not any(c in classifiers and evidence & set(label.print_ids) for classifiers, evidence in alerts)
    ]
    assert not missing, f"planted scenarios without their alert in ClickHouse: {missing}"


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


EQUITY_TOPICS = ("equities.trades", "dark.inferences", "dark.levels", "equities.candles")


def test_equities_flow_lands_joins_levels_and_candles_like_the_in_process_run(pipeline: PipelineRun) -> None:
    history = by_underlying(pipeline.baselines)
    expected = run_events(lambda: SyntheticMarket(pipeline.market_config).events(), run_options=False, history=history)
    store = ServerStore.from_settings(pipeline.settings)
    try:
        for topic in EQUITY_TOPICS:
            want = sorted({e.id for e in expected.get(topic, [])})
            kafka = [
                json.loads(value or b"null")
                for _, value in read_topic(
                    pipeline.settings.kafka_bootstrap, namespaced(topic, pipeline.settings.namespace)
                )
            ]
            assert sorted({str(k["id"]) for k in kafka}) == want, topic
            table = store.table(topic.replace(".", "_"))
            rows = store.query(f"SELECT DISTINCT id FROM {table} FINAL", {})
            assert sorted(str(r["id"]) for r in rows) == want, topic
        rows = store.query(f"SELECT DISTINCT adv_shares FROM {store.table('dark_inferences')} FINAL", {})
        assert [r["adv_shares"] for r in rows] == [ADV_SHARES], "every inference read its stock's ADV from Redis"
        assert expected["equities.trades"], "every equity print is joined"
        assert expected["equities.candles"]
        assert expected["dark.levels"]
    finally:
        store.close()


def test_planted_dark_scenarios_land_their_inferences_in_clickhouse(pipeline: PipelineRun) -> None:
    market = SyntheticMarket(pipeline.market_config)
    for _ in market.events():
        pass
    store = ServerStore.from_settings(pipeline.settings)
    try:
        rows = store.query(f"SELECT kind, evidence_ids FROM {store.table('dark_inferences')} FINAL", {})
    finally:
        store.close()
    inferences = [(str(r["kind"]), set(r["evidence_ids"])) for r in rows]
    expected = [(label, c) for label in market.dark_labels for c in label.expected_classifiers]
    forbidden = [(label, c) for label in market.dark_labels for c in label.forbidden_classifiers]
    assert expected, "the session plants a dark scenario"
    missing = [
        (label.scenario, c)
        for label, c in expected
        if not any(kind == c and evidence & set(label.print_ids) for kind, evidence in inferences)
    ]
    assert not missing, f"planted dark scenarios without their inference in ClickHouse: {missing}"
    wrong = [
        (label.scenario, c)
        for label, c in forbidden
        if any(kind == c and evidence & set(label.print_ids) for kind, evidence in inferences)
    ]
    assert not wrong, f"hard negatives that raised the inference they forbid: {wrong}"

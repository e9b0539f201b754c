"""The hostile corpus through Kafka: 10,000 hostile messages among a normal synthetic session on the raw topics;
flows.options, flows.equities and flows.sink run to the end of the topics on real services. Every hostile message
is on its topic's `.dlq` with its reason (once per flow that reads the topic) and in the `dead_letters` table; the
flows and the sink keep running; the sink stores the clean events, and the derived topics equal the in-process
run of the clean session. An event the options engine raises on (a bug, simulated) goes to its topic's `.dlq`
with the exception while the flow goes on. And prints dated far ahead of their tape are quarantined: on their
topic's `.dlq` as `quarantined`, with the derived topics those of the clean session.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from bytewax.testing import run_main
from clickhouse_driver import Client

from connectors.clickhouse.store import ServerStore
from connectors.kafka.admin import delete_topics
from connectors.kafka.io import EventProducer, read_topic
from connectors.settings import Settings
from deploy.services import ServicesConfig
from deploy.topics import topic_names
from events.models import OptionPrint
from events.topics import (
    DERIVED_TOPICS,
    EQUITIES_INPUT_TOPICS,
    FLOW_ALERTS,
    FLOW_CONTEXT,
    FLOW_HITS,
    FLOW_PACKETS,
    FLOW_STRUCTURES,
    OPTIONS_INPUT_TOPICS,
    OPTIONS_PRINTS,
    dlq,
    namespaced,
    topic_for,
)
from events.units import NS_PER_S
from flows import equities, options, sink
from flows.engine_guard import ENGINE_ERROR, QUARANTINED
from flows.replay import run_events
from flows.topic_setup import ensure_flow_topics
from operators.options_engine import OptionsEngine
from tests.flows.hostile import HostileLine, clean_events, clean_lines, mixed_tape
from tests.flows.tapes import two_underlying_tape

HOSTILE = 10_000
MAX_MESSAGE_BYTES = 512 * 1024
"""Larger lines are left out: the broker refuses them itself (1 MB by default), before any flow sees them."""
SECONDS = 6.0


@dataclass(frozen=True)
class HostileRun:
    settings: Settings
    clean: list[object]
    hostile: list[tuple[str, HostileLine]]
    """(raw topic, line) of every hostile message produced."""


def _payload_text(line: bytes) -> str:
    """A dead letter's `payload`: the message as text, or base64 when it is not UTF-8."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return "b64:" + base64.b64encode(line).decode("ascii")


@pytest.fixture(scope="module")
def hostile_run(services: ServicesConfig, kafka_bootstrap: str, clickhouse_database: str) -> Iterator[HostileRun]:
    namespace = f"ithostile{uuid.uuid4().hex[:10]}"
    # A database of its own: the session's is shared by the pipeline tests, which compare whole tables.
    database = f"{clickhouse_database}_{namespace}"
    admin = Client(host=services.host, port=services.clickhouse_port)
    admin.execute(f"CREATE DATABASE {database}")
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=2,
        namespace=namespace,
        kafka_tail=False,
        store="clickhouse",
        clickhouse_host=services.host,
        clickhouse_port=services.clickhouse_port,
        clickhouse_database=database,
        baselines="off",
    )
    events = clean_events(seconds=SECONDS)
    lines = clean_lines(events)
    tape = mixed_tape(lines, HOSTILE, seed=23)
    keys = sorted({e.key for e in events})
    hostile: list[tuple[str, HostileLine]] = []
    clean_at = iter(events)
    ensure_flow_topics(settings)  # the producer writes before any flow runs (and creates them)
    with EventProducer(kafka_bootstrap) as producer:
        for number in range(1, len(tape.lines) + 1):
            bad = tape.hostile.get(number)
            if bad is None:
                event = next(clean_at)
                producer.produce(event, namespace)
                continue
            if len(bad.line) > MAX_MESSAGE_BYTES:
                continue
            topic = topic_for(bad.event_type)
            producer.produce_raw(namespaced(topic, namespace), keys[number % len(keys)].encode(), bad.line)
            hostile.append((topic, bad))
        producer.flush(120.0)
    run_main(options.build_flow(settings))
    run_main(equities.build_flow(settings))
    run_main(sink.build_flow(settings))
    yield HostileRun(settings, list(events), hostile)
    delete_topics(kafka_bootstrap, topic_names(namespace))
    admin.execute(f"DROP DATABASE IF EXISTS {database}")
    admin.disconnect()


def test_nearly_every_hostile_line_went_through_kafka(hostile_run: HostileRun) -> None:
    assert len(hostile_run.hostile) >= HOSTILE - 50
    assert len({line.category for _, line in hostile_run.hostile}) >= 20


def test_every_hostile_message_is_on_its_dead_letter_topic_with_its_reason(hostile_run: HostileRun) -> None:
    settings = hostile_run.settings
    readers = Counter([*OPTIONS_INPUT_TOPICS, *EQUITIES_INPUT_TOPICS])  # equity quotes feed both flows
    for topic in sorted({t for t, _ in hostile_run.hostile}):
        expected = Counter(_payload_text(line.line) for t, line in hostile_run.hostile if t == topic)
        messages = read_topic(settings.kafka_bootstrap, dlq(namespaced(topic, settings.namespace)), timeout_s=60)
        letters = [json.loads(value or b"null") for _, value in messages]
        assert all(letter["reason"].strip() and letter["error"] for letter in letters), topic
        got = Counter(letter["payload"] for letter in letters)
        want = Counter({payload: n * readers[topic] for payload, n in expected.items()})
        missing = want - got
        categories = Counter(
            line.category for t, line in hostile_run.hostile if t == topic and _payload_text(line.line) in missing
        )
        assert not missing, f"{topic}: hostile messages not dead-lettered, by category: {dict(categories)}"
        assert got == want, f"{topic}: dead letters of messages that were not hostile"


def test_the_sink_stores_every_hostile_message_as_a_dead_letter_and_the_clean_events(hostile_run: HostileRun) -> None:
    store = ServerStore.from_settings(hostile_run.settings)
    try:
        rows = store.query(
            f"SELECT error, count() AS n FROM {store.table('dead_letters')} FINAL "
            "WHERE topic LIKE {ns:String} GROUP BY error",
            {"ns": hostile_run.settings.namespace + ".%"},
        )
        by_error = {str(r["error"]): int(r["n"]) for r in rows}
        assert "store_refused" not in by_error, "a message that passed validation was refused by the store"
        assert sum(by_error.values()) == len(hostile_run.hostile)
        # The session's database is shared with other tests' namespaces: look for this run's ids.
        for table, event_type in (("options_prints", "option_print"), ("equities_prints", "equity_print")):
            want = {str(getattr(e, "id", "")) for e in hostile_run.clean if getattr(e, "event_type", "") == event_type}
            rows = store.query(f"SELECT DISTINCT id FROM {store.table(table)}", {})
            assert want
            assert want <= {str(r["id"]) for r in rows}, table
    finally:
        store.close()


def test_the_derived_topics_equal_the_in_process_run_of_the_clean_session(hostile_run: HostileRun) -> None:
    expected = run_events(lambda: hostile_run.clean)  # type: ignore[arg-type, return-value]
    settings = hostile_run.settings
    for topic in DERIVED_TOPICS:
        want = sorted({e.id for e in expected.get(topic, [])})
        got = sorted(
            {
                str(json.loads(value or b"null")["id"])
                for _, value in read_topic(settings.kafka_bootstrap, namespaced(topic, settings.namespace), 60)
            }
        )
        assert got == want, topic
    assert expected["flow.packets"], "the clean session derives packets"


def test_an_event_the_engine_raises_on_goes_to_its_dead_letter_topic_and_the_flow_goes_on(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = f"itengine{uuid.uuid4().hex[:10]}"
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, kafka_partitions=2, namespace=namespace, kafka_tail=False, baselines="off"
    )
    tape = two_underlying_tape()
    poisoned = next(e for e in tape if isinstance(e, OptionPrint) and e.underlying == "QQQ")
    monkeypatch.setenv("FLOWTAPE_KERNEL", "python")  # the poison patches the reference engine's per-print step
    original = OptionsEngine._process

    def process(self: OptionsEngine, trade: OptionPrint, out: list[object]) -> None:
        if trade.id == poisoned.id:
            raise OverflowError("Python int too large to convert to C long")
        original(self, trade, out)

    try:
        ensure_flow_topics(settings)
        with EventProducer(kafka_bootstrap) as producer:
            producer.produce_many(tape, namespace)
        monkeypatch.setattr(OptionsEngine, "_process", process)
        run_main(options.build_flow(settings))
        letters = [
            json.loads(value or b"null")
            for _, value in read_topic(kafka_bootstrap, dlq(namespaced(OPTIONS_PRINTS, namespace)), timeout_s=30)
        ]
        assert [(d["error"], d["key"]) for d in letters] == [(ENGINE_ERROR, "QQQ")]
        assert letters[0]["reason"] == "OverflowError: Python int too large to convert to C long"
        assert poisoned.id in letters[0]["payload"]
        packets = read_topic(kafka_bootstrap, namespaced("flow.packets", namespace), timeout_s=30)
        assert packets, "the flow went on past the event"
    finally:
        delete_topics(kafka_bootstrap, topic_names(namespace))


OPTIONS_DERIVED = (FLOW_PACKETS, FLOW_HITS, FLOW_ALERTS, FLOW_STRUCTURES, FLOW_CONTEXT)
AHEAD_NS = 40 * 86_400 * NS_PER_S  # forty days: past the quarantine's day, inside the contracts' years


def test_prints_far_ahead_of_their_tape_are_quarantined_through_kafka_and_change_nothing_else(
    kafka_bootstrap: str,
) -> None:
    namespace = f"itahead{uuid.uuid4().hex[:10]}"
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, kafka_partitions=2, namespace=namespace, kafka_tail=False, baselines="off"
    )
    events = clean_events(seconds=SECONDS)
    prints = [e for e in events if isinstance(e, OptionPrint)]
    picks = [prints[0], *prints[len(prints) // 3 :: len(prints) // 4][:4]]
    planted = [
        p.model_copy(update={"ts_event": p.ts_event + AHEAD_NS, "id": f"far-ahead-{n}"}) for n, p in enumerate(picks)
    ]
    # One ahead of everything, placed first; each other right after the print it copies, so its underlying's
    # tape goes on after it (the session opens with reference data and quotes: a place by share of the whole tape
    # could put them all before the first print, where three agreeing suspects are rightly a jump of the stream).
    tape: list[object] = [planted[0]]
    copies = {pick.id: plant for pick, plant in zip(picks[1:], planted[1:], strict=True)}
    for event in events:
        tape.append(event)
        if event.id in copies:
            tape.append(copies[event.id])
    try:
        ensure_flow_topics(settings)
        with EventProducer(kafka_bootstrap) as producer:
            producer.produce_many(tape, namespace)  # type: ignore[arg-type]
        run_main(options.build_flow(settings))
        letters = [
            json.loads(value or b"null")
            for _, value in read_topic(kafka_bootstrap, dlq(namespaced(OPTIONS_PRINTS, namespace)), timeout_s=30)
        ]
        assert sorted(json.loads(d["payload"])["id"] for d in letters) == sorted(p.id for p in planted)
        assert {d["error"] for d in letters} == {QUARANTINED}
        assert all(d["reason"].strip() for d in letters)
        expected = run_events(lambda: events)  # type: ignore[arg-type, return-value]
        for topic in OPTIONS_DERIVED:
            want = sorted({e.id for e in expected.get(topic, [])})
            got = sorted(
                str(json.loads(value or b"null")["id"])
                for _, value in read_topic(kafka_bootstrap, namespaced(topic, namespace), 60)
            )
            assert got == want, topic
        assert expected[FLOW_PACKETS], "the clean session derives packets"
    finally:
        delete_topics(kafka_bootstrap, topic_names(namespace))

"""`flows.ingest` on a recorded JSONL file with bad lines, through a real broker: the good events are on their raw
topics, and every bad line is on `ingest.input.dlq` with its file and line and its reason; the flow runs to the
end of the file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bytewax.testing import run_main

from connectors.kafka.admin import delete_topics
from connectors.kafka.io import read_topic
from connectors.settings import Settings
from deploy.topics import topic_names
from events.serde import to_json_line
from events.topics import INGEST_INPUT, OPTIONS_NBBO, OPTIONS_PRINTS, dlq, namespaced
from flows import ingest
from tests.factories import example

BAD_LINES = ["{not json", '{"event_type": "option_print"}', '{"event_type": "no_such_type", "id": "x"}']


@pytest.fixture
def namespace(kafka_bootstrap: str) -> Iterator[str]:
    ns = f"ing{uuid.uuid4().hex[:10]}"
    yield ns
    delete_topics(kafka_bootstrap, topic_names(ns), with_dlq=False)


def test_bad_lines_of_a_recorded_file_are_dead_lettered_on_the_ingest_topic(
    kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    good = [example("option_print"), example("option_nbbo")]
    path = tmp_path / "tape.jsonl"
    path.write_text("\n".join([to_json_line(good[0]), *BAD_LINES, to_json_line(good[1])]) + "\n")
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=1,
        namespace=namespace,
        ingest_source="files",
        ingest_files=str(path),
    )
    run_main(ingest.build_flow(settings))

    prints = read_topic(kafka_bootstrap, namespaced(OPTIONS_PRINTS, namespace))
    quotes = read_topic(kafka_bootstrap, namespaced(OPTIONS_NBBO, namespace))
    assert [json.loads(value or b"{}")["id"] for _, value in prints] == [good[0].id]
    assert [json.loads(value or b"{}")["id"] for _, value in quotes] == [good[1].id]
    letters = [
        json.loads(value or b"{}") for _, value in read_topic(kafka_bootstrap, dlq(namespaced(INGEST_INPUT, namespace)))
    ]
    assert [letter["topic"] for letter in letters] == ["tape.jsonl:2", "tape.jsonl:3", "tape.jsonl:4"]
    assert [letter["payload"] for letter in letters] == BAD_LINES
    assert all(letter["reason"] and letter["error"] for letter in letters)

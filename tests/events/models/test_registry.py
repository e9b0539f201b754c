"""The one model registry: every payload model once, with its topic and table, read by serde, storage and tests."""

from __future__ import annotations

import pytest

from connectors.clickhouse import schema
from events import models, topics
from events.models.registry import BY_EVENT_TYPE, EVENT_TOPIC, MODELS, REGISTRY, TOPIC_ADAPTERS, TOPIC_MODELS
from events.serde import codec_for, decode, encode
from tests.factories import EVENT_TYPES, example


def test_every_event_model_is_registered_once() -> None:
    exported = {
        obj
        for name in models.__all__
        if isinstance(obj := getattr(models, name), type)
        and issubclass(obj, models.Event)
        and "event_type" in obj.model_fields
        and isinstance(obj.model_fields["event_type"].default, str)
    }
    assert exported == set(MODELS)
    assert len(MODELS) == len(set(MODELS)) == len(BY_EVENT_TYPE)


def test_every_topic_carries_registered_models() -> None:
    assert set(TOPIC_MODELS) == set(topics.ALL_TOPICS) == set(TOPIC_ADAPTERS)
    assert set(EVENT_TOPIC.values()) == set(topics.ALL_TOPICS)
    assert TOPIC_MODELS[topics.REFDATA_OPTIONS] == (
        models.OptionDefinition,
        models.OpenInterest,
        models.VolumeBaseline,
    )


def test_storage_reads_the_registry() -> None:
    assert [s.name for s in schema.TABLES.values() if s.name != schema.DEAD_LETTERS] == [e.table for e in REGISTRY]
    for entry in REGISTRY:
        table = schema.TABLES[entry.table]
        assert (table.model, table.topic, table.version, table.day_from) == (
            entry.model,
            entry.topic,
            entry.version,
            entry.day_from,
        )


def test_factories_cover_the_registry() -> None:
    assert set(EVENT_TYPES) == set(BY_EVENT_TYPE)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_registered_type_decodes_on_its_topic(event_type: str) -> None:
    event = example(event_type)
    spec = BY_EVENT_TYPE[event_type]
    assert type(event) is spec.model
    assert decode(spec.topic, encode(event)) == event
    assert spec.model in codec_for(spec.topic).models


def test_topics_keep_their_old_names() -> None:
    assert topics.EVENT_TOPIC is EVENT_TOPIC
    assert topics.TOPIC_ADAPTERS is TOPIC_ADAPTERS
    assert topics.topic_for("volume_baseline") == topics.REFDATA_OPTIONS

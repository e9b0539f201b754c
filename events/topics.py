"""Topic names, and the dead-letter and replay naming rules (which models each topic carries: the registry,
`events.models.registry`).

Every topic is keyed by the underlying symbol, so all state for one underlying lives on one partition and
one worker.
"""

from __future__ import annotations

from typing import Any

OPTIONS_PRINTS = "options.prints"
OPTIONS_NBBO = "options.nbbo"
EQUITIES_PRINTS = "equities.prints"
EQUITIES_QUOTES = "equities.quotes"
REFDATA_OPTIONS = "refdata.options"

FLOW_PACKETS = "flow.packets"
FLOW_HITS = "flow.hits"
FLOW_ALERTS = "flow.alerts"
FLOW_STRUCTURES = "flow.structures"
FLOW_CONTEXT = "flow.context"
EQUITIES_TRADES = "equities.trades"
DARK_INFERENCES = "dark.inferences"
DARK_LEVELS = "dark.levels"
EQUITIES_CANDLES = "equities.candles"

RAW_TOPICS: tuple[str, ...] = (OPTIONS_PRINTS, OPTIONS_NBBO, EQUITIES_PRINTS, EQUITIES_QUOTES, REFDATA_OPTIONS)
DERIVED_TOPICS: tuple[str, ...] = (
    FLOW_PACKETS,
    FLOW_HITS,
    FLOW_ALERTS,
    FLOW_STRUCTURES,
    FLOW_CONTEXT,
    EQUITIES_TRADES,
    DARK_INFERENCES,
    DARK_LEVELS,
    EQUITIES_CANDLES,
)
ALL_TOPICS: tuple[str, ...] = RAW_TOPICS + DERIVED_TOPICS
OPTIONS_INPUT_TOPICS: tuple[str, ...] = (OPTIONS_PRINTS, OPTIONS_NBBO, EQUITIES_QUOTES, REFDATA_OPTIONS)
"""The options flow reads the underlyings' equity quotes too: the underlying's price at each print."""
REFERENCE_TOPICS: tuple[str, ...] = (REFDATA_OPTIONS,)
"""Reference data: a flow reads these to their end before it starts and applies them as of their event time."""
EQUITIES_INPUT_TOPICS: tuple[str, ...] = (EQUITIES_PRINTS, EQUITIES_QUOTES)

DLQ_SUFFIX = ".dlq"

INGEST_INPUT = "ingest.input"
"""Not a topic itself: the source name of `flows.ingest`'s own dead letters, published to `ingest.input.dlq` (lines
of recorded files that cannot become events, which belong to no raw topic)."""


def dlq(topic: str) -> str:
    """Return the dead-letter topic of `topic`."""
    return topic + DLQ_SUFFIX


def namespaced(topic: str, namespace: str | None) -> str:
    """Return `topic` under a replay namespace (`<namespace>.<topic>`), or unchanged without one."""
    if not namespace:
        return topic
    if not (namespace.isascii() and all(c.isalnum() or c in "-_" for c in namespace)):
        raise ValueError(f"namespace must be alphanumerics, '-' or '_': {namespace!r}")
    return f"{namespace}.{topic}"


def base_topic(topic: str) -> str:
    """Strip a replay namespace, if any, from a topic name."""
    for known in ALL_TOPICS:
        if topic == known or topic.endswith("." + known):
            return known
    raise KeyError(f"unknown topic: {topic!r}")


def topic_for(event_type: str) -> str:
    """Return the topic an event type is published on (see `events.models.registry`)."""
    from events.models.registry import EVENT_TOPIC  # the registry reads these names: import it late

    try:
        return EVENT_TOPIC[event_type]
    except KeyError:
        raise KeyError(f"no topic for event type {event_type!r}") from None


def __getattr__(name: str) -> Any:
    """Keep `EVENT_TOPIC` and `TOPIC_ADAPTERS` importable from here; they live in the registry now."""
    if name in ("EVENT_TOPIC", "TOPIC_ADAPTERS"):
        from events.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

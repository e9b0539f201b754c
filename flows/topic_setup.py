"""Topic creation shared by the Kafka flows: every topic (and its .dlq) of the namespaces a flow touches."""

from __future__ import annotations

from connectors.kafka.admin import ensure_topics
from connectors.settings import Settings
from deploy.topics import topic_specs


def ensure_flow_topics(settings: Settings) -> None:
    """Create any missing topic of the input and output namespaces (idempotent)."""
    specs = topic_specs(settings.namespace, settings.kafka_partitions)
    if settings.derived_namespace != settings.namespace:
        specs |= topic_specs(settings.derived_namespace, settings.kafka_partitions)
    ensure_topics(settings.kafka_bootstrap, specs)

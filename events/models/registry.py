"""The one model registry: every event type, its model, the topic it is published on and the table it is
stored in. Serde (`events.serde`), the ClickHouse schema (`connectors.clickhouse.schema`) and the test
factories all read it; a new payload is added here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Union

from pydantic import Field, TypeAdapter

from events import topics
from events.models.base import Event
from events.models.equities import Candle, DarkInference, DarkLevel, EquityTrade
from events.models.options import Alert, ClassifierHit, FlowContext, Packet, Structure
from events.models.raw import EquityPrint, EquityQuote, OptionNbbo, OptionPrint
from events.models.reference import OpenInterest, OptionDefinition, VolumeBaseline


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One event type: its model, its topic, and its ClickHouse table.

    `version` is the table's ReplacingMergeTree version column (the highest wins per id); `day_from` the
    nanosecond field its `day` partition is computed from, which must not change between versions of an id.
    """

    model: type[Event]
    topic: str
    table: str
    version: str = "ts_event"
    day_from: str = "ts_event"

    @property
    def event_type(self) -> str:
        tag: str = self.model.model_fields["event_type"].default
        return tag


REGISTRY: Final[tuple[EventSpec, ...]] = (
    EventSpec(OptionPrint, topics.OPTIONS_PRINTS, "options_prints"),
    EventSpec(OptionNbbo, topics.OPTIONS_NBBO, "options_nbbo"),
    EventSpec(EquityPrint, topics.EQUITIES_PRINTS, "equities_prints"),
    EventSpec(EquityQuote, topics.EQUITIES_QUOTES, "equities_quotes"),
    EventSpec(OptionDefinition, topics.REFDATA_OPTIONS, "refdata_options_definitions"),
    EventSpec(OpenInterest, topics.REFDATA_OPTIONS, "refdata_open_interest"),
    EventSpec(VolumeBaseline, topics.REFDATA_OPTIONS, "refdata_volume_baselines"),
    EventSpec(Packet, topics.FLOW_PACKETS, "flow_packets"),
    EventSpec(ClassifierHit, topics.FLOW_HITS, "flow_hits"),
    # An alert is updated in place (same id, higher revision); ts_first does not move between revisions.
    EventSpec(Alert, topics.FLOW_ALERTS, "flow_alerts", version="revision", day_from="ts_first"),
    EventSpec(Structure, topics.FLOW_STRUCTURES, "flow_structures"),
    EventSpec(FlowContext, topics.FLOW_CONTEXT, "flow_context"),
    EventSpec(EquityTrade, topics.EQUITIES_TRADES, "equities_trades"),
    EventSpec(DarkInference, topics.DARK_INFERENCES, "dark_inferences"),
    # A dark level is updated in place (same id, higher revision); ts_first does not move between revisions.
    EventSpec(DarkLevel, topics.DARK_LEVELS, "dark_levels", version="revision", day_from="ts_first"),
    EventSpec(Candle, topics.EQUITIES_CANDLES, "equities_candles"),
)
"""Every event type, raw first, in the order tables are created."""

MODELS: Final[tuple[type[Event], ...]] = tuple(spec.model for spec in REGISTRY)
BY_EVENT_TYPE: Final[dict[str, EventSpec]] = {spec.event_type: spec for spec in REGISTRY}
EVENT_TOPIC: Final[dict[str, str]] = {spec.event_type: spec.topic for spec in REGISTRY}
"""Which topic each event type is published on."""
TOPIC_MODELS: Final[dict[str, tuple[type[Event], ...]]] = {
    topic: tuple(spec.model for spec in REGISTRY if spec.topic == topic) for topic in topics.ALL_TOPICS
}
"""The models each topic carries (`refdata.options`: definitions, open interest, baselines)."""


def union_adapter(models: tuple[type[Event], ...]) -> TypeAdapter[Any]:
    """Return the pydantic validator of one model, or of a union of models tagged by `event_type`."""
    if len(models) == 1:
        return TypeAdapter(models[0])
    return TypeAdapter(Annotated[Union[models], Field(discriminator="event_type")])  # type: ignore[arg-type]  # noqa: UP007


TOPIC_ADAPTERS: Final[dict[str, TypeAdapter[Any]]] = {
    topic: union_adapter(models) for topic, models in TOPIC_MODELS.items()
}
"""One pydantic validator per topic: a model, or a tagged union where a topic carries several payloads."""


def _check() -> None:
    missing = [topic for topic, models in TOPIC_MODELS.items() if not models]
    if missing or len(BY_EVENT_TYPE) != len(REGISTRY) or len({s.table for s in REGISTRY}) != len(REGISTRY):
        raise TypeError(f"registry: every topic needs a model, event types and tables are unique ({missing})")


_check()

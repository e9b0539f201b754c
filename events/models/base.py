"""The base of every payload model, and the fields raw events share.

`Contract` is frozen, refuses unknown fields and runs its `field_checks` (cross-field rules on the field
values, such as an OSI symbol agreeing with its parsed fields) after validation. The fast decode path
(`events.wire`) runs the same `field_checks` on the decoded values, so each rule is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.models.fields import (
    SCHEMA_VERSION,
    EventId,
    Expiry,
    Name,
    PriceE9,
    SchemaVersion,
    Sequence,
    Symbol,
    TsNs,
)
from events.symbology import Right, parse_occ

FieldCheck = Callable[[Mapping[str, Any]], None]
"""A cross-field rule: read the field values, raise ValueError naming what disagrees."""


class Contract(BaseModel):
    """Base of every payload and nested record: frozen, no unknown fields, cross-field rules checked."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    field_checks: ClassVar[tuple[FieldCheck, ...]] = ()
    """Cross-field rules of this model (subclasses extend their base's)."""

    @model_validator(mode="after")
    def _checked(self) -> Self:
        for check in self.field_checks:
            check(self.__dict__)
        return self


class Event(Contract):
    """Base of every event payload: a type tag, a schema version, a deterministic id and an event time."""

    event_type: str
    schema_version: SchemaVersion = SCHEMA_VERSION
    id: EventId
    ts_event: TsNs

    @property
    def key(self) -> str:
        """Return the partition key (the underlying symbol)."""
        raise NotImplementedError


class ProviderEvent(Event):
    """Fields every raw event from a provider carries: who reported it and when it was captured."""

    provider: Name
    ts_recv: TsNs | None = None


class SequencedEvent(ProviderEvent):
    """A raw event of a provider's stream, ordered within one `ts_event` by its sequence."""

    sequence: Sequence = 0


def check_contract(values: Mapping[str, Any]) -> None:
    """Raise ValueError unless the OSI `symbol` agrees with root, expiry, right and strike (parse cached)."""
    symbol = values["symbol"]
    occ = parse_occ(symbol)
    if (
        occ.root != values["root"]
        or occ.expiry != values["expiry"]
        or occ.right != values["right"]
        or occ.strike_e9 != values["strike_e9"]
    ):
        raise ValueError(
            f"symbol {symbol!r} disagrees with root/expiry/right/strike "
            f"({values['root']}, {values['expiry']}, {values['right']}, {values['strike_e9']})"
        )


class OptionContract(Event):
    """Fields shared by events about one option contract; `symbol` must agree with the parsed fields.

    A raw event about a contract lists its provider base first (`class OptionPrint(SequencedEvent,
    OptionContract)`), so the contract's fields come right after the event's, as they always have.
    """

    symbol: Symbol = Field(description="OCC/OSI symbol, 21 characters, root space-padded")
    underlying: Symbol
    root: Symbol
    expiry: Expiry
    right: Right
    strike_e9: PriceE9

    field_checks: ClassVar[tuple[FieldCheck, ...]] = (check_contract,)

    @property
    def key(self) -> str:
        return self.underlying

"""Build derived events from values our own operators computed, without re-running pydantic validation.

`BaseModel.model_construct` costs more than validation on these models; a `Constructor` sets what it sets
(the field dict, the fields set, no extra, no private state) through the model's slot descriptors
(`events.wire`, whose decoder builds raw events the same way), since operators do not import pydantic.
`VALIDATE_EVENTS` switches validation back on: every event is then also built through the validating constructor
and must equal the constructed one field by field, with the same types and the same JSON bytes. The tests run
with it on.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from events.models import Event
from events.wire import SLOT_DESCRIPTORS, new_object, set_dict, set_extra, set_fields_set, set_private

VALIDATE_EVENTS = False
"""Build every constructed event through pydantic validation too and check they are equal (tests, debug)."""

E = TypeVar("E", bound=Event)


class Constructor(Generic[E]):
    """Make instances of one event model from a complete field dict (keys in model order).

    `template()` returns a fresh dict with every field key in model order and `event_type`/`schema_version`
    filled: callers fill the rest and pass it to `build`.
    """

    __slots__ = ("_fields", "_fields_set", "_model", "_template")

    def __init__(self, model: type[E]) -> None:
        self._model = model
        self._fields: tuple[str, ...] = tuple(model.model_fields)
        # Validation sets what the caller passed: every field but the two left to their defaults. One shared set
        # per model: pydantic copies it before any change.
        self._fields_set = set(self._fields) - {"event_type", "schema_version"}
        self._template: dict[str, Any] = dict.fromkeys(self._fields) | {
            "event_type": model.model_fields["event_type"].default,
            "schema_version": model.model_fields["schema_version"].default,
        }

    def template(self) -> dict[str, Any]:
        """Return a new field dict in model order, with the constant fields set."""
        return self._template.copy()

    def kernel_parts(self) -> tuple[type[E], set[str], tuple[Any, ...]] | None:
        """What the compiled kernel needs to do `build` itself (`operators/kernel/src/make.rs`): the model, its
        fields set and the slot descriptors to set; None while `VALIDATE_EVENTS` is on (every event then comes
        through `build`)."""
        if VALIDATE_EVENTS:
            return None
        return self._model, self._fields_set, SLOT_DESCRIPTORS

    def build(self, fields: dict[str, Any]) -> E:
        """Make the event from every field's value (as `template()` laid them out) without validating."""
        event: E = new_object(self._model)
        set_dict(event, fields)
        set_fields_set(event, self._fields_set)
        set_extra(event, None)
        set_private(event, None)
        if VALIDATE_EVENTS:
            return self._validated_equal(event, fields)
        return event

    def _validated_equal(self, event: E, fields: dict[str, Any]) -> E:
        name = self._model.__name__
        assert tuple(fields) == self._fields, f"{name} fields out of model order: {tuple(fields)}"
        given = {k: v for k, v in fields.items() if k not in ("event_type", "schema_version")}
        validated = self._model(**given)
        for field in self._fields:
            ours, theirs = getattr(event, field), getattr(validated, field)
            assert type(ours) is type(theirs), f"{name}.{field}: {type(ours)} is not {type(theirs)}"
            assert ours == theirs, f"{name}.{field}: {ours!r} != {theirs!r}"
        assert event == validated
        assert event.model_fields_set == validated.model_fields_set
        assert event.model_dump_json() == validated.model_dump_json()
        return validated

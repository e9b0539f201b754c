"""Events built without validation equal the validated ones; with VALIDATE_EVENTS on, any difference fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import operators.construct as construct
from events.models import DarkInference
from operators.construct import Constructor
from tests.factories import dark_inference_example

INFERENCES = Constructor(DarkInference)
EXAMPLE = dark_inference_example()


def _fields(**overrides: Any) -> dict[str, Any]:
    fields = INFERENCES.template()
    fields.update({k: v for k, v in EXAMPLE.__dict__.items() if k in fields})
    fields.update(overrides)
    return fields


@pytest.fixture
def validating() -> Iterator[None]:
    previous = construct.VALIDATE_EVENTS
    construct.VALIDATE_EVENTS = True
    yield
    construct.VALIDATE_EVENTS = previous


@pytest.fixture
def fast() -> Iterator[None]:
    previous = construct.VALIDATE_EVENTS
    construct.VALIDATE_EVENTS = False
    yield
    construct.VALIDATE_EVENTS = previous


def test_template_is_in_model_order_with_the_constants_set() -> None:
    template = INFERENCES.template()
    assert tuple(template) == tuple(DarkInference.model_fields)
    assert (template["event_type"], template["schema_version"]) == ("dark_inference", 1)
    assert template is not INFERENCES.template()


@pytest.mark.usefixtures("fast")
def test_constructed_equals_validated() -> None:
    built = INFERENCES.build(_fields())
    assert type(built) is DarkInference
    assert built == EXAMPLE
    assert built.model_fields_set == EXAMPLE.model_fields_set
    assert built.model_dump_json() == EXAMPLE.model_dump_json()


@pytest.mark.usefixtures("validating")
@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"size_shares": 5_000.0}, id="float-where-the-model-wants-an-int"),
        pytest.param({"evidence_ids": ["a"]}, id="list-where-the-model-makes-a-tuple"),
        pytest.param({"confidence": 1.5}, id="invalid-value"),
    ],
)
def test_validation_catches_what_construction_would_let_through(overrides: dict[str, Any]) -> None:
    with pytest.raises((AssertionError, ValueError)):
        INFERENCES.build(_fields(**overrides))


@pytest.mark.usefixtures("validating")
def test_validation_catches_fields_out_of_order() -> None:
    fields = _fields()
    shuffled = dict(reversed(list(fields.items())))
    with pytest.raises(AssertionError, match="out of model order"):
        INFERENCES.build(shuffled)

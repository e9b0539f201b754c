"""Deterministic ids: same parts give the same id, any change in a part or in order gives another."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.ids import _digest, derived_event_id, raw_event_id

RAW = ("databento", "trades", "SPY   260320C00580000", 1_772_461_800_000_000_000, 7)
HEX32 = re.compile(r"[0-9a-f]{32}")


def test_raw_event_id_is_deterministic_32_hex() -> None:
    first = raw_event_id(*RAW)
    assert first == raw_event_id(*RAW)
    assert HEX32.fullmatch(first)


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(("alpaca", *RAW[1:]), id="provider"),
        pytest.param((RAW[0], "nbbo", *RAW[2:]), id="channel"),
        pytest.param((*RAW[:2], "SPY   260320P00580000", *RAW[3:]), id="instrument"),
        pytest.param((*RAW[:3], RAW[3] + 1, RAW[4]), id="ts-event-1ns"),
        pytest.param((*RAW[:4], RAW[4] + 1), id="sequence"),
        pytest.param((RAW[1], RAW[0], *RAW[2:]), id="provider-channel-swapped"),
        pytest.param((*RAW[:3], RAW[4], RAW[3]), id="ts-sequence-swapped"),
    ],
)
def test_raw_event_id_changes_with_every_part(changed: tuple[str, str, str, int, int]) -> None:
    assert raw_event_id(*changed) != raw_event_id(*RAW)


def test_derived_event_id_is_deterministic_32_hex() -> None:
    ids = [raw_event_id(*RAW), raw_event_id(*RAW[:4], 8)]
    first = derived_event_id("packet", ids)
    assert first == derived_event_id("packet", list(ids))
    assert first == derived_event_id("packet", iter(ids)), "any iterable of the same ids"
    assert HEX32.fullmatch(first)


@pytest.mark.parametrize(
    ("kind", "inputs"),
    [
        pytest.param("hit", ("a", "b"), id="kind"),
        pytest.param("packet", ("b", "a"), id="order"),
        pytest.param("packet", ("a",), id="fewer-inputs"),
        pytest.param("packet", ("a", "b", "c"), id="more-inputs"),
        pytest.param("packet", ("ab",), id="joined-inputs"),
        pytest.param("packet", ("a", "b", ""), id="trailing-empty"),
        pytest.param("packeta", ("b",), id="kind-absorbs-input"),
    ],
)
def test_derived_event_id_changes_with_kind_inputs_and_order(kind: str, inputs: tuple[str, ...]) -> None:
    assert derived_event_id(kind, inputs) != derived_event_id("packet", ("a", "b"))


def test_raw_and_derived_ids_do_not_collide_on_same_text() -> None:
    assert raw_event_id("a", "b", "c", 1, 2) != derived_event_id("a", ("b", "c", "1", "2x"))


parts = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x1f"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(parts, min_size=1, max_size=5, unique=True))
def test_derived_event_id_depends_on_order(inputs: list[str]) -> None:
    forward = derived_event_id("packet", inputs)
    assert forward == derived_event_id("packet", tuple(inputs))
    assert HEX32.fullmatch(forward)
    if len(inputs) > 1:
        assert derived_event_id("packet", reversed(inputs)) != forward


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.text(max_size=20), st.text(max_size=24), st.integers(0, 2**63), st.integers(0, 2**32))
def test_raw_event_id_is_the_digest_of_its_parts(
    provider: str, channel: str, instrument: str, ts_event: int, sequence: int
) -> None:
    """The one-step text of `raw_event_id` is `_digest`'s: ids recorded before stay the same."""
    parts = (provider, channel, instrument, ts_event, sequence)
    assert raw_event_id(*parts) == _digest(parts)

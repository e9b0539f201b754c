"""The options scenario library: every scenario planted, every packet classifier and kind with ground truth."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import pytest

from connectors.synthetic import PlantedLabel, SyntheticConfig, SyntheticMarket
from connectors.synthetic.planted.library import HARD_NEGATIVES, SCENARIOS
from connectors.synthetic.planted.planners import PLANNERS
from connectors.synthetic.planted.truth import (
    PACKET_CLASSIFIERS,
    STRUCTURE_CLASSIFIERS,
)
from tests.connectors.synthetic.planted.sessions import (
    library,
)

# ------------------------------------------------------------------------------------------ library


def test_planners_cover_the_library() -> None:
    assert set(PLANNERS) == set(SCENARIOS)
    assert set(SCENARIOS) > HARD_NEGATIVES


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_is_planted(scenario: str) -> None:
    assert len(library().of(scenario)) >= 3, scenario


@pytest.mark.parametrize("classifier", PACKET_CLASSIFIERS)
def test_every_classifier_is_expected_and_forbidden_somewhere(classifier: str) -> None:
    labels = library().labels
    assert sum(classifier in label.expected_classifiers for label in labels) >= 5
    assert sum(classifier in label.forbidden_classifiers for label in labels) >= 5


@pytest.mark.parametrize("kind", ["sweep", "block", "split", "single"])
def test_every_packet_kind_is_planted(kind: str) -> None:
    assert sum(label.expected_kind == kind for label in library().labels) >= 3


def test_labels_are_consistent() -> None:
    for label in library().labels:
        expected, forbidden = set(label.expected_classifiers), set(label.forbidden_classifiers)
        assert not expected & forbidden, label
        # A label speaks about one kind of subject: its packets, or (a structure label) the structure of its legs.
        assert expected | forbidden <= set(PACKET_CLASSIFIERS if label.structure is None else STRUCTURE_CLASSIFIERS)
        assert label.description
        if label.hard_negative:
            assert forbidden, label
        if label.expected_direction is not None:
            assert label.expected_direction in ("bullish", "bearish", "neutral")


def test_scenarios_own_their_contracts_across_underlyings() -> None:
    by_symbol: dict[str, list[PlantedLabel]] = defaultdict(list)
    for label in library().labels:
        if label.structure is None:  # a structure label spans its legs, each with its own label
            by_symbol[label.symbol].append(label)
    for labels in by_symbol.values():
        for a, b in pairwise(sorted(labels, key=lambda lb: lb.ts_start)):
            assert b.ts_start > a.ts_end


def test_a_universe_without_0dte_still_plants_the_rest() -> None:
    # AAPL lists no expiry on a Monday: the 0DTE kinds fit nowhere and must not stall the bag.
    market = SyntheticMarket(SyntheticConfig(underlyings=("AAPL",), duration_s=90.0, plant_every_s=1.0))
    for _ in market.events():
        pass
    scenarios = {label.scenario for label in market.labels}
    assert not scenarios & {"zero_dte", "zero_dte_miss"}
    assert len(scenarios) >= 12

"""Planted structures checked against the operators: the synthetic tape run through the options engine, its
packets through `StructureDetector` and `classify_structure`, compared with the structure labels.

A structure label is ground truth only if the detector, fed every packet of the session, forms exactly the
planted structure from exactly its legs (or nothing, for the hard negatives) and the classifiers read it as
labeled; each leg's own label must still hold for the packet classifiers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import pytest

from connectors.synthetic import PlantedLabel, SyntheticConfig, SyntheticMarket
from connectors.synthetic.planted.truth import (
    RULES,
    STRUCTURE_CLASSIFIERS,
    structure_truth,
)
from events.models import (
    ClassifierHit,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    Packet,
    Side,
    Structure,
    VolumeBaseline,
)
from events.units import NS_PER_MS
from operators.classifiers import classify_structure
from operators.options_engine import OptionsEngine, OptionsOutput
from operators.structures import StructureDetector

STRUCTURE_SCENARIOS = (
    "vertical_debit",
    "vertical_credit",
    "straddle",
    "strangle",
    "ladder",
    "calendar",
    "roll",
    "multi_leg",
    "size_mismatch_legs",
    "far_apart_legs",
    "same_side_vertical",
    "tiny_legs",
)
WINDOW_NS = RULES.structure_window_ms * NS_PER_MS
OPTION_EVENTS = (OptionNbbo, OptionPrint, OptionDefinition, OpenInterest, VolumeBaseline)


@dataclass(frozen=True)
class Run:
    labels: tuple[PlantedLabel, ...]
    packets: tuple[Packet, ...]
    """Every packet the engine closed, in emission order."""
    engine_structures: tuple[Structure, ...]
    engine_hits: tuple[ClassifierHit, ...]
    structures: tuple[Structure, ...]
    """The structures of a fresh detector fed the engine's packets."""
    hits: tuple[ClassifierHit, ...]
    """`classify_structure` on those."""

    def structure_labels(self, scenario: str | None = None) -> list[PlantedLabel]:
        return [lb for lb in self.labels if lb.structure is not None and scenario in (None, lb.scenario)]

    def legs_of(self, label: PlantedLabel) -> list[PlantedLabel]:
        ids = set(label.print_ids)
        return [lb for lb in self.labels if lb.structure is None and ids.issuperset(lb.print_ids)]


def detect(packets: list[Packet]) -> list[Structure]:
    """Feed a fresh detector in emission order, moving the watermark a settle time behind the newest packet."""
    detector = StructureDetector(RULES)
    settle = WINDOW_NS + (RULES.packet_window_ms + RULES.packet_gap_ms + RULES.watermark_lag_ms) * NS_PER_MS
    newest = -1
    out: list[Structure] = []
    for packet in packets:
        out += detector.on_packet(packet)
        newest = max(newest, packet.ts_last)
        out += detector.advance(newest - settle)
    return out + detector.flush()


@cache
def run() -> Run:
    """A dense session (a scenario every 2 s per underlying) through one options engine per underlying."""
    market = SyntheticMarket(SyntheticConfig(duration_s=150.0, plant_every_s=2.0))
    engines: dict[str, OptionsEngine] = {}
    out: list[OptionsOutput] = []
    for event in market.events():
        if isinstance(event, OPTION_EVENTS):
            engine = engines.get(event.underlying)
            if engine is None:
                engine = engines[event.underlying] = OptionsEngine(RULES)
            out += engine.on_event(event)
    for engine in engines.values():
        out += engine.on_eof()
    packets = [o for o in out if isinstance(o, Packet)]
    structures = detect(packets)
    return Run(
        labels=tuple(market.labels),
        packets=tuple(packets),
        engine_structures=tuple(o for o in out if isinstance(o, Structure)),
        engine_hits=tuple(o for o in out if isinstance(o, ClassifierHit)),
        structures=tuple(structures),
        hits=tuple(h for s in structures for h in classify_structure(s, RULES)),
    )


def touching(structures: tuple[Structure, ...], label: PlantedLabel) -> list[Structure]:
    ids = set(label.print_ids)
    return [s for s in structures if ids.intersection(s.print_ids)]


# ------------------------------------------------------------------------------------------ planting


@pytest.mark.parametrize("scenario", STRUCTURE_SCENARIOS)
def test_every_structure_scenario_is_planted(scenario: str) -> None:
    assert len(run().structure_labels(scenario)) >= 3, scenario


@pytest.mark.parametrize("structure_type", ["vertical", "straddle", "strangle", "ladder", "roll", "multi_leg"])
def test_every_structure_type_is_expected(structure_type: str) -> None:
    labels = run().structure_labels()
    assert sum(lb.structure is not None and lb.structure.structure_type == structure_type for lb in labels) >= 3


def test_calendars_diagonals_and_flagged_structures_are_planted() -> None:
    truths = [lb.structure for lb in run().structure_labels() if lb.structure is not None]
    assert {"calendar", "diagonal"} <= {t.structure_type for t in truths}
    assert sum(t.flagged for t in truths) >= 3
    assert sum(t.structure_type is None for t in truths) >= 12, "hard negatives"


@pytest.mark.parametrize("classifier", STRUCTURE_CLASSIFIERS)
def test_every_structure_classifier_is_expected_and_forbidden(classifier: str) -> None:
    labels = run().structure_labels()
    assert sum(classifier in lb.expected_classifiers for lb in labels) >= 3
    assert sum(classifier in lb.forbidden_classifiers for lb in labels) >= 10


def test_structure_labels_are_their_legs() -> None:
    r = run()
    for label in r.structure_labels():
        truth = label.structure
        assert truth is not None
        legs = r.legs_of(label)
        assert {lb.symbol for lb in legs} == set(truth.legs) == set(label.symbols)
        assert sorted(i for lb in legs for i in lb.print_ids) == sorted(label.print_ids)
        assert {lb.scenario for lb in legs} == {label.scenario}
        assert label.symbol == truth.legs[0]
        assert (label.ts_start, label.ts_end) == (min(lb.ts_start for lb in legs), max(lb.ts_end for lb in legs))
        expected, forbidden = structure_truth(truth.structure_type, truth.gross_premium_cents)
        assert (label.expected_classifiers, label.forbidden_classifiers) == (expected, forbidden)
        assert label.hard_negative is (label.scenario in STRUCTURE_SCENARIOS[-4:])
        if label.hard_negative:
            assert not label.expected_classifiers
            assert set(label.forbidden_classifiers) == set(STRUCTURE_CLASSIFIERS)


# ------------------------------------------------------------------------------------ the operators


def test_the_detector_forms_exactly_the_planted_structures() -> None:
    r = run()
    for label in r.structure_labels():
        truth = label.structure
        assert truth is not None
        found = touching(r.structures, label)
        if truth.structure_type is None:
            assert found == [], (label.description, [s.rule for s in found])
            continue
        assert len(found) == 1, (label.description, [s.rule for s in found])
        (structure,) = found
        assert sorted(structure.print_ids) == sorted(label.print_ids), label.description
        assert structure.structure_type == truth.structure_type, (label.description, structure.rule)
        assert structure.flagged is truth.flagged
        assert structure.net_premium == truth.net_premium
        assert tuple(leg.symbol for leg in structure.legs) == truth.legs


def test_structure_classifiers_read_the_labels() -> None:
    r = run()
    by_structure: dict[str, list[ClassifierHit]] = defaultdict(list)
    for hit in r.hits:
        by_structure[hit.subject_id].append(hit)
    for label in r.structure_labels():
        fired = [h for s in touching(r.structures, label) for h in by_structure[s.id]]
        assert {h.classifier for h in fired} == set(label.expected_classifiers), label.description
        for hit in fired:
            assert hit.direction == label.expected_direction, (label.description, hit.explanations)
            assert set(hit.evidence_ids) == set(label.print_ids)


def test_the_engine_detects_what_a_fresh_detector_detects() -> None:
    # Same packets, another watermark schedule: the same structures (the detector depends on packets only).
    r = run()
    assert sorted(s.id for s in r.engine_structures) == sorted(s.id for s in r.structures)
    engine = {h.id for h in r.engine_hits if h.classifier in STRUCTURE_CLASSIFIERS}
    assert engine == {h.id for h in r.hits}


def test_no_other_packet_is_a_candidate_of_the_legs() -> None:
    # What makes a structure label ground truth: the legs are the only candidates of one another.
    r = run()
    by_underlying: dict[str, list[Packet]] = defaultdict(list)
    for p in r.packets:
        by_underlying[p.underlying].append(p)
    for label in r.structure_labels():
        truth = label.structure
        assert truth is not None
        ids = set(label.print_ids)
        legs = [p for p in by_underlying[label.underlying] if ids.intersection(p.print_ids)]
        assert len(legs) == len(truth.legs), "one packet per leg"
        assert all(ids.issuperset(p.print_ids) for p in legs)
        for other in by_underlying[label.underlying]:
            if other in legs:
                continue
            for leg in legs:
                if other.ts_first > leg.ts_last + WINDOW_NS or leg.ts_first > other.ts_last + WINDOW_NS:
                    continue
                flagged = "multi_leg" in other.conditions
                assert not (truth.flagged and flagged), (label.description, other)
                ratio = max(other.size_contracts, leg.size_contracts) / min(other.size_contracts, leg.size_contracts)
                comparable = (
                    ratio <= RULES.structure_size_ratio_max
                    and min(other.size_contracts, leg.size_contracts) >= RULES.structure_min_leg_contracts
                )
                assert truth.flagged or flagged or not comparable, (label.description, other)


def test_legs_are_the_packets_their_labels_plan() -> None:
    r = run()
    packet_of = {i: p for p in r.packets for i in p.print_ids}
    hits_of: dict[str, set[str]] = defaultdict(set)
    for hit in r.engine_hits:
        if hit.subject_type == "packet":
            hits_of[hit.subject_id].add(hit.classifier)
    for label in r.structure_labels():
        assert label.structure is not None
        for leg in r.legs_of(label):
            packets = {packet_of[i].id: packet_of[i] for i in leg.print_ids}
            assert len(packets) == 1, leg.description
            (packet,) = packets.values()
            assert packet.kind == leg.expected_kind, leg.description
            side: Side = "unknown" if label.structure.flagged else leg.side
            assert packet.side == side
            fired = hits_of[packet.id]
            assert set(leg.expected_classifiers) <= fired, (leg.description, fired)
            assert not set(leg.forbidden_classifiers) & fired, (leg.description, fired)

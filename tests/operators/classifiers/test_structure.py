"""Structure classifiers (BEHAVIOR section 6): vertical spreads, straddles and strangles, ladders, rolls."""

from __future__ import annotations

from typing import Any

import pytest

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Direction, Packet, Side, Structure
from operators.classifiers import (
    STRUCTURE_CLASSIFIERS,
    classify_structure,
    ladder,
    roll,
    straddle_strangle,
    vertical_spread,
)
from tests.factories import leg, occ, structure

CFG = OptionsConfig()
APR = "2026-04-17"
C580, C585, C590 = occ("580"), occ("585"), occ("590")
P570, P580 = occ("570", "P"), occ("580", "P")


def _leg(symbol: str, side: Side, size: int, price: str = "2.00", at_ms: float = 30, **kw: Any) -> Packet:
    return leg(symbol, side=side, size=size, price=price, at_ms=at_ms, **kw)


def _structure(*packets: Packet) -> Structure:
    return structure(*packets)


@pytest.mark.parametrize(
    ("right", "low_side", "high_side", "prices", "direction", "kind"),
    [
        pytest.param("C", "buy", "sell", ("5.00", "2.50"), "bullish", "Debit call spread", id="debit-call"),
        pytest.param("C", "sell", "buy", ("5.00", "2.50"), "bearish", "Credit call spread", id="credit-call"),
        pytest.param("P", "sell", "buy", ("2.50", "5.00"), "bearish", "Debit put spread", id="debit-put"),
        pytest.param("P", "buy", "sell", ("2.50", "5.00"), "bullish", "Credit put spread", id="credit-put"),
        pytest.param("C", "unknown", "sell", ("5.00", "2.50"), "neutral", "Sides unknown", id="side-unknown"),
        pytest.param("C", "buy", "sell", ("1.00", "3.00"), "neutral", "evidence disagrees", id="prices-disagree"),
    ],
)
def test_vertical_spread(
    right: str, low_side: Side, high_side: Side, prices: tuple[str, str], direction: Direction, kind: str
) -> None:
    flags = ("multi_leg",) if "unknown" in (low_side, high_side) else ()  # inferred legs have known sides
    s = _structure(
        _leg(occ("580", right), low_side, 100, prices[0], conditions=flags),
        _leg(occ("585", right), high_side, 100, prices[1], conditions=flags),
    )
    hit = vertical_spread(s, CFG)
    assert hit is not None
    assert hit.direction == direction
    text = " ".join(hit.explanations)
    assert kind in text
    for cited in ("580.00", "585.00", "100", "gross", s.rule):
        assert cited in text
    assert hit.subject_type == "structure"
    assert (hit.subject_id, hit.symbol, hit.underlying) == (s.id, "SPY", "SPY")
    assert hit.evidence_ids == s.print_ids
    assert hit.id == derived_event_id("hit", ("vertical_spread", s.id))
    assert (hit.premium_cents, hit.size_contracts) == (s.gross_premium_cents, 200)


def test_poor_quotes_withhold_a_direction() -> None:
    s = _structure(_leg(C580, "buy", 100, "5.00", nbbo_coverage=0.4), _leg(C585, "sell", 100, "2.50"))
    hit = vertical_spread(s, CFG)
    assert hit is not None
    assert hit.direction == "neutral"
    assert "direction withheld" in " ".join(hit.explanations)
    clean = vertical_spread(_structure(_leg(C580, "buy", 100, "5.00"), _leg(C585, "sell", 100, "2.50")), CFG)
    assert clean is not None
    assert hit.confidence < clean.confidence


@pytest.mark.parametrize(
    ("side", "read"),
    [
        pytest.param("buy", "long volatility", id="long"),
        pytest.param("sell", "short volatility", id="short"),
        pytest.param("unknown", "volatility direction unknown", id="unknown"),
    ],
)
def test_straddle_strangle(side: Side, read: str) -> None:
    flags = ("multi_leg",) if side == "unknown" else ()  # inferred legs have known sides
    hit = straddle_strangle(
        _structure(_leg(C580, side, 100, conditions=flags), _leg(P580, side, 100, conditions=flags)), CFG
    )
    assert hit is not None
    assert hit.direction == "neutral"
    assert read in " ".join(hit.explanations)
    assert "Straddle" in " ".join(hit.explanations)


def test_ladder_names_a_butterfly() -> None:
    s = _structure(_leg(C580, "buy", 100, "5.00"), _leg(C585, "sell", 200, "3.00"), _leg(C590, "buy", 100, "1.50"))
    hit = ladder(s, CFG)
    assert hit is not None
    text = " ".join(hit.explanations)
    assert "call butterfly centred on 585.00" in text
    assert "Net debit $5.0k" in text
    assert hit.direction == "neutral"


@pytest.mark.parametrize(
    ("near", "far", "label", "direction"),
    [
        pytest.param(("580", "sell"), ("580", "buy"), "Roll out", "bullish", id="long-call-out"),
        pytest.param(("580", "sell"), ("600", "buy"), "Roll up and out", "bullish", id="long-call-up"),
        pytest.param(("580", "buy"), ("560", "sell"), "Roll down and out", "bearish", id="short-call-down"),
    ],
)
def test_roll(near: tuple[str, Side], far: tuple[str, Side], label: str, direction: Direction) -> None:
    s = _structure(_leg(occ(near[0]), near[1], 100), _leg(occ(far[0], expiry=APR), far[1], 100))
    hit = roll(s, CFG)
    assert hit is not None
    text = " ".join(hit.explanations)
    assert label in text
    assert "28 days out" in text
    assert hit.direction == direction


@pytest.mark.parametrize(
    ("packets", "classifiers"),
    [
        pytest.param([_leg(C580, "buy", 100), _leg(C585, "sell", 100)], ["vertical_spread"], id="vertical"),
        pytest.param([_leg(C580, "buy", 100), _leg(P580, "buy", 100)], ["straddle_strangle"], id="straddle"),
        pytest.param([_leg(C590, "buy", 100), _leg(P570, "sell", 100)], [], id="multi-leg-has-none"),
        pytest.param([_leg(C580, "buy", 100), _leg(occ("580", expiry=APR), "buy", 100)], [], id="calendar-has-none"),
        pytest.param([_leg(C580, "sell", 100), _leg(occ("580", expiry=APR), "buy", 100)], ["roll"], id="roll"),
    ],
)
def test_classify_structure_runs_the_matching_classifier(packets: list[Packet], classifiers: list[str]) -> None:
    assert [h.classifier for h in classify_structure(_structure(*packets), CFG)] == classifiers


def test_flagged_structures_gain_confidence() -> None:
    plain = _structure(_leg(C580, "buy", 100), _leg(C585, "sell", 100))
    flagged = _structure(
        _leg(C580, "buy", 100, conditions=("multi_leg",)), _leg(C585, "sell", 100, conditions=("multi_leg",))
    )
    hits = vertical_spread(plain, CFG), vertical_spread(flagged, CFG)
    assert hits[0] is not None
    assert hits[1] is not None
    assert hits[1].confidence > hits[0].confidence
    assert "flagged multi-leg by the venue" in flagged.rule


def test_every_structure_classifier_is_listed() -> None:
    assert {c.__name__ for c in STRUCTURE_CLASSIFIERS} == {"straddle_strangle", "vertical_spread", "ladder", "roll"}

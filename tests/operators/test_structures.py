"""Multi-leg structures (BEHAVIOR section 5): shapes, structure events, the detector."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Packet, Side, Structure, StructureType
from events.units import NS_PER_MS
from operators.structures import (
    MAX_PENDING_PACKETS,
    StructureDetector,
    build_structure,
    classify_legs,
    is_flagged,
    size_ratio,
)
from tests.factories import leg, occ

CFG = OptionsConfig()
SETTLE_NS = CFG.structure_window_ns + CFG.packet_window_ns + CFG.packet_gap_ns
APR = "2026-04-17"


def detect(packets: list[Packet], cfg: OptionsConfig = CFG) -> list[Structure]:
    """Feed packets in order, advancing the watermark to each one's end; then flush."""
    detector = StructureDetector(cfg)
    out: list[Structure] = []
    for p in packets:
        out += detector.on_packet(p)
        out += detector.advance(p.ts_last)
    return out + detector.flush()


def only(packets: list[Packet], cfg: OptionsConfig = CFG) -> Structure | None:
    found = detect(packets, cfg)
    assert len(found) <= 1, found
    return found[0] if found else None


# ------------------------------------------------------------------------------------------- shapes

C580, C585, C590, C595 = occ("580"), occ("585"), occ("590"), occ("595")
P570, P580 = occ("570", "P"), occ("580", "P")


def _leg(symbol: str, side: Side, size: int, price: str = "2.00", at_ms: float = 30, **kw: Any) -> Packet:
    return leg(symbol, side=side, size=size, price=price, at_ms=at_ms, **kw)


SHAPES = [
    pytest.param([_leg(C580, "buy", 100, "5.00"), _leg(C585, "sell", 100, "2.50")], "vertical", id="vertical-debit"),
    # Inferred (unflagged) structures need every leg's side known: unknown-side coincidences stay packets.
    pytest.param([_leg(C580, "unknown", 100), _leg(C585, "unknown", 100)], None, id="vertical-sides-unknown"),
    pytest.param([_leg(C580, "buy", 100), _leg(C585, "unknown", 100)], None, id="vertical-one-side-unknown"),
    pytest.param([_leg(C580, "buy", 100), _leg(C585, "sell", 300)], "vertical", id="vertical-ratio-exactly-3"),
    pytest.param([_leg(C580, "buy", 100), _leg(C585, "sell", 301)], None, id="vertical-ratio-over-3"),
    pytest.param([_leg(C580, "buy", 100), _leg(C585, "buy", 100)], "multi_leg", id="same-side-calls-equal-sizes"),
    pytest.param([_leg(C580, "buy", 100), _leg(C585, "buy", 150)], None, id="same-side-calls-unequal"),
    pytest.param([_leg(C580, "buy", 100), _leg(P580, "buy", 100)], "straddle", id="straddle"),
    pytest.param([_leg(C590, "sell", 100), _leg(P570, "sell", 120)], "strangle", id="strangle"),
    pytest.param([_leg(C580, "unknown", 100), _leg(P580, "unknown", 100)], None, id="straddle-sides-unknown"),
    pytest.param([_leg(C590, "buy", 100), _leg(P570, "sell", 100)], "multi_leg", id="risk-reversal-equal-sizes"),
    pytest.param([_leg(C590, "buy", 100), _leg(P570, "sell", 150)], None, id="risk-reversal-unequal"),
    pytest.param([_leg(C580, "buy", 100), _leg(occ("580", expiry=APR), "buy", 100)], "calendar", id="calendar"),
    pytest.param([_leg(C580, "buy", 100), _leg(occ("590", expiry=APR), "buy", 200)], "diagonal", id="diagonal"),
    pytest.param(
        [_leg(C580, "unknown", 100), _leg(occ("590", expiry=APR), "unknown", 200)], None, id="diagonal-sides-unknown"
    ),
    pytest.param([_leg(C580, "sell", 100), _leg(occ("580", expiry=APR), "buy", 100)], "roll", id="roll-out"),
    pytest.param([_leg(C580, "sell", 100), _leg(occ("600", expiry=APR), "buy", 100)], "roll", id="roll-up-and-out"),
    pytest.param(
        [_leg(C580, "buy", 100), _leg(C585, "sell", 200), _leg(C590, "buy", 100)], "ladder", id="ladder-butterfly"
    ),
    pytest.param(
        [_leg(C580, "buy", 100), _leg(C585, "sell", 100), _leg(C590, "sell", 100), _leg(C595, "sell", 100)],
        "ladder",
        id="ladder-4-strikes",
    ),
    pytest.param(
        [
            _leg(C590, "sell", 50),
            _leg(C595, "buy", 50),
            _leg(P570, "sell", 50),
            _leg(occ("565", "P"), "buy", 50),
        ],
        "multi_leg",
        id="iron-condor-equal-sizes",
    ),
    # Hard negatives.
    pytest.param(
        [_leg(C580, "buy", 100), _leg(occ("600", "P", expiry=APR), "buy", 1_000)],
        None,
        id="different-expiry-very-different-size",
    ),
    pytest.param(
        [_leg(C580, "buy", 100), _leg(occ("580", expiry=APR), "buy", 1_000)], None, id="calendar-shape-size-1-to-10"
    ),
    pytest.param([_leg(C580, "buy", 100), _leg(C580, "sell", 100, at_ms=200)], None, id="same-contract-twice"),
    pytest.param([_leg(C580, "buy", 5), _leg(C585, "sell", 5)], None, id="legs-below-min-size"),
    pytest.param([_leg(C580, "buy", 49), _leg(C585, "sell", 49)], None, id="legs-49-under-the-50-floor"),
    pytest.param([_leg(C580, "buy", 50), _leg(C585, "sell", 50)], "vertical", id="legs-at-the-50-floor"),
    pytest.param([_leg(C580, "buy", 100), _leg(occ("585", root="QQQ"), "sell", 100)], None, id="different-underlyings"),
    pytest.param(
        [_leg(C580, "buy", 100), _leg(C585, "sell", 150), _leg(P580, "buy", 120)], None, id="two-partners-mixed"
    ),
    pytest.param(
        [_leg(C580, "buy", 100), _leg(C585, "sell", 120), _leg(C595, "buy", 100)], None, id="uneven-strikes-mixed"
    ),
    pytest.param(
        [_leg(C580, "buy", 100), _leg(C585, "sell", 100), _leg(occ("560", "P", expiry=APR), "buy", 150)],
        "vertical",
        id="unique-exact-partner-wins",
    ),
    # Multi-leg condition flags are trusted (sizes need not match) but never mixed with unflagged packets.
    pytest.param(
        [
            _leg(C580, "unknown", 10, conditions=("multi_leg",)),
            _leg(occ("560", "P", expiry=APR), "unknown", 50, conditions=("multi_leg",)),
        ],
        "multi_leg",
        id="flagged-no-shape",
    ),
    pytest.param(
        [_leg(C580, "unknown", 100, conditions=("multi_leg",)), _leg(C585, "unknown", 100, conditions=("multi_leg",))],
        "vertical",
        id="flagged-vertical",
    ),
    pytest.param(
        [_leg(C580, "unknown", 100, conditions=("multi_leg",)), _leg(C585, "sell", 100)], None, id="flagged-unflagged"
    ),
    pytest.param(
        [_leg(occ(str(580 + 5 * i)), "unknown", 10, conditions=("multi_leg",)) for i in range(5)],
        None,
        id="flagged-more-than-max-legs",
    ),
    pytest.param(
        [_leg(C580, "unknown", 1, conditions=("multi_leg",)), _leg(C585, "unknown", 1, conditions=("multi_leg",))],
        "vertical",
        id="flagged-one-lots",
    ),
]


@pytest.mark.parametrize(("packets", "expected"), SHAPES)
def test_shapes(packets: list[Packet], expected: StructureType | None) -> None:
    found = only(packets)
    assert (found.structure_type if found else None) == expected
    if found is not None:
        assert set(found.leg_ids) <= {p.id for p in packets}
        assert found.flagged is ("multi_leg" in packets[0].conditions)


def _detect_with_usual(packets: list[Packet], usual: list[float | None], cfg: OptionsConfig = CFG) -> list[Structure]:
    detector = StructureDetector(cfg)
    out: list[Structure] = []
    for p, u in zip(packets, usual, strict=True):
        out += detector.on_packet(p, u)
    return out + detector.flush()


FLAGGED = ("multi_leg",)


@pytest.mark.parametrize(
    ("packets", "usual", "expected"),
    [
        # Held-out OPRA: "strangle: unknown 36C x11 / unknown 44P x11" was an alert; coincidence, no structure.
        pytest.param(
            [_leg(occ("36", root="XYZ"), "unknown", 11), _leg(occ("44", "P", root="XYZ"), "unknown", 11)],
            [None, None],
            None,
            id="unknown-side-11-lot-call-put-pair",
        ),
        pytest.param([_leg(C590, "buy", 11), _leg(P570, "buy", 11)], [None, None], None, id="known-side-11-lots"),
        pytest.param([_leg(C580, "unknown", 500), _leg(P580, "unknown", 500)], [None, None], None, id="unknown-500s"),
        pytest.param(
            [_leg(C580, "buy", 100), _leg(C585, "sell", 100)], [None, None], "vertical", id="100-lot-vertical"
        ),
        pytest.param(
            [_leg(C580, "buy", 100), _leg(C585, "sell", 100)], [33.0, 20.0], "vertical", id="3x-the-usual-print"
        ),
        pytest.param(
            [_leg(C580, "buy", 100), _leg(C585, "sell", 100)], [34.0, 20.0], None, id="one-leg-under-3x-its-usual"
        ),
        pytest.param(
            [_leg(C580, "buy", 100), _leg(P580, "buy", 100)],
            [100.0, 100.0],
            None,
            id="ordinary-prints-of-busy-contracts",
        ),
        pytest.param(
            [_leg(C580, "unknown", 11, conditions=FLAGGED), _leg(C585, "unknown", 11, conditions=FLAGGED)],
            [100.0, 100.0],
            "vertical",
            id="flagged-small-legs-stay-trusted",
        ),
        pytest.param(
            [_leg(C580, "unknown", 2, conditions=FLAGGED), _leg(P580, "unknown", 2, conditions=FLAGGED)],
            [None, None],
            "straddle",
            id="flagged-2-lot-straddle",
        ),
    ],
)
def test_inferred_legs_need_significance(
    packets: list[Packet], usual: list[float | None], expected: StructureType | None
) -> None:
    found = _detect_with_usual(packets, usual)
    assert [s.structure_type for s in found] == ([expected] if expected else [])


def test_leg_floor_and_usual_multiple_follow_settings() -> None:
    legs = [_leg(C580, "buy", 100), _leg(C585, "sell", 100)]
    assert _detect_with_usual(legs, [None, None], OptionsConfig(structure_min_leg_contracts=101)) == []
    assert _detect_with_usual(legs, [20.0, 20.0], OptionsConfig(structure_leg_usual_multiple=6.0)) == []
    assert len(_detect_with_usual(legs, [20.0, 20.0], OptionsConfig(structure_leg_usual_multiple=5.0))) == 1


@pytest.mark.parametrize(
    ("gap_ms", "pairs"),
    [
        pytest.param(0, True, id="overlapping"),
        pytest.param(500, True, id="exactly-window-apart"),
        pytest.param(500.000001, False, id="1ns-over-window"),
        pytest.param(2_000, False, id="far-apart"),
    ],
)
def test_structure_window_boundary(gap_ms: float, pairs: bool) -> None:
    first = _leg(C580, "buy", 100, at_ms=30, span_ms=20)
    second = _leg(C585, "sell", 100, at_ms=30 + gap_ms + 20, span_ms=20)
    assert second.ts_first - first.ts_last == round(gap_ms * NS_PER_MS)
    assert (only([first, second]) is not None) is pairs


def test_window_and_ratio_follow_settings() -> None:
    cfg = OptionsConfig(structure_window_ms=50, structure_size_ratio_max=1.5)
    near = [_leg(C580, "buy", 100), _leg(C585, "sell", 150, at_ms=100)]
    assert only(near, cfg) is not None
    assert only([near[0], _leg(C585, "sell", 151, at_ms=100)], cfg) is None
    assert only([near[0], _leg(C585, "sell", 150, at_ms=151)], cfg) is None


def test_legs_are_ordered_and_the_id_follows_them() -> None:
    buy, sell = _leg(C580, "buy", 100, "5.00", at_ms=40), _leg(C585, "sell", 100, "2.50", at_ms=30)
    found = only([sell, buy])
    assert found is not None
    assert found.leg_ids == (buy.id, sell.id), "ordered by strike, not by arrival"
    assert found.id == derived_event_id("structure", (buy.id, sell.id))
    assert found.print_ids == (*buy.print_ids, *sell.print_ids)
    assert found.ts_event == max(buy.ts_event, sell.ts_event)
    assert (found.ts_first, found.ts_last) == (min(buy.ts_first, sell.ts_first), max(buy.ts_last, sell.ts_last))
    assert [leg_.strike_e9 for leg_ in found.legs] == [buy.strike_e9, sell.strike_e9]
    assert found.key == "SPY"


@pytest.mark.parametrize(
    ("sides", "prices", "net_cents", "kind"),
    [
        pytest.param(("buy", "sell"), ("5.00", "2.50"), 2_500_000, "debit", id="debit"),
        pytest.param(("sell", "buy"), ("5.00", "2.50"), -2_500_000, "credit", id="credit"),
        pytest.param(("buy", "sell"), ("2.50", "2.50"), 0, "even", id="even"),
        pytest.param(("buy", "unknown"), ("5.00", "2.50"), None, "unknown", id="unknown-side"),
    ],
)
def test_net_premium(sides: tuple[Side, Side], prices: tuple[str, str], net_cents: int | None, kind: str) -> None:
    # A leg of unknown side is only ever in a flagged structure.
    flags = ("multi_leg",) if "unknown" in sides else ()
    found = only(
        [
            _leg(C580, sides[0], 100, prices[0], conditions=flags),
            _leg(C585, sides[1], 100, prices[1], conditions=flags),
        ]
    )
    assert found is not None
    assert (found.net_premium_cents, found.net_premium) == (net_cents, kind)
    assert found.gross_premium_cents == sum(leg_.premium_cents for leg_ in found.legs)
    assert found.size_contracts == 200


def test_rule_cites_the_numbers() -> None:
    found = only([_leg(C580, "buy", 100), _leg(C585, "sell", 300, at_ms=130)])
    assert found is not None
    for text in ("vertical", "2026-03-20", "580.00/585.00", "100/300", "ratio 3.00 <= 3", "buy/sell", "<= 500 ms"):
        assert text in found.rule
    assert found.metrics["size_ratio"] == 3.0
    assert found.metrics["strike_width_usd"] == 5.0
    assert found.metrics["span_gap_ms"] == 80.0


# ------------------------------------------------------------------------------------------- detector


def test_waits_until_no_candidate_can_still_arrive() -> None:
    first = _leg(C580, "buy", 100)
    detector = StructureDetector(CFG)
    assert detector.on_packet(first) == []
    assert detector.advance(first.ts_last + SETTLE_NS) == []
    assert detector.pending_count == 1
    assert detector.advance(first.ts_last + SETTLE_NS + 1) == []
    assert detector.pending_count == 0
    assert detector.released_packets == 1


def test_a_partner_closing_late_in_the_window_still_pairs() -> None:
    # The partner starts structure_window after the anchor ends and spans a full packet window.
    first = _leg(C580, "buy", 100, at_ms=30, span_ms=20)
    second_end = 30 + CFG.structure_window_ms + CFG.packet_window_ms
    second = _leg(C585, "sell", 100, at_ms=second_end, span_ms=CFG.packet_window_ms)
    detector = StructureDetector(CFG)
    detector.on_packet(first)
    assert detector.advance(second.ts_last + CFG.packet_gap_ns) == []
    found = detector.on_packet(second) + detector.advance(first.ts_last + SETTLE_NS + 1)
    assert [s.structure_type for s in found] == ["vertical"]


def test_a_used_packet_is_never_reused() -> None:
    a, b = _leg(C580, "buy", 100), _leg(C585, "sell", 100)
    c = _leg(C590, "sell", 100, at_ms=2_000)
    found = detect([a, b, c])
    assert [s.leg_ids for s in found] == [(a.id, b.id)]


def test_a_packet_delivered_twice_is_one_leg() -> None:
    a, b = _leg(C580, "buy", 100), _leg(C585, "sell", 100)
    detector = StructureDetector(CFG)
    out = detector.on_packet(a) + detector.on_packet(a) + detector.on_packet(b)
    out += detector.advance(b.ts_last + SETTLE_NS + 1)
    out += detector.on_packet(a) + detector.flush()
    assert [s.leg_ids for s in out] == [(a.id, b.id)]


def test_a_late_packet_is_counted_and_pairs_with_what_is_undecided() -> None:
    detector = StructureDetector(CFG)
    a = _leg(C580, "buy", 100)
    detector.on_packet(a)
    detector.advance(a.ts_last + 10 * SETTLE_NS)
    late = _leg(C585, "sell", 100)
    assert detector.on_packet(late) == []
    assert detector.late_packets == 1
    assert detector.pending_count == 0


def test_mixed_evidence_releases_every_candidate_involved() -> None:
    anchor = _leg(C580, "buy", 100, at_ms=30)
    vertical = _leg(C585, "sell", 150, at_ms=35)
    straddle = _leg(P580, "buy", 120, at_ms=40)
    detector = StructureDetector(CFG)
    for p in (anchor, vertical, straddle):
        detector.on_packet(p)
    assert detector.flush() == []
    assert detector.released_packets == 3


def test_the_decision_log_says_what_was_paired_and_what_released_in_anchor_order() -> None:
    lone = _leg(C590, "buy", 100, at_ms=10)
    a, b = _leg(C580, "buy", 100, at_ms=2_000), _leg(C585, "sell", 100, at_ms=2_010)
    small = _leg(C595, "buy", 10, at_ms=2_020)
    detector = StructureDetector(CFG, log_decisions=True)
    for p in (lone, a, b, small):
        detector.on_packet(p)
    assert [detector.may_pair(p) for p in (lone, a, b, small)] == [True, True, True, False], "10 lots: never a leg"
    detector.advance(lone.ts_last + SETTLE_NS + 1)
    (released,) = detector.take_decisions()
    assert (released.structure, released.packet_ids) == (None, (lone.id,))
    assert not detector.may_pair(lone), "decided"
    detector.flush()
    (paired,) = detector.take_decisions()
    assert paired.structure is not None
    assert paired.packet_ids == paired.structure.leg_ids == (a.id, b.id)
    assert detector.take_decisions() == []
    assert detector.released_packets == 2, "the lone leg, and the 10 lots released as they arrived (no decision)"


def test_the_decision_log_is_the_same_however_often_the_watermark_moves() -> None:
    packets = [_leg(C580 if i % 2 else C585, "buy" if i % 2 else "sell", 100, at_ms=i * 300) for i in range(12)]
    stepwise, at_once = StructureDetector(CFG, log_decisions=True), StructureDetector(CFG, log_decisions=True)
    for p in packets:
        stepwise.on_packet(p)
        stepwise.advance(p.ts_last)
        at_once.on_packet(p)
    stepwise.flush()
    at_once.flush()
    assert stepwise.take_decisions() == at_once.take_decisions()


def test_the_decision_log_is_opt_in() -> None:
    with pytest.raises(RuntimeError, match="log_decisions"):
        StructureDetector(CFG).take_decisions()


def test_underlyings_are_kept_apart_and_ordered() -> None:
    spy = [_leg(C580, "buy", 100, at_ms=40), _leg(C585, "sell", 100, at_ms=40)]
    qqq = [_leg(occ("500", root="QQQ"), "buy", 100), _leg(occ("505", root="QQQ"), "sell", 100)]
    found = detect([spy[0], qqq[0], spy[1], qqq[1]])
    assert [s.underlying for s in found] == ["QQQ", "SPY"], "ordered by ts_event, then id"
    assert all(len({leg_.symbol[:3] for leg_ in s.legs}) == 1 for s in found)


def test_build_structure_refuses_inconsistent_legs() -> None:
    a = _leg(C580, "buy", 100)
    shape = classify_legs([a, _leg(C585, "sell", 100)], CFG)
    assert shape is not None
    with pytest.raises(ValueError, match="at most one leg"):
        build_structure([a, a], shape, flagged=False, cfg=CFG)


# --------------------------------------------------------------------------------------- properties

_STRIKES = ["570", "575", "580", "585", "590"]
_SIZES = [1, 10, 50, 100, 150, 300, 1_000]


@st.composite
def packets(draw: st.DrawFn, flagged_one_in: int = 10) -> list[Packet]:
    n = draw(st.integers(min_value=0, max_value=14))
    out: list[Packet] = []
    for i in range(n):
        symbol = occ(
            draw(st.sampled_from(_STRIKES)),
            draw(st.sampled_from("CP")),
            expiry=draw(st.sampled_from(["2026-03-20", APR])),
            root=draw(st.sampled_from(["SPY", "SPY", "QQQ"])),
        )
        span = draw(st.integers(min_value=0, max_value=100))
        out.append(
            leg(
                symbol,
                side=draw(st.sampled_from(["buy", "sell", "unknown"])),
                size=draw(st.sampled_from(_SIZES)),
                price=draw(st.sampled_from(["0.50", "1.00", "2.50"])),
                at_ms=draw(st.integers(min_value=0, max_value=60)) * 50 + span,
                span_ms=span,
                conditions=("multi_leg",) if draw(st.integers(1, flagged_one_in)) == 1 else (),
                print_ids=(f"print-{i}",),
            )
        )
    return sorted(out, key=lambda p: (p.ts_last, p.id))


@settings(max_examples=300, deadline=None)
@given(packets())
def test_a_packet_is_in_at_most_one_structure(tape: list[Packet]) -> None:
    by_id = {p.id: p for p in tape}
    legs_seen: list[str] = []
    for s in detect(tape):
        legs_seen.extend(s.leg_ids)
        legs = [by_id[i] for i in s.leg_ids]
        assert len({p.underlying for p in legs}) == 1
        assert len({"multi_leg" in p.conditions for p in legs}) == 1, "flagged and unflagged never mix"
        assert max(p.ts_first for p in legs) - min(p.ts_first for p in legs) <= CFG.structure_window_ns + max(
            p.span_ns for p in legs
        )
        if not s.flagged and s.structure_type != "multi_leg":
            shape = classify_legs(legs, CFG)
            assert shape is not None
            assert shape.structure_type == s.structure_type
    assert len(legs_seen) == len(set(legs_seen))


@settings(max_examples=200, deadline=None)
@given(packets())
def test_same_input_same_ids_however_the_watermark_moves(tape: list[Packet]) -> None:
    incremental = detect(tape)
    assert detect(tape) == incremental
    batch = StructureDetector(CFG)
    for p in tape:
        batch.on_packet(p)
    flushed = batch.flush()
    # Per underlying (one engine's book), one call decides in the same order as a moving watermark does; across
    # underlyings the books are independent and only the set is the same.
    for underlying in {s.underlying for s in [*flushed, *incremental]}:
        assert [s for s in flushed if s.underlying == underlying] == [
            s for s in incremental if s.underlying == underlying
        ], underlying
    assert sorted(flushed, key=lambda s: s.id) == sorted(incremental, key=lambda s: s.id)


class PlainDetector:
    """The decisions of the detector, the plain way: every decision scans every undecided packet.

    Decisions only (legs and type per call, released and late counts): structure events are built by the same
    functions either way.
    """

    def __init__(self, cfg: OptionsConfig) -> None:
        self.cfg = cfg
        self.settle_ns = cfg.structure_window_ns + cfg.packet_window_ns + cfg.packet_gap_ns
        self.undecided: dict[str, list[Packet]] = {}
        self.decided: set[str] = set()
        self.watermark = -1
        self.late_packets = 0
        self.released_packets = 0

    def on_packet(self, packet: Packet) -> list[tuple[tuple[str, ...], str]]:
        cfg = self.cfg
        if not is_flagged(packet) and (
            packet.size_contracts < cfg.structure_min_leg_contracts
            or packet.premium_cents < cfg.structure_min_leg_premium_usd * 100
            or packet.side == "unknown"
        ):
            self.released_packets += 1  # no one's leg: released on arrival
            return []
        book = self.undecided.setdefault(packet.underlying, [])
        if packet.id in self.decided or any(p.id == packet.id for p in book):
            return []
        self.late_packets += packet.ts_last + self.settle_ns < self.watermark
        book.append(packet)
        return self.ready(book)

    def advance(self, watermark_ns: int) -> list[tuple[tuple[str, ...], str]]:
        self.watermark = max(self.watermark, watermark_ns)
        return [d for u in sorted(self.undecided) for d in self.ready(self.undecided[u])]

    def flush(self) -> list[tuple[tuple[str, ...], str]]:
        out = []
        for underlying in sorted(self.undecided):
            while self.undecided[underlying]:
                out += self.decide(self.undecided[underlying])
        return out

    def ready(self, book: list[Packet]) -> list[tuple[tuple[str, ...], str]]:
        out = []
        while book:
            anchor = min(book, key=lambda p: (p.ts_first, p.id))
            if anchor.ts_last + self.settle_ns >= self.watermark and len(book) <= MAX_PENDING_PACKETS:
                break
            out += self.decide(book)
        return out

    def decide(self, book: list[Packet]) -> list[tuple[tuple[str, ...], str]]:
        cfg = self.cfg
        anchor = min(book, key=lambda p: (p.ts_first, p.id))
        horizon = anchor.ts_last + cfg.structure_window_ns
        others = sorted(
            (p for p in book if p is not anchor and p.ts_first <= horizon), key=lambda p: (p.ts_first, p.id)
        )
        legs: list[Packet] = []
        used = [anchor]
        if is_flagged(anchor):
            group = [anchor, *(p for p in others if is_flagged(p))]
            if 2 <= len(group) <= cfg.structure_max_legs and len({p.symbol for p in group}) == len(group):
                legs = group
            used = group
        elif (
            anchor.size_contracts >= cfg.structure_min_leg_contracts
            and anchor.premium_cents >= cfg.structure_min_leg_premium_usd * 100
            and anchor.side != "unknown"
        ):
            comparable = [
                p
                for p in others
                if not is_flagged(p)
                and p.size_contracts >= cfg.structure_min_leg_contracts
                and p.premium_cents >= cfg.structure_min_leg_premium_usd * 100
                and p.side != "unknown"
                and p.symbol != anchor.symbol
                and size_ratio((anchor, p)) <= cfg.structure_size_ratio_max
            ]
            group = [anchor, *comparable]
            same_size = len({p.size_contracts for p in group}) == 1
            exact = [
                p for p in comparable if p.size_contracts == anchor.size_contracts and classify_legs((anchor, p), cfg)
            ]
            if len(group) == 2:
                legs = group if classify_legs(group, cfg) or same_size else []
            elif (
                len(group) > 2
                and len(group) <= cfg.structure_max_legs
                and len({p.symbol for p in group}) == len(group)
                and (classify_legs(group, cfg) or same_size)
            ):
                legs = group
            elif len(group) > 2 and len(exact) == 1:
                legs = [anchor, exact[0]]
            else:
                used = group
        for p in legs or used:
            book.remove(p)
            self.decided.add(p.id)
        if not legs:
            self.released_packets += len(used)
            return []
        shape = classify_legs(legs, cfg)
        ordered = sorted(legs, key=lambda p: (p.expiry, p.strike_e9, p.right, p.id))
        return [(tuple(p.id for p in ordered), shape.structure_type if shape else "multi_leg")]


@st.composite
def tapes(draw: st.DrawFn) -> list[Packet | int]:
    """Packets in closing order, watermarks (ints) between some of them, and some packets delivered twice."""
    tape: list[Packet | int] = []
    for p in draw(packets(flagged_one_in=draw(st.sampled_from([3, 10])))):
        tape.append(p)
        if draw(st.integers(0, 3)) == 0:
            tape.append(p.ts_last + draw(st.sampled_from([0, SETTLE_NS // 2, SETTLE_NS + 1, 5 * SETTLE_NS])))
        if draw(st.integers(0, 9)) == 0:
            tape.append(draw(st.sampled_from([q for q in tape if isinstance(q, Packet)])))
    return tape


@settings(max_examples=300, deadline=None)
@given(tapes(), st.sampled_from([CFG, OptionsConfig(structure_max_legs=2, structure_size_ratio_max=1.5)]))
def test_decisions_equal_a_plain_detector(tape: list[Packet | int], cfg: OptionsConfig) -> None:
    detector, plain = StructureDetector(cfg), PlainDetector(cfg)
    for item in [*tape, None]:
        if item is None:
            found, expected = detector.flush(), plain.flush()
        elif isinstance(item, int):
            found, expected = detector.advance(item), plain.advance(item)
        else:
            found, expected = detector.on_packet(item), plain.on_packet(item)
        assert sorted((s.leg_ids, s.structure_type) for s in found) == sorted(expected)
        assert (detector.late_packets, detector.released_packets) == (plain.late_packets, plain.released_packets)
        assert detector.pending_count == sum(len(book) for book in plain.undecided.values())

"""Alerts (BEHAVIOR section 6): score, severity bands, deduplication within the cooldown of the first raise,
bounded size, and structure alerts that speak for their legs."""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import Alert, ClassifierHit, Packet, Severity, Structure
from events.serde import encode
from operators.alerts import SCORE_FORMULA, AlertBook, score, severity
from operators.classifiers import PacketContext, classify_packet, classify_structure
from tests.factories import CALL, PUT, leg, occ, packet, structure

CFG = OptionsConfig()
COOLDOWN_MS = CFG.alert_cooldown_ms
BLOCK = {"kind": "block", "print_count": 1, "venue_count": 1, "venues": ("XCBO",)}


@pytest.mark.parametrize(
    ("premium_cents", "confidence", "hits", "expected"),
    [
        pytest.param(0, 0.0, 0, 0, id="nothing"),
        pytest.param(100_000, 0.0, 0, 0, id="1k-scores-zero-on-premium"),
        pytest.param(50_000, 0.0, 1, 5, id="under-1k-clamped"),
        pytest.param(1_000_000, 0.25, 2, 35, id="10k"),
        pytest.param(10_000_000, 0.5, 1, 55, id="100k"),
        pytest.param(6_000_000, 0.6, 1, 56, id="60k-sweep"),
        pytest.param(100_000_000, 1.0, 3, 100, id="1m-full"),
        pytest.param(10_000_000_000, 1.0, 7, 100, id="capped"),
        pytest.param(100_000_000, 0.0, 0, 45, id="premium-weight"),
        pytest.param(100_000, 1.0, 0, 40, id="confidence-weight"),
        pytest.param(100_000, 0.0, 3, 15, id="hits-weight"),
    ],
)
def test_score_formula(premium_cents: int, confidence: float, hits: int, expected: int) -> None:
    assert score(premium_cents, confidence, hits) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "low"), (44, "low"), (45, "medium"), (79, "medium"), (80, "high"), (100, "high")],
    ids=lambda v: str(v),
)
def test_severity_bands(value: int, expected: Severity) -> None:
    assert severity(value) == expected


def _hits(p: Packet) -> list[ClassifierHit]:
    hits = classify_packet(p, PacketContext(), CFG)
    assert hits, "test packets should fire"
    return hits


def _alert(book: AlertBook, **overrides: Any) -> Alert:
    p = packet(**overrides)
    alert = book.on_packet(p, _hits(p))
    assert alert is not None
    return alert


def test_no_hits_no_alert() -> None:
    assert AlertBook(CFG).on_packet(packet(), []) is None


def test_raised_alert_fields() -> None:
    p = packet(print_ids=("a", "b", "c"))
    hits = _hits(p)
    alert = AlertBook(CFG).on_packet(p, hits)
    assert alert is not None
    assert alert.id == derived_event_id("alert", (p.id,))
    assert (alert.revision, alert.ts_event, alert.ts_first) == (0, p.ts_event, p.ts_event)
    assert (alert.symbol, alert.underlying, alert.subject_type, alert.subject_id) == (CALL, "SPY", "packet", p.id)
    assert (alert.kind, alert.side, alert.direction, alert.classifiers) == ("sweep", "buy", "bullish", ("large_sweep",))
    assert (alert.score, alert.severity, alert.confidence) == (56, "medium", 0.6)
    assert (alert.premium_cents, alert.size_contracts, alert.price_e9) == (6_000_000, 300, p.vwap_e9)
    assert (alert.bid_e9, alert.ask_e9) == (p.bid_e9, p.ask_e9)
    assert alert.hit_ids == (hits[0].id,)
    assert alert.evidence_ids == ("a", "b", "c")
    assert alert.subject_ids == (p.id,)
    assert (alert.subject_count, alert.print_count, alert.hit_count) == (1, 3, 1)
    assert alert.headline == "BULLISH SPY 03/20 580.00C sweep: 300 @ 2.00 ($60.0k) [large_sweep]"
    assert alert.explanations[:-1] == hits[0].explanations
    assert alert.explanations[-1] == f"Score 56: {SCORE_FORMULA}."


def test_update_within_cooldown_keeps_id_and_accumulates() -> None:
    book = AlertBook(CFG)
    first = _alert(book, at_ms=0)
    second_packet = packet(at_ms=10_000, premium_cents=5_000_000, size_contracts=250, price_path="rising")
    second = book.on_packet(second_packet, _hits(second_packet))
    assert second is not None
    assert second.id == first.id
    assert second.revision == 1
    assert (second.ts_first, second.ts_event) == (first.ts_event, second_packet.ts_event)
    assert (second.premium_cents, second.size_contracts) == (11_000_000, 550)
    assert second.subject_ids == (first.subject_id, second_packet.id)
    assert second.evidence_ids == (*first.evidence_ids, *second_packet.print_ids)
    assert len(second.hit_ids) == 2
    assert second.confidence == pytest.approx(0.65), "best confidence so far"
    assert second.score == score(11_000_000, 0.65, 1)
    assert (second.subject_count, second.print_count, second.hit_count) == (2, 6, 2)
    assert "x2" in second.headline
    assert second.explanations == (
        *first.explanations[:-1],
        f"Updated alert: 2 packets on {CALL.strip()} within 60,000 ms of the first raise, $110.0k in all "
        "(550 contracts, 6 prints, 2 hits).",
        f"Score {second.score}: {SCORE_FORMULA}.",
    ), "the opening explanations, a summary with the totals, the score; not every hit's explanations"


def test_revisions_keep_counting() -> None:
    book = AlertBook(CFG)
    alerts = [_alert(book, at_ms=i * 1_000) for i in range(4)]
    assert {a.id for a in alerts} == {alerts[0].id}
    assert [a.revision for a in alerts] == [0, 1, 2, 3]
    assert alerts[-1].premium_cents == 4 * 6_000_000


@pytest.mark.parametrize(
    ("gap_ms", "gap_ns", "same"),
    [
        pytest.param(COOLDOWN_MS, 60_000_000_000, True, id="exactly-cooldown-updates"),
        pytest.param(COOLDOWN_MS - 1, 59_999_000_000, True, id="inside-cooldown"),
        pytest.param(COOLDOWN_MS + 1e-6, 60_000_000_001, False, id="cooldown-plus-1ns-raises-new"),
        pytest.param(5 * COOLDOWN_MS, 300_000_000_000, False, id="long-after"),
    ],
)
def test_cooldown_boundary(gap_ms: float, gap_ns: int, same: bool) -> None:
    book = AlertBook(CFG)
    first = _alert(book, at_ms=0)
    later = _alert(book, at_ms=gap_ms)
    assert later.ts_event - first.ts_event == gap_ns
    assert (later.id == first.id) is same
    assert later.revision == (1 if same else 0)


def test_cooldown_runs_from_the_first_raise() -> None:
    book = AlertBook(CFG)
    first = _alert(book, at_ms=0)
    second = _alert(book, at_ms=50_000)
    third = _alert(book, at_ms=100_000)  # 100 s after the first raise, 50 s after the update
    fourth = _alert(book, at_ms=150_000)
    assert (second.id, second.revision) == (first.id, 1)
    assert (third.id, third.revision, third.ts_first) == (
        derived_event_id("alert", (packet(at_ms=100_000).id,)),
        0,
        third.ts_event,
    ), "a new alert, its id from the packet that opens it"
    assert (fourth.id, fourth.revision, fourth.ts_first) == (third.id, 1, third.ts_first)


def test_different_classifier_on_same_contract_is_a_different_alert() -> None:
    book = AlertBook(CFG)
    sweep = _alert(book, at_ms=0)
    block = _alert(book, at_ms=1_000, size_contracts=600, **BLOCK)
    assert block.classifiers == ("block_trade", "unusual_spike"), "600 contracts for $60k is also a spike"
    assert block.id != sweep.id
    assert block.revision == 0


def test_same_classifier_on_another_contract_is_a_different_alert() -> None:
    book = AlertBook(CFG)
    call = _alert(book, at_ms=0)
    put = _alert(book, symbol=PUT, at_ms=1_000)
    assert put.id != call.id
    assert put.revision == 0


def test_update_with_opposite_direction_turns_neutral() -> None:
    book = AlertBook(CFG)
    _alert(book, at_ms=0)
    sold = _alert(book, at_ms=1_000, side="sell", buy_size_contracts=0, sell_size_contracts=300)
    assert (sold.revision, sold.direction) == (1, "neutral")
    assert sold.headline.startswith("NEUTRAL SPY 03/20 580.00C sweep x2: "), "the alert's direction, not the update's"


def test_cooldown_follows_settings() -> None:
    book = AlertBook(OptionsConfig(alert_cooldown_ms=1_000))
    first = _alert(book, at_ms=0)
    assert _alert(book, at_ms=1_001).id != first.id


def test_many_alerts_expire_without_changing_answers() -> None:
    # Expiry runs every 1,024 packets; alerts past the cooldown must still start fresh afterwards.
    book = AlertBook(CFG)
    ids = {_alert(book, at_ms=i * (COOLDOWN_MS + 1)).id for i in range(1_100)}
    assert len(ids) == 1_100


# ---------------------------------------------------------------------------------- placement sizes


def test_alert_carries_and_accumulates_placement_sizes() -> None:
    book = AlertBook(CFG)
    first = _alert(book, at_ms=0, placement_sizes={"A": 250, "AA": 50})
    assert first.placement_sizes == {"A": 250, "AA": 50}
    second = _alert(book, at_ms=1_000, placement_sizes={"A": 200, "MID": 100})
    assert (second.id, second.revision) == (first.id, 1)
    assert second.placement_sizes == {"A": 450, "AA": 50, "MID": 100}


# ------------------------------------------------------------------------------------- structure alerts


def _vertical(at_ms: float, low: str = "580", high: str = "585") -> tuple[Structure, list[ClassifierHit]]:
    found = structure(
        leg(occ(low), side="buy", price="5.00", at_ms=at_ms), leg(occ(high), side="sell", price="2.50", at_ms=at_ms)
    )
    return found, classify_structure(found, CFG)


def test_structure_alert_cites_the_structure_and_its_prints() -> None:
    found, hits = _vertical(30)
    assert [h.classifier for h in hits] == ["vertical_spread"]
    alert = AlertBook(CFG).on_structure(found, hits)
    assert alert is not None
    assert (alert.subject_type, alert.subject_id, alert.kind) == ("structure", found.id, "vertical")
    assert alert.id == derived_event_id("alert", (found.id,))
    assert alert.evidence_ids == found.print_ids
    assert alert.premium_cents == found.gross_premium_cents
    assert (alert.side, alert.direction) == ("unknown", hits[0].direction), "legs on both sides"
    assert "vertical" in alert.headline
    assert "debit" in alert.headline
    assert AlertBook(CFG).on_structure(found, []) is None


def test_same_legs_within_the_cooldown_update_the_structure_alert() -> None:
    book = AlertBook(CFG)
    first, hits = _vertical(30)
    again, hits_again = _vertical(30 + COOLDOWN_MS / 2)
    other, hits_other = _vertical(30 + COOLDOWN_MS / 2, "590", "595")
    raised = book.on_structure(first, hits)
    updated = book.on_structure(again, hits_again)
    separate = book.on_structure(other, hits_other)
    assert raised is not None
    assert updated is not None
    assert separate is not None
    assert (updated.id, updated.revision) == (raised.id, 1)
    assert updated.subject_ids == (first.id, again.id)
    assert updated.premium_cents == first.gross_premium_cents + again.gross_premium_cents
    assert (separate.id, separate.revision) == (derived_event_id("alert", (other.id,)), 0), "other legs: new alert"
    late, hits_late = _vertical(30 + 2 * COOLDOWN_MS)
    after = book.on_structure(late, hits_late)
    assert after is not None
    assert after.revision == 0, "past the cooldown a new alert is raised"


def test_a_new_classifier_joining_adds_one_line_not_every_hit() -> None:
    book = AlertBook(CFG)
    first = _alert(book, at_ms=0)  # 300 contracts: large_sweep only
    big = packet(at_ms=1_000, size_contracts=600, premium_cents=12_000_000, placement_sizes={"A": 600})
    big_hits = _hits(big)
    assert [h.classifier for h in big_hits] == ["large_sweep", "unusual_spike"]
    joined = book.on_packet(big, big_hits)
    again = _alert(book, at_ms=2_000, size_contracts=600, premium_cents=12_000_000)
    assert joined is not None
    assert (joined.id, again.id, again.revision) == (first.id, first.id, 2)
    assert again.classifiers == ("large_sweep", "unusual_spike")
    spike = big_hits[1]
    also = f"Also unusual_spike (bullish, confidence {spike.confidence:.2f}): {spike.explanations[0]}"
    assert again.explanations[: len(first.explanations) - 1] == first.explanations[:-1]
    assert [e for e in again.explanations if e.startswith("Also ")] == [also], "once, when it joined"
    assert len(again.explanations) == len(first.explanations) + 2
    spiked = _alert(AlertBook(CFG), at_ms=0, size_contracts=600, premium_cents=12_000_000)
    shared = set(big_hits[0].explanations) & set(spike.explanations)
    assert shared, "both hits state the placement and the quote"
    assert len(spiked.explanations) == len(set(spiked.explanations)), "said once"
    assert spiked.explanations[:-1] == tuple(dict.fromkeys((*big_hits[0].explanations, *spike.explanations)))
    assert again.hit_count == 5


# ------------------------------------------------------------------------------------------ bounded size


def _firing(i: int) -> Packet:
    """The i-th packet of a contract that fires every second, sizes 300-699 in a scrambled order."""
    size = 300 + (i * 157) % 400
    return packet(
        at_ms=i * 1_000,
        size_contracts=size,
        premium_cents=size * 20_000,
        buy_size_contracts=size,
        placement_sizes={"A": size},
    )


ALERT_MAX_BYTES = 4_096


def test_a_contract_firing_every_second_for_an_hour_yields_one_bounded_alert_per_cooldown_window() -> None:
    book = AlertBook(CFG)
    absorbed: dict[str, list[tuple[Packet, list[ClassifierHit]]]] = {}
    latest: dict[str, Alert] = {}
    for i in range(3_600):
        p = _firing(i)
        hits = _hits(p)
        alert = book.on_packet(p, hits)
        assert alert is not None
        assert len(encode(alert)) <= ALERT_MAX_BYTES, f"revision {alert.revision} is {len(encode(alert)):,} bytes"
        assert len(alert.evidence_ids) <= CFG.alert_max_evidence_ids
        assert len(alert.subject_ids) <= CFG.alert_max_subject_ids
        assert len(alert.hit_ids) <= CFG.alert_max_subject_ids
        absorbed.setdefault(alert.id, []).append((p, hits))
        latest[alert.id] = alert
    # A window takes the packets within 60 s of its first (61 of them, 1 s apart): ceil(3,600 / 61) alerts.
    assert len(latest) == 60
    assert max(a.revision for a in latest.values()) == 60
    for alert_id, subjects in absorbed.items():
        alert = latest[alert_id]
        packets = [p for p, _ in subjects]
        opener = packets[0]
        assert alert_id == derived_event_id("alert", (opener.id,))
        assert all(p.ts_event - alert.ts_first <= CFG.alert_cooldown_ns for p in packets)
        assert alert.revision == len(packets) - 1
        assert alert.subject_count == len(packets)
        assert alert.premium_cents == sum(p.premium_cents for p in packets)
        assert alert.size_contracts == sum(p.size_contracts for p in packets)
        assert alert.print_count == sum(p.print_count for p in packets)
        assert alert.hit_count == sum(len(h) for _, h in subjects)
        assert alert.placement_sizes == {"A": alert.size_contracts}
        largest = sorted(packets, key=lambda p: (-p.size_contracts, p.id))
        assert alert.evidence_ids == tuple(islice((i for p in largest for i in p.print_ids), 20)), "largest first"
        others = [p.id for p in largest if p.id != opener.id]
        assert alert.subject_ids == (opener.id, *others)[:10], "the first, then the largest"
        assert alert.hit_ids[: len(subjects[0][1])] == tuple(h.id for h in subjects[0][1])
        times = f" x{len(packets)}" if len(packets) > 1 else ""
        assert alert.headline.startswith(f"BULLISH SPY 03/20 580.00C sweep{times}: {alert.size_contracts:,} @ ")


def test_citations_do_not_depend_on_arrival_order_beyond_the_first() -> None:
    packets = [_firing(i) for i in range(40)]
    forward, backward = AlertBook(CFG), AlertBook(CFG)
    for p in packets:
        a = forward.on_packet(p, _hits(p))
    for p in [packets[0], *reversed(packets[1:])]:
        b = backward.on_packet(p, _hits(p))
    assert a is not None
    assert b is not None
    assert (a.evidence_ids, a.subject_ids) == (b.evidence_ids, b.subject_ids)
    assert (a.premium_cents, a.size_contracts, a.print_count, a.hit_count) == (
        b.premium_cents,
        b.size_contracts,
        b.print_count,
        b.hit_count,
    )


def test_one_large_subject_is_cited_up_to_the_bound() -> None:
    prints = tuple(f"p{i:03d}" for i in range(45))
    p = packet(print_ids=prints, print_count=45)
    alert = AlertBook(OptionsConfig(alert_max_evidence_ids=5)).on_packet(p, _hits(p))
    assert alert is not None
    assert alert.evidence_ids == prints[:5]
    assert alert.print_count == 45


# ------------------------------------------------------------------------------ structures speak for legs


def _put_vertical() -> tuple[Structure, list[tuple[Packet, list[ClassifierHit]]]]:
    """Bought 500 250 puts at $5.00, sold 500 247.50 puts at $3.80: a debit put spread (bearish)."""
    high = leg(occ("250", "P"), side="buy", size=500, price="5.00", kind="sweep")
    low = leg(occ("247.50", "P"), side="sell", size=500, price="3.80", kind="sweep")
    legs = [(p, classify_packet(p, PacketContext(), CFG)) for p in (high, low)]
    return structure(high, low), legs


def test_a_structure_alert_folds_its_legs_hits_and_reads_the_structure() -> None:
    found, legs = _put_vertical()
    (_, high_hits), (_, low_hits) = legs
    assert {h.direction for h in high_hits} == {"bearish"}, "puts bought, alone"
    assert {h.direction for h in low_hits} == {"bullish"}, "puts sold, alone"
    hits = classify_structure(found, CFG)
    assert [(h.classifier, h.direction) for h in hits] == [("vertical_spread", "bearish")]
    alert = AlertBook(CFG).on_structure(found, hits, legs)
    assert alert is not None
    assert (alert.subject_type, alert.subject_id, alert.direction) == ("structure", found.id, "bearish")
    leg_classifiers = [h.classifier for h in (*low_hits, *high_hits)]
    assert alert.classifiers == tuple(dict.fromkeys(("vertical_spread", *leg_classifiers)))
    in_leg_order = (*hits, *low_hits, *high_hits)
    assert alert.hit_ids == tuple(h.id for h in in_leg_order)[: CFG.alert_max_subject_ids]
    assert alert.hit_count == 1 + len(high_hits) + len(low_hits)
    assert alert.evidence_ids == found.print_ids
    assert alert.confidence == hits[0].confidence, "the structure's confidence, not a leg's"
    lines = [e for e in alert.explanations if e.startswith("Leg ")]
    assert len(lines) == 2
    assert lines[0].startswith("Leg 03/20 247.50P sold 500 ($190.0k): ")
    assert "(bullish, " in lines[0]
    assert lines[1].startswith("Leg 03/20 250.00P bought 500 ($250.0k): ")
    assert "BEARISH SPY vertical" in alert.headline


def test_a_structure_without_its_own_hit_raises_from_its_legs_when_they_agree() -> None:
    near = leg(occ("580", expiry="2026-03-20"), side="buy", size=500, price="2.00", kind="sweep")
    far = leg(occ("580", expiry="2026-04-17"), side="buy", size=500, price="4.00", kind="sweep")
    found = structure(near, far)
    assert found.structure_type == "calendar"
    assert classify_structure(found, CFG) == []
    legs = [(p, classify_packet(p, PacketContext(), CFG)) for p in (near, far)]
    alert = AlertBook(CFG).on_structure(found, [], legs)
    assert alert is not None
    assert alert.direction == "bullish", "both legs are calls bought"
    assert AlertBook(CFG).on_structure(found, [], [(near, []), (far, [])]) is None


def test_a_structure_without_its_own_hit_reads_neutral_when_its_legs_disagree() -> None:
    near = leg(occ("580", expiry="2026-03-20"), side="sell", size=500, price="2.00", kind="sweep")
    far = leg(occ("580", expiry="2026-04-17"), side="buy", size=500, price="4.00", kind="sweep")
    found = structure(near, far)
    legs = [(p, classify_packet(p, PacketContext(), CFG)) for p in (near, far)]
    hits = classify_structure(found, CFG)
    assert [h.classifier for h in hits] == ["roll"]
    folded = AlertBook(CFG).on_structure(found, hits, legs)
    assert folded is not None
    assert folded.direction == hits[0].direction, "a roll reads its opened leg"
    only_legs = AlertBook(CFG).on_structure(found, [], legs)
    assert only_legs is not None
    assert only_legs.direction == "neutral"

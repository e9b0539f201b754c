"""Single-contract planted patterns: each scenario shows on the tape what its label claims."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from connectors.synthetic.planted.truth import (
    RULES,
)
from events.calendar import session_date
from events.symbology import parse_occ
from tests.connectors.synthetic.planted.sessions import (
    GAP_NS,
    REPEAT_NS,
    at_ask,
    at_bid,
    library,
    premium,
)

# --------------------------------------------------------------------------------------- positives


def test_golden_sweeps_buy_more_than_open_interest_for_a_million() -> None:
    lib = library()
    for label in lib.of("golden_sweep") + lib.of("golden_miss"):
        prints = lib.prints_of(label)
        size = sum(p.size_contracts for p in prints)
        assert premium(prints) >= 1_000_000 * 100
        assert len({p.venue for p in prints}) >= 3
        assert all(at_ask(lib, p) for p in prints)
        golden = label.scenario == "golden_sweep"
        assert (size > lib.open_interest[label.symbol]) is golden
        assert ("golden_sweep" in label.expected_classifiers) is golden
        assert ("golden_sweep" in label.forbidden_classifiers) is not golden


def test_writes_are_large_and_sold_at_the_bid() -> None:
    lib = library()
    for scenario, right in (("call_overwrite", "C"), ("put_write", "P")):
        for label in lib.of(scenario):
            prints = lib.prints_of(label)
            assert all(at_bid(lib, p) for p in prints)
            assert parse_occ(label.symbol).right == right
            assert sum(p.size_contracts for p in prints) >= 500
            assert premium(prints) >= 50_000 * 100
            assert label.side == "sell"
            assert scenario in label.expected_classifiers
            assert label.expected_direction == ("bearish" if right == "C" else "bullish")
    for label in lib.of("write_miss"):
        prints = lib.prints_of(label)
        assert all(at_bid(lib, p) for p in prints)
        assert sum(p.size_contracts for p in prints) < 500 or premium(prints) < 50_000 * 100
        assert {"call_overwrite", "put_write"} <= set(label.forbidden_classifiers)


def test_far_dated_and_its_miss() -> None:
    lib = library()
    for label in lib.of("far_dated") + lib.of("far_dated_miss"):
        prints = lib.prints_of(label)
        dte = (parse_occ(label.symbol).expiry - session_date(label.ts_start)).days
        assert dte >= 60
        hit = label.scenario == "far_dated"
        assert (premium(prints) >= 50_000 * 100) is hit
        assert ("far_dated_conviction" in label.expected_classifiers) is hit


def test_zero_dte_near_the_money_and_its_misses() -> None:
    lib = library()
    for label in lib.of("zero_dte") + lib.of("zero_dte_miss"):
        prints = lib.prints_of(label)
        assert parse_occ(label.symbol).expiry == session_date(label.ts_start)
        spot = lib.spot_at[prints[0].id]  # the packet's underlying: the equity quote mid at its first print
        distance = abs(parse_occ(label.symbol).strike_e9 - spot) / spot
        size = sum(p.size_contracts for p in prints)
        if label.scenario == "zero_dte":
            assert distance <= 0.01
            assert size >= 400
            assert premium(prints) >= 20_000 * 100
            assert "zero_dte_gamma" in label.expected_classifiers
        else:
            assert distance > 0.015 or size < 400
            assert "zero_dte_gamma" in label.forbidden_classifiers


def test_repeated_hits_and_their_misses() -> None:
    lib = library()
    for label in lib.of("repeated_hits") + lib.of("repeat_miss"):
        prints = lib.prints_of(label)
        assert all(at_ask(lib, p) or at_bid(lib, p) for p in prints)
        assert all(b.ts_event - a.ts_event > GAP_NS for a, b in pairwise(prints)), "one print per packet"
        floor = RULES.repeat_min_packet_premium_usd * 100
        assert all(premium([p]) >= floor for p in prints)
        by_side = defaultdict(list)
        for p in prints:
            by_side[at_ask(lib, p)].append(p.ts_event)
        repeated = any(
            sum(1 for u in times[: i + 1] if t - u <= REPEAT_NS) >= 3
            for times in by_side.values()
            for i, t in enumerate(times)
        )
        assert repeated is (label.scenario == "repeated_hits")
        assert ("repeated_hits" in label.expected_classifiers) is repeated
        assert ("repeated_hits" in label.forbidden_classifiers) is not repeated


def test_unusual_volume_crosses_open_interest_within_the_planted_prints() -> None:
    lib = library()
    for label in lib.of("unusual_volume"):
        prints = lib.prints_of(label)
        line = max(lib.open_interest[label.symbol] + 1, 500)
        first, last = prints[0], prints[-1]
        assert lib.volume_before[first.id] < line <= lib.volume_before[last.id] + last.size_contracts
        assert "unusual_volume" in label.expected_classifiers
        assert label.expected_direction is None or len({at_ask(lib, p) for p in prints}) == 1


def test_new_positions_exceed_open_interest() -> None:
    lib = library()
    for label in lib.of("new_position"):
        prints = lib.prints_of(label)
        assert sum(p.size_contracts for p in prints) > lib.open_interest[label.symbol]
        assert "new_position_likely" in label.expected_classifiers


def test_splits_trade_on_one_venue_without_iso() -> None:
    lib = library()
    for label in lib.of("split"):
        prints = lib.prints_of(label)
        assert len(prints) >= 3
        assert len({p.venue for p in prints}) == 1
        assert not any(p.conditions for p in prints)
        assert label.expected_kind == "split"
        assert "large_sweep" in label.forbidden_classifiers


def test_the_library_plants_unusual_volume_on_the_bucket_clause_alone() -> None:
    lib = library()
    bucket_only = [
        label
        for label in lib.labels
        if "unusual_volume" in label.expected_classifiers
        and label.structure is None
        and lib.volume_before[lib.prints_of(label)[-1].id] + lib.prints_of(label)[-1].size_contracts
        <= lib.open_interest[label.symbol]
    ]
    assert len(bucket_only) >= 20

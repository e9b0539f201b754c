"""Single-contract hard negatives: each misses exactly what its label says it misses, on the tape."""

from __future__ import annotations

from itertools import pairwise

from connectors.synthetic.planted.truth import (
    RULES,
)
from tests.connectors.synthetic.planted.sessions import (
    GAP_NS,
    STALE_NS,
    library,
    premium,
)

# ---------------------------------------------------------------------------------- hard negatives


def test_stale_quotes_are_older_than_the_max_age() -> None:
    lib = library()
    for label in lib.of("stale_quotes"):
        prints = lib.prints_of(label)
        assert all(p.ts_event - lib.quote_at[p.id].ts_event > STALE_NS for p in prints)
        assert len({p.venue for p in prints}) >= 2
        assert label.expected_kind == "single", "no side, so not a sweep"
        assert label.expected_direction == "neutral"
        assert {"large_sweep", "call_overwrite", "put_write", "far_dated_conviction"} <= set(
            label.forbidden_classifiers
        )


def test_mid_prints_sit_inside_the_at_side_bands() -> None:
    lib = library()
    for label in lib.of("mid_prints"):
        for p in lib.prints_of(label):
            q = lib.quote_at[p.id]
            band = (q.ask_e9 - q.bid_e9) * RULES.at_side_band
            assert q.bid_e9 + band < p.price_e9 < q.ask_e9 - band
        assert label.expected_direction == "neutral"
        assert "large_sweep" in label.forbidden_classifiers


def test_tiny_lots_are_a_small_quiet_sweep() -> None:
    lib = library()
    for label in lib.of("tiny_lots"):
        prints = lib.prints_of(label)
        assert all(p.size_contracts <= 2 for p in prints)
        assert len({p.venue for p in prints}) == 3
        assert premium(prints) < 1_000 * 100
        assert label.expected_kind == "sweep"
        assert {"large_sweep", "unusual_spike"} <= set(label.forbidden_classifiers)


def test_two_print_sweeps_miss_large_sweep_by_one_print() -> None:
    lib = library()
    for label in lib.of("two_print_sweep"):
        prints = lib.prints_of(label)
        assert len(prints) == 2
        assert premium(prints) >= 40_000 * 100
        assert label.expected_kind == "sweep"
        assert "large_sweep" in label.forbidden_classifiers


def test_unrelated_prints_are_close_in_time_on_other_contracts() -> None:
    lib = library()
    labels = lib.of("unrelated_close")
    assert len(labels) % 3 == 0
    for group in (labels[i : i + 3] for i in range(0, len(labels), 3)):
        assert len({lb.symbol for lb in group}) == 3
        assert len({lb.underlying for lb in group}) == 1
        assert group[-1].ts_start - group[0].ts_start <= GAP_NS
        for label in group:
            assert label.expected_kind == "single"
            assert "large_sweep" in label.forbidden_classifiers


def test_spread_out_prints_are_separate_packets() -> None:
    lib = library()
    for label in lib.of("spread_out"):
        prints = lib.prints_of(label)
        assert all(b.ts_event - a.ts_event > GAP_NS for a, b in pairwise(prints))
        assert {"large_sweep", "repeated_hits"} <= set(label.forbidden_classifiers)

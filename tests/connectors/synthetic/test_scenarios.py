"""The scenario library: every packet classifier and kind planted with ground truth, hard negatives included.

The planted prints are checked against the tape itself (the quote in force, open interest, volume so far),
so a label cannot claim what the events do not show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import pytest

from connectors.synthetic import PlantedLabel, SyntheticConfig, SyntheticMarket
from connectors.synthetic.chains import session_date
from connectors.synthetic.scenarios import (
    HARD_NEGATIVES,
    PACKET_CLASSIFIERS,
    PLANNERS,
    RULES,
    SCENARIOS,
    STRUCTURE_CLASSIFIERS,
    ContractFacts,
    PacketFacts,
    bucket_truth,
    direction_of,
    kind_of,
    label_truth,
)
from events.models import EquityQuote, OpenInterest, OptionNbbo, OptionPrint, PacketKind, Side
from events.symbology import parse_occ
from events.units import NS_PER_MS, notional_cents

STALE_NS = RULES.nbbo_max_age_ms * NS_PER_MS
GAP_NS = RULES.packet_gap_ms * NS_PER_MS
REPEAT_NS = RULES.repeat_window_ms * NS_PER_MS


@dataclass(frozen=True)
class Library:
    labels: tuple[PlantedLabel, ...]
    prints: dict[str, OptionPrint]
    quote_at: dict[str, OptionNbbo]
    open_interest: dict[str, int]
    volume_before: dict[str, int]
    """Contracts printed on a print's contract before it (the print excluded)."""
    spot_at: dict[str, int]
    """The mid of the underlying's equity quote in force at a print (what the options engine reads)."""

    def prints_of(self, label: PlantedLabel) -> list[OptionPrint]:
        return [self.prints[i] for i in label.print_ids]

    def of(self, scenario: str) -> list[PlantedLabel]:
        return [label for label in self.labels if label.scenario == scenario]


@cache
def library() -> Library:
    """A dense session: a scenario every 2 s per underlying, so every kind is planted several times."""
    market = SyntheticMarket(SyntheticConfig(duration_s=150.0, plant_every_s=2.0))
    prints: dict[str, OptionPrint] = {}
    quote_at: dict[str, OptionNbbo] = {}
    latest: dict[str, OptionNbbo] = {}
    oi: dict[str, int] = {}
    volume: dict[str, int] = defaultdict(int)
    before: dict[str, int] = {}
    mids: dict[str, int] = {}
    spot_at: dict[str, int] = {}
    for event in market.events():
        if isinstance(event, OptionNbbo):
            latest[event.symbol] = event
        elif isinstance(event, OptionPrint):
            prints[event.id] = event
            quote_at[event.id] = latest[event.symbol]
            before[event.id] = volume[event.symbol]
            volume[event.symbol] += event.size_contracts
            spot_at[event.id] = mids[event.underlying]
        elif isinstance(event, EquityQuote):
            mids[event.symbol] = (event.bid_e9 + event.ask_e9) // 2
        elif isinstance(event, OpenInterest):
            oi[event.symbol] = event.open_interest_contracts
    return Library(tuple(market.labels), prints, quote_at, oi, before, spot_at)


def premium(prints: list[OptionPrint]) -> int:
    return sum(notional_cents(p.price_e9, p.size_contracts, p.multiplier) for p in prints)


def at_ask(lib: Library, p: OptionPrint) -> bool:
    return p.price_e9 >= lib.quote_at[p.id].ask_e9


def at_bid(lib: Library, p: OptionPrint) -> bool:
    return p.price_e9 <= lib.quote_at[p.id].bid_e9


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


# ---------------------------------------------------------------------------------------- truth


def facts(
    kind: PacketKind = "sweep", side: Side = "buy", size: int = 500, usd: int = 60_000, n: int = 3
) -> PacketFacts:
    return PacketFacts(kind, side, size, usd * 100, n, 0, 10)


CONTRACT = ContractFacts(right="C", open_interest=10_000, dte=10, strike_distance=0.02, volume_before=0)


@pytest.mark.parametrize(
    ("packets", "contract", "expected", "forbidden"),
    [
        pytest.param(
            [facts()],
            CONTRACT,
            {"large_sweep", "unusual_spike"},
            {"block_trade", "golden_sweep", "call_overwrite", "put_write", "zero_dte_gamma", "unusual_volume"},
            id="call-sweep",
        ),
        pytest.param(
            [facts(usd=39_999)], CONTRACT, set(), {"block_trade", "new_position_likely"}, id="small-sweep-z-may-fire"
        ),
        pytest.param(
            [facts(size=100, usd=39_999)],
            ContractFacts("C", 10_000, 10, 0.02, 0, z_quiet=True),
            set(),
            {"large_sweep", "unusual_spike"},
            id="small-quiet-sweep",
        ),
        pytest.param([facts(n=2)], CONTRACT, {"unusual_spike"}, {"large_sweep"}, id="two-prints"),
        pytest.param(
            [facts("block", "sell", 600, 60_000, 1)],
            CONTRACT,
            {"block_trade", "unusual_spike", "call_overwrite"},
            {"large_sweep", "put_write"},
            id="call-block-sold",
        ),
        pytest.param(
            [facts(size=1_200, usd=1_000_000)],
            ContractFacts("P", 1_199, 10, 0.02, 0),
            {"large_sweep", "golden_sweep", "unusual_spike", "new_position_likely", "unusual_volume"},
            {"block_trade"},
            id="golden",
        ),
        pytest.param(
            [facts()],
            ContractFacts("C", 10_000, 0, 0.005, 0),
            {"zero_dte_gamma"},
            set(),
            id="0dte-near",
        ),
        pytest.param([facts()], ContractFacts("C", 10_000, 0, 0.01, 0), set(), {"block_trade"}, id="0dte-ambiguous"),
        pytest.param([facts()], ContractFacts("C", 10_000, 0, 0.02, 0), set(), {"zero_dte_gamma"}, id="0dte-far"),
        pytest.param(
            [facts()], ContractFacts("C", 10_000, 60, 0.02, 0), {"far_dated_conviction"}, set(), id="far-dated"
        ),
        pytest.param(
            [facts(side="unknown")],
            ContractFacts("C", 10_000, 60, 0.02, 0),
            set(),
            {"far_dated_conviction"},
            id="far-dated-no-side",
        ),
        pytest.param(
            [facts("single", size=200, n=1), facts("single", size=200, n=1)],
            ContractFacts("C", 300, 10, 0.02, 150),
            {"unusual_volume"},
            {"new_position_likely"},
            id="volume-crosses-500",
        ),
        pytest.param(
            [facts("single", size=200, n=1)],
            ContractFacts("C", 300, 10, 0.02, 600),
            set(),
            {"unusual_volume"},
            id="volume-already-crossed",
        ),
    ],
)
def test_label_truth(
    packets: list[PacketFacts], contract: ContractFacts, expected: set[str], forbidden: set[str]
) -> None:
    exp, forb = label_truth(packets, contract)
    assert expected <= set(exp), exp
    assert forbidden <= set(forb), forb
    assert not set(exp) & set(forb)


FLAT = (10.0,) * 78
"""A history of 10 contracts per bucket: the 5-minute line is max(5 x 10, 50) = 50 contracts."""
BUCKET_S = 300


def in_bucket(size: int, bucket: int = 0) -> PacketFacts:
    ts = (bucket * BUCKET_S + 10) * 10**9
    return PacketFacts("single", "buy", size, size * 10_000, 1, ts, ts)


def history(low: int = 0, high: int | None = None, mean: tuple[float, ...] | None = FLAT) -> ContractFacts:
    """A contract with 10,000 open interest (the day clause stays off) in bucket 0 of a session opening at 0."""
    return ContractFacts(
        "C",
        10_000,
        10,
        0.02,
        low,
        history=mean,
        bucket=0,
        bucket_volume_low=low,
        bucket_volume_high=low if high is None else high,
    )


@pytest.mark.parametrize(
    ("packets", "contract", "truth"),
    [
        pytest.param([in_bucket(60)], history(), True, id="crosses-from-zero"),
        pytest.param([in_bucket(49)], history(), False, id="one-short"),
        pytest.param([in_bucket(50)], history(), True, id="reaches-the-line"),
        pytest.param([in_bucket(25)], history(30), True, id="crosses-on-earlier-volume"),
        pytest.param([in_bucket(25)], history(60), False, id="already-above"),
        pytest.param([in_bucket(25)], history(30, 60), None, id="straddle-decides"),
        pytest.param([in_bucket(20)], history(40, 45), True, id="crosses-either-way"),
        pytest.param([in_bucket(10)], history(30, 39), False, id="short-either-way"),
        pytest.param([in_bucket(30), in_bucket(30)], history(), True, id="second-packet-crosses"),
        pytest.param([in_bucket(55, bucket=1)], history(45), True, id="new-bucket-starts-from-zero"),
        pytest.param([in_bucket(40, bucket=1)], history(45), False, id="new-bucket-short"),
        pytest.param([in_bucket(30), in_bucket(30, bucket=1)], history(), False, id="split-over-two-buckets"),
        pytest.param([in_bucket(99)], history(mean=(20.0,) * 78), False, id="five-times-twenty"),
        pytest.param([in_bucket(100)], history(mean=(20.0,) * 78), True, id="five-times-twenty-reached"),
        pytest.param([in_bucket(500)], history(mean=None), False, id="no-history"),
        pytest.param([in_bucket(500, bucket=78)], history(), False, id="after-the-close"),
    ],
)
def test_bucket_truth(packets: list[PacketFacts], contract: ContractFacts, truth: bool | None) -> None:
    assert bucket_truth(packets, contract) is truth


@pytest.mark.parametrize(
    ("contract", "expected", "forbidden"),
    [
        pytest.param(history(), True, False, id="bucket-clause-alone"),
        pytest.param(history(30, 60), False, False, id="undecided"),
        pytest.param(history(60), False, True, id="neither-clause"),
    ],
)
def test_label_truth_on_the_bucket_clause(contract: ContractFacts, expected: bool, forbidden: bool) -> None:
    exp, forb = label_truth([in_bucket(25 if contract.bucket_volume_low else 60)], contract)
    assert ("unusual_volume" in exp, "unusual_volume" in forb) == (expected, forbidden)


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


@pytest.mark.parametrize(
    ("times_s", "premium_usd", "repeated"),
    [
        pytest.param((0, 30, 60), 20_000, True, id="three-within-60s"),
        pytest.param((0, 31, 62), 20_000, False, id="three-over-61s"),
        pytest.param((0, 10, 20), 9_999, False, id="under-floor"),
    ],
)
def test_label_truth_repeats(times_s: tuple[int, ...], premium_usd: int, repeated: bool) -> None:
    packets = [PacketFacts("single", "buy", 100, premium_usd * 100, 1, t * 10**9, t * 10**9) for t in times_s]
    exp, forb = label_truth(packets, ContractFacts("C", 10_000, 10, 0.02, 0, repeat_isolated=True))
    assert ("repeated_hits" in exp) is repeated
    assert ("repeated_hits" in forb) is not repeated


@pytest.mark.parametrize(
    ("prints", "venues", "iso", "side", "size", "usd", "kind"),
    [
        pytest.param(1, 1, False, "buy", 500, 1, "block", id="block-by-size"),
        pytest.param(1, 1, False, "buy", 499, 250_000, "block", id="block-by-premium"),
        pytest.param(1, 1, False, "buy", 499, 249_999, "single", id="single"),
        pytest.param(3, 3, False, "buy", 10, 1, "sweep", id="sweep"),
        pytest.param(3, 1, True, "sell", 10, 1, "sweep", id="iso-one-venue-sweep"),
        pytest.param(3, 1, False, "buy", 10, 1, "split", id="split"),
        pytest.param(3, 3, True, "unknown", 10, 1, "single", id="no-side-no-sweep"),
    ],
)
def test_kind_of(prints: int, venues: int, iso: bool, side: Side, size: int, usd: int, kind: str) -> None:
    assert kind_of(prints, venues, iso, side, size, usd * 100) == kind


@pytest.mark.parametrize(
    ("side", "right", "direction"),
    [
        ("buy", "C", "bullish"),
        ("sell", "C", "bearish"),
        ("buy", "P", "bearish"),
        ("sell", "P", "bullish"),
        ("unknown", "C", "neutral"),
    ],
)
def test_direction_of(side: Side, right: str, direction: str) -> None:
    assert direction_of(side, right) == direction


def test_a_universe_without_0dte_still_plants_the_rest() -> None:
    # AAPL lists no expiry on a Monday: the 0DTE kinds fit nowhere and must not stall the bag.
    market = SyntheticMarket(SyntheticConfig(underlyings=("AAPL",), duration_s=90.0, plant_every_s=1.0))
    for _ in market.events():
        pass
    scenarios = {label.scenario for label in market.labels}
    assert not scenarios & {"zero_dte", "zero_dte_miss"}
    assert len(scenarios) >= 12

"""The oracles labels derive from planned facts: packet truth, the 5-minute clause, repeats, kinds, directions,
structures."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.synthetic.planted.truth import (
    CLASSIFIER_OF_STRUCTURE,
    RULES,
    STRUCTURE_CLASSIFIERS,
    ContractFacts,
    LegFacts,
    PacketFacts,
    bucket_truth,
    direction_of,
    expected_structure,
    kind_of,
    label_truth,
    net_premium_of,
    shape_of,
    structure_direction,
    structure_truth,
)
from events.models import PacketKind, Side, StructureType
from events.units import NS_PER_MS

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
    return PacketFacts("single", "buy", size, max(size * 10_000, 1_000_000), 1, ts, ts)  # each at the $10k floor


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


def leg(
    strike: int,
    side: Side = "buy",
    *,
    right: str = "C",
    expiry: date = date(2026, 3, 20),
    size: int = 100,
    usd: int = 10_000,
    at_ms: int = 0,
) -> LegFacts:
    ts = at_ms * NS_PER_MS
    packet = PacketFacts("single", side, size, usd * 100, 1, ts, ts + 10 * NS_PER_MS)
    return LegFacts(f"{right}{strike}{expiry}", expiry, right, strike * 10**9, packet)


APRIL = date(2026, 4, 17)


@pytest.mark.parametrize(
    ("legs", "flagged", "structure_type"),
    [
        pytest.param([leg(580), leg(585, "sell")], False, "vertical", id="vertical"),
        pytest.param([leg(580), leg(585)], False, "multi_leg", id="same-side-matching-sizes"),
        pytest.param([leg(580), leg(585, size=150)], False, None, id="same-side"),
        pytest.param([leg(580), leg(580, expiry=APRIL)], False, "calendar", id="calendar"),
        pytest.param([leg(580), leg(580, right="P")], False, "straddle", id="straddle"),
        pytest.param([leg(590), leg(570, right="P")], False, "strangle", id="strangle"),
        pytest.param([leg(590), leg(570, "sell", right="P")], False, "multi_leg", id="risk-reversal"),
        pytest.param([leg(590), leg(570, "sell", right="P", size=120)], False, None, id="risk-reversal-sizes-differ"),
        pytest.param([leg(580), leg(580, "sell", expiry=APRIL)], False, "roll", id="roll"),
        pytest.param([leg(580), leg(585, expiry=APRIL)], False, "diagonal", id="diagonal"),
        pytest.param([leg(580), leg(581, "sell"), leg(582)], False, "ladder", id="ladder"),
        pytest.param([leg(580), leg(581), leg(583, size=120)], False, None, id="ladder-uneven-steps"),
        pytest.param([leg(580), leg(585, "sell", size=301)], False, None, id="ratio-above-3"),
        pytest.param([leg(580), leg(585, "sell", size=300)], False, "vertical", id="ratio-3"),
        pytest.param([leg(580, size=9), leg(585, "sell", size=9)], False, None, id="tiny"),
        pytest.param([leg(580), leg(585, "sell", at_ms=511)], False, None, id="beyond-window"),
        pytest.param([leg(580), leg(585, "sell", at_ms=510)], False, "vertical", id="window-edge"),
        pytest.param([leg(580, "unknown"), leg(580, "unknown", right="P", expiry=APRIL)], True, "multi_leg", id="f-ml"),
        pytest.param([leg(580, "unknown"), leg(585, "unknown", size=500)], True, "multi_leg", id="flagged-ratio"),
        pytest.param([leg(580, "unknown", size=5), leg(585, "unknown", size=5)], True, "vertical", id="flagged-tiny"),
        pytest.param([leg(580, "unknown"), leg(580, "unknown", right="P")], True, "straddle", id="flagged-straddle"),
    ],
)
def test_expected_structure(legs: list[LegFacts], flagged: bool, structure_type: StructureType | None) -> None:
    assert expected_structure(legs, flagged=flagged) == structure_type


def test_matching_sizes_without_a_shape_are_multi_leg() -> None:
    legs = [leg(590), leg(570, "sell", right="P")]
    assert shape_of(legs) is None
    assert expected_structure(legs, flagged=False) == "multi_leg"
    assert expected_structure([leg(590), leg(570, "sell", right="P", size=101)], flagged=False) is None


@pytest.mark.parametrize(
    ("legs", "structure_type", "direction"),
    [
        pytest.param([leg(580, usd=500), leg(585, "sell", usd=200)], "vertical", "bullish", id="debit-call"),
        pytest.param([leg(580, "sell", usd=500), leg(585, usd=200)], "vertical", "bearish", id="credit-call"),
        pytest.param(
            [leg(580, "sell", right="P", usd=200), leg(585, right="P", usd=500)], "vertical", "bearish", id="debit-put"
        ),
        pytest.param(
            [leg(580, right="P", usd=200), leg(585, "sell", right="P", usd=500)], "vertical", "bullish", id="credit-put"
        ),
        pytest.param([leg(580, usd=200), leg(585, "sell", usd=500)], "vertical", "neutral", id="premium-disagrees"),
        pytest.param([leg(580, "unknown"), leg(585, "unknown")], "vertical", "neutral", id="flagged-vertical"),
        pytest.param([leg(580, "sell"), leg(580, expiry=APRIL)], "roll", "bullish", id="roll-calls-out"),
        pytest.param([leg(580, right="P"), leg(575, "sell", right="P", expiry=APRIL)], "roll", "bullish", id="roll-p"),
        pytest.param([leg(580), leg(580, right="P")], "straddle", "neutral", id="straddle"),
        pytest.param([leg(580), leg(581, "sell"), leg(582)], "ladder", "neutral", id="ladder"),
        pytest.param([leg(580), leg(580, expiry=APRIL)], "calendar", None, id="calendar-fires-nothing"),
        pytest.param([leg(580), leg(585)], None, None, id="no-structure"),
    ],
)
def test_structure_direction(legs: list[LegFacts], structure_type: StructureType | None, direction: str | None) -> None:
    assert structure_direction(structure_type, legs) == direction


def test_structure_truth_names_one_classifier_per_type() -> None:
    floor = RULES.structure_classifier_min_premium_usd * 100
    for structure_type, classifier in CLASSIFIER_OF_STRUCTURE.items():
        expected, forbidden = structure_truth(structure_type, floor)
        assert expected == (classifier,)
        assert set(forbidden) == set(STRUCTURE_CLASSIFIERS) - {classifier}
        assert structure_truth(structure_type, floor - 1) == ((), STRUCTURE_CLASSIFIERS), "under the premium floor"
    silent: tuple[StructureType | None, ...] = ("calendar", "diagonal", "multi_leg", None)
    for quiet in silent:
        assert structure_truth(quiet, floor) == ((), STRUCTURE_CLASSIFIERS)


def test_net_premium_of() -> None:
    assert net_premium_of([leg(580, usd=500), leg(585, "sell", usd=200)]) == (30_000, "debit")
    assert net_premium_of([leg(580, "sell", usd=500), leg(585, usd=200)]) == (-30_000, "credit")
    assert net_premium_of([leg(580, usd=5), leg(585, "sell", usd=5)]) == (0, "even")
    assert net_premium_of([leg(580, "unknown"), leg(585)]) == (None, "unknown")

"""Ground truth of the planted options flow: labels, and the oracles that derive them from planned facts.

Labels state what the planted flow *is* (`PacketFacts`: kind, aggressor side, size, premium, prints; and the
contract's open interest, days to expiry, distance to the money, volume so far) and derive from those facts,
with the default thresholds of `OptionsConfig`, which packet classifiers must fire (`expected_classifiers`)
and which must not (`forbidden_classifiers`). Anything else may fire: baseline-relative clauses (z-scores)
depend on the background tape and are not ground truth, except where a scenario makes them impossible.
`unusual_volume` is ground truth on both clauses: day volume crossing above open interest (the market counts
every contract printed), and 5-minute volume crossing its line on contracts with history. The engine buckets a
packet by its last print, so a background packet straddling a bucket's start may count in either bucket; the
market bounds the 5-minute volume between the prints inside the bucket and those plus such a straddle, and a
label whose crossing depends on where in that range the engine lands neither expects nor forbids the clause.

Structure labels (`PlantedLabel.structure` set) hold every leg's prints and name only structure classifiers: the
one the planted shape must fire (`expected_structure`, BEHAVIOR section 5) and the others, forbidden. Evaluation
matches a hit to a label through shared print ids, so a structure hit meets the leg labels too, which say nothing
about structure classifiers, and a packet hit meets the structure label, which says nothing about packet
classifiers: each truth is scored once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Final, Literal

from connectors.synthetic.chains import bucket_index
from connectors.synthetic.planted.library import HARD_NEGATIVES
from events.config import OptionsConfig
from events.models import Direction, NetPremium, PacketKind, Side, StructureType
from events.units import CENTS_PER_USD, NS_PER_MS

PACKET_CLASSIFIERS: Final[tuple[str, ...]] = (
    "large_sweep",
    "golden_sweep",
    "block_trade",
    "unusual_spike",
    "unusual_volume",
    "new_position_likely",
    "repeated_hits",
    "call_overwrite",
    "put_write",
    "far_dated_conviction",
    "zero_dte_gamma",
)
"""The packet classifiers labels speak about, in the order of `operators.classifiers.PACKET_CLASSIFIERS`."""
STRUCTURE_CLASSIFIERS: Final[tuple[str, ...]] = ("straddle_strangle", "vertical_spread", "ladder", "roll")
"""The structure classifiers structure labels speak about, in the order of `operators.classifiers.structure`."""
CLASSIFIER_OF_STRUCTURE: Final[dict[StructureType, str]] = {
    "vertical": "vertical_spread",
    "straddle": "straddle_strangle",
    "strangle": "straddle_strangle",
    "ladder": "ladder",
    "roll": "roll",
}
"""The structure classifier each structure type fires (calendar, diagonal and multi_leg fire none)."""

RULES: Final = OptionsConfig.model_construct()
"""The default thresholds the labels are stated against (never the environment: labels are fixed facts)."""
REPEAT_WINDOW_NS: Final = RULES.repeat_window_ms * NS_PER_MS
ZERO_DTE_SURE: Final = 0.006
"""Planted 0DTE flow at most this far from the money (model spot at planning) is expected to fire."""
ZERO_DTE_SURE_NOT: Final = 0.015
"""... and at least this far is expected not to; in between the spot's drift could decide either way."""
STRUCTURE_WINDOW_NS: Final = RULES.structure_window_ms * NS_PER_MS


# ------------------------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class PlantedLabel:
    """Ground truth for one planted scenario on one contract.

    `expected_classifiers` must fire on the label's prints, `forbidden_classifiers` must not; others may.
    """

    scenario: str
    underlying: str
    symbol: str
    ts_start: int
    ts_end: int
    side: Literal["buy", "sell"]
    expected_kind: Literal["sweep", "block", "split", "single"]
    expected_classifiers: tuple[str, ...]
    print_ids: tuple[str, ...]
    forbidden_classifiers: tuple[str, ...] = ()
    expected_direction: Direction | None = None
    """The direction hits should read (None: the label's packets disagree, e.g. both sides)."""
    description: str = ""
    """What was planted, in numbers: for tables of misses and false positives."""
    structure: StructureTruth | None = None
    """Set on a structure label: its prints are every leg's, its classifiers structure classifiers. `symbol`, `side`
    and `expected_kind` are then the first leg's (in leg order), `expected_direction` the structure hit's."""

    @property
    def hard_negative(self) -> bool:
        """Return whether the scenario exists to make classifiers not fire."""
        return self.scenario in HARD_NEGATIVES

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the contracts the label's prints are on: the legs of a structure label, else its contract."""
        return self.structure.legs if self.structure is not None else (self.symbol,)


@dataclass(frozen=True, slots=True)
class StructureTruth:
    """What a structure label's legs form under BEHAVIOR section 5 with the default thresholds."""

    legs: tuple[str, ...]
    """Contract symbols in leg order (expiry, strike, right): the order of `Structure.legs`."""
    structure_type: StructureType | None
    """The structure the legs must form (None: they must form none)."""
    flagged: bool
    """Every leg's prints carry the multi-leg condition flag."""
    net_premium: NetPremium
    """Debit or credit from the planned fills (unknown when a leg's side is)."""
    rule: str
    """Why, in plain English with the numbers: for tables of misses and false positives."""
    gross_premium_cents: int = 0
    """Premium over every leg, whatever its side."""


@dataclass(frozen=True, slots=True)
class PacketFacts:
    """One planted packet as planned: what the packet clustering downstream will see."""

    kind: PacketKind
    side: Side
    size: int
    premium_cents: int
    print_count: int
    ts_first: int
    ts_last: int


@dataclass(frozen=True, slots=True)
class ContractFacts:
    """The contract a label is on, at planning time."""

    right: str
    open_interest: int
    dte: int
    strike_distance: float
    """|strike - spot| / spot with the model spot at planning."""
    volume_before: int
    """Contracts printed on the contract this session before the plan."""
    history: tuple[float, ...] | None = None
    """The contract's historical mean volume per 5-minute bucket (None: no history, the 5-minute clause is off)."""
    session_open_ns: int = 0
    bucket: int = -1
    """The 5-minute bucket of the contract's latest print before the plan (-1: none)."""
    bucket_volume_low: int = 0
    bucket_volume_high: int = 0
    """Bounds of the 5-minute volume the engine has counted in `bucket` before the plan."""
    repeat_isolated: bool = False
    """No other print on the contract within the repeat window before or after the plan."""
    z_quiet: bool = False
    """Neither z-score can reach its threshold (too few packets for the contract, premium far below typical)."""


def kind_of(prints: int, venues: int, iso: bool, side: Side, size: int, premium_cents: int) -> PacketKind:
    """Return the packet kind of BEHAVIOR section 3 with the default thresholds (no cross/floor prints here)."""
    if prints == 1:
        if size >= RULES.block_min_contracts or premium_cents >= RULES.block_min_premium_cents:
            return "block"
        return "single"
    if (venues >= 2 or iso) and side != "unknown":
        return "sweep"
    return "split" if venues == 1 else "single"


def direction_of(side: Side, right: str) -> Direction:
    """Return the directional read of an aggressor side on a right (unknown side: neutral)."""
    if side == "unknown":
        return "neutral"
    if right == "C":
        return "bullish" if side == "buy" else "bearish"
    return "bearish" if side == "buy" else "bullish"


def _packet_truth(p: PacketFacts, c: ContractFacts) -> tuple[set[str], set[str]]:
    expected: set[str] = set()
    forbidden: set[str] = set()

    def decide(name: str, fires: bool | None) -> None:
        if fires is True:
            expected.add(name)
        elif fires is False:
            forbidden.add(name)

    sweep = p.kind == "sweep" and p.print_count >= RULES.large_sweep_min_prints
    if not sweep:
        decide("large_sweep", False)
    elif p.premium_cents >= RULES.large_sweep_min_premium_cents:
        decide("large_sweep", True)
    elif c.z_quiet:
        decide("large_sweep", False)
    decide(
        "golden_sweep",
        p.kind == "sweep"
        and p.premium_cents >= RULES.golden_sweep_min_premium_usd * CENTS_PER_USD
        and p.size > c.open_interest,
    )
    decide(
        "block_trade",
        p.kind == "block" and p.premium_cents >= RULES.block_trade_min_premium_usd * CENTS_PER_USD,
    )
    spike = p.size >= RULES.unusual_spike_min_contracts and (
        p.premium_cents >= RULES.unusual_spike_min_premium_usd * CENTS_PER_USD
    )
    decide("unusual_spike", True if spike else (False if c.z_quiet else None))
    decide(
        "new_position_likely",
        p.size > c.open_interest
        and p.size >= RULES.new_position_min_contracts
        and p.premium_cents >= RULES.new_position_min_premium_usd * CENTS_PER_USD,
    )
    large_write = p.side == "sell" and p.size >= RULES.write_min_contracts
    large_write = large_write and p.premium_cents >= RULES.write_min_premium_usd * CENTS_PER_USD
    decide("call_overwrite", large_write and c.right == "C")
    decide("put_write", large_write and c.right == "P")
    decide(
        "far_dated_conviction",
        c.dte >= RULES.far_dated_min_dte
        and p.side != "unknown"
        and p.premium_cents >= RULES.far_dated_min_premium_usd * CENTS_PER_USD,
    )
    zero = (
        c.dte == 0
        and p.size >= RULES.zero_dte_min_contracts
        and p.premium_cents >= RULES.zero_dte_min_premium_usd * CENTS_PER_USD
    )
    if not zero or c.strike_distance >= ZERO_DTE_SURE_NOT:
        decide("zero_dte_gamma", False)
    elif c.strike_distance <= ZERO_DTE_SURE:
        decide("zero_dte_gamma", True)
    return expected, forbidden


def _repeats(packets: list[PacketFacts]) -> bool:
    floor = RULES.repeat_min_packet_premium_usd * CENTS_PER_USD
    for side in ("buy", "sell"):
        times = [
            p.ts_last
            for p in packets
            if p.side == side and p.premium_cents >= floor and p.size >= RULES.repeat_min_packet_contracts
        ]
        for i, ts in enumerate(times):
            if sum(1 for t in times[: i + 1] if ts - t <= REPEAT_WINDOW_NS) >= RULES.repeat_min_packets:
                return True
    return False


def _volume_significant(p: PacketFacts) -> bool:
    return p.premium_cents >= RULES.unusual_volume_min_premium_usd * CENTS_PER_USD


def bucket_truth(packets: list[PacketFacts], contract: ContractFacts) -> bool | None:
    """Return whether one of a label's packets takes 5-minute volume across its line (True), surely none does
    (False), or it depends on where a straddling background packet was counted (None)."""
    history = contract.history
    if history is None:
        return False
    low, high, current = contract.bucket_volume_low, contract.bucket_volume_high, contract.bucket
    sure = possible = False
    for p in packets:
        bucket = bucket_index(p.ts_last, contract.session_open_ns)  # the engine's bucket: the last print's
        if bucket < 0:
            continue
        if bucket != current:  # the contract is held: nothing else printed on it in the new bucket
            low = high = 0
            current = bucket
        need = math.ceil(
            max(RULES.unusual_volume_bucket_ratio * history[bucket], RULES.unusual_volume_min_bucket_contracts, 1.0)
        )
        # The engine fires when volume before < need <= volume before + size, for its volume before in [low, high],
        # on a packet of at least the premium floor.
        if _volume_significant(p):
            sure = sure or (need - p.size <= low and high <= need - 1)
            possible = possible or max(low, need - p.size) <= min(high, need - 1)
        low += p.size
        high += p.size
    return True if sure else (None if possible else False)


def label_truth(packets: list[PacketFacts], contract: ContractFacts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (expected, forbidden) packet classifiers for a label's packets on one contract, in time order."""
    expected: set[str] = set()
    forbidden = set(PACKET_CLASSIFIERS)
    for p in packets:
        exp, forb = _packet_truth(p, contract)
        expected |= exp
        forbidden &= forb
    # unusual_volume fires on the packet taking day volume above open interest and the minimum, or 5-minute volume
    # to its line.
    line = max(contract.open_interest + 1, RULES.unusual_volume_min_day_contracts)
    volume = contract.volume_before
    crossed = False
    for p in packets:
        crossed = crossed or (_volume_significant(p) and volume < line <= volume + p.size)
        volume += p.size
    by_bucket = bucket_truth(packets, contract)
    if crossed or by_bucket is True:
        expected.add("unusual_volume")
    elif by_bucket is False:
        forbidden.add("unusual_volume")
    if contract.repeat_isolated:
        if _repeats(packets):
            expected.add("repeated_hits")
        else:
            forbidden.add("repeated_hits")
    forbidden -= expected
    return (
        tuple(c for c in PACKET_CLASSIFIERS if c in expected),
        tuple(c for c in PACKET_CLASSIFIERS if c in forbidden),
    )


# ---------------------------------------------------------------------------------------- structures


@dataclass(frozen=True, slots=True)
class LegFacts:
    """One planted leg as the structure detector will see it: its contract and its packet."""

    symbol: str
    expiry: date
    right: str
    strike_e9: int
    packet: PacketFacts


def leg_order(leg: LegFacts) -> tuple[date, int, str, str]:
    return (leg.expiry, leg.strike_e9, leg.right, leg.symbol)


def shape_of(legs: Sequence[LegFacts]) -> StructureType | None:
    """Return the named shape of BEHAVIOR section 5 the legs fit (sizes taken as comparable), or None."""
    legs = sorted(legs, key=leg_order)
    if len(legs) >= 3:
        first = legs[0]
        if any(leg.expiry != first.expiry or leg.right != first.right for leg in legs):
            return None
        steps = {b.strike_e9 - a.strike_e9 for a, b in pairwise(legs)}
        return "ladder" if len(steps) == 1 and 0 not in steps else None
    a, b = legs
    known = a.packet.side != "unknown" and b.packet.side != "unknown"
    opposite = known and a.packet.side != b.packet.side
    if a.expiry == b.expiry:
        if a.right == b.right:
            same_side = known and not opposite
            return None if a.strike_e9 == b.strike_e9 or same_side else "vertical"
        if opposite:
            return None
        return "straddle" if a.strike_e9 == b.strike_e9 else "strangle"
    if a.right != b.right:
        return None
    if opposite:
        return "roll"
    return "calendar" if a.strike_e9 == b.strike_e9 else "diagonal"


def expected_structure(legs: Sequence[LegFacts], *, flagged: bool) -> StructureType | None:
    """Return the structure the legs form when they are the only candidates near each other, or None.

    BEHAVIOR section 5 with the default thresholds: legs within `structure_window_ms` of the first one; flagged
    legs are trusted (a named shape when one fits, else multi_leg); unflagged legs need at least
    `structure_min_leg_contracts` and `structure_min_leg_premium_usd` and comparable sizes, and
    form a named shape or, with matching sizes, multi_leg.
    """
    anchor = min(legs, key=lambda leg: (leg.packet.ts_first, leg.symbol))
    if any(leg.packet.ts_first > anchor.packet.ts_last + STRUCTURE_WINDOW_NS for leg in legs):
        return None
    if not 2 <= len(legs) <= RULES.structure_max_legs or len({leg.symbol for leg in legs}) != len(legs):
        return None
    sizes = [leg.packet.size for leg in legs]
    comparable = max(sizes) <= RULES.structure_size_ratio_max * min(sizes)
    named = shape_of(legs) if comparable else None
    if flagged:
        return named or "multi_leg"
    if min(sizes) < RULES.structure_min_leg_contracts or not comparable:
        return None
    if min(leg.packet.premium_cents for leg in legs) < RULES.structure_min_leg_premium_usd * CENTS_PER_USD:
        return None
    return named or ("multi_leg" if len(set(sizes)) == 1 else None)


def net_premium_of(legs: Sequence[LegFacts]) -> tuple[int | None, NetPremium]:
    """Return the net premium in cents (bought legs pay, sold legs receive) and debit/credit/even/unknown."""
    net = 0
    for leg in legs:
        if leg.packet.side == "unknown":
            return None, "unknown"
        net += leg.packet.premium_cents if leg.packet.side == "buy" else -leg.packet.premium_cents
    return net, ("debit" if net > 0 else "credit" if net < 0 else "even")


def structure_direction(structure_type: StructureType | None, legs: Sequence[LegFacts]) -> Direction | None:
    """Return the direction the structure's classifier must read (None: no classifier fires on it).

    A vertical reads its dearer leg (the lower call strike, the higher put strike) when the net premium agrees
    with the strikes, a roll its opened (farther) leg; straddles, strangles and ladders are neutral; unknown
    sides read neutral. The planted legs have fresh quotes, so quote context never withholds a direction.
    """
    if structure_type is None or structure_type not in CLASSIFIER_OF_STRUCTURE:
        return None
    if structure_type == "vertical":
        low, high = sorted(legs, key=leg_order)
        if "unknown" in (low.packet.side, high.packet.side):
            return "neutral"
        bought_low = low.packet.side == "buy"
        debit = bought_low if low.right == "C" else not bought_low
        if net_premium_of(legs)[1] != ("debit" if debit else "credit"):
            return "neutral"
        dearer = low if low.right == "C" else high
        return direction_of(dearer.packet.side, dearer.right)
    if structure_type == "roll":
        far = max(legs, key=lambda leg: (leg.expiry, leg.symbol))
        return direction_of(far.packet.side, far.right)
    return "neutral"


def structure_truth(
    structure_type: StructureType | None, gross_premium_cents: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (expected, forbidden) structure classifiers of a structure label: its type's one, and the rest; none
    fires under `structure_classifier_min_premium_usd` gross premium."""
    fires = CLASSIFIER_OF_STRUCTURE.get(structure_type) if structure_type is not None else None
    if gross_premium_cents < RULES.structure_classifier_min_premium_usd * CENTS_PER_USD:
        fires = None
    return (
        tuple(c for c in STRUCTURE_CLASSIFIERS if c == fires),
        tuple(c for c in STRUCTURE_CLASSIFIERS if c != fires),
    )

"""Planted, labeled flow: a scenario library with ground truth for every packet classifier and packet kind.

A plan is a short script of quotes and prints on one or more contracts, drawn ahead of time from the
contracts' model quotes. The market holds each contract while the plan runs (no background quote or print
until `Plan.holds` says), so each planted packet clusters downstream exactly as planned.

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

Hard negatives (stale quotes, mid prints, tiny lots, two-print sweeps, prints close in time on other
contracts, near misses of each threshold) are labeled with what must not fire.

Structures (BEHAVIOR section 5) plug in the same way: a structure planner returns a `Plan` whose prints span
several contracts. Each leg is a packet with its own label (packet classifiers, as above); one more label per
structure (`PlantedLabel.structure` set) holds every leg's prints and names only structure classifiers: the one the
planted shape must fire and the others, forbidden. Evaluation matches a hit to a label through shared print ids,
so a structure hit meets the leg labels too, which say nothing about structure classifiers, and a packet hit meets
the structure label, which says nothing about packet classifiers: each truth is scored once. Legs are the only
structure candidates near them: the planner keeps the whole underlying free of background and of other scenarios
around the legs, and unflagged legs are more than `structure_size_ratio_max` times any packet a long-running
scenario there can still print.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Final, Literal, get_args

from connectors.synthetic.chains import E9_PER_CENT, Contract, UnderlyingState, bucket_index, session_date
from connectors.synthetic.venues import OPTION_VENUES, Venue
from events.config import OptionsConfig
from events.models import Direction, NetPremium, PacketKind, Side, StructureType
from events.units import CENTS_PER_USD, NS_PER_MS, NS_PER_S, notional_cents

ScenarioName = Literal[
    "call_sweep",
    "put_sweep",
    "block",
    "split",
    "golden_sweep",
    "repeated_hits",
    "call_overwrite",
    "put_write",
    "far_dated",
    "zero_dte",
    "unusual_volume",
    "new_position",
    "vertical_debit",
    "vertical_credit",
    "straddle",
    "strangle",
    "ladder",
    "calendar",
    "roll",
    "multi_leg",
    "stale_quotes",
    "mid_prints",
    "tiny_lots",
    "two_print_sweep",
    "unrelated_close",
    "spread_out",
    "zero_dte_miss",
    "write_miss",
    "golden_miss",
    "repeat_miss",
    "far_dated_miss",
    "size_mismatch_legs",
    "far_apart_legs",
    "same_side_vertical",
    "tiny_legs",
]
SCENARIOS: Final[tuple[ScenarioName, ...]] = get_args(ScenarioName)
"""The library, positives first; the market draws them from a shuffled bag so every kind shows up."""
HARD_NEGATIVES: Final = frozenset(SCENARIOS[SCENARIOS.index("stale_quotes") :])
FIRST_SCENARIO: Final[ScenarioName] = "call_sweep"
"""The first scenario of a session: one that alerts, so a live demo shows an alert within seconds."""

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
"""The structure classifiers structure labels speak about, in the order of `operators.structures`."""
CLASSIFIER_OF_STRUCTURE: Final[dict[StructureType, str]] = {
    "vertical": "vertical_spread",
    "straddle": "straddle_strangle",
    "strangle": "straddle_strangle",
    "ladder": "ladder",
    "roll": "roll",
}
"""The structure classifier each structure type fires (calendar, diagonal and multi_leg fire none)."""

ISOLATION_NS: Final = 150 * NS_PER_MS
"""No background print or quote on a planted contract this close to its scenario."""
SAME_CONTRACT_GAP_NS: Final = 2 * NS_PER_S
"""Two scenarios on one contract are at least this far apart."""
SWEEP_MIN_PREMIUM_CENTS: Final = 60_000 * 100
SWEEP_MIN_CONTRACTS: Final = 150
SWEEP_MAX_CONTRACTS: Final = 1_500
SWEEP_MIN_ASK_CENTS: Final = 45
"""With at most 1,500 contracts, an ask of at least 45 cents keeps the premium above $60k."""
SWEEP_MAX_ASK_CENTS: Final = 1_000
SWEEP_MAX_CHILD_CONTRACTS: Final = 480
SWEEP_MAX_CHILD_PREMIUM_CENTS: Final = 200_000 * 100
"""Keep each child fill well under the block thresholds (500 contracts, $250k), so no child is a block."""
BLOCK_MIN_CONTRACTS: Final = 600
ISO: Final = ("iso",)
MULTI_LEG: Final = ("multi_leg",)

RULES: Final = OptionsConfig.model_construct()
"""The default thresholds the labels are stated against (never the environment: labels are fixed facts)."""
REPEAT_WINDOW_NS: Final = RULES.repeat_window_ms * NS_PER_MS
ZERO_DTE_SURE: Final = 0.006
"""Planted 0DTE flow at most this far from the money (model spot at planning) is expected to fire."""
ZERO_DTE_SURE_NOT: Final = 0.015
"""... and at least this far is expected not to; in between the spot's drift could decide either way."""
QUIET_MAX_PRINTS: Final = 10
"""A contract with fewer prints than this so far has too few packets for a contract z-score."""
STRUCTURE_WINDOW_NS: Final = RULES.structure_window_ms * NS_PER_MS
STRUCTURE_QUIET_NS: Final = STRUCTURE_WINDOW_NS + 100 * NS_PER_MS
"""No other packet on a structure's underlying starts or ends this close to its legs (more than the window)."""
STRUCTURE_LEG_CONTRACTS: Final = (1_400, 2_600)
"""Unflagged legs: more than `structure_size_ratio_max` x 450, the largest packet a long-running scenario (repeated
hits, unusual volume, spread-out prints) can print on the same underlying meanwhile, so no such packet is ever a
comparable candidate of a leg."""
LONG_SCENARIO_MAX_CONTRACTS: Final = 450
FLAGGED_LEAD_NS: Final = STRUCTURE_WINDOW_NS + 50 * NS_PER_MS
"""Flagged legs start this long after the plan's start: a background print flagged multi-leg before the plan (at
most at its start) is out of their window, since flagged candidates pair whatever their sizes."""
TINY_LEG_CONTRACTS: Final = (1, RULES.structure_min_leg_contracts - 1)


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
    decide("block_trade", p.kind == "block")
    spike = p.size >= RULES.unusual_spike_min_contracts and (
        p.premium_cents >= RULES.unusual_spike_min_premium_usd * CENTS_PER_USD
    )
    decide("unusual_spike", True if spike else (False if c.z_quiet else None))
    decide("new_position_likely", p.size > c.open_interest)
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
        times = [p.ts_last for p in packets if p.side == side and p.premium_cents >= floor]
        for i, ts in enumerate(times):
            if sum(1 for t in times[: i + 1] if ts - t <= REPEAT_WINDOW_NS) >= RULES.repeat_min_packets:
                return True
    return False


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
        # The engine fires when volume before < need <= volume before + size, for its volume before in [low, high].
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
        crossed = crossed or volume < line <= volume + p.size
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


@dataclass(slots=True, eq=False)
class LabelDraft:
    """A label waiting for the ids of its prints, which exist only once the prints are emitted."""

    scenario: str
    underlying: str
    symbol: str
    side: Literal["buy", "sell"]
    expected_kind: Literal["sweep", "block", "split", "single"]
    expected_classifiers: tuple[str, ...]
    ts_start: int
    ts_end: int
    prints_left: int
    print_ids: list[str] = field(default_factory=list)
    forbidden_classifiers: tuple[str, ...] = ()
    expected_direction: Direction | None = None
    description: str = ""
    structure: StructureTruth | None = None

    def record(self, event_id: str) -> PlantedLabel | None:
        """Record one emitted print; return the finished label after the last one."""
        self.print_ids.append(event_id)
        self.prints_left -= 1
        if self.prints_left:
            return None
        return PlantedLabel(
            scenario=self.scenario,
            underlying=self.underlying,
            symbol=self.symbol,
            ts_start=self.ts_start,
            ts_end=self.ts_end,
            side=self.side,
            expected_kind=self.expected_kind,
            expected_classifiers=self.expected_classifiers,
            print_ids=tuple(self.print_ids),
            forbidden_classifiers=self.forbidden_classifiers,
            expected_direction=self.expected_direction,
            description=self.description,
            structure=self.structure,
        )


# ------------------------------------------------------------------------------------------ scripts


@dataclass(slots=True, eq=False)
class ScheduledQuote:
    """A consolidated option quote the plan will publish at `ts`."""

    ts: int
    contract: Contract
    bid_e9: int
    ask_e9: int
    bid_size: int
    ask_size: int


@dataclass(slots=True, eq=False)
class ScheduledPrint:
    """An option print the plan will publish at `ts`."""

    ts: int
    contract: Contract
    price_e9: int
    size: int
    venue: Venue
    conditions: tuple[str, ...]
    raw_conditions: str
    label: LabelDraft
    structure: LabelDraft | None = None
    """The structure label the print is a leg of, if any."""

    def record(self, event_id: str) -> list[PlantedLabel]:
        """Record the emitted print on its label (and its structure label); return the labels it finished."""
        done = self.label.record(event_id)
        out = [] if done is None else [done]
        if self.structure is not None and (finished := self.structure.record(event_id)) is not None:
            out.append(finished)
        return out


Scheduled = ScheduledQuote | ScheduledPrint


@dataclass(slots=True, eq=False)
class Plan:
    """The scripted events of one scenario, in time order, the labels they fill and the contracts held."""

    events: list[Scheduled]
    labels: list[LabelDraft]
    holds: dict[str, tuple[Contract, int]]
    """Per contract symbol: the contract and the time before which background leaves it alone."""
    structures: list[LabelDraft] = field(default_factory=list)
    """Structure labels: they span several contracts, so they are not in `labels` (one contract each)."""

    @property
    def contract(self) -> Contract:
        """Return the first contract the plan trades."""
        return next(iter(self.holds.values()))[0]

    @property
    def label(self) -> LabelDraft:
        """Return the first label."""
        return self.labels[0]

    @property
    def first_ts(self) -> int:
        return self.events[0].ts

    @property
    def last_ts(self) -> int:
        return self.events[-1].ts


@dataclass(slots=True)
class _Book:
    """The plan's running view of one contract's quote (cents) while it scripts fills."""

    contract: Contract
    bid: int
    ask: int


@dataclass(slots=True, eq=False)
class _Script:
    """Accumulates one plan: events, labels, held contracts."""

    rng: random.Random
    events: list[Scheduled] = field(default_factory=list)
    labels: list[LabelDraft] = field(default_factory=list)
    holds: dict[str, tuple[Contract, int]] = field(default_factory=dict)
    structures: list[LabelDraft] = field(default_factory=list)

    def quote(self, ts: int, book: _Book, bid_size: int | None = None, ask_size: int | None = None) -> None:
        rng = self.rng
        self.events.append(
            ScheduledQuote(
                ts=ts,
                contract=book.contract,
                bid_e9=book.bid * E9_PER_CENT,
                ask_e9=book.ask * E9_PER_CENT,
                bid_size=rng.randint(5, 300) if bid_size is None else bid_size,
                ask_size=rng.randint(5, 300) if ask_size is None else ask_size,
            )
        )

    def hold(self, contract: Contract, until: int) -> None:
        _, held = self.holds.get(contract.symbol, (contract, 0))
        self.holds[contract.symbol] = (contract, max(held, until))

    def plan(self) -> Plan:
        self.events.sort(key=lambda e: e.ts)  # stable: a quote scripted before a print at the same ts stays first
        for event in self.events:
            self.hold(event.contract, event.ts + ISOLATION_NS + 1)
        return Plan(events=self.events, labels=self.labels, holds=self.holds, structures=self.structures)


FillAt = Literal["ask", "bid", "mid", "stale"]


def _fill_times(rng: random.Random, start_ts: int, parts: int, span_ns: int) -> list[int]:
    if parts == 1:
        return [start_ts]
    gaps = [0.1 + rng.random() for _ in range(parts - 1)]
    scale = span_ns / sum(gaps)
    times = [start_ts]
    for g in gaps:
        times.append(times[-1] + max(1, int(g * scale)))
    times[-1] = max(times[-2] + 1, start_ts + span_ns)
    return times


def _cluster(
    script: _Script,
    label: LabelDraft,
    book: _Book,
    start_ts: int,
    sizes: list[int],
    venues: list[Venue],
    *,
    at: FillAt,
    iso: list[bool],
    span_ns: int,
    multi_leg: bool = False,
) -> PacketFacts:
    """Script one packet: a fresh quote just before (none when stale), the fills, the book repricing between.

    Return the packet's facts. Fills at the ask are buyer-initiated, at the bid seller-initiated; mid prints and
    prints against a stale quote have no side, nor have prints flagged multi-leg (`multi_leg`: OPRA trade type
    f), which trade away from the single-leg NBBO.
    """
    rng = script.rng
    c = book.contract
    parts = len(sizes)
    times = _fill_times(rng, start_ts, parts, span_ns)
    if at != "stale":
        script.quote(start_ts - rng.randint(NS_PER_MS // 2, 20 * NS_PER_MS), book, ask_size=max(1, sizes[0] // 2))
    premium = 0
    for i in range(parts):
        if at == "ask":
            price = c.tick_up(book.ask) if iso[i] and rng.random() < 0.2 else book.ask
        elif at == "bid":
            lower = c.tick_down(book.bid)
            price = lower if iso[i] and lower > 0 and rng.random() < 0.2 else book.bid
        elif at == "mid":
            price = _mid_price(book)
        else:
            price = c.ask_e9 // E9_PER_CENT
        premium += notional_cents(price * E9_PER_CENT, sizes[i], 100)
        script.events.append(
            ScheduledPrint(
                ts=times[i],
                contract=c,
                price_e9=price * E9_PER_CENT,
                size=sizes[i],
                venue=venues[i],
                conditions=MULTI_LEG if multi_leg else ISO if iso[i] else (),
                raw_conditions="f" if multi_leg else "S" if iso[i] else "",
                label=label,
            )
        )
        if at in ("mid", "stale"):
            continue
        # The book reprices after each fill: the taken side moves away a tick, sometimes the other follows.
        if at == "ask":
            if rng.random() < 0.6:
                book.ask = c.tick_up(book.ask)
            if rng.random() < 0.3 and c.tick_up(book.bid) < book.ask:
                book.bid = c.tick_up(book.bid)
        else:
            if rng.random() < 0.6 and c.tick_down(book.bid) > 0:
                book.bid = c.tick_down(book.bid)
            if rng.random() < 0.3 and c.tick_down(book.ask) > book.bid:
                book.ask = c.tick_down(book.ask)
        next_ts = times[i + 1] if i + 1 < parts else times[i] + rng.randint(NS_PER_MS, 10 * NS_PER_MS)
        script.quote(times[i] + max(1, int((next_ts - times[i]) * rng.uniform(0.3, 0.7))), book)
    side: Side = "unknown" if multi_leg else "buy" if at == "ask" else "sell" if at == "bid" else "unknown"
    size = sum(sizes)
    kind = kind_of(parts, len({v.code for v in venues}), any(iso), side, size, premium)
    return PacketFacts(kind, side, size, premium, parts, times[0], times[-1])


def _mid_price(book: _Book) -> int:
    """Return a price on the contract's increments strictly inside the bid and ask bands (spread >= 4 ticks)."""
    c = book.contract
    price = book.bid
    steps = 0
    while c.tick_up(price) < book.ask:
        price = c.tick_up(price)
        steps += 1
    ticks_to_mid = (steps + 1) // 2
    price = book.bid
    for _ in range(ticks_to_mid):
        price = c.tick_up(price)
    return price


def _widen(book: _Book, ticks: int) -> None:
    """Widen the book to at least `ticks` increments, so a mid print sits clear of the at-side bands."""
    c = book.contract
    while True:
        n = 0
        price = book.bid
        while price < book.ask:
            price = c.tick_up(price)
            n += 1
        if n >= ticks:
            return
        if c.tick_down(book.bid) > 0 and n % 2:
            book.bid = c.tick_down(book.bid)
        else:
            book.ask = c.tick_up(book.ask)


def _split(total: int, parts: int, cap: int, rng: random.Random) -> list[int]:
    """Split `total` into `parts` positive sizes, none above `cap`, uneven like real child fills."""
    if not parts <= total <= parts * cap:
        raise ValueError(f"cannot split {total} into {parts} parts of at most {cap}")
    weights = [0.4 + rng.random() for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, min(cap, int(w * scale))) for w in weights]
    i = 0
    while (missing := total - sum(sizes)) != 0:
        j = i % parts
        if missing > 0 and sizes[j] < cap:
            sizes[j] += min(missing, cap - sizes[j])
        elif missing < 0 and sizes[j] > 1:
            sizes[j] -= min(-missing, sizes[j] - 1)
        i += 1
    return sizes


def _venues(rng: random.Random, parts: int) -> list[Venue]:
    return rng.sample(OPTION_VENUES, parts)


def _one_venue(rng: random.Random) -> Venue:
    return rng.choices(OPTION_VENUES, weights=[v.weight for v in OPTION_VENUES])[0]


# ---------------------------------------------------------------------------------------- contracts


def dte_of(contract: Contract, ts: int) -> int:
    """Return calendar days from the New York date of `ts` to the contract's expiry."""
    return (contract.expiry - session_date(ts)).days


ExpiryBand = Literal["any", "zero", "near", "far"]


@dataclass(frozen=True, slots=True)
class _Want:
    """What a scenario needs of its contract."""

    right: str | None = None
    moneyness: tuple[float, float] = (0.94, 1.06)
    """strike / spot bounds."""
    expiry: ExpiryBand = "any"
    ask_cents: tuple[int, int] = (5, 5_000)
    bid_min_cents: int = 0
    open_interest: tuple[int, int] = (0, 2**62)
    quiet_ns: int = 0
    """No print on the contract for this long before the plan starts."""
    max_prints: int | None = None
    quote_older_ns: int = 0
    """The contract's latest quote is at least this old when the plan starts."""
    span_ns: int = NS_PER_S
    """How long the plan runs (the contract must still trade after it)."""
    exclude: frozenset[str] = frozenset()
    """Contracts the plan already uses."""


def _candidates(und: UnderlyingState, start_ts: int, want: _Want) -> list[Contract]:
    spot = und.model_spot
    low, high = want.moneyness
    earliest = start_ts - 20 * NS_PER_MS  # a plan's first quote comes up to 20 ms before its first print
    today = session_date(start_ts)
    out = []
    for c in und.contracts:
        if not spot * low <= c.strike <= spot * high:
            continue
        if (want.right is not None and c.right != want.right) or c.symbol in want.exclude:
            continue
        if c.close_ns <= start_ts + want.span_ns + NS_PER_S:
            continue
        if c.last_scenario_end + SAME_CONTRACT_GAP_NS > earliest or c.blocked_until > earliest:
            continue
        dte = (c.expiry - today).days
        if (
            (want.expiry == "zero" and dte != 0)
            or (want.expiry == "near" and not 0 < dte < RULES.far_dated_min_dte)
            or (want.expiry == "far" and dte < RULES.far_dated_min_dte)
        ):
            continue
        if not want.open_interest[0] <= c.open_interest <= want.open_interest[1]:
            continue
        if want.quiet_ns and c.last_print_ts > start_ts - want.quiet_ns:
            continue
        if want.max_prints is not None and c.prints > want.max_prints:
            continue
        if want.quote_older_ns and c.quote_ts > start_ts - want.quote_older_ns:
            continue
        out.append(c)
    return out


def _choose(und: UnderlyingState, start_ts: int, rng: random.Random, want: _Want) -> _Book | None:
    """Pick a contract by activity among those that fit, with a model quote whose ask lies in the range."""
    candidates = _candidates(und, start_ts, want)
    if not candidates:
        return None
    weights = [c.activity + 1e-9 for c in candidates]
    low, high = want.ask_cents
    for contract in rng.choices(candidates, weights=weights, k=12):
        if want.quote_older_ns:
            # A stale quote is the one the contract shows: trade against it, never a fresh model quote.
            bid, ask = contract.bid_e9 // E9_PER_CENT, contract.ask_e9 // E9_PER_CENT
        else:
            bid, ask = contract.quote_cents(contract.theo_at(und.model_spot, start_ts), rng.random())
        if low <= ask <= high and bid >= want.bid_min_cents and bid < ask:
            return _Book(contract, bid, ask)
    return None


def _facts(und: UnderlyingState, c: Contract, start_ts: int, **flags: bool) -> ContractFacts:
    spot = und.model_spot
    return ContractFacts(
        right=c.right,
        open_interest=c.open_interest,
        dte=dte_of(c, start_ts),
        strike_distance=abs(c.strike - spot) / spot,
        volume_before=c.volume,
        history=c.history,
        session_open_ns=c.session_open_ns,
        bucket=c.bucket,
        bucket_volume_low=c.bucket_volume,
        bucket_volume_high=c.bucket_volume + c.bucket_carry,
        **flags,
    )


def _label(
    script: _Script,
    scenario: str,
    und: UnderlyingState,
    c: Contract,
    side: Literal["buy", "sell"],
    prints: int,
) -> LabelDraft:
    draft = LabelDraft(
        scenario=scenario,
        underlying=und.symbol,
        symbol=c.symbol,
        side=side,
        expected_kind="single",
        expected_classifiers=(),
        ts_start=0,
        ts_end=0,
        prints_left=prints,
    )
    script.labels.append(draft)
    return draft


def _finish(draft: LabelDraft, packets: list[PacketFacts], facts: ContractFacts, note: str = "") -> None:
    """Fill a label's kind, times, truth, direction and description from its planned packets."""
    draft.expected_classifiers, draft.forbidden_classifiers = label_truth(packets, facts)
    draft.ts_start = min(p.ts_first for p in packets)
    draft.ts_end = max(p.ts_last for p in packets)
    kinds = {p.kind for p in packets}
    draft.expected_kind = packets[0].kind if len(kinds) == 1 else "single"
    directions = {direction_of(p.side, facts.right) for p in packets}
    draft.expected_direction = directions.pop() if len(directions) == 1 else None
    size = sum(p.size for p in packets)
    premium = sum(p.premium_cents for p in packets)
    sides = "/".join(sorted({p.side for p in packets}))
    draft.description = (
        f"{len(packets)} packet(s) {'/'.join(sorted(kinds))} {sides}, {size:,} contracts, "
        f"${premium / 100:,.0f}; OI {facts.open_interest:,}, DTE {facts.dte}, "
        f"{facts.strike_distance:.2%} from spot, {facts.volume_before:,} traded before" + (f"; {note}" if note else "")
    )


# ----------------------------------------------------------------------------------------- planners

Planner = Callable[[UnderlyingState, int, random.Random], Plan | None]


def _sweep_sizes(total: int, cap: int, rng: random.Random, min_parts: int = 3, max_parts: int = 8) -> list[int] | None:
    parts = max(min_parts, math.ceil(total / cap))
    if parts > max_parts or total < parts:
        return None
    return _split(total, rng.randint(parts, max_parts), cap, rng)


def _plan_sweep(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    is_call = name == "call_sweep"
    want = _Want(
        right="C" if is_call else "P",
        moneyness=(0.985, 1.04) if is_call else (0.96, 1.015),
        ask_cents=(SWEEP_MIN_ASK_CENTS, SWEEP_MAX_ASK_CENTS),
    )
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    ask_high = book.ask + 12 * c.tick_cents_above_3  # bound on how far the fills can walk up
    target_usd = math.exp(rng.uniform(math.log(65_000), math.log(500_000)))
    # One contract costs `ask` dollars (price in cents x 100 shares / 100 cents). The size bounds keep
    # the total in the hundreds; with the ask bounds the premium stays above the sweep minimum.
    total = min(max(math.ceil(target_usd / book.ask), SWEEP_MIN_CONTRACTS), SWEEP_MAX_CONTRACTS)
    cap = min(SWEEP_MAX_CHILD_CONTRACTS, SWEEP_MAX_CHILD_PREMIUM_CENTS // (ask_high * 100))
    sizes = _sweep_sizes(total, cap, rng)
    if sizes is None:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, name, und, c, "buy", len(sizes))
    iso = [rng.random() < 0.7 for _ in sizes]
    if not any(iso):
        iso[rng.randrange(len(iso))] = True
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS)
    packet = _cluster(script, label, book, start_ts, sizes, _venues(rng, len(sizes)), at="ask", iso=iso, span_ns=span)
    if packet.premium_cents < SWEEP_MIN_PREMIUM_CENTS:
        return None
    _finish(label, [packet], facts)
    return script.plan()


def _plan_block(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    buy = rng.random() < 0.6
    book = _choose(und, start_ts, rng, _Want(ask_cents=(50, 3_000)))
    if book is None:
        return None
    c = book.contract
    if not buy and book.bid < 50:
        buy = True  # selling a block into a sub-50-cent bid is not the scenario we want to label
    size = 25 * rng.randint(BLOCK_MIN_CONTRACTS // 25, 100)
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, "block", und, c, "buy" if buy else "sell", 1)
    packet = _cluster(
        script, label, book, start_ts, [size], [_one_venue(rng)], at="ask" if buy else "bid", iso=[False], span_ns=0
    )
    _finish(label, [packet], facts)
    return script.plan()


def _plan_split(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    book = _choose(und, start_ts, rng, _Want(moneyness=(0.97, 1.03), ask_cents=(60, 1_500)))
    if book is None:
        return None
    c = book.contract
    total = rng.randint(450, 900)
    sizes = _sweep_sizes(total, min(450, 200_000 // book.ask), rng, max_parts=5)
    if sizes is None:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, "split", und, c, "buy", len(sizes))
    venue = _one_venue(rng)
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS)
    packet = _cluster(
        script, label, book, start_ts, sizes, [venue] * len(sizes), at="ask", iso=[False] * len(sizes), span_ns=span
    )
    _finish(label, [packet], facts, "one venue, no ISO")
    return script.plan()


def _plan_big_sweep(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A sweep of >= $1.1M: on a contract with less open interest than its size (golden) or more (miss)."""
    golden = name == "golden_sweep"
    # Open interest below the size a $1.1M+ sweep buys there (at most 3,500 contracts), or well above it.
    oi = (0, 3_400) if golden else (3_700, 2**62)
    want = _Want(moneyness=(0.85, 1.15), ask_cents=(300, 6_000), open_interest=oi)
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    total = math.ceil(rng.uniform(1_100_000, 1_800_000) / book.ask)
    if total > 3_500 or (golden and total <= c.open_interest) or (not golden and total >= c.open_interest - 100):
        return None
    sizes = _sweep_sizes(total, SWEEP_MAX_CHILD_CONTRACTS, rng)
    if sizes is None:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, name, und, c, "buy", len(sizes))
    iso = [True] * len(sizes)
    span = rng.randint(10 * NS_PER_MS, 90 * NS_PER_MS)
    packet = _cluster(script, label, book, start_ts, sizes, _venues(rng, len(sizes)), at="ask", iso=iso, span_ns=span)
    _finish(label, [packet], facts, f"size {'>' if golden else '<='} open interest")
    return script.plan()


def _plan_repeats(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Same-contract packets on one side within the repeat window (hit), or a near miss of it (miss)."""
    hit = name == "repeated_hits"
    variant = "hit" if hit else rng.choice(("two_plus_other_side", "too_slow"))
    count = rng.randint(3, 5) if variant == "hit" else 3
    gaps_ns = [
        rng.randint(3 * NS_PER_S, 12 * NS_PER_S)
        if variant != "too_slow"
        else rng.randint(REPEAT_WINDOW_NS // 2 + NS_PER_S, REPEAT_WINDOW_NS // 2 + 8 * NS_PER_S)
        for _ in range(count - 1)
    ]
    span = sum(gaps_ns)
    want = _Want(ask_cents=(60, 1_500), quiet_ns=REPEAT_WINDOW_NS + NS_PER_S, span_ns=span + NS_PER_S)
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    buy = rng.random() < 0.7 or book.bid < 60
    sides: list[Literal["buy", "sell"]] = ["buy" if buy else "sell"] * count
    if variant == "two_plus_other_side":
        sides[rng.randrange(count)] = "sell" if buy else "buy"
    facts = _facts(und, c, start_ts, repeat_isolated=True)
    script = _Script(rng)
    label = _label(script, name, und, c, sides[0], count)
    packets = []
    ts = start_ts
    for i in range(count):
        price = book.ask if sides[i] == "buy" else book.bid
        size = min(350, math.ceil(rng.uniform(12_500, 40_000) / max(price, 1)))
        if size * price < 12_000:
            return None
        at: FillAt = "ask" if sides[i] == "buy" else "bid"
        packets.append(_cluster(script, label, book, ts, [size], [_one_venue(rng)], at=at, iso=[False], span_ns=0))
        # The next buyer pays up a tick (a seller hits a tick lower): fill prices walk.
        if sides[i] == "buy":
            book.ask = c.tick_up(book.ask)
            book.bid = min(c.tick_up(book.bid), c.tick_down(book.ask))
        elif c.tick_down(book.bid) > 0:
            book.bid = c.tick_down(book.bid)
            book.ask = max(c.tick_down(book.ask), c.tick_up(book.bid))
        if i < count - 1:
            ts += gaps_ns[i]
    _finish(label, packets, facts, variant)
    script.hold(c, packets[-1].ts_last + REPEAT_WINDOW_NS + NS_PER_S)
    return script.plan()


def _plan_write(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Large out-of-the-money calls (puts) sold at the bid; the miss sells too few or too cheap."""
    miss = name == "write_miss"
    is_call = rng.random() < 0.5 if miss else name == "call_overwrite"
    want = _Want(
        right="C" if is_call else "P",
        moneyness=(1.02, 1.10) if is_call else (0.90, 0.98),
        expiry="near",
        ask_cents=(10, 2_000),
        bid_min_cents=5 if miss else 25,
    )
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    if not miss:
        total = max(600, math.ceil(rng.uniform(65_000, 300_000) / book.bid))
    elif rng.random() < 0.5:
        total = rng.randint(150, 450)  # too few contracts, whatever the premium
    else:
        total = rng.randint(550, 900)  # enough contracts, too little premium
        if total * book.bid >= 40_000:
            return None
    if total > 3_000:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    as_sweep = rng.random() < 0.5
    sizes = _sweep_sizes(total, SWEEP_MAX_CHILD_CONTRACTS, rng, max_parts=6) if as_sweep else [total]
    if sizes is None:
        return None
    label = _label(script, name, und, c, "sell", len(sizes))
    iso = [as_sweep] * len(sizes)
    venues = _venues(rng, len(sizes)) if as_sweep else [_one_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS) if as_sweep else 0
    packet = _cluster(script, label, book, start_ts, sizes, venues, at="bid", iso=iso, span_ns=span)
    _finish(label, [packet], facts)
    return script.plan()


def _plan_far_dated(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    miss = name == "far_dated_miss"
    book = _choose(und, start_ts, rng, _Want(moneyness=(0.9, 1.1), expiry="far", ask_cents=(100, 5_000)))
    if book is None:
        return None
    c = book.contract
    buy = rng.random() < 0.75 or book.bid < 100
    price = book.ask if buy else book.bid
    target = rng.uniform(15_000, 38_000) if miss else rng.uniform(60_000, 400_000)
    total = max(1, math.ceil(target / price))
    sizes = _sweep_sizes(total, 450, rng, max_parts=6) if total >= 30 and rng.random() < 0.5 else [total]
    if sizes is None or total > 2_500:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, name, und, c, "buy" if buy else "sell", len(sizes))
    multi = len(sizes) > 1
    venues = _venues(rng, len(sizes)) if multi else [_one_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS) if multi else 0
    at: FillAt = "ask" if buy else "bid"
    packet = _cluster(script, label, book, start_ts, sizes, venues, at=at, iso=[multi] * len(sizes), span_ns=span)
    _finish(label, [packet], facts)
    return script.plan()


def _plan_zero_dte(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """0DTE near the money, big enough (hit); or too far from the money, or too small (miss)."""
    miss = name == "zero_dte_miss"
    far = miss and rng.random() < 0.6
    near = (1 - ZERO_DTE_SURE + 0.001, 1 + ZERO_DTE_SURE - 0.001)
    band = rng.choice(((0.95, 0.98), (1.02, 1.05))) if far else near
    book = _choose(und, start_ts, rng, _Want(moneyness=band, expiry="zero", ask_cents=(10, 2_000)))
    if book is None:
        return None
    c = book.contract
    if miss and not far:
        total = rng.randint(120, 350)
    else:
        total = min(2_500, max(450, math.ceil(rng.uniform(25_000, 150_000) / book.ask)))
        if total * book.ask < 22_000:
            return None
    facts = _facts(und, c, start_ts)
    if not far and facts.strike_distance > ZERO_DTE_SURE:
        return None
    script = _Script(rng)
    as_sweep = rng.random() < 0.6
    sizes = _sweep_sizes(total, SWEEP_MAX_CHILD_CONTRACTS, rng, max_parts=6) if as_sweep else [total]
    if sizes is None:
        return None
    label = _label(script, name, und, c, "buy", len(sizes))
    venues = _venues(rng, len(sizes)) if as_sweep else [_one_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS) if as_sweep else 0
    packet = _cluster(script, label, book, start_ts, sizes, venues, at="ask", iso=[as_sweep] * len(sizes), span_ns=span)
    _finish(label, [packet], facts, "far from the money" if far else "small" if miss else "")
    return script.plan()


def _plan_unusual_volume(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Several mid-sized packets that take day volume above open interest (and the minimum) on a quiet name."""
    want = _Want(moneyness=(0.85, 1.15), ask_cents=(3, 800), open_interest=(0, 2_200), span_ns=30 * NS_PER_S)
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    line = max(c.open_interest + 1, RULES.unusual_volume_min_day_contracts)
    need = line - c.volume
    if need <= 0:
        return None  # already above the line: the crossing happened on background
    total = need + rng.randint(20, 150)
    count = max(2, math.ceil(total / 420))
    if count > 6:
        return None
    sizes = _split(total, count, 450, rng)
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, "unusual_volume", und, c, "buy", count)
    packets = []
    ts = start_ts
    for size in sizes:
        at: FillAt = rng.choice(("ask", "bid")) if book.bid > 0 else "ask"
        packets.append(_cluster(script, label, book, ts, [size], [_one_venue(rng)], at=at, iso=[False], span_ns=0))
        ts += rng.randint(NS_PER_S, 5 * NS_PER_S)
    _finish(label, packets, facts)
    return script.plan()


def _plan_new_position(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """More contracts than the open interest in one packet: at least part of it opens positions."""
    want = _Want(moneyness=(0.8, 1.2), ask_cents=(3, 2_000), open_interest=(5, 1_500))
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    total = c.open_interest + rng.randint(20, 300)
    if total > 2_000:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    sizes = [total] if rng.random() < 0.5 else _split(total, 3, total, rng)
    label = _label(script, "new_position", und, c, "buy", len(sizes))
    multi = len(sizes) > 1
    venues = _venues(rng, len(sizes)) if multi else [_one_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS) if multi else 0
    packet = _cluster(script, label, book, start_ts, sizes, venues, at="ask", iso=[multi] * len(sizes), span_ns=span)
    _finish(label, [packet], facts)
    return script.plan()


# --------------------------------------------------------------------------------- hard negatives


def _plan_stale(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A sweep-shaped cluster against a quote older than nbbo_max_age_ms: no side, no sweep, no direction."""
    stale_ns = RULES.nbbo_max_age_ms * NS_PER_MS + 500 * NS_PER_MS
    want = _Want(moneyness=(0.93, 1.07), ask_cents=(60, 1_500), quote_older_ns=stale_ns)
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    total = min(900, max(450, math.ceil(rng.uniform(30_000, 120_000) / book.ask)))
    sizes = _sweep_sizes(total, 450, rng, max_parts=5)
    if sizes is None:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, "stale_quotes", und, c, "buy", len(sizes))
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    iso = [True] * len(sizes)
    packet = _cluster(script, label, book, start_ts, sizes, _venues(rng, len(sizes)), at="stale", iso=iso, span_ns=span)
    _finish(label, [packet], facts, "quote older than nbbo_max_age_ms")
    return script.plan()


def _plan_mid(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Prints at the mid on several venues: no aggressor, so no sweep and no direction."""
    book = _choose(und, start_ts, rng, _Want(moneyness=(0.95, 1.05), ask_cents=(30, 1_500), bid_min_cents=10))
    if book is None:
        return None
    c = book.contract
    _widen(book, 4)
    total = rng.randint(150, 380)
    parts = rng.randint(3, 4)
    sizes = _split(total, parts, total, rng)
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, "mid_prints", und, c, "buy", parts)
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    packet = _cluster(
        script, label, book, start_ts, sizes, _venues(rng, parts), at="mid", iso=[False] * parts, span_ns=span
    )
    _finish(label, [packet], facts, "prints at the mid")
    return script.plan()


def _plan_tiny(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A three-venue ISO sweep of single lots on a cheap, quiet contract: a sweep that is not large."""
    want = _Want(moneyness=(0.9, 1.1), ask_cents=(3, 30), bid_min_cents=1, max_prints=QUIET_MAX_PRINTS)
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    facts = _facts(und, c, start_ts, z_quiet=True)
    script = _Script(rng)
    parts = 3
    label = _label(script, "tiny_lots", und, c, "buy", parts)
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    sizes = [rng.randint(1, 2) for _ in range(parts)]
    packet = _cluster(
        script, label, book, start_ts, sizes, _venues(rng, parts), at="ask", iso=[True] * parts, span_ns=span
    )
    _finish(label, [packet], facts, "single lots")
    return script.plan()


def _plan_two_print(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A large two-venue sweep: one print short of large_sweep's minimum."""
    book = _choose(und, start_ts, rng, _Want(moneyness=(0.97, 1.03), ask_cents=(150, 1_000)))
    if book is None:
        return None
    c = book.contract
    total = min(900, math.ceil(rng.uniform(60_000, 150_000) / book.ask))
    sizes = _split(total, 2, 480, rng)
    if sum(sizes) != total or max(sizes) * book.ask * 100 >= 20_000_000:
        return None
    facts = _facts(und, c, start_ts)
    script = _Script(rng)
    label = _label(script, "two_print_sweep", und, c, "buy", 2)
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    packet = _cluster(script, label, book, start_ts, sizes, _venues(rng, 2), at="ask", iso=[True, True], span_ns=span)
    _finish(label, [packet], facts, "two prints")
    return script.plan()


def _plan_unrelated(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """One print each on three different contracts within tens of milliseconds: three packets, no sweep."""
    script = _Script(rng)
    venues = _venues(rng, 3)
    ts = start_ts
    taken: frozenset[str] = frozenset()
    for i in range(3):
        book = _choose(und, ts, rng, _Want(moneyness=(0.96, 1.04), ask_cents=(50, 1_000), exclude=taken))
        if book is None:
            return None
        c = book.contract
        taken |= {c.symbol}
        size = min(480, math.ceil(rng.uniform(8_000, 40_000) / book.ask))
        facts = _facts(und, c, ts)
        label = _label(script, "unrelated_close", und, c, "buy", 1)
        packet = _cluster(script, label, book, ts, [size], [venues[i]], at="ask", iso=[True], span_ns=0)
        _finish(label, [packet], facts, "prints on other contracts within 60 ms")
        ts += rng.randint(5 * NS_PER_MS, 30 * NS_PER_MS)
    return script.plan()


def _plan_spread_out(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Three prints on three venues, each further apart than packet_gap_ms: three packets, not a sweep."""
    want = _Want(ask_cents=(40, 1_000), quiet_ns=REPEAT_WINDOW_NS + NS_PER_S, span_ns=2 * NS_PER_S)
    book = _choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    facts = _facts(und, c, start_ts, repeat_isolated=True)
    script = _Script(rng)
    label = _label(script, "spread_out", und, c, "buy", 3)
    venues = _venues(rng, 3)
    packets = []
    ts = start_ts
    for i in range(3):
        size = max(1, min(380, math.ceil(rng.uniform(3_000, 8_500) / book.ask)))
        packets.append(_cluster(script, label, book, ts, [size], [venues[i]], at="ask", iso=[True], span_ns=0))
        ts += RULES.packet_gap_ms * NS_PER_MS + rng.randint(60 * NS_PER_MS, 300 * NS_PER_MS)
    _finish(label, packets, facts, "gaps above packet_gap_ms")
    script.hold(c, packets[-1].ts_last + REPEAT_WINDOW_NS + NS_PER_S)
    return script.plan()


# ---------------------------------------------------------------------------------------- structures


@dataclass(frozen=True, slots=True)
class LegFacts:
    """One planted leg as the structure detector will see it: its contract and its packet."""

    symbol: str
    expiry: date
    right: str
    strike_e9: int
    packet: PacketFacts


def _leg_key(leg: LegFacts) -> tuple[date, int, str, str]:
    return (leg.expiry, leg.strike_e9, leg.right, leg.symbol)


def shape_of(legs: Sequence[LegFacts]) -> StructureType | None:
    """Return the named shape of BEHAVIOR section 5 the legs fit (sizes taken as comparable), or None."""
    legs = sorted(legs, key=_leg_key)
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
    `structure_min_leg_contracts` and comparable sizes, and form a named shape or, with matching sizes, multi_leg.
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
        low, high = sorted(legs, key=_leg_key)
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


def structure_truth(structure_type: StructureType | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (expected, forbidden) structure classifiers of a structure label: its type's one, and the rest."""
    fires = CLASSIFIER_OF_STRUCTURE.get(structure_type) if structure_type is not None else None
    return (
        tuple(c for c in STRUCTURE_CLASSIFIERS if c == fires),
        tuple(c for c in STRUCTURE_CLASSIFIERS if c != fires),
    )


@dataclass(slots=True)
class _Leg:
    """A leg to script: its book, the planted aggressor side, its size and its start after the first leg."""

    book: _Book
    side: Literal["buy", "sell"]
    size: int
    offset_ns: int = 0


def _leg_text(leg: LegFacts, side: str) -> str:
    return f"{side} {leg.packet.size:,} {leg.expiry:%m-%d} {leg.strike_e9 / 1e9:g}{leg.right}"


def _plan_legs(
    name: ScenarioName,
    und: UnderlyingState,
    start_ts: int,
    rng: random.Random,
    legs: list[_Leg],
    *,
    want: StructureType | None,
    flagged: bool = False,
    net: NetPremium | None = None,
    note: str = "",
) -> Plan | None:
    """Script the legs (a label each) and the structure label over all their prints; None unless they form `want`.

    Unflagged legs trade at the ask (bought) or bid (sold), as one print or an ISO sweep; flagged legs print once
    each on one venue within a couple of milliseconds, like a complex order. The whole underlying is held until
    the legs' structure window has passed, and the plan is refused when another scenario there ends near them.
    """
    script = _Script(rng)
    first_ts = start_ts + (FLAGGED_LEAD_NS if flagged else 0)
    complex_venue = _one_venue(rng)
    facts: list[LegFacts] = []
    sides: dict[str, str] = {}
    for leg in legs:
        book = leg.book
        c = book.contract
        ts = first_ts + leg.offset_ns
        sizes = [leg.size]
        if not flagged and leg.size >= 3 * RULES.structure_min_leg_contracts and rng.random() < 0.5:
            cap = min(SWEEP_MAX_CHILD_CONTRACTS, SWEEP_MAX_CHILD_PREMIUM_CENTS // (100 * (book.ask + 12)))
            sizes = _sweep_sizes(leg.size, max(cap, 1), rng) or sizes
        multi = len(sizes) > 1
        venues = _venues(rng, len(sizes)) if multi else [complex_venue if flagged else _one_venue(rng)]
        span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS) if multi else 0
        contract_facts = _facts(und, c, ts)
        label = _label(script, name, und, c, leg.side, len(sizes))
        at: FillAt = "ask" if leg.side == "buy" else "bid"
        packet = _cluster(
            script, label, book, ts, sizes, venues, at=at, iso=[multi] * len(sizes), span_ns=span, multi_leg=flagged
        )
        _finish(label, [packet], contract_facts, f"{note}; a leg" if note else "a leg")
        facts.append(LegFacts(c.symbol, c.expiry, c.right, c.strike_e9, packet))
        sides[c.symbol] = leg.side
    structure_type = expected_structure(facts, flagged=flagged)
    net_cents, net_kind = net_premium_of(facts)
    if structure_type != want or (net is not None and net_kind != net):
        return None
    ts_start = min(leg.packet.ts_first for leg in facts)
    ts_end = max(leg.packet.ts_last for leg in facts)
    quiet_from, quiet_to = ts_start - STRUCTURE_QUIET_NS, ts_end + STRUCTURE_QUIET_NS
    if any(quiet_from <= c.last_scenario_end <= quiet_to for c in und.contracts):
        return None  # another scenario's packets end near the legs: they could be candidates
    ordered = sorted(facts, key=_leg_key)
    expected, forbidden = structure_truth(structure_type)
    kinds = {leg.packet.kind for leg in facts}
    sizes = [leg.packet.size for leg in ordered]
    anchor = min(facts, key=lambda leg: (leg.packet.ts_first, leg.symbol))
    gap_ms = max(0, max(leg.packet.ts_first for leg in facts) - anchor.packet.ts_last) / NS_PER_MS
    reason = (
        f"{'flagged multi-leg, ' if flagged else ''}sizes {'/'.join(f'{s:,}' for s in sizes)} "
        f"(ratio {max(sizes) / min(sizes):.2f}), legs start within {gap_ms:,.0f} ms of the first leg's end"
        + (f"; {note}" if note else "")
    )
    premium = "net unknown" if net_cents is None else f"net {net_kind} ${abs(net_cents) / 100:,.0f}"
    draft = LabelDraft(
        scenario=name,
        underlying=und.symbol,
        symbol=ordered[0].symbol,
        side="sell" if sides[ordered[0].symbol] == "sell" else "buy",
        expected_kind=ordered[0].packet.kind if len(kinds) == 1 else "single",
        expected_classifiers=expected,
        ts_start=ts_start,
        ts_end=ts_end,
        prints_left=sum(leg.packet.print_count for leg in facts),
        forbidden_classifiers=forbidden,
        expected_direction=structure_direction(structure_type, facts),
        description=(
            f"{structure_type or 'no structure'}: "
            + "; ".join(_leg_text(leg, sides[leg.symbol]) for leg in ordered)
            + f"; {premium}; {reason}"
        ),
        structure=StructureTruth(
            legs=tuple(leg.symbol for leg in ordered),
            structure_type=structure_type,
            flagged=flagged,
            net_premium=net_kind,
            rule=reason,
        ),
    )
    for event in script.events:
        if isinstance(event, ScheduledPrint):
            event.structure = draft
    script.structures.append(draft)
    plan = script.plan()
    for c in und.contracts:
        script.hold(c, quiet_to + 1)
    return plan


def _strikes(und: UnderlyingState, expiry: date, right: str) -> list[Contract]:
    """Return one expiry's contracts of one right, by strike (the listed grid)."""
    return sorted((c for c in und.contracts if c.expiry == expiry and c.right == right), key=lambda c: c.strike_e9)


def _pick(
    pool: Sequence[Contract], rng: random.Random, fits: Callable[[Contract], bool] | None = None
) -> Contract | None:
    """Pick a contract of the pool by activity among those that fit."""
    options = [c for c in pool if fits is None or fits(c)]
    if not options:
        return None
    return rng.choices(options, weights=[c.activity + 1e-9 for c in options])[0]


def _priced(
    und: UnderlyingState, c: Contract, ts: int, rng: random.Random, ask_cents: tuple[int, int], bid_min_cents: int = 5
) -> _Book | None:
    """Return a model quote of the contract when its ask lies in the range and its bid is at least the minimum."""
    bid, ask = c.quote_cents(c.theo_at(und.model_spot, ts), rng.random())
    if ask_cents[0] <= ask <= ask_cents[1] and bid_min_cents <= bid < ask:
        return _Book(c, bid, ask)
    return None


def _books(
    und: UnderlyingState, contracts: Sequence[Contract], ts: int, rng: random.Random, ask_cents: tuple[int, int]
) -> list[_Book] | None:
    books = [_priced(und, c, ts, rng, ask_cents) for c in contracts]
    return None if any(b is None for b in books) else [b for b in books if b is not None]


def _structure_pool(und: UnderlyingState, start_ts: int, moneyness: tuple[float, float] = (0.9, 1.1)) -> list[Contract]:
    return _candidates(und, start_ts, _Want(moneyness=moneyness, span_ns=3 * NS_PER_S))


def _vertical_pair(
    und: UnderlyingState, start_ts: int, rng: random.Random, max_steps: int = 3
) -> tuple[Contract, Contract] | None:
    """Two strikes of one expiry and right, a few grid steps apart, both free: (lower, higher)."""
    pool = _structure_pool(und, start_ts)
    a = _pick(pool, rng)
    if a is None:
        return None
    chain = _strikes(und, a.expiry, a.right)
    i = chain.index(a)
    j = i + rng.choice((-1, 1)) * rng.randint(1, max_steps)
    if not 0 <= j < len(chain) or chain[j] not in pool:
        return None
    low, high = sorted((a, chain[j]), key=lambda c: c.strike_e9)
    return low, high


def _call_put_pair(
    und: UnderlyingState, start_ts: int, rng: random.Random, strangle: bool
) -> tuple[Contract, Contract] | None:
    """A call and a put of one expiry: same strike near the money, or an out-of-the-money call and put."""
    pool = _structure_pool(und, start_ts)
    spot = und.model_spot
    if strangle:
        call = _pick(pool, rng, lambda c: c.right == "C" and spot * 1.005 <= c.strike <= spot * 1.08)
    else:
        call = _pick(pool, rng, lambda c: c.right == "C" and spot * 0.97 <= c.strike <= spot * 1.03)
    if call is None:
        return None
    if strangle:
        put = _pick(
            pool, rng, lambda c: c.right == "P" and c.expiry == call.expiry and spot * 0.92 <= c.strike <= spot * 0.995
        )
    else:
        put = _pick(pool, rng, lambda c: c.right == "P" and c.expiry == call.expiry and c.strike_e9 == call.strike_e9)
    return None if put is None else (call, put)


def _leg_size(rng: random.Random) -> int:
    return rng.randint(*STRUCTURE_LEG_CONTRACTS)


def _comparable(size: int, rng: random.Random) -> int:
    """Return the same size half the time, else a comparable one (well within the 1:3 ratio), above the floor."""
    if rng.random() < 0.5:
        return size
    return max(STRUCTURE_LEG_CONTRACTS[0], round(size * rng.uniform(0.7, 1.45)))


def _stagger(legs: list[_Leg], rng: random.Random, within_ns: int = 150 * NS_PER_MS) -> list[_Leg]:
    """Give the legs random start offsets: one at 0, the others within `within_ns` (legged in, not one print)."""
    order = list(range(len(legs)))
    rng.shuffle(order)
    for rank, i in enumerate(order):
        legs[i].offset_ns = 0 if rank == 0 else rng.randint(0, within_ns)
    return legs


def _flip(side: Literal["buy", "sell"]) -> Literal["buy", "sell"]:
    return "sell" if side == "buy" else "buy"


def _plan_vertical(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A vertical: buy one strike, sell another of the same expiry and right; debit buys the dearer strike."""
    debit = name == "vertical_debit"
    pair = _vertical_pair(und, start_ts, rng)
    if pair is None:
        return None
    books = _books(und, pair, start_ts, rng, (10, 2_000))
    if books is None:
        return None
    low, high = books
    dearer, cheaper = (low, high) if low.contract.right == "C" else (high, low)
    size = _leg_size(rng)
    legs = [
        _Leg(dearer, "buy" if debit else "sell", size),
        _Leg(cheaper, "sell" if debit else "buy", _comparable(size, rng)),
    ]
    return _plan_legs(
        name, und, start_ts, rng, _stagger(legs, rng), want="vertical", net="debit" if debit else "credit"
    )


def _plan_straddle(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A call and a put of one expiry, both bought (long volatility) or both sold: same strike or two strikes."""
    strangle = name == "strangle"
    pair = _call_put_pair(und, start_ts, rng, strangle)
    if pair is None:
        return None
    books = _books(und, pair, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
    size = _leg_size(rng)
    legs = [_Leg(books[0], side, size), _Leg(books[1], side, _comparable(size, rng))]
    return _plan_legs(name, und, start_ts, rng, _stagger(legs, rng), want="strangle" if strangle else "straddle")


def _plan_ladder(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Three or four adjacent strikes of one expiry and right: a butterfly (1:2:1), a one-sided ladder, or mixed."""
    pool = _structure_pool(und, start_ts)
    a = _pick(pool, rng)
    if a is None:
        return None
    variant = rng.choice(("butterfly", "one_sided", "mixed"))
    count = 3 if variant == "butterfly" else rng.randint(3, RULES.structure_max_legs)
    chain = _strikes(und, a.expiry, a.right)
    i = chain.index(a)
    low = rng.randint(max(0, i - count + 1), min(i, len(chain) - count)) if len(chain) >= count else -1
    if low < 0:
        return None
    contracts = chain[low : low + count]
    if any(c not in pool for c in contracts):
        return None
    books = _books(und, contracts, start_ts, rng, (10, 2_000))
    if books is None:
        return None
    if variant == "butterfly":
        wings: Literal["buy", "sell"] = "buy" if rng.random() < 0.7 else "sell"
        wing = rng.randint(STRUCTURE_LEG_CONTRACTS[0], 2_000)
        legs = [_Leg(books[0], wings, wing), _Leg(books[1], _flip(wings), 2 * wing), _Leg(books[2], wings, wing)]
    else:
        size = _leg_size(rng)
        side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
        legs = [
            _Leg(b, side if variant == "one_sided" else rng.choice(("buy", "sell")), _comparable(size, rng))
            for b in books
        ]
    return _plan_legs("ladder", und, start_ts, rng, _stagger(legs, rng), want="ladder", note=variant.replace("_", "-"))


def _expiry_pair(
    und: UnderlyingState, start_ts: int, rng: random.Random, strike: Literal["same", "up", "down", "any"]
) -> tuple[Contract, Contract] | None:
    """Two contracts of one right on two expiries, (nearer, farther), the farther strike as asked."""
    pool = _structure_pool(und, start_ts)
    near = _pick(pool, rng)
    if near is None:
        return None

    def fits(c: Contract) -> bool:
        if c.right != near.right or c.expiry <= near.expiry or abs(c.strike / near.strike - 1) > 0.05:
            return False
        if strike == "same":
            return c.strike_e9 == near.strike_e9
        if strike == "up":
            return c.strike_e9 > near.strike_e9
        if strike == "down":
            return c.strike_e9 < near.strike_e9
        return True

    far = _pick(pool, rng, fits)
    return None if far is None else (near, far)


def _plan_calendar(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """One right on two expiries, both legs on one side: a calendar (same strike) or a diagonal (two strikes)."""
    same = rng.random() < 0.5
    pair = _expiry_pair(und, start_ts, rng, "same" if same else rng.choice(("up", "down")))
    if pair is None:
        return None
    books = _books(und, pair, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
    size = _leg_size(rng)
    legs = [_Leg(books[0], side, size), _Leg(books[1], side, _comparable(size, rng))]
    return _plan_legs("calendar", und, start_ts, rng, _stagger(legs, rng), want="calendar" if same else "diagonal")


def _plan_roll(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Close the nearer expiry, open the farther (opposite sides): out, up and out, or down and out."""
    pair = _expiry_pair(und, start_ts, rng, rng.choice(("same", "up", "down")))
    if pair is None:
        return None
    books = _books(und, pair, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    closing: Literal["buy", "sell"] = "sell" if rng.random() < 0.6 else "buy"  # sell to close a long, or buy back
    size = _leg_size(rng)
    legs = [_Leg(books[0], closing, size), _Leg(books[1], _flip(closing), _comparable(size, rng))]
    return _plan_legs("roll", und, start_ts, rng, _stagger(legs, rng), want="roll")


def _plan_multi_leg(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Legs the venue flags multi-leg (trusted whatever their sizes), or an unflagged risk reversal of equal sizes.

    Flagged: a call and a put on two expiries or a 1:4+ ratio spread (no named shape: multi_leg), or a flagged
    vertical or straddle (named; sides unknown, so no direction). Unflagged: a call bought and a put sold of one
    expiry, equal sizes (opposite sides, so no straddle or strangle: multi_leg by matching sizes).
    """
    variant = rng.choice(("call_put_expiries", "ratio_spread", "vertical", "straddle", "risk_reversal"))
    pool = _structure_pool(und, start_ts)
    contracts: tuple[Contract, Contract] | None
    if variant == "call_put_expiries":
        call = _pick(pool, rng, lambda c: c.right == "C")
        put = None if call is None else _pick(pool, rng, lambda c: c.right == "P" and c.expiry != call.expiry)
        contracts = None if call is None or put is None else (call, put)
    elif variant in ("ratio_spread", "vertical"):
        contracts = _vertical_pair(und, start_ts, rng)
    else:
        contracts = _call_put_pair(und, start_ts, rng, strangle=variant == "risk_reversal")
    if contracts is None:
        return None
    books = _books(und, contracts, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    flagged = variant != "risk_reversal"
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.5 else "sell"
    if variant == "risk_reversal":
        size = _leg_size(rng)
        legs = _stagger([_Leg(books[0], "buy", size), _Leg(books[1], "sell", size)], rng)
        want: StructureType = "multi_leg"
    else:
        size = rng.randint(20, 400)
        other = size * rng.randint(4, 6) if variant == "ratio_spread" else size
        second = _flip(side) if variant in ("ratio_spread", "vertical") else side
        legs = _stagger([_Leg(books[0], side, size), _Leg(books[1], second, other)], rng, 2 * NS_PER_MS)
        want = "vertical" if variant == "vertical" else "straddle" if variant == "straddle" else "multi_leg"
    return _plan_legs("multi_leg", und, start_ts, rng, legs, want=want, flagged=flagged, note=variant.replace("_", " "))


# ------------------------------------------------------------------------------ structure negatives


def _negative_pair(
    und: UnderlyingState, start_ts: int, rng: random.Random, ask_cents: tuple[int, int]
) -> tuple[list[_Book], Literal["vertical", "straddle"]] | None:
    """Two contracts shaped like a vertical or a straddle, priced."""
    shape: Literal["vertical", "straddle"] = "vertical" if rng.random() < 0.5 else "straddle"
    pair = _vertical_pair(und, start_ts, rng) if shape == "vertical" else _call_put_pair(und, start_ts, rng, False)
    if pair is None:
        return None
    books = _books(und, pair, start_ts, rng, ask_cents)
    return None if books is None else (books, shape)


def _negative_sides(shape: str, rng: random.Random) -> tuple[Literal["buy", "sell"], Literal["buy", "sell"]]:
    """Sides that would make the shape if the rest fitted: opposite for a vertical, one side for a straddle."""
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.5 else "sell"
    return side, _flip(side) if shape == "vertical" else side


def _plan_size_mismatch(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Vertical- or straddle-shaped legs close in time, the larger more than 3x the smaller: unrelated, no structure."""
    picked = _negative_pair(und, start_ts, rng, (5, 600))
    if picked is None:
        return None
    books, shape = picked
    small = rng.randint(STRUCTURE_LEG_CONTRACTS[0], 1_800)
    large = math.ceil(small * rng.uniform(RULES.structure_size_ratio_max + 0.2, 4.5))
    first, second = _negative_sides(shape, rng)
    sizes = [small, large] if rng.random() < 0.5 else [large, small]
    legs = _stagger([_Leg(books[0], first, sizes[0]), _Leg(books[1], second, sizes[1])], rng)
    return _plan_legs(
        "size_mismatch_legs", und, start_ts, rng, legs, want=None, note=f"{shape}-shaped, sizes not comparable"
    )


def _plan_far_apart(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Vertical- or straddle-shaped legs of equal size, the second starting beyond the structure window."""
    picked = _negative_pair(und, start_ts, rng, (10, 2_000))
    if picked is None:
        return None
    books, shape = picked
    size = _leg_size(rng)
    first, second = _negative_sides(shape, rng)
    # The first leg spans at most 60 ms: starting the second beyond that plus the window keeps them apart.
    later = 60 * NS_PER_MS + STRUCTURE_WINDOW_NS + rng.randint(10 * NS_PER_MS, 900 * NS_PER_MS)
    legs = [_Leg(books[0], first, size), _Leg(books[1], second, size, later)]
    return _plan_legs(
        "far_apart_legs", und, start_ts, rng, legs, want=None, note=f"{shape}-shaped, beyond the structure window"
    )


def _plan_same_side_vertical(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Two strikes of one expiry and right both bought (or both sold): not a vertical; multi_leg when sizes match."""
    pair = _vertical_pair(und, start_ts, rng)
    if pair is None:
        return None
    books = _books(und, pair, start_ts, rng, (10, 2_000))
    if books is None:
        return None
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
    size = _leg_size(rng)
    equal = rng.random() < 0.3
    other = size if equal else round(size * rng.uniform(1.2, 2.5))
    legs = _stagger([_Leg(books[0], side, size), _Leg(books[1], side, other)], rng)
    note = "both legs one side" + (", matching sizes" if equal else "")
    return _plan_legs("same_side_vertical", und, start_ts, rng, legs, want="multi_leg" if equal else None, note=note)


def _plan_tiny_legs(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Vertical- or straddle-shaped legs of equal size below structure_min_leg_contracts: coincidence, no structure."""
    picked = _negative_pair(und, start_ts, rng, (5, 2_000))
    if picked is None:
        return None
    books, shape = picked
    size = rng.randint(*TINY_LEG_CONTRACTS)
    first, second = _negative_sides(shape, rng)
    legs = _stagger([_Leg(books[0], first, size), _Leg(books[1], second, size)], rng)
    return _plan_legs("tiny_legs", und, start_ts, rng, legs, want=None, note=f"{shape}-shaped, legs too small")


PLANNERS: Final[dict[ScenarioName, Planner]] = {
    "call_sweep": lambda u, t, r: _plan_sweep("call_sweep", u, t, r),
    "put_sweep": lambda u, t, r: _plan_sweep("put_sweep", u, t, r),
    "block": _plan_block,
    "split": _plan_split,
    "golden_sweep": lambda u, t, r: _plan_big_sweep("golden_sweep", u, t, r),
    "repeated_hits": lambda u, t, r: _plan_repeats("repeated_hits", u, t, r),
    "call_overwrite": lambda u, t, r: _plan_write("call_overwrite", u, t, r),
    "put_write": lambda u, t, r: _plan_write("put_write", u, t, r),
    "far_dated": lambda u, t, r: _plan_far_dated("far_dated", u, t, r),
    "zero_dte": lambda u, t, r: _plan_zero_dte("zero_dte", u, t, r),
    "unusual_volume": _plan_unusual_volume,
    "new_position": _plan_new_position,
    "stale_quotes": _plan_stale,
    "mid_prints": _plan_mid,
    "tiny_lots": _plan_tiny,
    "two_print_sweep": _plan_two_print,
    "unrelated_close": _plan_unrelated,
    "spread_out": _plan_spread_out,
    "zero_dte_miss": lambda u, t, r: _plan_zero_dte("zero_dte_miss", u, t, r),
    "write_miss": lambda u, t, r: _plan_write("write_miss", u, t, r),
    "golden_miss": lambda u, t, r: _plan_big_sweep("golden_miss", u, t, r),
    "repeat_miss": lambda u, t, r: _plan_repeats("repeat_miss", u, t, r),
    "far_dated_miss": lambda u, t, r: _plan_far_dated("far_dated_miss", u, t, r),
    "vertical_debit": lambda u, t, r: _plan_vertical("vertical_debit", u, t, r),
    "vertical_credit": lambda u, t, r: _plan_vertical("vertical_credit", u, t, r),
    "straddle": lambda u, t, r: _plan_straddle("straddle", u, t, r),
    "strangle": lambda u, t, r: _plan_straddle("strangle", u, t, r),
    "ladder": _plan_ladder,
    "calendar": _plan_calendar,
    "roll": _plan_roll,
    "multi_leg": _plan_multi_leg,
    "size_mismatch_legs": _plan_size_mismatch,
    "far_apart_legs": _plan_far_apart,
    "same_side_vertical": _plan_same_side_vertical,
    "tiny_legs": _plan_tiny_legs,
}
"""Scenario name -> planner."""


def plan_scenario(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Draw a scenario whose first print is at `start_ts`; None when no contract fits it now."""
    return PLANNERS[name](und, start_ts, rng)

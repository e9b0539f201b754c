"""Planning machinery: a plan is a short script of quotes and prints on one or more contracts.

A plan is drawn ahead of time from the contracts' model quotes. The market holds each contract while the plan
runs (no background quote or print until `Plan.holds` says), so each planted packet clusters downstream exactly
as planned. A label waits for the ids of its prints (`LabelDraft`) and is finished when the last one is emitted.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from connectors.synthetic.chains import E9_PER_CENT, Contract, UnderlyingState
from connectors.synthetic.planted.truth import (
    RULES,
    ContractFacts,
    PacketFacts,
    PlantedLabel,
    StructureTruth,
    direction_of,
    kind_of,
    label_truth,
)
from connectors.synthetic.venues import OPTION_VENUES, Venue
from events.calendar import session_date
from events.models import Direction, Side
from events.units import NS_PER_MS, NS_PER_S, notional_cents

ISOLATION_NS: Final = 150 * NS_PER_MS
"""No background print or quote on a planted contract this close to its scenario."""
SAME_CONTRACT_GAP_NS: Final = 2 * NS_PER_S
"""Two scenarios on one contract are at least this far apart."""
SWEEP_MAX_CHILD_CONTRACTS: Final = 480
SWEEP_MAX_CHILD_PREMIUM_CENTS: Final = 200_000 * 100
"""Keep each child fill well under the block thresholds (500 contracts, $250k), so no child is a block."""
ISO: Final = ("iso",)
MULTI_LEG: Final = ("multi_leg",)


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
class Book:
    """The plan's running view of one contract's quote (cents) while it scripts fills."""

    contract: Contract
    bid: int
    ask: int


@dataclass(slots=True, eq=False)
class Script:
    """Accumulates one plan: events, labels, held contracts."""

    rng: random.Random
    events: list[Scheduled] = field(default_factory=list)
    labels: list[LabelDraft] = field(default_factory=list)
    holds: dict[str, tuple[Contract, int]] = field(default_factory=dict)
    structures: list[LabelDraft] = field(default_factory=list)

    def quote(self, ts: int, book: Book, bid_size: int | None = None, ask_size: int | None = None) -> None:
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


def cluster_fills(
    script: Script,
    label: LabelDraft,
    book: Book,
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


def _mid_price(book: Book) -> int:
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


def widen_book(book: Book, ticks: int) -> None:
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


def split_size(total: int, parts: int, cap: int, rng: random.Random) -> list[int]:
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


def pick_venues(rng: random.Random, parts: int) -> list[Venue]:
    return rng.sample(OPTION_VENUES, parts)


def pick_venue(rng: random.Random) -> Venue:
    return rng.choices(OPTION_VENUES, weights=[v.weight for v in OPTION_VENUES])[0]


# ---------------------------------------------------------------------------------------- contracts


def dte_of(contract: Contract, ts: int) -> int:
    """Return calendar days from the New York date of `ts` to the contract's expiry."""
    return (contract.expiry - session_date(ts)).days


ExpiryBand = Literal["any", "zero", "near", "far"]


@dataclass(frozen=True, slots=True)
class Want:
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


def fitting_contracts(und: UnderlyingState, start_ts: int, want: Want) -> list[Contract]:
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


def choose(und: UnderlyingState, start_ts: int, rng: random.Random, want: Want) -> Book | None:
    """Pick a contract by activity among those that fit, with a model quote whose ask lies in the range."""
    candidates = fitting_contracts(und, start_ts, want)
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
            return Book(contract, bid, ask)
    return None


def facts_of(und: UnderlyingState, c: Contract, start_ts: int, **flags: bool) -> ContractFacts:
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


def draft_label(
    script: Script,
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


def finish_label(draft: LabelDraft, packets: list[PacketFacts], facts: ContractFacts, note: str = "") -> None:
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


Planner = Callable[[UnderlyingState, int, random.Random], Plan | None]


def sweep_sizes(total: int, cap: int, rng: random.Random, min_parts: int = 3, max_parts: int = 8) -> list[int] | None:
    parts = max(min_parts, math.ceil(total / cap))
    if parts > max_parts or total < parts:
        return None
    return split_size(total, rng.randint(parts, max_parts), cap, rng)

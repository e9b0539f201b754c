"""Planted, labeled flow: sweeps and blocks with known ground truth.

A plan is a short script of quotes and prints on one contract, drawn ahead of time from the contract's
model quote. The market owns the contract while the plan runs (no background quotes or prints within
`ISOLATION_NS`), so each planted scenario clusters into exactly one packet downstream.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final, Literal

from connectors.synthetic.chains import E9_PER_CENT, Contract, UnderlyingState
from connectors.synthetic.venues import OPTION_VENUES, Venue
from events.units import NS_PER_MS, NS_PER_S, notional_cents

ScenarioName = Literal["call_sweep", "put_sweep", "block"]
SCENARIOS: Final[tuple[ScenarioName, ...]] = ("call_sweep", "put_sweep", "block")

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


@dataclass(frozen=True)
class PlantedLabel:
    """Ground truth for one planted scenario; `expected_classifiers` must fire (others may too)."""

    scenario: str
    underlying: str
    symbol: str
    ts_start: int
    ts_end: int
    side: Literal["buy", "sell"]
    expected_kind: Literal["sweep", "block", "split", "single"]
    expected_classifiers: tuple[str, ...]
    print_ids: tuple[str, ...]


@dataclass(slots=True, eq=False)
class LabelDraft:
    """A label waiting for the ids of its prints, which exist only once the prints are emitted."""

    scenario: str
    underlying: str
    symbol: str
    side: Literal["buy", "sell"]
    expected_kind: Literal["sweep", "block"]
    expected_classifiers: tuple[str, ...]
    ts_start: int
    ts_end: int
    prints_left: int
    print_ids: list[str] = field(default_factory=list)

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
        )


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


Scheduled = ScheduledQuote | ScheduledPrint


@dataclass(slots=True, eq=False)
class Plan:
    """The scripted events of one scenario, in time order, and the label they will fill."""

    contract: Contract
    events: list[Scheduled]
    label: LabelDraft

    @property
    def first_ts(self) -> int:
        return self.events[0].ts

    @property
    def last_ts(self) -> int:
        return self.events[-1].ts


def plan_scenario(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Draw a scenario whose first print is at `start_ts`; None when no contract fits it now."""
    if name == "block":
        return _plan_block(und, start_ts, rng)
    return _plan_sweep(name, und, start_ts, rng)


def _eligible(und: UnderlyingState, start_ts: int, low: float, high: float, right: str | None) -> list[Contract]:
    spot = und.model_spot
    earliest = start_ts - 20 * NS_PER_MS  # the plan's first quote comes up to 20 ms before its first print
    return [
        c
        for c in und.contracts
        if (right is None or c.right == right)
        and spot * low <= c.strike <= spot * high
        and c.close_ns > start_ts + NS_PER_S
        and c.last_scenario_end + SAME_CONTRACT_GAP_NS <= earliest
        and c.blocked_until <= earliest
    ]


def _pick(
    candidates: list[Contract], und: UnderlyingState, start_ts: int, rng: random.Random, min_cents: int, max_cents: int
) -> tuple[Contract, int, int] | None:
    """Pick a contract by activity whose model ask lies in [min_cents, max_cents]; return it and its quote."""
    if not candidates:
        return None
    weights = [c.activity for c in candidates]
    for contract in rng.choices(candidates, weights=weights, k=8):
        theo = contract.theo_at(und.model_spot, start_ts)
        bid, ask = contract.quote_cents(theo, rng.random())
        if min_cents <= ask <= max_cents:
            return contract, bid, ask
    return None


def _split(total: int, parts: int, cap: int, rng: random.Random) -> list[int]:
    """Split `total` into `parts` positive sizes, none above `cap`, uneven like real child fills."""
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


def _displayed(rng: random.Random, taken: int) -> int:
    # The touch shows roughly what the next venue has: the sweeper takes it and reaches for more.
    return max(1, int(taken * (0.5 + 0.7 * rng.random())))


def _plan_sweep(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    is_call = name == "call_sweep"
    low, high = (0.985, 1.04) if is_call else (0.96, 1.015)
    candidates = _eligible(und, start_ts, low, high, "C" if is_call else "P")
    picked = _pick(candidates, und, start_ts, rng, SWEEP_MIN_ASK_CENTS, SWEEP_MAX_ASK_CENTS)
    if picked is None:
        return None
    contract, bid, ask = picked
    ask_high = ask + 12 * contract.tick_cents_above_3  # bound on how far the fills can walk up
    target_usd = math.exp(rng.uniform(math.log(65_000), math.log(500_000)))
    # One contract costs `ask` dollars (price in cents x 100 shares / 100 cents). The size bounds keep
    # the total in the hundreds; with the ask bounds the premium stays above the sweep minimum.
    total = min(max(math.ceil(target_usd / ask), SWEEP_MIN_CONTRACTS), SWEEP_MAX_CONTRACTS)
    child_cap = min(SWEEP_MAX_CHILD_CONTRACTS, SWEEP_MAX_CHILD_PREMIUM_CENTS // (ask_high * 100))
    parts = rng.randint(max(3, math.ceil(total / child_cap)), 8)
    sizes = _split(total, parts, child_cap, rng)
    venues = rng.sample(OPTION_VENUES, parts)
    iso = [rng.random() < 0.7 for _ in range(parts)]
    if not any(iso):
        iso[rng.randrange(parts)] = True

    span_ns = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS)
    gaps = [0.1 + rng.random() for _ in range(parts - 1)]
    scale = span_ns / sum(gaps)
    fill_ts = [start_ts]
    for g in gaps:
        fill_ts.append(fill_ts[-1] + int(g * scale))
    fill_ts[-1] = start_ts + span_ns

    label = LabelDraft(
        scenario=name,
        underlying=und.symbol,
        symbol=contract.symbol,
        side="buy",
        expected_kind="sweep",
        expected_classifiers=("large_sweep",),
        ts_start=fill_ts[0],
        ts_end=fill_ts[-1],
        prints_left=parts,
    )
    events: list[Scheduled] = [
        ScheduledQuote(
            ts=start_ts - rng.randint(NS_PER_MS // 2, 20 * NS_PER_MS),
            contract=contract,
            bid_e9=bid * E9_PER_CENT,
            ask_e9=ask * E9_PER_CENT,
            bid_size=rng.randint(5, 300),
            ask_size=_displayed(rng, sizes[0]),
        )
    ]
    premium_cents = 0
    for i in range(parts):
        # An ISO may reach through the displayed offer to the next level.
        price = contract.tick_up(ask) if iso[i] and rng.random() < 0.2 else ask
        premium_cents += notional_cents(price * E9_PER_CENT, sizes[i], 100)
        events.append(
            ScheduledPrint(
                ts=fill_ts[i],
                contract=contract,
                price_e9=price * E9_PER_CENT,
                size=sizes[i],
                venue=venues[i],
                conditions=ISO if iso[i] else (),
                raw_conditions="S" if iso[i] else "",
                label=label,
            )
        )
        # The book reprices after each fill: the offer often lifts a tick, sometimes the bid follows.
        if rng.random() < 0.6:
            ask = contract.tick_up(ask)
        if rng.random() < 0.3 and contract.tick_up(bid) < ask:
            bid = contract.tick_up(bid)
        next_ts = fill_ts[i + 1] if i + 1 < parts else fill_ts[i] + rng.randint(NS_PER_MS, 10 * NS_PER_MS)
        events.append(
            ScheduledQuote(
                ts=fill_ts[i] + max(1, int((next_ts - fill_ts[i]) * rng.uniform(0.3, 0.7))),
                contract=contract,
                bid_e9=bid * E9_PER_CENT,
                ask_e9=ask * E9_PER_CENT,
                bid_size=rng.randint(5, 300),
                ask_size=_displayed(rng, sizes[i + 1]) if i + 1 < parts else rng.randint(5, 300),
            )
        )
    if premium_cents < SWEEP_MIN_PREMIUM_CENTS:
        return None
    return Plan(contract=contract, events=events, label=label)


def _plan_block(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    buy = rng.random() < 0.6
    picked = _pick(_eligible(und, start_ts, 0.94, 1.06, None), und, start_ts, rng, 50, 3_000)
    if picked is None:
        return None
    contract, bid, ask = picked
    if not buy and bid < 50:
        buy = True  # selling a block into a sub-50-cent bid is not the scenario we want to label
    size = 25 * rng.randint(BLOCK_MIN_CONTRACTS // 25, 100)
    price = ask if buy else bid
    venue = rng.choices(OPTION_VENUES, weights=[v.weight for v in OPTION_VENUES])[0]
    label = LabelDraft(
        scenario="block",
        underlying=und.symbol,
        symbol=contract.symbol,
        side="buy" if buy else "sell",
        expected_kind="block",
        expected_classifiers=("block_trade",),
        ts_start=start_ts,
        ts_end=start_ts,
        prints_left=1,
    )
    # After a block the quote leans the way it traded.
    after_bid, after_ask = (bid, contract.tick_up(ask)) if buy else (contract.tick_down(bid), ask)
    events: list[Scheduled] = [
        ScheduledQuote(
            ts=start_ts - rng.randint(NS_PER_MS // 2, 20 * NS_PER_MS),
            contract=contract,
            bid_e9=bid * E9_PER_CENT,
            ask_e9=ask * E9_PER_CENT,
            bid_size=rng.randint(10, 400),
            ask_size=rng.randint(10, 400),
        ),
        ScheduledPrint(
            ts=start_ts,
            contract=contract,
            price_e9=price * E9_PER_CENT,
            size=size,
            venue=venue,
            conditions=(),
            raw_conditions="",
            label=label,
        ),
        ScheduledQuote(
            ts=start_ts + rng.randint(NS_PER_MS, 10 * NS_PER_MS),
            contract=contract,
            bid_e9=after_bid * E9_PER_CENT,
            ask_e9=after_ask * E9_PER_CENT,
            bid_size=rng.randint(10, 400),
            ask_size=rng.randint(10, 400),
        ),
    ]
    return Plan(contract=contract, events=events, label=label)

"""Multi-leg planted patterns (BEHAVIOR section 5): verticals, straddles, strangles, ladders, calendars, rolls,
multi-leg.

A structure planner returns a `Plan` whose prints span several contracts. Each leg is a packet with its own label
(packet classifiers, as for single contracts); one more label per structure (`PlantedLabel.structure` set) holds
every leg's prints and names only structure classifiers. Legs are the only structure candidates near them: the
planner keeps the whole underlying free of background and of other scenarios around the legs, and unflagged legs are
more than `structure_size_ratio_max` times any packet a long-running scenario there can still print.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from connectors.synthetic.chains import Contract, UnderlyingState
from connectors.synthetic.planted.library import ScenarioName
from connectors.synthetic.planted.script import (
    SWEEP_MAX_CHILD_CONTRACTS,
    SWEEP_MAX_CHILD_PREMIUM_CENTS,
    Book,
    FillAt,
    LabelDraft,
    Plan,
    ScheduledPrint,
    Script,
    Want,
    cluster_fills,
    draft_label,
    facts_of,
    finish_label,
    fitting_contracts,
    pick_venue,
    pick_venues,
    sweep_sizes,
)
from connectors.synthetic.planted.truth import (
    RULES,
    STRUCTURE_WINDOW_NS,
    LegFacts,
    StructureTruth,
    expected_structure,
    leg_order,
    net_premium_of,
    structure_direction,
    structure_truth,
)
from events.models import NetPremium, StructureType
from events.units import NS_PER_MS, NS_PER_S

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


@dataclass(slots=True)
class Leg:
    """A leg to script: its book, the planted aggressor side, its size and its start after the first leg."""

    book: Book
    side: Literal["buy", "sell"]
    size: int
    offset_ns: int = 0


def _leg_text(leg: LegFacts, side: str) -> str:
    return f"{side} {leg.packet.size:,} {leg.expiry:%m-%d} {leg.strike_e9 / 1e9:g}{leg.right}"


def plan_legs(
    name: ScenarioName,
    und: UnderlyingState,
    start_ts: int,
    rng: random.Random,
    legs: list[Leg],
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
    script = Script(rng)
    first_ts = start_ts + (FLAGGED_LEAD_NS if flagged else 0)
    complex_venue = pick_venue(rng)
    facts: list[LegFacts] = []
    sides: dict[str, str] = {}
    for leg in legs:
        book = leg.book
        c = book.contract
        ts = first_ts + leg.offset_ns
        sizes = [leg.size]
        if not flagged and leg.size >= 3 * RULES.structure_min_leg_contracts and rng.random() < 0.5:
            cap = min(SWEEP_MAX_CHILD_CONTRACTS, SWEEP_MAX_CHILD_PREMIUM_CENTS // (100 * (book.ask + 12)))
            sizes = sweep_sizes(leg.size, max(cap, 1), rng) or sizes
        multi = len(sizes) > 1
        venues = pick_venues(rng, len(sizes)) if multi else [complex_venue if flagged else pick_venue(rng)]
        span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS) if multi else 0
        contract_facts = facts_of(und, c, ts)
        label = draft_label(script, name, und, c, leg.side, len(sizes))
        at: FillAt = "ask" if leg.side == "buy" else "bid"
        packet = cluster_fills(
            script, label, book, ts, sizes, venues, at=at, iso=[multi] * len(sizes), span_ns=span, multi_leg=flagged
        )
        finish_label(label, [packet], contract_facts, f"{note}; a leg" if note else "a leg")
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
    ordered = sorted(facts, key=leg_order)
    gross = sum(leg.packet.premium_cents for leg in facts)
    expected, forbidden = structure_truth(structure_type, gross)
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
        expected_direction=structure_direction(structure_type, facts) if expected else None,
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
            gross_premium_cents=gross,
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
) -> Book | None:
    """Return a model quote of the contract when its ask lies in the range and its bid is at least the minimum."""
    bid, ask = c.quote_cents(c.theo_at(und.model_spot, ts), rng.random())
    if ask_cents[0] <= ask <= ask_cents[1] and bid_min_cents <= bid < ask:
        return Book(c, bid, ask)
    return None


def price_books(
    und: UnderlyingState, contracts: Sequence[Contract], ts: int, rng: random.Random, ask_cents: tuple[int, int]
) -> list[Book] | None:
    books = [_priced(und, c, ts, rng, ask_cents) for c in contracts]
    return None if any(b is None for b in books) else [b for b in books if b is not None]


def _structure_pool(und: UnderlyingState, start_ts: int, moneyness: tuple[float, float] = (0.9, 1.1)) -> list[Contract]:
    return fitting_contracts(und, start_ts, Want(moneyness=moneyness, span_ns=3 * NS_PER_S))


def vertical_pair(
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


def call_put_pair(
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


def leg_size(rng: random.Random) -> int:
    return rng.randint(*STRUCTURE_LEG_CONTRACTS)


def _comparable(size: int, rng: random.Random) -> int:
    """Return the same size half the time, else a comparable one (well within the 1:3 ratio), above the floor."""
    if rng.random() < 0.5:
        return size
    return max(STRUCTURE_LEG_CONTRACTS[0], round(size * rng.uniform(0.7, 1.45)))


def stagger(legs: list[Leg], rng: random.Random, within_ns: int = 150 * NS_PER_MS) -> list[Leg]:
    """Give the legs random start offsets: one at 0, the others within `within_ns` (legged in, not one print)."""
    order = list(range(len(legs)))
    rng.shuffle(order)
    for rank, i in enumerate(order):
        legs[i].offset_ns = 0 if rank == 0 else rng.randint(0, within_ns)
    return legs


def flip(side: Literal["buy", "sell"]) -> Literal["buy", "sell"]:
    return "sell" if side == "buy" else "buy"


def plan_vertical(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A vertical: buy one strike, sell another of the same expiry and right; debit buys the dearer strike."""
    debit = name == "vertical_debit"
    pair = vertical_pair(und, start_ts, rng)
    if pair is None:
        return None
    books = price_books(und, pair, start_ts, rng, (10, 2_000))
    if books is None:
        return None
    low, high = books
    dearer, cheaper = (low, high) if low.contract.right == "C" else (high, low)
    size = leg_size(rng)
    legs = [
        Leg(dearer, "buy" if debit else "sell", size),
        Leg(cheaper, "sell" if debit else "buy", _comparable(size, rng)),
    ]
    return plan_legs(name, und, start_ts, rng, stagger(legs, rng), want="vertical", net="debit" if debit else "credit")


def plan_straddle(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A call and a put of one expiry, both bought (long volatility) or both sold: same strike or two strikes."""
    strangle = name == "strangle"
    pair = call_put_pair(und, start_ts, rng, strangle)
    if pair is None:
        return None
    books = price_books(und, pair, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
    size = leg_size(rng)
    legs = [Leg(books[0], side, size), Leg(books[1], side, _comparable(size, rng))]
    return plan_legs(name, und, start_ts, rng, stagger(legs, rng), want="strangle" if strangle else "straddle")


def plan_ladder(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
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
    books = price_books(und, contracts, start_ts, rng, (10, 2_000))
    if books is None:
        return None
    if variant == "butterfly":
        wings: Literal["buy", "sell"] = "buy" if rng.random() < 0.7 else "sell"
        wing = rng.randint(STRUCTURE_LEG_CONTRACTS[0], 2_000)
        legs = [Leg(books[0], wings, wing), Leg(books[1], flip(wings), 2 * wing), Leg(books[2], wings, wing)]
    else:
        size = leg_size(rng)
        side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
        legs = [
            Leg(b, side if variant == "one_sided" else rng.choice(("buy", "sell")), _comparable(size, rng))
            for b in books
        ]
    return plan_legs("ladder", und, start_ts, rng, stagger(legs, rng), want="ladder", note=variant.replace("_", "-"))


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


def plan_calendar(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """One right on two expiries, both legs on one side: a calendar (same strike) or a diagonal (two strikes)."""
    same = rng.random() < 0.5
    pair = _expiry_pair(und, start_ts, rng, "same" if same else rng.choice(("up", "down")))
    if pair is None:
        return None
    books = price_books(und, pair, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
    size = leg_size(rng)
    legs = [Leg(books[0], side, size), Leg(books[1], side, _comparable(size, rng))]
    return plan_legs("calendar", und, start_ts, rng, stagger(legs, rng), want="calendar" if same else "diagonal")


def plan_roll(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Close the nearer expiry, open the farther (opposite sides): out, up and out, or down and out."""
    pair = _expiry_pair(und, start_ts, rng, rng.choice(("same", "up", "down")))
    if pair is None:
        return None
    books = price_books(und, pair, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    closing: Literal["buy", "sell"] = "sell" if rng.random() < 0.6 else "buy"  # sell to close a long, or buy back
    size = leg_size(rng)
    legs = [Leg(books[0], closing, size), Leg(books[1], flip(closing), _comparable(size, rng))]
    return plan_legs("roll", und, start_ts, rng, stagger(legs, rng), want="roll")


def plan_multi_leg(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
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
        contracts = vertical_pair(und, start_ts, rng)
    else:
        contracts = call_put_pair(und, start_ts, rng, strangle=variant == "risk_reversal")
    if contracts is None:
        return None
    books = price_books(und, contracts, start_ts, rng, (10, 3_000))
    if books is None:
        return None
    flagged = variant != "risk_reversal"
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.5 else "sell"
    if variant == "risk_reversal":
        size = leg_size(rng)
        legs = stagger([Leg(books[0], "buy", size), Leg(books[1], "sell", size)], rng)
        want: StructureType = "multi_leg"
    else:
        size = rng.randint(20, 400)
        other = size * rng.randint(4, 6) if variant == "ratio_spread" else size
        second = flip(side) if variant in ("ratio_spread", "vertical") else side
        legs = stagger([Leg(books[0], side, size), Leg(books[1], second, other)], rng, 2 * NS_PER_MS)
        want = "vertical" if variant == "vertical" else "straddle" if variant == "straddle" else "multi_leg"
    return plan_legs("multi_leg", und, start_ts, rng, legs, want=want, flagged=flagged, note=variant.replace("_", " "))

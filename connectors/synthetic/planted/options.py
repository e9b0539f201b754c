"""Single-contract planted patterns: a scenario per packet classifier and packet kind.

Each planner draws a contract that fits, scripts its packets and labels them. The near misses of a threshold
(`zero_dte_miss`, `write_miss`, `golden_miss`, `repeat_miss`, `far_dated_miss`) are hard negatives planned by
their positive's planner under the miss name: they differ from it by the one number that decides.
"""

from __future__ import annotations

import math
import random
from typing import Final, Literal

from connectors.synthetic.chains import UnderlyingState
from connectors.synthetic.planted.library import ScenarioName
from connectors.synthetic.planted.script import (
    SWEEP_MAX_CHILD_CONTRACTS,
    SWEEP_MAX_CHILD_PREMIUM_CENTS,
    FillAt,
    Plan,
    Script,
    Want,
    choose,
    cluster_fills,
    draft_label,
    facts_of,
    finish_label,
    pick_venue,
    pick_venues,
    split_size,
    sweep_sizes,
)
from connectors.synthetic.planted.truth import REPEAT_WINDOW_NS, RULES, ZERO_DTE_SURE
from events.units import NS_PER_MS, NS_PER_S

SWEEP_MIN_PREMIUM_CENTS: Final = 60_000 * 100
SWEEP_MIN_CONTRACTS: Final = 150
SWEEP_MAX_CONTRACTS: Final = 1_500
SWEEP_MIN_ASK_CENTS: Final = 45
"""With at most 1,500 contracts, an ask of at least 45 cents keeps the premium above $60k."""
SWEEP_MAX_ASK_CENTS: Final = 1_000
BLOCK_MIN_CONTRACTS: Final = 600


def plan_sweep(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    is_call = name == "call_sweep"
    want = Want(
        right="C" if is_call else "P",
        moneyness=(0.985, 1.04) if is_call else (0.96, 1.015),
        ask_cents=(SWEEP_MIN_ASK_CENTS, SWEEP_MAX_ASK_CENTS),
    )
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    ask_high = book.ask + 12 * c.tick_cents_above_3  # bound on how far the fills can walk up
    target_usd = math.exp(rng.uniform(math.log(65_000), math.log(500_000)))
    # One contract costs `ask` dollars (price in cents x 100 shares / 100 cents). The size bounds keep
    # the total in the hundreds; with the ask bounds the premium stays above the sweep minimum.
    total = min(max(math.ceil(target_usd / book.ask), SWEEP_MIN_CONTRACTS), SWEEP_MAX_CONTRACTS)
    cap = min(SWEEP_MAX_CHILD_CONTRACTS, SWEEP_MAX_CHILD_PREMIUM_CENTS // (ask_high * 100))
    sizes = sweep_sizes(total, cap, rng)
    if sizes is None:
        return None
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, name, und, c, "buy", len(sizes))
    iso = [rng.random() < 0.7 for _ in sizes]
    if not any(iso):
        iso[rng.randrange(len(iso))] = True
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS)
    packet = cluster_fills(
        script, label, book, start_ts, sizes, pick_venues(rng, len(sizes)), at="ask", iso=iso, span_ns=span
    )
    if packet.premium_cents < SWEEP_MIN_PREMIUM_CENTS:
        return None
    finish_label(label, [packet], facts)
    return script.plan()


def plan_block(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    buy = rng.random() < 0.6
    book = choose(und, start_ts, rng, Want(ask_cents=(50, 3_000)))
    if book is None:
        return None
    c = book.contract
    if not buy and book.bid < 50:
        buy = True  # selling a block into a sub-50-cent bid is not the scenario we want to label
    size = 25 * rng.randint(BLOCK_MIN_CONTRACTS // 25, 100)
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, "block", und, c, "buy" if buy else "sell", 1)
    packet = cluster_fills(
        script, label, book, start_ts, [size], [pick_venue(rng)], at="ask" if buy else "bid", iso=[False], span_ns=0
    )
    finish_label(label, [packet], facts)
    return script.plan()


def plan_split(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    book = choose(und, start_ts, rng, Want(moneyness=(0.97, 1.03), ask_cents=(60, 1_500)))
    if book is None:
        return None
    c = book.contract
    total = rng.randint(450, 900)
    sizes = sweep_sizes(total, min(450, 200_000 // book.ask), rng, max_parts=5)
    if sizes is None:
        return None
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, "split", und, c, "buy", len(sizes))
    venue = pick_venue(rng)
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS)
    packet = cluster_fills(
        script, label, book, start_ts, sizes, [venue] * len(sizes), at="ask", iso=[False] * len(sizes), span_ns=span
    )
    finish_label(label, [packet], facts, "one venue, no ISO")
    return script.plan()


def plan_big_sweep(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A sweep of >= $1.1M: on a contract with less open interest than its size (golden) or more (miss)."""
    golden = name == "golden_sweep"
    # Open interest below the size a $1.1M+ sweep buys there (at most 3,500 contracts), or well above it.
    oi = (0, 3_400) if golden else (3_700, 2**62)
    want = Want(moneyness=(0.85, 1.15), ask_cents=(300, 6_000), open_interest=oi)
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    total = math.ceil(rng.uniform(1_100_000, 1_800_000) / book.ask)
    if total > 3_500 or (golden and total <= c.open_interest) or (not golden and total >= c.open_interest - 100):
        return None
    sizes = sweep_sizes(total, SWEEP_MAX_CHILD_CONTRACTS, rng)
    if sizes is None:
        return None
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, name, und, c, "buy", len(sizes))
    iso = [True] * len(sizes)
    span = rng.randint(10 * NS_PER_MS, 90 * NS_PER_MS)
    packet = cluster_fills(
        script, label, book, start_ts, sizes, pick_venues(rng, len(sizes)), at="ask", iso=iso, span_ns=span
    )
    finish_label(label, [packet], facts, f"size {'>' if golden else '<='} open interest")
    return script.plan()


def plan_repeats(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
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
    # An ask of at most $4.50: each packet's $12.5k+ buys more than repeat_min_packet_contracts.
    want = Want(ask_cents=(60, 450), quiet_ns=REPEAT_WINDOW_NS + NS_PER_S, span_ns=span + NS_PER_S)
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    buy = rng.random() < 0.7 or book.bid < 60
    sides: list[Literal["buy", "sell"]] = ["buy" if buy else "sell"] * count
    if variant == "two_plus_other_side":
        sides[rng.randrange(count)] = "sell" if buy else "buy"
    facts = facts_of(und, c, start_ts, repeat_isolated=True)
    script = Script(rng)
    label = draft_label(script, name, und, c, sides[0], count)
    packets = []
    ts = start_ts
    for i in range(count):
        price = book.ask if sides[i] == "buy" else book.bid
        size = min(350, math.ceil(rng.uniform(12_500, 40_000) / max(price, 1)))
        if size * price < 12_000:
            return None
        at: FillAt = "ask" if sides[i] == "buy" else "bid"
        packets.append(cluster_fills(script, label, book, ts, [size], [pick_venue(rng)], at=at, iso=[False], span_ns=0))
        # The next buyer pays up a tick (a seller hits a tick lower): fill prices walk.
        if sides[i] == "buy":
            book.ask = c.tick_up(book.ask)
            book.bid = min(c.tick_up(book.bid), c.tick_down(book.ask))
        elif c.tick_down(book.bid) > 0:
            book.bid = c.tick_down(book.bid)
            book.ask = max(c.tick_down(book.ask), c.tick_up(book.bid))
        if i < count - 1:
            ts += gaps_ns[i]
    finish_label(label, packets, facts, variant)
    script.hold(c, packets[-1].ts_last + REPEAT_WINDOW_NS + NS_PER_S)
    return script.plan()


def plan_write(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Large out-of-the-money calls (puts) sold at the bid; the miss sells too few or too cheap."""
    miss = name == "write_miss"
    is_call = rng.random() < 0.5 if miss else name == "call_overwrite"
    want = Want(
        right="C" if is_call else "P",
        moneyness=(1.02, 1.10) if is_call else (0.90, 0.98),
        expiry="near",
        ask_cents=(10, 2_000),
        bid_min_cents=5 if miss else 25,
    )
    book = choose(und, start_ts, rng, want)
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
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    as_sweep = rng.random() < 0.5
    sizes = sweep_sizes(total, SWEEP_MAX_CHILD_CONTRACTS, rng, max_parts=6) if as_sweep else [total]
    if sizes is None:
        return None
    label = draft_label(script, name, und, c, "sell", len(sizes))
    iso = [as_sweep] * len(sizes)
    venues = pick_venues(rng, len(sizes)) if as_sweep else [pick_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS) if as_sweep else 0
    packet = cluster_fills(script, label, book, start_ts, sizes, venues, at="bid", iso=iso, span_ns=span)
    finish_label(label, [packet], facts)
    return script.plan()


def plan_far_dated(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    miss = name == "far_dated_miss"
    book = choose(und, start_ts, rng, Want(moneyness=(0.9, 1.1), expiry="far", ask_cents=(100, 5_000)))
    if book is None:
        return None
    c = book.contract
    buy = rng.random() < 0.75 or book.bid < 100
    price = book.ask if buy else book.bid
    target = rng.uniform(15_000, 38_000) if miss else rng.uniform(60_000, 400_000)
    total = max(1, math.ceil(target / price))
    sizes = sweep_sizes(total, 450, rng, max_parts=6) if total >= 30 and rng.random() < 0.5 else [total]
    if sizes is None or total > 2_500:
        return None
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, name, und, c, "buy" if buy else "sell", len(sizes))
    multi = len(sizes) > 1
    venues = pick_venues(rng, len(sizes)) if multi else [pick_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 80 * NS_PER_MS) if multi else 0
    at: FillAt = "ask" if buy else "bid"
    packet = cluster_fills(script, label, book, start_ts, sizes, venues, at=at, iso=[multi] * len(sizes), span_ns=span)
    finish_label(label, [packet], facts)
    return script.plan()


def plan_zero_dte(name: ScenarioName, und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """0DTE near the money, big enough (hit); or too far from the money, or too small (miss)."""
    miss = name == "zero_dte_miss"
    far = miss and rng.random() < 0.6
    near = (1 - ZERO_DTE_SURE + 0.001, 1 + ZERO_DTE_SURE - 0.001)
    band = rng.choice(((0.95, 0.98), (1.02, 1.05))) if far else near
    book = choose(und, start_ts, rng, Want(moneyness=band, expiry="zero", ask_cents=(10, 2_000)))
    if book is None:
        return None
    c = book.contract
    if miss and not far:
        total = rng.randint(120, 350)
    else:
        total = min(2_500, max(450, math.ceil(rng.uniform(25_000, 150_000) / book.ask)))
        if total * book.ask < 22_000:
            return None
    facts = facts_of(und, c, start_ts)
    if not far and facts.strike_distance > ZERO_DTE_SURE:
        return None
    script = Script(rng)
    as_sweep = rng.random() < 0.6
    sizes = sweep_sizes(total, SWEEP_MAX_CHILD_CONTRACTS, rng, max_parts=6) if as_sweep else [total]
    if sizes is None:
        return None
    label = draft_label(script, name, und, c, "buy", len(sizes))
    venues = pick_venues(rng, len(sizes)) if as_sweep else [pick_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS) if as_sweep else 0
    packet = cluster_fills(
        script, label, book, start_ts, sizes, venues, at="ask", iso=[as_sweep] * len(sizes), span_ns=span
    )
    finish_label(label, [packet], facts, "far from the money" if far else "small" if miss else "")
    return script.plan()


def plan_unusual_volume(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Several mid-sized packets that take day volume above open interest (and the minimum) on a quiet name."""
    # An ask of 60 cents or more: each packet (a hundred contracts or more) carries the premium floor.
    want = Want(moneyness=(0.85, 1.15), ask_cents=(60, 800), open_interest=(0, 2_200), span_ns=30 * NS_PER_S)
    book = choose(und, start_ts, rng, want)
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
    sizes = split_size(total, count, 450, rng)
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, "unusual_volume", und, c, "buy", count)
    packets = []
    ts = start_ts
    for size in sizes:
        at: FillAt = rng.choice(("ask", "bid")) if book.bid > 0 else "ask"
        packets.append(cluster_fills(script, label, book, ts, [size], [pick_venue(rng)], at=at, iso=[False], span_ns=0))
        ts += rng.randint(NS_PER_S, 5 * NS_PER_S)
    finish_label(label, packets, facts)
    return script.plan()


def plan_new_position(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """More contracts than the open interest in one packet: at least part of it opens positions."""
    want = Want(moneyness=(0.8, 1.2), ask_cents=(3, 2_000), open_interest=(5, 1_500))
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    total = c.open_interest + rng.randint(20, 300)
    if total > 2_000 or total < RULES.new_position_min_contracts:
        return None
    if total * book.ask < 1.1 * RULES.new_position_min_premium_usd:
        return None  # under the premium floor: not the opening position the scenario plants
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    sizes = [total] if rng.random() < 0.5 else split_size(total, 3, total, rng)
    label = draft_label(script, "new_position", und, c, "buy", len(sizes))
    multi = len(sizes) > 1
    venues = pick_venues(rng, len(sizes)) if multi else [pick_venue(rng)]
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS) if multi else 0
    packet = cluster_fills(
        script, label, book, start_ts, sizes, venues, at="ask", iso=[multi] * len(sizes), span_ns=span
    )
    finish_label(label, [packet], facts)
    return script.plan()

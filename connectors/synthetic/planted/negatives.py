"""Hard negatives: planted flow that looks like a pattern and must not fire it, labeled with what must not fire.

Single contracts: stale quotes, mid prints, tiny lots, two-print sweeps, prints close in time on other contracts,
prints spread out beyond the packet gap. Structures: legs of sizes that do not compare, legs beyond the structure
window, a vertical with both legs on one side, legs too small to be a structure. The near misses of each packet
threshold are planned with their positives (`options.py`).
"""

from __future__ import annotations

import math
import random
from typing import Final, Literal

from connectors.synthetic.chains import UnderlyingState
from connectors.synthetic.planted.script import (
    Book,
    Plan,
    Script,
    Want,
    choose,
    cluster_fills,
    draft_label,
    facts_of,
    finish_label,
    pick_venues,
    split_size,
    sweep_sizes,
    widen_book,
)
from connectors.synthetic.planted.structures import (
    STRUCTURE_LEG_CONTRACTS,
    Leg,
    call_put_pair,
    flip,
    leg_size,
    plan_legs,
    price_books,
    stagger,
    vertical_pair,
)
from connectors.synthetic.planted.truth import REPEAT_WINDOW_NS, RULES, STRUCTURE_WINDOW_NS
from events.units import NS_PER_MS, NS_PER_S

QUIET_MAX_PRINTS: Final = 10
"""A contract with fewer prints than this so far has too few packets for a contract z-score."""
TINY_LEG_CONTRACTS: Final = (1, RULES.structure_min_leg_contracts - 1)


def plan_stale(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A sweep-shaped cluster against a quote older than nbbo_max_age_ms: no side, no sweep, no direction."""
    stale_ns = RULES.nbbo_max_age_ms * NS_PER_MS + 500 * NS_PER_MS
    want = Want(moneyness=(0.93, 1.07), ask_cents=(60, 1_500), quote_older_ns=stale_ns)
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    total = min(900, max(450, math.ceil(rng.uniform(30_000, 120_000) / book.ask)))
    sizes = sweep_sizes(total, 450, rng, max_parts=5)
    if sizes is None:
        return None
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, "stale_quotes", und, c, "buy", len(sizes))
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    iso = [True] * len(sizes)
    packet = cluster_fills(
        script, label, book, start_ts, sizes, pick_venues(rng, len(sizes)), at="stale", iso=iso, span_ns=span
    )
    finish_label(label, [packet], facts, "quote older than nbbo_max_age_ms")
    return script.plan()


def plan_mid(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Prints at the mid on several venues: no aggressor, so no sweep and no direction."""
    book = choose(und, start_ts, rng, Want(moneyness=(0.95, 1.05), ask_cents=(30, 1_500), bid_min_cents=10))
    if book is None:
        return None
    c = book.contract
    widen_book(book, 4)
    total = rng.randint(150, 380)
    parts = rng.randint(3, 4)
    sizes = split_size(total, parts, total, rng)
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, "mid_prints", und, c, "buy", parts)
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    packet = cluster_fills(
        script, label, book, start_ts, sizes, pick_venues(rng, parts), at="mid", iso=[False] * parts, span_ns=span
    )
    finish_label(label, [packet], facts, "prints at the mid")
    return script.plan()


def plan_tiny(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A three-venue ISO sweep of single lots on a cheap, quiet contract: a sweep that is not large."""
    want = Want(moneyness=(0.9, 1.1), ask_cents=(3, 30), bid_min_cents=1, max_prints=QUIET_MAX_PRINTS)
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    facts = facts_of(und, c, start_ts, z_quiet=True)
    script = Script(rng)
    parts = 3
    label = draft_label(script, "tiny_lots", und, c, "buy", parts)
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    sizes = [rng.randint(1, 2) for _ in range(parts)]
    packet = cluster_fills(
        script, label, book, start_ts, sizes, pick_venues(rng, parts), at="ask", iso=[True] * parts, span_ns=span
    )
    finish_label(label, [packet], facts, "single lots")
    return script.plan()


def plan_two_print(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """A large two-venue sweep: one print short of large_sweep's minimum."""
    book = choose(und, start_ts, rng, Want(moneyness=(0.97, 1.03), ask_cents=(150, 1_000)))
    if book is None:
        return None
    c = book.contract
    total = min(900, math.ceil(rng.uniform(60_000, 150_000) / book.ask))
    sizes = split_size(total, 2, 480, rng)
    if sum(sizes) != total or max(sizes) * book.ask * 100 >= 20_000_000:
        return None
    facts = facts_of(und, c, start_ts)
    script = Script(rng)
    label = draft_label(script, "two_print_sweep", und, c, "buy", 2)
    span = rng.randint(5 * NS_PER_MS, 60 * NS_PER_MS)
    packet = cluster_fills(
        script, label, book, start_ts, sizes, pick_venues(rng, 2), at="ask", iso=[True, True], span_ns=span
    )
    finish_label(label, [packet], facts, "two prints")
    return script.plan()


def plan_unrelated(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """One print each on three different contracts within tens of milliseconds: three packets, no sweep.

    The three are bought on one right and not all on one expiry, so they form no structure a classifier reads (no
    straddle or strangle without both rights, no vertical or roll with one side, no ladder across expiries): the
    label is about sweeps, and a structure it formed by chance would be truth it does not state.
    """
    script = Script(rng)
    venues = pick_venues(rng, 3)
    ts = start_ts
    taken: frozenset[str] = frozenset()
    right: str | None = None
    expiries = set()
    for i in range(3):
        want = Want(right=right, moneyness=(0.96, 1.04), ask_cents=(50, 1_000), exclude=taken)
        book = choose(und, ts, rng, want)
        if book is None:
            return None
        c = book.contract
        right = c.right
        expiries.add(c.expiry)
        if i == 2 and len(expiries) == 1:
            return None
        taken |= {c.symbol}
        size = min(480, math.ceil(rng.uniform(8_000, 40_000) / book.ask))
        facts = facts_of(und, c, ts)
        label = draft_label(script, "unrelated_close", und, c, "buy", 1)
        packet = cluster_fills(script, label, book, ts, [size], [venues[i]], at="ask", iso=[True], span_ns=0)
        finish_label(label, [packet], facts, "prints on other contracts within 60 ms")
        ts += rng.randint(5 * NS_PER_MS, 30 * NS_PER_MS)
    return script.plan()


def plan_spread_out(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Three prints on three venues, each further apart than packet_gap_ms: three packets, not a sweep."""
    want = Want(ask_cents=(40, 1_000), quiet_ns=REPEAT_WINDOW_NS + NS_PER_S, span_ns=2 * NS_PER_S)
    book = choose(und, start_ts, rng, want)
    if book is None:
        return None
    c = book.contract
    facts = facts_of(und, c, start_ts, repeat_isolated=True)
    script = Script(rng)
    label = draft_label(script, "spread_out", und, c, "buy", 3)
    venues = pick_venues(rng, 3)
    packets = []
    ts = start_ts
    for i in range(3):
        size = max(1, min(380, math.ceil(rng.uniform(3_000, 8_500) / book.ask)))
        packets.append(cluster_fills(script, label, book, ts, [size], [venues[i]], at="ask", iso=[True], span_ns=0))
        ts += RULES.packet_gap_ms * NS_PER_MS + rng.randint(60 * NS_PER_MS, 300 * NS_PER_MS)
    finish_label(label, packets, facts, "gaps above packet_gap_ms")
    script.hold(c, packets[-1].ts_last + REPEAT_WINDOW_NS + NS_PER_S)
    return script.plan()


# ------------------------------------------------------------------------------ structure negatives


def _negative_pair(
    und: UnderlyingState, start_ts: int, rng: random.Random, ask_cents: tuple[int, int]
) -> tuple[list[Book], Literal["vertical", "straddle"]] | None:
    """Two contracts shaped like a vertical or a straddle, priced."""
    shape: Literal["vertical", "straddle"] = "vertical" if rng.random() < 0.5 else "straddle"
    pair = vertical_pair(und, start_ts, rng) if shape == "vertical" else call_put_pair(und, start_ts, rng, False)
    if pair is None:
        return None
    books = price_books(und, pair, start_ts, rng, ask_cents)
    return None if books is None else (books, shape)


def _negative_sides(shape: str, rng: random.Random) -> tuple[Literal["buy", "sell"], Literal["buy", "sell"]]:
    """Sides that would make the shape if the rest fitted: opposite for a vertical, one side for a straddle."""
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.5 else "sell"
    return side, flip(side) if shape == "vertical" else side


def plan_size_mismatch(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Vertical- or straddle-shaped legs close in time, the larger more than 3x the smaller: unrelated, no structure."""
    picked = _negative_pair(und, start_ts, rng, (5, 600))
    if picked is None:
        return None
    books, shape = picked
    small = rng.randint(STRUCTURE_LEG_CONTRACTS[0], 1_800)
    large = math.ceil(small * rng.uniform(RULES.structure_size_ratio_max + 0.2, 4.5))
    first, second = _negative_sides(shape, rng)
    sizes = [small, large] if rng.random() < 0.5 else [large, small]
    legs = stagger([Leg(books[0], first, sizes[0]), Leg(books[1], second, sizes[1])], rng)
    return plan_legs(
        "size_mismatch_legs", und, start_ts, rng, legs, want=None, note=f"{shape}-shaped, sizes not comparable"
    )


def plan_far_apart(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Vertical- or straddle-shaped legs of equal size, the second starting beyond the structure window."""
    picked = _negative_pair(und, start_ts, rng, (10, 2_000))
    if picked is None:
        return None
    books, shape = picked
    size = leg_size(rng)
    first, second = _negative_sides(shape, rng)
    # The first leg spans at most 60 ms: starting the second beyond that plus the window keeps them apart.
    later = 60 * NS_PER_MS + STRUCTURE_WINDOW_NS + rng.randint(10 * NS_PER_MS, 900 * NS_PER_MS)
    legs = [Leg(books[0], first, size), Leg(books[1], second, size, later)]
    return plan_legs(
        "far_apart_legs", und, start_ts, rng, legs, want=None, note=f"{shape}-shaped, beyond the structure window"
    )


def plan_same_side_vertical(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Two strikes of one expiry and right both bought (or both sold): not a vertical; multi_leg when sizes match."""
    pair = vertical_pair(und, start_ts, rng)
    if pair is None:
        return None
    books = price_books(und, pair, start_ts, rng, (10, 2_000))
    if books is None:
        return None
    side: Literal["buy", "sell"] = "buy" if rng.random() < 0.6 else "sell"
    size = leg_size(rng)
    equal = rng.random() < 0.3
    other = size if equal else round(size * rng.uniform(1.2, 2.5))
    legs = stagger([Leg(books[0], side, size), Leg(books[1], side, other)], rng)
    note = "both legs one side" + (", matching sizes" if equal else "")
    return plan_legs("same_side_vertical", und, start_ts, rng, legs, want="multi_leg" if equal else None, note=note)


def plan_tiny_legs(und: UnderlyingState, start_ts: int, rng: random.Random) -> Plan | None:
    """Vertical- or straddle-shaped legs of equal size below structure_min_leg_contracts: coincidence, no structure."""
    picked = _negative_pair(und, start_ts, rng, (5, 2_000))
    if picked is None:
        return None
    books, shape = picked
    size = rng.randint(*TINY_LEG_CONTRACTS)
    first, second = _negative_sides(shape, rng)
    legs = stagger([Leg(books[0], first, size), Leg(books[1], second, size)], rng)
    return plan_legs("tiny_legs", und, start_ts, rng, legs, want=None, note=f"{shape}-shaped, legs too small")

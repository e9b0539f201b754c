"""Planted equity flow: off-exchange (dark) scenarios and candle probes, scripted on one underlying's tape.

A plan is a short script of consolidated quotes and prints on one underlying's equity tape. Prices are
resolved when the market emits each event, from the underlying's random walk at that moment (planted quotes
publish the walk's quote, or one widened around its mid, and never move the walk: the options stream does not
see them). Every size rule is met or missed with a margin no walk over a plan can erase, and each label's truth
is recomputed from the emitted prints before the label is published (an invariant: a mismatch fails fast).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final, Literal

from connectors.conditions import equity_flags
from connectors.synthetic.chains import E9_PER_CENT, UnderlyingState
from connectors.synthetic.planted.equity_truth import (
    COOLDOWN_NS,
    DARK_CLASSIFIERS,
    DARK_SIDE_MAX_SHARES,
    MAX_AGE_NS,
    MIN_BLOCK_CENTS,
    RULES,
    WINDOW_NS,
    CandleLabel,
    DarkFacts,
    DarkLabel,
    DarkScenario,
    Fill,
    counted_side,
    dark_hits,
    spread_pct,
)
from connectors.synthetic.venues import EQUITY_VENUES, OFF_EXCHANGE, Venue
from events.lots import round_lot_at
from events.models import Direction, EquityPrint
from events.units import NS_PER_MS, NS_PER_S, notional_cents

SIDE_GAP_NS: Final = WINDOW_NS + 2 * NS_PER_S
"""Counted prints of different plans on one side of an underlying are at least this far apart."""
PLAN_GAP_NS: Final = 200 * NS_PER_MS
"""Consecutive blocks and probes on one underlying are at least this far apart."""
SPAN_MARGIN_NS: Final = 5 * NS_PER_MS
"""Quote-to-print pairs and probe windows of different plans on one underlying are at least this far apart."""
RUN_SPAN_NS: Final = 30 * NS_PER_S
"""The prints a run needs (or misses with) span at most this, well inside the stealth window."""
RUN_MAX_NS: Final = 52 * NS_PER_S
"""A run plan lasts at most this (a cooldown pair: two runs); none starts closer to the session's end."""
CANDLE_INTERVAL_NS: Final = NS_PER_S
"""Candle probes label the shortest candle interval, 1 s."""
CANDLE_PROBE_EVERY_NS: Final = 10 * NS_PER_S
"""A candle probe on each underlying this long after the previous one (or three plant intervals, if longer)."""
TRIGGER_TAIL_NS: Final = COOLDOWN_NS - 5 * NS_PER_S
"""A run's prints after the one expected to fire stay within this, inside the cooldown: one inference per run."""
SIZE_MARGIN: Final = 1.08
"""Notional at least this multiple of the threshold (a near miss at most its inverse): no walk erases it."""

HOLD_QUOTES: Final = 1
HOLD_PRINTS: Final = 2

# Sale conditions (UTP letters: FINRA TRF prints) that take a print out of the size rules.
INELIGIBLE_CODES: Final[tuple[str, ...]] = ("W", "4", "P", "V", "7", "L", "Z", "C", "N", "R")
AVERAGE_PRICE: Final = "W"
ODD_LOT: Final = "I"

PrintAt = Literal["mid", "ask", "above_ask", "bid", "below_bid", "inside", "offset"]


# ----------------------------------------------------------------------------------------- drafts


@dataclass(slots=True, eq=False)
class EquityBook:
    """The quote a plan published last on its underlying (what its next print is placed against)."""

    bid_e9: int = 0
    ask_e9: int = 0
    ts: int = 0


@dataclass(slots=True, eq=False)
class DarkDraft:
    """A dark label waiting for its prints, which get ids and prices only when emitted."""

    scenario: DarkScenario
    underlying: str
    side: Literal["buy", "sell"]
    expected: tuple[str, ...]
    prints_left: int
    variant: str = ""
    context: DarkDraft | None = None
    """An earlier draft of the same plan whose prints the rules read together with this one's (cooldown)."""
    fills: list[Fill] = field(default_factory=list)

    def record(self, event: EquityPrint, book: EquityBook) -> DarkLabel | None:
        """Record one emitted print; return the finished label after the last one."""
        self.fills.append(
            Fill(
                event.id, event.ts_event, event.price_e9, event.size_shares, event.off_exchange, event.conditions,
                book.bid_e9, book.ask_e9, book.ts,
            )
        )  # fmt: skip
        self.prints_left -= 1
        return None if self.prints_left else self.finish()

    def finish(self) -> DarkLabel:
        own = {f.id for f in self.fills}
        every = (self.context.fills if self.context is not None else []) + self.fills
        hits = [(kind, ids) for kind, ids in dark_hits(every) if own & set(ids)]
        fired = {kind for kind, _ in hits}
        if fired != set(self.expected):
            raise AssertionError(f"{self.scenario} planted {self.fills} fires {sorted(fired)}, not {self.expected}")
        buy = sum(counted_side(f) == "buy" for f in self.fills)
        sell = sum(counted_side(f) == "sell" for f in self.fills)
        counted = sum(f.size for f in self.fills if counted_side(f) != "unknown")
        trigger = next((ids[-1] for _, ids in hits), None) if hits else None
        facts = DarkFacts(
            prints=len(self.fills),
            shares=sum(f.size for f in self.fills),
            notional_cents=sum(notional_cents(f.price_e9, f.size) for f in self.fills),
            buy_counted=buy,
            sell_counted=sell,
            counted_shares=counted,
            span_ns=self.fills[-1].ts - self.fills[0].ts,
            quote_age_ns=max(f.ts - f.quote_ts for f in self.fills),
            spread_pct=round(max(spread_pct(f) for f in self.fills), 4),
            trigger_print_id=trigger,
            variant=self.variant,
        )
        direction: Direction | None = None
        if self.expected == ("absorbed_block",):
            direction = "neutral"
        elif self.expected:
            direction = "bullish" if self.expected == ("stealth_accumulation",) else "bearish"
        return DarkLabel(
            scenario=self.scenario,
            underlying=self.underlying,
            symbol=self.underlying,
            ts_start=self.fills[0].ts,
            ts_end=self.fills[-1].ts,
            side=self.side,
            expected_kind="block" if len(self.fills) == 1 else "split",
            expected_classifiers=self.expected,
            print_ids=tuple(f.id for f in self.fills),
            forbidden_classifiers=tuple(c for c in DARK_CLASSIFIERS if c not in self.expected),
            expected_direction=direction,
            description=_describe(self.scenario, facts, self.fills),
            facts=facts,
        )


def _describe(scenario: str, facts: DarkFacts, fills: list[Fill]) -> str:
    first = fills[0]
    where = "off-exchange" if first.off_exchange else "lit"
    text = (
        f"{facts.prints} {where} print(s), {facts.shares:,} shares, ${facts.notional_cents / 100:,.0f}; "
        f"counted buy {facts.buy_counted} / sell {facts.sell_counted} ({facts.counted_shares:,} shares) "
        f"over {facts.span_ns / NS_PER_S:.1f} s; quote age <= {facts.quote_age_ns / NS_PER_MS:.0f} ms, "
        f"spread <= {facts.spread_pct:.3f}%"
    )
    return text + (f"; {facts.variant}" if facts.variant else "")


@dataclass(slots=True, eq=False)
class CandleDraft:
    """A candle label waiting for the prints of its window."""

    underlying: str
    ts_start: int
    prints_left: int
    events: list[EquityPrint] = field(default_factory=list)

    def record(self, event: EquityPrint, book: EquityBook) -> CandleLabel | None:
        """Record one emitted print; return the finished label after the last one."""
        self.events.append(event)
        self.prints_left -= 1
        return None if self.prints_left else self.finish()

    def finish(self) -> CandleLabel:
        last_sale = [
            e for e in self.events if not e.conditions and e.size_shares >= round_lot_at(e.price_e9, e.ts_event)
        ]
        if not last_sale or len(last_sale) == len(self.events):
            raise AssertionError(f"a candle probe needs eligible and ineligible prints: {self.events}")
        prices = [e.price_e9 for e in last_sale]
        ineligible = tuple(e.id for e in self.events if e not in last_sale)
        volume = sum(e.size_shares for e in self.events)
        return CandleLabel(
            underlying=self.underlying,
            interval_ms=CANDLE_INTERVAL_NS // NS_PER_MS,
            ts_start=self.ts_start,
            ts_end=self.ts_start + CANDLE_INTERVAL_NS,
            open_e9=prices[0],
            high_e9=max(prices),
            low_e9=min(prices),
            close_e9=prices[-1],
            volume_shares=volume,
            print_ids=tuple(e.id for e in self.events),
            ineligible_print_ids=ineligible,
            description=(
                f"{len(self.events)} prints ({len(ineligible)} not last-sale eligible), {volume:,} shares in "
                f"{CANDLE_INTERVAL_NS // NS_PER_MS} ms"
            ),
        )


# ------------------------------------------------------------------------------------------ scripts


@dataclass(slots=True, eq=False)
class PlannedEquityQuote:
    """A consolidated quote the plan publishes at `ts`: the walk's, or one `spread_cents` wide around its mid."""

    ts: int
    und: UnderlyingState
    book: EquityBook
    bid_size: int
    ask_size: int
    spread_cents: int | None = None

    def resolve(self) -> tuple[int, int]:
        """Return (bid, ask) in 1e-9 from the walk now, and make them the plan's book."""
        und = self.und
        bid, ask = und.bid_cents, und.ask_cents
        if self.spread_cents is not None:
            bid = max(1, (bid + ask - self.spread_cents) // 2)
            ask = bid + self.spread_cents
        book = self.book
        book.bid_e9, book.ask_e9, book.ts = bid * E9_PER_CENT, ask * E9_PER_CENT, self.ts
        return book.bid_e9, book.ask_e9


@dataclass(slots=True, eq=False)
class PlannedEquityPrint:
    """A print the plan publishes at `ts`, priced then: against the plan's book, or the walk (candle probes)."""

    ts: int
    und: UnderlyingState
    book: EquityBook | None
    at: PrintAt
    size: int
    venue: Venue
    off_exchange: bool
    conditions: tuple[str, ...]
    raw_conditions: str
    draft: DarkDraft | CandleDraft
    offset_e9: int = 0
    """For "above_ask" / "below_bid" / "inside" / "offset": how far from the ask, bid, or the walk's mid."""

    def resolve(self) -> int:
        """Return the price in 1e-9."""
        if self.book is not None:
            bid, ask = self.book.bid_e9, self.book.ask_e9
        else:
            bid, ask = self.und.bid_cents * E9_PER_CENT, self.und.ask_cents * E9_PER_CENT
        at = self.at
        if at == "mid":
            return (bid + ask) // 2
        if at == "ask":
            return ask
        if at == "above_ask":
            return ask + self.offset_e9
        if at == "bid":
            return bid
        if at == "below_bid":
            return bid - self.offset_e9
        if at == "inside":
            return bid + self.offset_e9 if bid + self.offset_e9 < ask else (bid + ask) // 2
        return max(E9_PER_CENT, (bid + ask) // 2 + self.offset_e9)

    def record(self, event: EquityPrint) -> DarkLabel | CandleLabel | None:
        """Record the emitted print; return a finished label after its last print."""
        return self.draft.record(event, self.book or EquityBook())


PlannedEquity = PlannedEquityQuote | PlannedEquityPrint


@dataclass(slots=True, eq=False)
class EquityPlan:
    """The scripted events of one plan on one underlying, in time order, and the background it holds."""

    events: list[PlannedEquity]
    holds: list[tuple[int, int, int]]
    """(first ns, last ns, HOLD_* mask): background of those kinds on the underlying is not published then."""
    counted_until: dict[str, int]
    """Per side: the plan's last print the stealth rules count there (it reserves the side for SIDE_GAP_NS)."""

    @property
    def first_ts(self) -> int:
        return self.events[0].ts

    @property
    def last_ts(self) -> int:
        return self.events[-1].ts


@dataclass(slots=True, eq=False)
class _Script:
    und: UnderlyingState
    rng: random.Random
    events: list[PlannedEquity] = field(default_factory=list)
    holds: list[tuple[int, int, int]] = field(default_factory=list)
    counted_until: dict[str, int] = field(default_factory=dict)

    def quote(self, ts: int, spread_cents: int | None = None) -> EquityBook:
        lot = self.und.round_lot
        book = EquityBook()
        self.events.append(
            PlannedEquityQuote(
                ts, self.und, book, lot * self.rng.randint(1, 40), lot * self.rng.randint(1, 40), spread_cents
            )
        )
        return book

    def fill(
        self,
        quote_ts: int,
        ts: int,
        draft: DarkDraft,
        at: PrintAt,
        size: int,
        *,
        venue: Venue = OFF_EXCHANGE,
        off_exchange: bool = True,
        raw: str = "",
        spread_cents: int | None = None,
        offset_e9: int = 0,
    ) -> None:
        """Script a quote at `quote_ts`, then a print at `ts` against it; hold background quotes between."""
        book = self.quote(quote_ts, spread_cents)
        conditions = equity_flags(raw, "utp")
        self.events.append(
            PlannedEquityPrint(ts, self.und, book, at, size, venue, off_exchange, conditions, raw, draft, offset_e9)
        )
        self.holds.append((quote_ts, ts, HOLD_QUOTES))
        if at in ("ask", "above_ask", "bid", "below_bid") and not raw and size >= RULES.stealth_min_print_shares:
            side = "buy" if at in ("ask", "above_ask") else "sell"
            self.counted_until[side] = max(self.counted_until.get(side, 0), ts)

    def plan(self) -> EquityPlan:
        self.events.sort(key=lambda e: e.ts)  # stable: a quote scripted before its print at the same ts stays first
        return EquityPlan(self.events, sorted(self.holds), self.counted_until)


# ---------------------------------------------------------------------------------------- planners


def _round(size: int, rng: random.Random) -> int:
    """Round half of the sizes to hundreds, like the tape."""
    return size if rng.random() < 0.5 else max(100, round(size, -2))


def _price_cents(und: UnderlyingState) -> int:
    return (und.bid_cents + und.ask_cents) // 2


def _lit_venue(rng: random.Random) -> Venue:
    return rng.choices(EQUITY_VENUES, weights=[v.weight for v in EQUITY_VENUES])[0]


def _block_size(price_cents: int, rng: random.Random) -> int:
    """Shares of an absorbed block: at least the share minimum and the notional minimum, with the margin."""
    least = max(RULES.dark_block_min_shares, math.ceil(MIN_BLOCK_CENTS * SIZE_MARGIN / price_cents))
    # Mostly a few times the minimum, now and then a big one: planted volume stays a fraction of the tape's.
    high = least * 4 if rng.random() < 0.9 else max(least * 4, 25_000)
    drawn = round(math.exp(rng.uniform(math.log(least), math.log(high))))
    return max(least, _round(drawn, rng))


def plan_block(name: DarkScenario, und: UnderlyingState, start: int, rng: random.Random) -> EquityPlan:
    """One large print against a planted quote: at its mid, fresh and narrow (absorbed) or a near miss of it."""
    script = _Script(und, rng)
    price = _price_cents(und)
    size = _block_size(price, rng)
    age = rng.randint(NS_PER_MS // 2, 300 * NS_PER_MS)
    venue, off, raw, spread, variant = OFF_EXCHANGE, True, "", None, ""
    if name == "absorbed_block":
        age = rng.randint(NS_PER_MS // 2, MAX_AGE_NS * 4 // 5)
    elif name == "lit_block":
        venue, off = _lit_venue(rng), False
        size = max(size // und.round_lot, 1) * und.round_lot
        variant = f"lit venue {venue.code}"
    elif name == "stale_quote_block":
        age = MAX_AGE_NS + rng.randint(300 * NS_PER_MS, 1_500 * NS_PER_MS)
        variant = f"quote {age / NS_PER_MS:.0f} ms old"
    elif name == "wide_spread_block":
        spread = math.ceil(price * RULES.dark_max_spread_pct / 100 * rng.uniform(1.3, 3.0))
        variant = f"spread {spread} cents"
    elif name == "ineligible_block":
        raw = AVERAGE_PRICE if rng.random() < 0.5 else rng.choice(INELIGIBLE_CODES)
        variant = f"sale condition {raw} {equity_flags(raw, 'utp')}"
    elif name == "block_near_miss":
        most = math.floor(MIN_BLOCK_CENTS / SIZE_MARGIN / price)
        if most >= RULES.dark_block_min_shares and rng.random() < 0.5:
            size = rng.randint(RULES.dark_block_min_shares, most)
            variant = "notional under the minimum"
        else:
            size = rng.randint(RULES.dark_block_min_shares * 3 // 4, RULES.dark_block_min_shares - 1)
            variant = "shares under the minimum"
    draft = DarkDraft(name, und.symbol, "buy", ("absorbed_block",) if name == "absorbed_block" else (), 1, variant)
    script.fill(start, start + age, draft, "mid", size, venue=venue, off_exchange=off, raw=raw, spread_cents=spread)
    return script.plan()


def _run_sizes(count: int, total_at_least: int, low: int, high: int, rng: random.Random) -> list[int]:
    """Return `count` sizes in [low, high] summing to at least `total_at_least`."""
    if count * high < total_at_least:
        raise ValueError(f"{count} prints of at most {high} cannot total {total_at_least}")
    while True:
        sizes = [min(high, max(low, _round(rng.randint(low, high), rng))) for _ in range(count)]
        if sum(sizes) >= total_at_least:
            return sizes


def _gaps(count: int, span_ns: int, rng: random.Random) -> list[int]:
    """Return `count` offsets from 0 (the first) to about `span_ns`, uneven, strictly increasing."""
    weights = [0.2 + rng.random() for _ in range(count - 1)]
    scale = span_ns / sum(weights) if weights else 0.0
    out = [0]
    for w in weights:
        out.append(out[-1] + max(50 * NS_PER_MS, int(w * scale)))
    return out


def _touch(side: str, rng: random.Random) -> tuple[PrintAt, int]:
    """Return where a sided print lands: at the touch, or now and then a fraction of a cent through it."""
    through = rng.random() < 0.2
    offset = rng.randint(1, 99) * E9_PER_CENT // 100 if through else 0
    if side == "buy":
        return ("above_ask" if through else "ask"), offset
    return ("below_bid" if through else "bid"), offset


def _sided_prints(
    script: _Script, draft: DarkDraft, side: str, times: list[int], sizes: list[int], raws: list[str] | None = None
) -> None:
    rng = script.rng
    for i, (ts, size) in enumerate(zip(times, sizes, strict=True)):
        at, offset = _touch(side, rng)
        lead = rng.randint(NS_PER_MS // 5, 40 * NS_PER_MS)
        raw = raws[i] if raws else ""
        script.fill(ts - lead, ts, draft, at, size, raw=raw, offset_e9=offset)


def plan_run(name: DarkScenario, und: UnderlyingState, start: int, rng: random.Random, side: str) -> EquityPlan:
    """Off-exchange prints on one side over seconds: a stealth run, or a near miss of one."""
    script = _Script(und, rng)
    lean: Literal["buy", "sell"] = "buy" if side == "buy" else "sell"
    kind = "stealth_accumulation" if side == "buy" else "distribution"
    small = RULES.stealth_min_print_shares
    need = RULES.stealth_min_prints
    total = RULES.stealth_min_total_shares
    lead = 50 * NS_PER_MS  # room for the first print's quote
    if name in ("stealth_accumulation", "distribution", "cooldown_run"):
        # The first `need` prints reach the total: the inference fires on the last of them; any more follow
        # within the cooldown, so one run gives one inference.
        sizes = _run_sizes(need, total, small * 3, 1_900, rng)
        times = [start + lead + g for g in _gaps(need, rng.randint(2 * NS_PER_S, RUN_SPAN_NS * 2 // 3), rng)]
        extra = rng.randint(0, 3) if name != "cooldown_run" else 0
        for _ in range(extra):
            times.append(times[-1] + rng.randint(NS_PER_S // 2, TRIGGER_TAIL_NS // 5))
            sizes.append(_round(rng.randint(small, 1_900), rng))
        first = DarkDraft(
            "stealth_accumulation" if side == "buy" else "distribution", und.symbol, lean, (kind,), len(sizes)
        )
        if name == "cooldown_run":
            first.variant = "first run of a cooldown pair"
        _sided_prints(script, first, side, times, sizes)
        if name == "cooldown_run":
            # A second complete run, all of it inside the first inference's cooldown: no new inference.
            trigger = times[need - 1]
            count = rng.randint(need, need + 1)
            begin = trigger + rng.randint(NS_PER_S, 8 * NS_PER_S)
            span = min(rng.randint(NS_PER_S, 15 * NS_PER_S), trigger + TRIGGER_TAIL_NS - begin)
            again = [begin + g for g in _gaps(count, span, rng)]
            if again[-1] > trigger + TRIGGER_TAIL_NS:
                raise AssertionError("the second run leaves the cooldown")
            second = DarkDraft(
                "cooldown_run", und.symbol, lean, (), count, f"second run {(begin - trigger) / NS_PER_S:.1f} s "
                "after the first inference, inside its cooldown", context=first,
            )  # fmt: skip
            _sided_prints(script, second, side, again, _run_sizes(count, total, small * 3, 1_900, rng))
        return script.plan()
    if name == "three_print_run":
        sizes = _run_sizes(need - 1, total, total // (need - 1) + 1, 1_999, rng)
        times = [start + lead + g for g in _gaps(need - 1, rng.randint(NS_PER_S, RUN_SPAN_NS), rng)]
        draft = DarkDraft(name, und.symbol, lean, (), len(sizes), f"{need - 1} prints totalling {sum(sizes):,}")
        _sided_prints(script, draft, side, times, sizes)
        return script.plan()
    if name in ("small_print_run", "odd_lot_run"):
        odd = name == "odd_lot_run"
        lot = und.round_lot
        low, high = (1, min(lot, 100) - 1) if odd else (max(100, lot), small - 1)
        if rng.random() < 0.5:
            # Three counted prints reaching the total, and small ones that would make the fourth if counted.
            big = _run_sizes(need - 1, total, total // (need - 1) + 1, 1_999, rng)
            little = [rng.randint(low, high) for _ in range(rng.randint(1, 4))]
            what = "odd lots" if odd else f"under {small} shares"
            variant = f"{need - 1} counted prints ({sum(big):,} shares) and {len(little)} {what}"
        else:
            big = []
            little = [rng.randint(low, high) for _ in range(rng.randint(need, need + 6))]
            variant = f"{len(little)} {'odd lots' if odd else 'prints under 200 shares'} only"
        sizes = big + little
        rng.shuffle(sizes)
        raws = [ODD_LOT if odd and size < min(lot, 100) else "" for size in sizes]
        times = [start + lead + g for g in _gaps(len(sizes), rng.randint(2 * NS_PER_S, RUN_SPAN_NS), rng)]
        draft = DarkDraft(name, und.symbol, lean, (), len(sizes), variant)
        _sided_prints(script, draft, side, times, sizes, raws)
        return script.plan()
    if name == "mixed_side_run":
        buys = rng.randint(1, need - 1)
        sells = rng.randint(max(1, need - buys), need - 1)
        sides = ["buy"] * buys + ["sell"] * sells
        rng.shuffle(sides)
        sizes = _run_sizes(len(sides), total, small * 2, 1_900, rng)
        times = [start + lead + g for g in _gaps(len(sides), rng.randint(2 * NS_PER_S, RUN_SPAN_NS), rng)]
        draft = DarkDraft(name, und.symbol, lean, (), len(sides), f"{buys} at the ask, {sells} at the bid")
        for s, ts, size in zip(sides, times, sizes, strict=True):
            at, offset = _touch(s, rng)
            script.fill(ts - rng.randint(NS_PER_MS // 5, 40 * NS_PER_MS), ts, draft, at, size, offset_e9=offset)
        return script.plan()
    raise ValueError(f"not a run scenario: {name}")


def plan_candle_probe(und: UnderlyingState, window_start: int, rng: random.Random) -> EquityPlan:
    """A known set of prints in one quiet 1 s window: eligible prints around the quote, and ineligible ones
    (an odd lot first, far above; an average-price print last, far below) that move volume only."""
    script = _Script(und, rng)
    count = rng.randint(3, 6)
    lot = und.round_lot
    times = sorted(rng.sample(range(60, 940), count + 2))
    draft = CandleDraft(und.symbol, window_start, count + 2)
    script.holds.append((window_start, window_start + CANDLE_INTERVAL_NS - 1, HOLD_PRINTS))
    odd_ts, *middle, avg_ts = (window_start + ms * NS_PER_MS for ms in times)
    far = rng.randint(25, 60) * E9_PER_CENT
    script.events.append(
        PlannedEquityPrint(
            odd_ts, und, None, "offset", rng.randint(1, min(lot, 100) - 1), _lit_venue(rng), False, ("odd_lot",),
            ODD_LOT, draft, far,
        )
    )  # fmt: skip
    for ts in middle:
        if rng.random() < 0.6:
            at: PrintAt = rng.choice(("bid", "ask", "mid"))
            size = lot * rng.randint(max(1, 100 // lot), 20)
            script.events.append(PlannedEquityPrint(ts, und, None, at, size, _lit_venue(rng), False, (), "", draft))
        else:
            # Off-exchange, under the stealth minimum: inside the spread, sub-penny.
            improve = rng.randint(1, 99) * E9_PER_CENT // 100
            size = rng.randint(100, DARK_SIDE_MAX_SHARES)
            script.events.append(
                PlannedEquityPrint(ts, und, None, "inside", size, OFF_EXCHANGE, True, (), "", draft, improve)
            )
    avg = PlannedEquityPrint(
        avg_ts, und, None, "offset", rng.randint(100, 1_500), OFF_EXCHANGE, True, equity_flags(AVERAGE_PRICE, "utp"),
        AVERAGE_PRICE, draft, -far,
    )  # fmt: skip
    script.events.append(avg)
    return script.plan()

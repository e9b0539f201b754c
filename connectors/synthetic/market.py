"""A deterministic, seeded synthetic market: option chains, NBBO, prints, equity tape and planted flow.

Every random draw comes from `random.Random` instances seeded from `SyntheticConfig.seed`, and time is
event time from `start_ts`: the same config yields the same bytes, ids and labels on every run.

The stream is one Poisson process split over (event kind, underlying) by rate; planted scenarios
(`planted/`: options and, on the equity tape, equities) are scheduled into a heap and merged in event
time. Option prints carry no NBBO:
consumers join them as-of against `OptionNbbo`, and the synthetic market guarantees a quote on the
contract at or before every print.

Reference data comes first: option definitions, prior-day open interest and, for half the contracts, the
volume history the daily baselines job would have computed (`VolumeBaseline`, mean contracts per 5-minute
bucket over 30 sessions), so `unusual_volume`'s 5-minute clause has something to compare with.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect, bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from connectors.settings import Settings
from connectors.synthetic.background import (
    OptionShape,
    contract_activity,
    draw_option_shapes,
    place_cents,
    split_children,
)
from connectors.synthetic.build import (
    PROVIDER,
    check_builders,
    equity_print,
    equity_print_template,
    equity_quote,
    equity_quote_template,
    nbbo_template,
    option_nbbo,
    option_print,
    print_template,
)
from connectors.synthetic.chains import (
    E9_PER_CENT,
    HISTORY_SESSIONS,
    REPRICE_NS,
    Contract,
    UnderlyingState,
    build_underlying,
    draw_history,
    spec_for,
)
from connectors.synthetic.pacing import iter_paced
from connectors.synthetic.planted import (
    DARK_SIDE_MAX_SHARES,
    FIRST_SCENARIO,
    NEVER,
    SCENARIOS,
    STRUCTURE_QUIET_NS,
    CandleLabel,
    DarkLabel,
    EquityDesk,
    Plan,
    PlannedEquity,
    PlannedEquityQuote,
    PlantedLabel,
    ScenarioName,
    Scheduled,
    ScheduledPrint,
    ScheduledQuote,
    plan_scenario,
)
from connectors.synthetic.venues import EQUITY_VENUES, OFF_EXCHANGE, Venue, weighted_table
from events.baselines import volume_baseline_id
from events.calendar import close_ns, open_ns, session_date
from events.ids import raw_event_id
from events.models import OpenInterest, OptionDefinition, RawEvent, VolumeBaseline
from events.topics import REFDATA_OPTIONS
from events.units import NS_PER_MS, NS_PER_S, NS_PER_US

__all__ = [
    "DEFAULT_START_TS",
    "CandleLabel",
    "DarkLabel",
    "PlantedLabel",
    "SyntheticConfig",
    "SyntheticMarket",
    "iter_paced",
]

Profile = Literal["realistic", "active", "firehose"]

DEFAULT_START_TS: Final = 1_772_461_800 * NS_PER_S
"""2026-03-02 14:30:00 UTC: the 09:30 New York open of a Monday."""


@dataclass(frozen=True, slots=True)
class _ProfileSpec:
    rate_scale: float
    plant_every_s: float


PROFILES: Final[dict[str, _ProfileSpec]] = {
    "realistic": _ProfileSpec(rate_scale=1.0, plant_every_s=12.0),
    "active": _ProfileSpec(rate_scale=10.0, plant_every_s=6.0),
    "firehose": _ProfileSpec(rate_scale=100.0, plant_every_s=3.0),
}

# Background events per second for the default universe (activity weights sum to 1) at rate scale 1.
_OPTION_QUOTE, _OPTION_PRINT, _EQUITY_QUOTE, _EQUITY_PRINT = range(4)
BASE_RATES_PER_S: Final[dict[int, float]] = {
    _OPTION_QUOTE: 150.0,
    _OPTION_PRINT: 45.0,
    _EQUITY_QUOTE: 60.0,
    _EQUITY_PRINT: 45.0,
}

PLAN_LOOKAHEAD_NS: Final = 250 * NS_PER_MS
"""Scenarios are drawn this long before they start, so the contract is quiet before and during them."""
FIRST_PLANT_WINDOW_S: Final = (1.5, 4.0)
"""The first underlying's first scenario starts in this window, so a live demo alerts within seconds."""
MAX_PLAN_MISSES: Final = 4
"""A scenario kind that fits nowhere this many times is dropped from the current bag (e.g. 0DTE on AAPL)."""
RECENTER_NS: Final = 30 * NS_PER_S
"""How often background activity follows the spot to the strikes now near the money."""
QUOTE_REFRESH_NS: Final = 1 * NS_PER_S
"""A print on a contract whose quote is older than this is preceded by a fresh quote."""
OFF_EXCHANGE_PRINT_SHARE: Final = 0.35
"""Share of equity prints reported off-exchange (about 40% of share volume with the sizes below)."""
_TABLE: Final = 4096

_NO_CONDITIONS: Final[tuple[str, ...]] = ()
_ODD_LOT: Final[tuple[str, ...]] = ("odd_lot",)
_ISO: Final[tuple[str, ...]] = ("iso",)


@dataclass(frozen=True)
class SyntheticConfig:
    """What to simulate: seed, intensity, universe and the event-time session window."""

    seed: int = 7
    profile: Profile = "realistic"
    underlyings: tuple[str, ...] = ("SPY", "QQQ", "AAPL", "NVDA", "TSLA")
    start_ts: int = DEFAULT_START_TS
    duration_s: float = 60.0
    plant_every_s: float | None = None
    """Mean seconds between planted scenarios per underlying; None: the profile's value."""
    equity_scenarios: bool = True
    """Plant labeled off-exchange scenarios and candle probes on the equity tape (`planted/equities.py`).

    Either way the option events are the same but for ids, sequence numbers and receive times."""

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {self.profile!r}")
        if not self.underlyings:
            raise ValueError("underlyings must not be empty")
        for symbol in self.underlyings:
            if not (0 < len(symbol) <= 6 and symbol.isalnum() and symbol.isupper()):
                raise ValueError(f"underlying must be 1-6 upper-case alphanumerics (an OSI root): {symbol!r}")
        if len(set(self.underlyings)) != len(self.underlyings):
            raise ValueError(f"duplicate underlyings: {self.underlyings}")
        if self.start_ts <= 0:
            raise ValueError("start_ts must be positive nanoseconds since the epoch")
        if not 1.0 <= self.duration_s < math.inf:
            raise ValueError(f"duration_s must be finite and at least 1 s, got {self.duration_s}")
        if self.plant_every_s is not None and not self.plant_every_s > 0:
            raise ValueError(f"plant_every_s must be positive, got {self.plant_every_s}")

    @classmethod
    def from_settings(cls, settings: Settings, duration_s: float | None = None) -> SyntheticConfig:
        """Build the config from `FLOWTAPE_SYNTHETIC_*` settings (seed, profile, universe, duration)."""
        return cls(
            seed=settings.synthetic_seed,
            profile=settings.synthetic_profile,
            underlyings=settings.universe,
            duration_s=settings.synthetic_duration_s if duration_s is None else duration_s,
        )

    @property
    def plant_interval_s(self) -> float:
        """Return the mean seconds between planted scenarios per underlying."""
        return self.plant_every_s if self.plant_every_s is not None else PROFILES[self.profile].plant_every_s

    @property
    def rate_scale(self) -> float:
        """Return the profile's event-rate multiplier (realistic = 1)."""
        return PROFILES[self.profile].rate_scale

    @property
    def end_ts(self) -> int:
        """Return the end of the session in nanoseconds (exclusive)."""
        return self.start_ts + round(self.duration_s * NS_PER_S)


class SyntheticMarket:
    """Generate the raw events of a synthetic session and the ground truth of what was planted in it."""

    def __init__(self, config: SyntheticConfig, *, keep_truth: bool = True) -> None:
        """`keep_truth=False` keeps no ground truth (the labels): what a long run that only wants the tape (the
        memory benchmark, a replay) should ask for, since the truth of a session grows with its length."""
        check_builders()
        self._config = config
        self._keep_truth = keep_truth
        self._labels: list[PlantedLabel] = []
        self._dark_labels: list[DarkLabel] = []
        self._candle_labels: list[CandleLabel] = []

    @property
    def config(self) -> SyntheticConfig:
        return self._config

    @property
    def labels(self) -> list[PlantedLabel]:
        """Return the planted scenarios of the latest `events()` run, by start time; complete once exhausted."""
        self._check_truth()
        return sorted(self._labels, key=lambda label: (label.ts_start, label.symbol))

    @property
    def dark_labels(self) -> list[DarkLabel]:
        """Return the planted off-exchange scenarios of the latest run (classifiers: `DARK_CLASSIFIERS`), by start."""
        self._check_truth()
        return sorted(self._dark_labels, key=lambda label: (label.ts_start, label.symbol))

    @property
    def candle_labels(self) -> list[CandleLabel]:
        """Return the expected 1 s candles of the latest run's probe windows, by window start."""
        self._check_truth()
        return sorted(self._candle_labels, key=lambda label: (label.ts_start, label.underlying))

    def _check_truth(self) -> None:
        if not self._keep_truth:
            raise RuntimeError("this SyntheticMarket was built with keep_truth=False: it keeps no ground truth")

    def refdata(self) -> list[OptionDefinition | OpenInterest | VolumeBaseline]:
        """Return the option definitions, prior-day open interest and, for contracts with history, their
        5-minute volume baselines (`VolumeBaseline`), stamped at `start_ts`."""
        return _Run(self._config).refdata()

    def events(self) -> Iterator[RawEvent]:
        """Return a generator of refdata, then quotes and prints of every kind in event time.

        Ties in ts_event keep emission order (the sequence). Each call starts a fresh, identical run.
        """
        run = _Run(self._config, self._keep_truth)
        self._labels = run.labels
        self._dark_labels = run.dark_labels
        self._candle_labels = run.candle_labels
        return run.stream()


def _mixture_table(rng: random.Random, size: int, mixture: list[tuple[float, int, int]]) -> list[int]:
    """Return `size` integers drawn from a mixture of uniform ranges: (probability, low, high)."""
    out: list[int] = []
    for _ in range(size):
        u = rng.random()
        for p, low, high in mixture:
            if u < p:
                out.append(rng.randint(low, high))
                break
            u -= p
        else:
            out.append(mixture[-1][1])
    return out


@dataclass(frozen=True, slots=True)
class _Shapes:
    """Independent draws precomputed into tables, so the hot loop takes one random index per choice."""

    option_orders: list[OptionShape]
    """Background option orders (`background.py`)."""
    quote_sizes: list[tuple[int, int]]
    """(bid, ask) displayed contracts of option quotes."""
    equity_lots: list[int]
    """Displayed round lots of equity quotes."""
    lit_lots: list[int]
    """Round lots of lit equity prints; 0 means an odd lot."""
    dark_sizes: list[int]
    """Shares of off-exchange prints: retail and small institutional child orders, under 2,000 shares. Blocks are
    patterns (the planted library's absorbed blocks): a background midpoint block would be one no label states."""
    equity_venues: tuple[Venue, ...]


def _draw_shapes(rng: random.Random) -> _Shapes:
    orders = draw_option_shapes(rng, _TABLE)
    displayed = _mixture_table(rng, 2 * _TABLE, [(0.6, 1, 50), (0.3, 51, 250), (0.1, 251, 1000)])
    return _Shapes(
        option_orders=orders,
        quote_sizes=list(zip(displayed[::2], displayed[1::2], strict=True)),
        equity_lots=_mixture_table(rng, _TABLE, [(0.6, 1, 5), (0.3, 6, 20), (0.1, 21, 60)]),
        lit_lots=_mixture_table(rng, _TABLE, [(0.45, 0, 0), (0.45, 1, 5), (0.10, 6, 30)]),
        dark_sizes=_mixture_table(rng, _TABLE, [(0.55, 1, 99), (0.37, 100, 500), (0.08, 501, 1999)]),
        equity_venues=weighted_table(EQUITY_VENUES, _TABLE),
    )


class _Run:
    """The mutable state of one pass over the session."""

    def __init__(self, config: SyntheticConfig, keep_truth: bool = True) -> None:
        self.config = config
        self.keep_truth = keep_truth
        seed = config.seed
        chain_rng = random.Random(f"flowtape.synthetic:{seed}:chain")
        self.tape = random.Random(f"flowtape.synthetic:{seed}:tape")
        self.plant = random.Random(f"flowtape.synthetic:{seed}:plant")
        self.underlyings: list[UnderlyingState] = []
        first_contract = 0
        for i, symbol in enumerate(config.underlyings):
            und = build_underlying(spec_for(symbol, chain_rng), i, config.start_ts, first_contract, chain_rng)
            und.quote_template = equity_quote_template(symbol)
            und.print_template = equity_print_template(symbol)
            for c in und.contracts:
                c.nbbo_template = nbbo_template(c.symbol, c.underlying)
                c.print_template = print_template(c.symbol, c.underlying, c.expiry, c.right, c.strike_e9)
            first_contract += len(und.contracts)
            self.underlyings.append(und)
        # Per-contract arrival rates from their own random stream: a few busy contracts, many quiet ones.
        busy = random.Random(f"flowtape.synthetic:{seed}:activity")
        factor: dict[str, float] = {}
        for und in self.underlyings:
            for c in und.contracts:
                factor[c.symbol] = contract_activity(busy)
                c.base_activity *= factor[c.symbol]
            und.recenter(config.start_ts)
        # Volume history from its own random stream: the chains, the tape and the plans draw as before.
        history = random.Random(f"flowtape.synthetic:{seed}:history")
        session_open = open_ns(session_date(config.start_ts))
        for und in self.underlyings:
            for c in und.contracts:
                c.session_open_ns = session_open
                # The daily job saw how the contract trades: a busy contract's history is busy too.
                c.history = draw_history(c.open_interest, config.rate_scale, history, factor[c.symbol])
        # Capture latency (ts_recv - ts_event): tens of microseconds, sometimes a couple of milliseconds.
        self.latency = _mixture_table(self.tape, 1024, [(0.9, 20_000, 300_000), (0.1, 300_001, 2_000_000)])
        self.labels: list[PlantedLabel] = []
        self.seq = 0
        self.heap: list[tuple[int, int, Scheduled | PlannedEquity]] = []
        self.dark_labels: list[DarkLabel] = []
        self.candle_labels: list[CandleLabel] = []
        self.published_mid_e9 = [0] * len(self.underlyings)
        """The mid of each underlying's quote in force (background or planted), which the walk can run ahead of."""
        # Its own random stream: equity plans never shift the options' draws.
        self.desk = (
            EquityDesk(
                self.underlyings, config.start_ts, config.end_ts, config.plant_interval_s,
                random.Random(f"flowtape.synthetic:{seed}:equities"),
            )
            if config.equity_scenarios
            else None
        )  # fmt: skip
        self.pushed = 0
        self.planted_ts: list[list[int]] = [[] for _ in self.underlyings]
        """Per underlying: the times of planted option prints still near enough to matter, in order."""
        self.t = config.start_ts
        """The last background print's time after `_order`."""
        self.orders: list[OptionShape] = []
        self.quote_sizes: list[tuple[int, int]] = []
        self.bag: list[ScenarioName] = [FIRST_SCENARIO]
        self.misses: dict[ScenarioName, int] = {}

    # ------------------------------------------------------------------------------------- refdata

    def refdata(self) -> list[OptionDefinition | OpenInterest | VolumeBaseline]:
        start = self.config.start_ts
        previous = session_date(start) - timedelta(days=1)
        while previous.weekday() >= 5:
            previous -= timedelta(days=1)
        ts_ref = close_ns(previous)
        out: list[OptionDefinition | OpenInterest | VolumeBaseline] = []
        for und in self.underlyings:
            for c in und.contracts:
                self.seq += 1
                out.append(
                    OptionDefinition(
                        id=raw_event_id(PROVIDER, REFDATA_OPTIONS, c.symbol, start, self.seq),
                        ts_event=start,
                        symbol=c.symbol,
                        underlying=c.underlying,
                        root=c.root,
                        expiry=c.expiry,
                        right=c.right,
                        strike_e9=c.strike_e9,
                        provider=PROVIDER,
                        multiplier=100,
                        instrument_id=c.index + 1,
                    )
                )
                self.seq += 1
                out.append(
                    OpenInterest(
                        id=raw_event_id(PROVIDER, REFDATA_OPTIONS, c.symbol, start, self.seq),
                        ts_event=start,
                        provider=PROVIDER,
                        symbol=c.symbol,
                        underlying=c.underlying,
                        open_interest_contracts=c.open_interest,
                        ts_ref=ts_ref,
                    )
                )
                if c.history is not None:
                    # What `flowtape baselines build` would have made of the last 30 sessions (same id rule). Its
                    # id takes no sequence number, so the tape's ids are the same with or without history.
                    out.append(
                        VolumeBaseline(
                            id=volume_baseline_id("contract", c.symbol, previous, HISTORY_SESSIONS),
                            ts_event=start,
                            scope="contract",
                            subject=c.symbol,
                            underlying=c.underlying,
                            as_of=previous,
                            sessions=HISTORY_SESSIONS,
                            day_volume_mean=round(sum(c.history), 4),
                            bucket_volume_mean=c.history,
                        )
                    )
        return out

    # -------------------------------------------------------------------------------------- stream

    def stream(self) -> Iterator[RawEvent]:
        """Yield the whole session. Lookups are hoisted into locals: this loop runs per event."""
        yield from self.refdata()
        cfg = self.config
        tape = self.tape
        rand = tape.random
        gauss = tape.gauss
        log = math.log
        sqrt = math.sqrt
        e9c = E9_PER_CENT
        latency = self.latency
        heap = self.heap

        shapes = _draw_shapes(tape)
        self.orders = shapes.option_orders
        self.quote_sizes = shapes.quote_sizes
        orders = shapes.option_orders
        quote_sizes = shapes.quote_sizes
        eq_lots = shapes.equity_lots
        lit_lots = shapes.lit_lots
        dark_sizes = shapes.dark_sizes
        eq_venues = shapes.equity_venues
        off_venue, off_venue_id = OFF_EXCHANGE.code, OFF_EXCHANGE.venue_id

        # One Poisson stream split by rate over (kind, underlying).
        kinds: list[int] = []
        unds: list[UnderlyingState] = []
        cum: list[float] = []
        total_rate = 0.0
        for und in self.underlyings:
            for kind, rate in BASE_RATES_PER_S.items():
                total_rate += rate * cfg.rate_scale * und.spec.activity_weight
                kinds.append(kind)
                unds.append(und)
                cum.append(total_rate)
        mean_gap_ns = NS_PER_S / total_rate

        # Opening snapshot: every contract's NBBO, 1 microsecond apart, so every print has a quote.
        t = cfg.start_ts
        for und in self.underlyings:
            spot = und.model_spot
            for c in und.contracts:
                if c.close_ns <= t:
                    continue  # a session that opens after an expiry's close does not list it
                t += NS_PER_US
                bid, ask = c.requote(spot, t, rand())
                c.quote_key = und.bid_cents
                yield self._quote(t, c, bid * e9c, ask * e9c, *quote_sizes[int(rand() * _TABLE)])
        for und in self.underlyings:
            yield self._equity_quote(t, und, eq_lots)

        end = cfg.end_ts
        seq = self.seq  # a local in the hot loop; written back around the emitters that also count
        due = self._first_plants()
        desk = self.desk
        quote_hold_from = desk.quote_hold_from if desk else [NEVER] * len(self.underlyings)
        print_hold_from = desk.print_hold_from if desk else [NEVER] * len(self.underlyings)
        published_mid = self.published_mid_e9
        next_plan = min(min(due) - PLAN_LOOKAHEAD_NS, desk.next_plan_ts if desk else end)
        next_recenter = t + RECENTER_NS
        horizon = min(end, next_plan, next_recenter)  # when anything but background happens next
        while True:
            t += int(-log(1.0 - rand()) * mean_gap_ns) + 1
            if t >= horizon:
                if t >= end:
                    break
                if t >= next_recenter:
                    for und in self.underlyings:
                        und.recenter(t)
                    next_recenter = t + RECENTER_NS
                if t >= next_plan:
                    next_plan = self._plan(t, due)
                    if desk:
                        next_plan = min(next_plan, self._plan_equities(desk, t))
                if heap and heap[0][0] <= t:
                    self.seq = seq
                    yield from self._flush(t)
                    seq = self.seq
                horizon = min(end, next_plan, next_recenter, heap[0][0] if heap else end)
            k = bisect(cum, rand() * total_rate)
            kind = kinds[k]
            und = unds[k]

            if kind <= _OPTION_PRINT:
                activity = und.cum_activity
                c = und.contracts[bisect(activity, rand() * activity[-1])]
                if c.blocked_until > t or c.close_ns <= t:
                    continue  # a planted scenario owns the contract, or it expired
                if kind == _OPTION_QUOTE or t - c.quote_ts > QUOTE_REFRESH_NS:
                    key = und.bid_cents
                    if key != c.quote_key or t - c.ref_ts > REPRICE_NS:
                        bid, ask = c.requote(key * 0.01 + 0.005, t, rand())
                        c.quote_key = key
                        bid_e9 = c.bid_e9 = bid * e9c
                        ask_e9 = c.ask_e9 = ask * e9c
                    else:
                        # Same underlying, same model price: most NBBO updates only change sizes.
                        bid_e9 = c.bid_e9
                        ask_e9 = c.ask_e9
                    bid_size, ask_size = quote_sizes[int(rand() * _TABLE)]
                    c.bid_size = bid_size
                    c.ask_size = ask_size
                    c.quote_ts = t
                    seq += 1
                    yield option_nbbo(c.nbbo_template, seq, t, t + latency[seq & 1023], bid_e9, ask_e9, bid_size,
                                      ask_size)  # fmt: skip
                    if kind == _OPTION_QUOTE:
                        continue
                    # The trade follows its quote by tens of microseconds to a couple of milliseconds.
                    t += latency[int(rand() * 1024)]
                    if t >= end:
                        break
                    if heap and heap[0][0] <= t:
                        self.seq = seq
                        yield from self._flush(t)
                        seq = self.seq
                else:
                    bid_e9 = c.bid_e9
                    ask_e9 = c.ask_e9
                self.seq = seq
                yield from self._order(und, c, t, orders[int(rand() * _TABLE)], bid_e9, ask_e9)
                seq = self.seq
                t = self.t
                if t >= end:
                    break

            elif kind == _EQUITY_QUOTE:
                # Penny-tick random walk of the bid with the underlying's volatility over the elapsed time.
                var = und.variance_cents_per_ns * (t - und.walk_ts)
                und.walk_ts = t
                if var >= 1.0:
                    move = round(gauss(0.0, sqrt(var)))
                else:
                    u = rand()
                    move = 1 if u < var * 0.5 else (-1 if u < var else 0)
                bid_c = und.bid_cents
                if move and bid_c + move > 100:
                    bid_c = und.bid_cents = bid_c + move
                ticks = und.spec.equity_spread_ticks
                ask_c = und.ask_cents = bid_c + ticks[int(rand() * len(ticks))]
                und.mid_e9 = (bid_c + ask_c) * e9c // 2
                lot = und.round_lot
                bid_size = lot * eq_lots[int(rand() * _TABLE)]
                ask_size = lot * eq_lots[int(rand() * _TABLE)]
                if t >= quote_hold_from[und.index] and desk and desk.quote_held(und.index, t):
                    continue  # drawn but not published: a planted quote is in force
                seq += 1
                published_mid[und.index] = und.mid_e9
                yield equity_quote(
                    und.quote_template, seq, t, t + latency[seq & 1023], bid_c * e9c, ask_c * e9c, bid_size, ask_size
                )

            else:
                bid_c = und.bid_cents
                ask_c = und.ask_cents
                lot = und.round_lot
                u = rand()
                if rand() < OFF_EXCHANGE_PRINT_SHARE:
                    size = dark_sizes[int(rand() * _TABLE)]
                    if u < 0.45:
                        price = (bid_c + ask_c) * e9c // 2  # midpoint: half-penny when the spread is odd
                    elif u < 0.80:
                        # Price improvement in hundredths of a cent, inside the spread.
                        improve = int(rand() * 99 + 1) * e9c // 100
                        price = bid_c * e9c + improve if rand() < 0.5 else ask_c * e9c - improve
                    else:
                        price = (bid_c if u < 0.9 else ask_c) * e9c
                    if size > DARK_SIDE_MAX_SHARES:
                        # Only planted runs put sizeable off-exchange prints on a side (planted/equities.py): these
                        # print at the mid of the quote in force, which a planted quote may have replaced.
                        price = published_mid[und.index]
                    odd = size < lot
                    if t >= print_hold_from[und.index] and desk and desk.print_held(und.index, t):
                        continue  # drawn but not published: a candle probe owns the window
                    seq += 1
                    yield equity_print(
                        und.print_template, seq, t, t + latency[seq & 1023], off_venue, off_venue_id, True, price,
                        size, _ODD_LOT if odd else _NO_CONDITIONS, "I" if odd else "",
                    )  # fmt: skip
                else:
                    lots = lit_lots[int(rand() * _TABLE)]
                    size = lots * lot if lots else 1 + int(rand() * (lot - 1))
                    if u < 0.45:
                        price = bid_c * e9c
                    elif u < 0.9:
                        price = ask_c * e9c
                    else:
                        price = (bid_c + ask_c) * e9c // 2
                    if size < lot:
                        conditions, raw = _ODD_LOT, "I"
                    elif rand() < 0.05:
                        conditions, raw = _ISO, "F"
                    else:
                        conditions, raw = _NO_CONDITIONS, ""
                    venue = eq_venues[int(rand() * _TABLE)]
                    if t >= print_hold_from[und.index] and desk and desk.print_held(und.index, t):
                        continue
                    seq += 1
                    yield equity_print(
                        und.print_template, seq, t, t + latency[seq & 1023], venue.code, venue.venue_id, False,
                        price, size, conditions, raw,
                    )  # fmt: skip
        self.seq = seq
        yield from self._flush(end)
        if heap:
            raise AssertionError("a planted scenario was scheduled past the end of the session")

    # ----------------------------------------------------------------------------------- emitters

    def _order(
        self, und: UnderlyingState, c: Contract, t: int, order: OptionShape, bid_e9: int, ask_e9: int
    ) -> Iterator[RawEvent]:
        """Emit one background order on `c` at `t` (one print, or child fills on several venues), then, if the order
        says so, a coincidental print on another contract of the underlying; leave `self.t` at the last print."""
        end = self.config.end_ts
        bid, ask = bid_e9 // E9_PER_CENT, ask_e9 // E9_PER_CENT
        price_c = place_cents(order.placement, bid, ask, order.inside, c.tick_up(ask), c.tick_down(bid))
        price = price_c * E9_PER_CENT
        sizes = split_children(order.size_at(price, price_c), len(order.venues), self.tape)
        for k, size in enumerate(sizes):
            if k:
                t += order.child_gaps_ns[k - 1]
                if t >= end or c.blocked_until > t:
                    break
            yield from self._flush(t)
            venue = order.venues[k]
            yield self._print(
                t, und, c, venue.code, venue.venue_id, price, size, order.conditions, order.raw_conditions
            )
        if order.pair_gap_ns:
            t2 = t + order.pair_gap_ns
            activity = und.cum_activity
            other = und.contracts[bisect(activity, self.tape.random() * activity[-1])]
            if t2 < end and other is not c and other.blocked_until <= t2 and other.close_ns > t2:
                yield from self._flush(t2)
                if t2 - other.quote_ts > QUOTE_REFRESH_NS:
                    yield self._refresh(und, other, t2)
                    t2 += self.latency[int(self.tape.random() * 1024)]
                if t2 < end:
                    yield from self._flush(t2)
                    follow = self.orders[int(self.tape.random() * _TABLE)]
                    b, a = other.bid_e9 // E9_PER_CENT, other.ask_e9 // E9_PER_CENT
                    pc = place_cents(follow.placement, b, a, follow.inside, other.tick_up(a), other.tick_down(b))
                    venue = follow.venues[0]
                    yield self._print(
                        t2, und, other, venue.code, venue.venue_id, pc * E9_PER_CENT,
                        follow.size_at(pc * E9_PER_CENT, pc), follow.conditions, follow.raw_conditions,
                    )  # fmt: skip
                    t = t2
        self.t = t

    def _print(
        self, t: int, und: UnderlyingState, c: Contract, venue_code: str, venue_id: str, price_e9: int, size: int,
        conditions: tuple[str, ...], raw: str,
    ) -> RawEvent:  # fmt: skip
        c.record_print(t, size)
        self.seq += 1
        seq = self.seq
        return option_print(
            c.print_template, seq, t, t + self.latency[seq & 1023], venue_code, venue_id, price_e9, size, conditions,
            raw,
        )  # fmt: skip

    def _refresh(self, und: UnderlyingState, c: Contract, t: int) -> RawEvent:
        """Requote a contract from the model at the underlying's current bid (a background quote)."""
        rand = self.tape.random
        key = und.bid_cents
        bid, ask = c.requote(key * 0.01 + 0.005, t, rand())
        c.quote_key = key
        bid_size, ask_size = self.quote_sizes[int(rand() * _TABLE)]
        return self._quote(t, c, bid * E9_PER_CENT, ask * E9_PER_CENT, bid_size, ask_size)

    def _quote(self, t: int, c: Contract, bid_e9: int, ask_e9: int, bid_size: int, ask_size: int) -> RawEvent:
        c.bid_e9 = bid_e9
        c.ask_e9 = ask_e9
        c.bid_size = bid_size
        c.ask_size = ask_size
        c.quote_ts = t
        self.seq += 1
        seq = self.seq
        return option_nbbo(c.nbbo_template, seq, t, t + self.latency[seq & 1023], bid_e9, ask_e9, bid_size, ask_size)

    def _equity_quote(self, t: int, und: UnderlyingState, lots: list[int]) -> RawEvent:
        rand = self.tape.random
        ticks = und.spec.equity_spread_ticks
        und.ask_cents = und.bid_cents + ticks[int(rand() * len(ticks))]
        und.mid_e9 = (und.bid_cents + und.ask_cents) * E9_PER_CENT // 2
        self.published_mid_e9[und.index] = und.mid_e9
        self.seq += 1
        seq = self.seq
        lot = und.round_lot
        return equity_quote(
            und.quote_template, seq, t, t + self.latency[seq & 1023], und.bid_cents * E9_PER_CENT,
            und.ask_cents * E9_PER_CENT, lot * lots[int(rand() * _TABLE)], lot * lots[int(rand() * _TABLE)],
        )  # fmt: skip

    def _flush(self, upto: int) -> Iterator[RawEvent]:
        """Emit scheduled scenario events with ts <= `upto`."""
        heap = self.heap
        while heap and heap[0][0] <= upto:
            _, _, item = heapq.heappop(heap)
            if not isinstance(item, Scheduled):
                yield self._planted_equity(item)
                continue
            c = item.contract
            if isinstance(item, ScheduledQuote):
                yield self._quote(item.ts, c, item.bid_e9, item.ask_e9, item.bid_size, item.ask_size)
                continue
            c.record_print(item.ts, item.size)
            self.seq += 1
            seq = self.seq
            event = option_print(
                c.print_template, seq, item.ts, item.ts + self.latency[seq & 1023], item.venue.code,
                item.venue.venue_id, item.price_e9, item.size, item.conditions, item.raw_conditions,
            )  # fmt: skip
            labels = item.record(event.id)  # its label, and the structure label of a leg
            if self.keep_truth:
                self.labels.extend(labels)
            yield event

    def _planted_equity(self, item: PlannedEquity) -> RawEvent:
        self.seq += 1
        seq = self.seq
        und = item.und
        ts_recv = item.ts + self.latency[seq & 1023]
        if isinstance(item, PlannedEquityQuote):
            bid_e9, ask_e9 = item.resolve()
            self.published_mid_e9[und.index] = (bid_e9 + ask_e9) // 2
            return equity_quote(und.quote_template, seq, item.ts, ts_recv, bid_e9, ask_e9, item.bid_size, item.ask_size)
        event = equity_print(
            und.print_template, seq, item.ts, ts_recv, item.venue.code, item.venue.venue_id, item.off_exchange,
            item.resolve(), item.size, item.conditions, item.raw_conditions,
        )  # fmt: skip
        label = item.record(event)
        if not self.keep_truth or label is None:
            return event
        if isinstance(label, DarkLabel):
            self.dark_labels.append(label)
        else:
            self.candle_labels.append(label)
        return event

    # ---------------------------------------------------------------------------------- planting

    def _plan_equities(self, desk: EquityDesk, now: int) -> int:
        """Plan the equity scenarios due within the lookahead; return when to look again."""
        for item in desk.plan(now):
            self.pushed += 1
            heapq.heappush(self.heap, (item.ts, self.pushed, item))
        return desk.next_plan_ts

    def _first_plants(self) -> list[int]:
        cfg = self.config
        rng = self.plant
        every = cfg.plant_interval_s
        due: list[int] = []
        for i in range(len(self.underlyings)):
            low, high = FIRST_PLANT_WINDOW_S if i == 0 else (1.0, 1.0 + every)
            due.append(cfg.start_ts + round(rng.uniform(low, high) * NS_PER_S))
        return due

    def _near_planted(self, i: int, plan: Plan, now: int) -> bool:
        """Return whether a print of the plan comes within `STRUCTURE_QUIET_NS` of another plan's on the underlying.

        Two scenarios' packets that close together could form a structure neither label states: planted patterns on
        one underlying stay apart by more than the structure window.
        """
        planted = self.planted_ts[i]
        del planted[: bisect_left(planted, now - STRUCTURE_QUIET_NS)]
        for item in plan.events:
            if isinstance(item, ScheduledPrint):
                k = bisect_left(planted, item.ts - STRUCTURE_QUIET_NS)
                if k < len(planted) and planted[k] <= item.ts + STRUCTURE_QUIET_NS:
                    return True
        return False

    def _plan(self, now: int, due: list[int]) -> int:
        """Plan every scenario due within the lookahead; return when to look again."""
        cfg = self.config
        rng = self.plant
        every_ns = cfg.plant_interval_s * NS_PER_S
        for i, und in enumerate(self.underlyings):
            if due[i] - PLAN_LOOKAHEAD_NS > now:
                continue
            start = max(due[i], now + PLAN_LOOKAHEAD_NS)
            if not self.bag:
                # Draw scenario kinds from a shuffled bag, so even a short session shows every kind.
                self.bag = list(SCENARIOS)
                rng.shuffle(self.bag)
                self.misses.clear()
            name = self.bag.pop()
            plan = plan_scenario(name, und, start, rng)
            if plan is None or plan.last_ts >= cfg.end_ts or self._near_planted(i, plan, now):
                # Nothing fits now (or it would run past the end): try again shortly, and give the kind another
                # chance later in this bag (on another underlying, or once a contract fits) before dropping it.
                due[i] = start + NS_PER_S // 2
                self.misses[name] = self.misses.get(name, 0) + 1
                if self.misses[name] <= MAX_PLAN_MISSES:
                    self.bag.insert(0, name)
                continue
            for contract, until in plan.holds.values():
                contract.blocked_until = max(contract.blocked_until, until)
            for label in plan.labels:
                contract = plan.holds[label.symbol][0]
                contract.last_scenario_end = max(contract.last_scenario_end, label.ts_end)
            for item in plan.events:
                self.pushed += 1
                heapq.heappush(self.heap, (item.ts, self.pushed, item))
                if isinstance(item, ScheduledPrint):
                    insort(self.planted_ts[i], item.ts)
            due[i] = start + round(rng.uniform(0.5, 1.5) * every_ns)
        return min(due) - PLAN_LOOKAHEAD_NS

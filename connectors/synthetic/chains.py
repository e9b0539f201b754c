"""Underlyings, option chains and the pricing model of the synthetic market.

Everything here is deterministic given a `random.Random`; nothing reads the clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from hashlib import blake2b
from typing import Final

from connectors.synthetic.build import Template
from events.calendar import BUCKET_NS, SESSION_BUCKETS, close_ns, session_date
from events.config import OptionsConfig
from events.symbology import Right, format_occ
from events.units import NS_PER_S, price_e9

E9_PER_CENT: Final = 10_000_000
RATE: Final = 0.04
"""Risk-free rate of the pricing model (annual, continuous)."""
NS_PER_YEAR: Final = 365 * 86_400 * NS_PER_S
TRADING_S_PER_YEAR: Final = 252 * 6.5 * 3600
REPRICE_NS: Final = 5 * NS_PER_S
"""Full Black-Scholes repricing at least this often per contract; a delta step in between."""
MIN_EXPIRY_NS: Final = 60 * NS_PER_S
"""Floor on time to expiry, so a 0DTE contract still has a price after the close."""
STRIKES_EACH_SIDE: Final = 15
FAR_STRIKES_EACH_SIDE: Final = 10
FAR_DTE: Final = 60
_NO_TEMPLATE: Final = Template(values={}, id_prefix=blake2b(digest_size=16))
PACKET_GAP_NS: Final = OptionsConfig.model_construct().packet_gap_ns
"""Prints on one contract closer than this may share a packet downstream (default `packet_gap_ms`)."""
"""Placeholder until the market attaches the instrument's event templates."""


@dataclass(frozen=True, slots=True)
class UnderlyingSpec:
    """How one underlying trades: start price, volatility, strike grid, spreads and activity."""

    symbol: str
    start_price_cents: int
    vol: float
    strike_step_e9: int
    far_strike_step_e9: int
    daily_expiries: bool
    penny_all: bool
    option_half_spread_ratio: float
    equity_spread_ticks: tuple[int, ...]
    activity_weight: float
    open_interest_scale: int


def _spec(
    symbol: str,
    price: str,
    vol: float,
    step: str,
    far_step: str,
    *,
    daily: bool = False,
    penny_all: bool = False,
    half_spread: float = 0.01,
    spread_ticks: tuple[int, ...] = (1,) * 9 + (2,),
    weight: float = 0.1,
    oi_scale: int = 5_000,
) -> UnderlyingSpec:
    return UnderlyingSpec(
        symbol=symbol,
        start_price_cents=price_e9(price) // E9_PER_CENT,
        vol=vol,
        strike_step_e9=price_e9(step),
        far_strike_step_e9=price_e9(far_step),
        daily_expiries=daily,
        penny_all=penny_all,
        option_half_spread_ratio=half_spread,
        equity_spread_ticks=spread_ticks,
        activity_weight=weight,
        open_interest_scale=oi_scale,
    )


# SPY and QQQ list expiries every weekday and quote in pennies at every price (penny interval program);
# the single names quote in pennies below $3 and nickels above.
KNOWN_SPECS: Final[dict[str, UnderlyingSpec]] = {
    s.symbol: s
    for s in (
        _spec("SPY", "580.00", 0.15, "1", "5", daily=True, penny_all=True, half_spread=0.004,
              weight=0.30, oi_scale=30_000),
        _spec("QQQ", "500.00", 0.20, "1", "5", daily=True, penny_all=True, half_spread=0.005,
              spread_ticks=(1,) * 8 + (2, 3), weight=0.18, oi_scale=15_000),
        _spec("AAPL", "230.00", 0.25, "2.5", "5", half_spread=0.010,
              spread_ticks=(1,) * 8 + (2, 2), weight=0.12, oi_scale=10_000),
        _spec("NVDA", "140.00", 0.50, "1", "5", half_spread=0.010, weight=0.20, oi_scale=20_000),
        _spec("TSLA", "350.00", 0.60, "2.5", "10", half_spread=0.012,
              spread_ticks=(1,) * 5 + (2, 2, 3, 3, 4), weight=0.20, oi_scale=8_000),
    )
}  # fmt: skip


def spec_for(symbol: str, rng: random.Random) -> UnderlyingSpec:
    """Return the spec of a known underlying, or a plausible one drawn from `rng` for any other."""
    known = KNOWN_SPECS.get(symbol)
    if known is not None:
        return known
    price_cents = rng.randrange(2_000, 40_000)
    step = "1" if price_cents < 20_000 else "2.5"
    return _spec(symbol, f"{price_cents / 100:.2f}", round(rng.uniform(0.25, 0.6), 3), step, "5")


def round_lot(price_cents: int) -> int:
    """Return the round lot in shares for a price (the rule in force since 2025-11-03)."""
    if price_cents <= 25_000:
        return 100
    if price_cents <= 100_000:
        return 40
    if price_cents <= 1_000_000:
        return 10
    return 1


# ------------------------------------------------------------------------------------------- calendar


# session_date, open_ns (09:30 New York: the regular session's first 5-minute bucket) and close_ns (16:00:
# options stop trading then) come from events.calendar.


def bucket_index(ts_ns: int, session_open_ns: int) -> int:
    """Return the regular-session 5-minute bucket (0-77) of a time on the session opening at `session_open_ns`,
    or -1 outside the session (the options engine's `SessionClock` rule, for one session date)."""
    if ts_ns < session_open_ns:
        return -1
    bucket = (ts_ns - session_open_ns) // BUCKET_NS
    return bucket if bucket < SESSION_BUCKETS else -1


HISTORY_SHARE: Final = 0.5
"""Share of contracts with volume history; the others are as good as newly listed (no baseline)."""
HISTORY_SESSIONS: Final = 30


def draw_history(
    open_interest: int, rate_scale: float, rng: random.Random, activity: float = 1.0
) -> tuple[float, ...] | None:
    """Draw a contract's historical mean volume per 5-minute bucket, or None for a contract without history.

    A session turns over 5-40% of the open interest, heavier at the open and the close (a U-shaped day), times
    the profile's activity (`rate_scale`) and the contract's own (`activity`, mean 1): a busier market, or a busier
    contract, has a busier history.
    """
    has_history = rng.random() < HISTORY_SHARE
    turnover = rng.uniform(0.05, 0.4)
    if not has_history:
        return None
    middle = (SESSION_BUCKETS - 1) / 2
    weights = [1.0 + 1.5 * ((b - middle) / middle) ** 2 for b in range(SESSION_BUCKETS)]
    day = open_interest * turnover * rate_scale * activity
    total = sum(weights)
    return tuple(round(day * w / total, 4) for w in weights)


def third_friday(year: int, month: int) -> date:
    """Return the monthly expiration day of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def expiries(spec: UnderlyingSpec, today: date) -> list[date]:
    """Return the listed expiries: a 0DTE (daily listers), two weeklies, the monthly and one 60+ DTE."""
    out: set[date] = set()
    if spec.daily_expiries and today.weekday() < 5:
        out.add(today)
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    if friday == today:
        out.add(today)  # a Friday weekly is that day's 0DTE for every underlying
        friday += timedelta(days=7)
    out.update((friday, friday + timedelta(days=7)))
    year, month = today.year, today.month
    monthly = third_friday(year, month)
    while monthly <= today + timedelta(days=7):
        year, month = _next_month(year, month)
        monthly = third_friday(year, month)
    out.add(monthly)
    far = third_friday(year, month)
    while far < today + timedelta(days=FAR_DTE):
        year, month = _next_month(year, month)
        far = third_friday(year, month)
    out.add(far)
    return sorted(out)


# -------------------------------------------------------------------------------------------- pricing


_SQRT2: Final = math.sqrt(2.0)


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


def black_scholes(spot: float, strike: float, t_years: float, vol: float, is_call: bool) -> tuple[float, float]:
    """Return (price, delta) of a European option in dollars; no dividends."""
    sq = vol * math.sqrt(t_years)
    d1 = (math.log(spot / strike) + (RATE + 0.5 * vol * vol) * t_years) / sq
    nd1 = _norm_cdf(d1)
    discounted = strike * math.exp(-RATE * t_years)
    call = spot * nd1 - discounted * _norm_cdf(d1 - sq)
    if is_call:
        return max(call, 0.0), nd1
    return max(call - spot + discounted, 0.0), nd1 - 1.0


# -------------------------------------------------------------------------------------------- chains


@dataclass(slots=True, eq=False)
class Contract:
    """One listed option contract with its reference data and its live NBBO state (mutable, per run)."""

    index: int
    symbol: str
    underlying: str
    root: str
    expiry: date
    right: Right
    strike_e9: int
    strike: float
    is_call: bool
    close_ns: int
    vol: float
    tick_cents_above_3: int
    half_spread_ratio: float
    open_interest: int
    base_activity: float
    """Share of background activity before moneyness: nearer expiries and calls trade more."""
    activity: float = 0.0
    """Current share of background activity; `UnderlyingState.recenter` keeps it near the money."""
    nbbo_template: Template = _NO_TEMPLATE
    print_template: Template = _NO_TEMPLATE
    bid_e9: int = 0
    ask_e9: int = 0
    bid_size: int = 0
    ask_size: int = 0
    quote_ts: int = 0
    quote_key: int = -1
    """The underlying bid (cents) the published quote was priced from: unchanged means reuse the prices."""
    theo: float = 0.0
    delta: float = 0.0
    ref_spot: float = 0.0
    ref_ts: int = -(2**62)
    blocked_until: int = 0
    """Background activity leaves the contract alone before this ns (a planted scenario owns it)."""
    last_scenario_end: int = -(2**62)
    volume: int = 0
    """Contracts printed so far this run (background and planted)."""
    prints: int = 0
    """Prints so far this run."""
    last_print_ts: int = -(2**62)
    history: tuple[float, ...] | None = None
    """Historical mean contracts per 5-minute session bucket (published as a `VolumeBaseline`), None: no history."""
    session_open_ns: int = 0
    """09:30 New York on the run's date: where bucket 0 starts."""
    bucket: int = -1
    """The 5-minute bucket of the latest print (-1: none, or outside the regular session)."""
    bucket_volume: int = 0
    """Contracts printed in `bucket`: the least 5-minute volume the options engine can count there."""
    bucket_carry: int = 0
    """Contracts printed before `bucket` started that may share a packet with its first print: the engine, which
    buckets a packet by its last print, may count them in `bucket` too."""
    run_volume: int = 0
    """Contracts in the current run of prints less than a packet gap apart."""

    def record_print(self, ts: int, size: int) -> None:
        """Count one print: session volume and the 5-minute bucket volume the options engine will see."""
        gap = ts - self.last_print_ts
        bucket = bucket_index(ts, self.session_open_ns)
        if bucket != self.bucket:
            self.bucket_carry = self.run_volume if gap <= PACKET_GAP_NS else 0
            self.bucket = bucket
            self.bucket_volume = 0
        self.run_volume = size if gap > PACKET_GAP_NS else self.run_volume + size
        self.bucket_volume += size
        self.volume += size
        self.prints += 1
        self.last_print_ts = ts

    def theo_at(self, spot: float, ts: int) -> float:
        """Return the model price in dollars; reprice fully on a large spot move or every few seconds."""
        if ts - self.ref_ts > REPRICE_NS or abs(spot - self.ref_spot) > spot * 0.001:
            t_years = max(self.close_ns - ts, MIN_EXPIRY_NS) / NS_PER_YEAR
            self.theo, self.delta = black_scholes(spot, self.strike, t_years, self.vol, self.is_call)
            self.ref_spot = spot
            self.ref_ts = ts
            return self.theo
        # Delta approximation between full repricings keeps the hot loop cheap.
        theo = self.theo + self.delta * (spot - self.ref_spot)
        return theo if theo > 0.0 else 0.0

    def tick_cents(self, price: float) -> int:
        """Return the quoting increment at a price in dollars: penny below $3, else the class's increment."""
        return 1 if price < 3.0 else self.tick_cents_above_3

    def tick_up(self, cents: int) -> int:
        """Return the next valid price above `cents`."""
        return cents + 1 if cents < 300 else cents + self.tick_cents_above_3

    def tick_down(self, cents: int) -> int:
        """Return the next valid price below `cents`, not below zero."""
        return max(cents - 1 if cents <= 300 else cents - self.tick_cents_above_3, 0)

    def quote_cents(self, theo: float, widen: float) -> tuple[int, int]:
        """Return an uncrossed (bid, ask) in cents around `theo`; `widen` in [0, 1) jitters the spread.

        Each side sits on its own increment: a bid under $3 in pennies, an ask at $3 or more in nickels.
        """
        above = self.tick_cents_above_3
        half = theo * self.half_spread_ratio * (1.0 + widen)
        if half < 0.005:
            half = 0.005
        low = (theo - half) * 100.0
        high = (theo + half) * 100.0
        bid = math.floor(low) if low < 300.0 else math.floor(low / above) * above
        ask = math.ceil(high) if high <= 300.0 else math.ceil(high / above) * above
        if bid < 0:
            bid = 0
        if ask <= bid:
            ask = self.tick_up(bid)
        return bid, ask

    def requote(self, spot: float, ts: int, widen: float) -> tuple[int, int]:
        """Return a fresh (bid, ask) in cents from the model at `spot` (dollars)."""
        return self.quote_cents(self.theo_at(spot, ts), widen)


@dataclass(slots=True, eq=False)
class UnderlyingState:
    """One underlying: its spec, chain and published consolidated quote (mutable, per run)."""

    index: int
    spec: UnderlyingSpec
    contracts: list[Contract]
    cum_activity: list[float]
    bid_cents: int
    ask_cents: int
    walk_ts: int
    variance_cents_per_ns: float
    """Variance of the bid's random walk, in squared cents per nanosecond."""
    round_lot: int
    mid_e9: int
    """The published mid, fixed-point (half-penny when the spread is odd)."""
    quote_template: Template = _NO_TEMPLATE
    print_template: Template = _NO_TEMPLATE

    @property
    def symbol(self) -> str:
        return self.spec.symbol

    @property
    def mid(self) -> float:
        """Return the published mid in dollars."""
        return (self.bid_cents + self.ask_cents) / 200.0

    @property
    def model_spot(self) -> float:
        """Return the spot the option model prices from: the bid plus half a penny (ignores spread noise)."""
        return self.bid_cents * 0.01 + 0.005

    def recenter(self, ts: int) -> None:
        """Concentrate background activity near the money at the current spot; expired contracts get none."""
        spot = self.model_spot
        vol = self.spec.vol
        cum: list[float] = []
        total = 0.0
        for c in self.contracts:
            if c.close_ns > ts:
                # Within about 1.5 expected moves to expiry of the spot, like real volume.
                x = math.log(c.strike / spot) / (1.5 * vol * math.sqrt((c.close_ns - ts) / NS_PER_YEAR))
                c.activity = c.base_activity * (math.exp(-0.5 * x * x) + 0.03)
            else:
                c.activity = 0.0
            total += c.activity
            cum.append(total)
        self.cum_activity = cum


def _strike_grid(spot_cents: int, step_e9: int, each_side: int) -> list[int]:
    atm = round(spot_cents * E9_PER_CENT / step_e9)
    return [k * step_e9 for k in range(atm - each_side, atm + each_side + 1) if k > 0]


def _expiry_weight(dte: int) -> float:
    # Volume concentrates in the nearest expiries; far-dated contracts keep a floor of activity.
    return max(1.0 / (1.0 + dte / 3.0), 0.08)


def build_chain(spec: UnderlyingSpec, start_ts: int, first_index: int, rng: random.Random) -> list[Contract]:
    """List the contracts of one underlying with prior-day open interest and activity weights."""
    today = session_date(start_ts)
    spot = spec.start_price_cents / 100.0
    contracts: list[Contract] = []
    for expiry in expiries(spec, today):
        dte = (expiry - today).days
        far = dte >= FAR_DTE
        step = spec.far_strike_step_e9 if far else spec.strike_step_e9
        each_side = FAR_STRIKES_EACH_SIDE if far else STRIKES_EACH_SIDE
        expiry_close = close_ns(expiry)
        t_years = max(expiry_close - start_ts, MIN_EXPIRY_NS) / NS_PER_YEAR
        move = spec.vol * math.sqrt(t_years)
        for strike_e9 in _strike_grid(spec.start_price_cents, step, each_side):
            strike = strike_e9 / 1e9
            log_m = math.log(strike / spot)
            # Skew: lower strikes carry more implied volatility.
            vol = min(max(spec.vol * (1.0 - 1.2 * log_m), spec.vol * 0.6), spec.vol * 2.0)
            near = math.exp(-0.5 * (log_m / (1.5 * move)) ** 2)
            for right in ("C", "P"):
                is_call = right == "C"
                oi = int(spec.open_interest_scale * (near + 0.05) * rng.lognormvariate(0.0, 0.6)
                         * (0.4 if dte == 0 else 1.0))  # fmt: skip
                contracts.append(
                    Contract(
                        index=first_index + len(contracts),
                        symbol=format_occ(spec.symbol, expiry, right, strike_e9),
                        underlying=spec.symbol,
                        root=spec.symbol,
                        expiry=expiry,
                        right=right,
                        strike_e9=strike_e9,
                        strike=strike,
                        is_call=is_call,
                        close_ns=expiry_close,
                        vol=vol,
                        tick_cents_above_3=1 if spec.penny_all else 5,
                        half_spread_ratio=spec.option_half_spread_ratio,
                        open_interest=oi,
                        base_activity=_expiry_weight(dte) * (1.1 if is_call else 0.9),
                    )
                )
    return contracts


def build_underlying(
    spec: UnderlyingSpec, index: int, start_ts: int, first_contract: int, rng: random.Random
) -> UnderlyingState:
    """Build one underlying's chain and opening consolidated quote."""
    contracts = build_chain(spec, start_ts, first_contract, rng)
    bid = spec.start_price_cents
    und = UnderlyingState(
        index=index,
        spec=spec,
        contracts=contracts,
        cum_activity=[],
        bid_cents=bid,
        ask_cents=bid + spec.equity_spread_ticks[0],
        mid_e9=(2 * bid + spec.equity_spread_ticks[0]) * E9_PER_CENT // 2,
        walk_ts=start_ts,
        variance_cents_per_ns=(spec.start_price_cents * spec.vol) ** 2 / TRADING_S_PER_YEAR / NS_PER_S,
        round_lot=round_lot(bid),
    )
    und.recenter(start_ts)
    return und

"""An OPRA `tcbbo` file written the way an outside evaluator writes one, to judge the alert stream on a tape that
shares nothing with the project: not the synthetic market, not its scenarios, not a single rule setting.

The tape: a 10-minute session slice of six underlyings whose chains are priced by Black-Scholes (no rates, so
put-call parity holds at the mids), with a background of small prints (1 to 12 lots, each at a random tick
inside or on the consolidated spread, about 25 prints a second, venues at random) and, on top, ten patterns a
trader wants to see and four a trader does not. Each record carries the consolidated BBO before the trade, as
Databento's `tcbbo` does; there are no quote records, no definitions, no open interest and no equity stream, so
the underlying's price can only be implied from the chain.

The planted patterns are described by what happened (who lifted what, how much), never by a threshold: their
sizes are ones any options desk would call large, and the background is what any desk would call noise.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import databento_dbn as dbn

from tests.connectors.databento import metadata, write_dbn

DAY = date(2025, 2, 20)
MONTHLY = date(2025, 3, 21)
SESSION_START_NS = int(datetime(2025, 2, 20, 15, 0, tzinfo=UTC).timestamp()) * 10**9  # 10:00 New York
SECONDS = 600
BACKGROUND_PER_S = 25
OPRA_VENUES = (20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31, 32, 33, 34, 35, 36)
"""OPRA.PILLAR publisher ids of option exchanges (AMXO ... BATO)."""
SPOTS = {"SPY": 605.0, "QQQ": 530.0, "AAPL": 245.0, "TSLA": 355.0, "NVDA": 139.0, "AMD": 118.0}
VOLS = {"SPY": 0.14, "QQQ": 0.18, "AAPL": 0.24, "TSLA": 0.55, "NVDA": 0.45, "AMD": 0.42}
SESSION_CLOSE_NS = int(datetime(2025, 2, 20, 21, 0, tzinfo=UTC).timestamp()) * 10**9


@dataclass(frozen=True)
class Contract:
    underlying: str
    expiry: date
    right: str
    strike: float

    @property
    def osi(self) -> str:
        return f"{self.underlying:<6}{self.expiry:%y%m%d}{self.right}{round(self.strike * 1000):08d}"


@dataclass
class Planted:
    """One planted pattern: its name, the classifiers a trader expects of it (any one found is a find), and the
    (symbol, ts_event) of its prints."""

    name: str
    expects: frozenset[str]
    prints: list[tuple[str, int]] = field(default_factory=list)
    wanted: bool = True
    """False for a hard negative: any alert on its prints is a false alert."""


@dataclass
class Tape:
    path: Path
    planted: list[Planted]
    records: int


def _norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _years(expiry: date, ts_ns: int) -> float:
    close = datetime(expiry.year, expiry.month, expiry.day, 21, 0, tzinfo=UTC).timestamp() * 1e9
    return max((close - ts_ns) / 1e9, 60.0) / (365.0 * 86_400)


def _theo(c: Contract, spot: float, ts_ns: int) -> float:
    t = _years(c.expiry, ts_ns)
    vol = VOLS[c.underlying]
    d1 = (math.log(spot / c.strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    call = spot * _norm_cdf(d1) - c.strike * _norm_cdf(d2)
    return call if c.right == "C" else call - spot + c.strike


def _tick(price: float) -> float:
    return 0.01 if price < 3.0 else 0.05


def _book(c: Contract, spot: float, ts_ns: int) -> tuple[int, int]:
    """Return the consolidated (bid, ask) in 1e-9 dollars: spread about 4% of the value, at least a tick."""
    theo = max(_theo(c, spot, ts_ns), 0.005)
    tick = _tick(theo)
    half = max(tick, round(theo * 0.02 / tick) * tick)
    bid = max(0.0, math.floor((theo - half) / tick) * tick)
    ask = max(bid + tick, math.ceil((theo + half) / tick) * tick)
    return round(bid * 1e9), round(ask * 1e9)


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids: dict[str, int] = {}
        self.records: list[tuple[int, int, dbn.CMBP1Msg]] = []
        self.spot = dict(SPOTS)
        self._stamps: set[tuple[str, int]] = set()

    def trade(self, c: Contract, ts_ns: int, size: int, where: str, venue: int | None = None) -> tuple[str, int]:
        """One tcbbo record. `where`: 'bid', 'ask', 'mid' (the tick nearest the middle) or 'inside' (any tick
        from bid to ask)."""
        while (c.osi, ts_ns) in self._stamps:
            ts_ns += 1_000
        self._stamps.add((c.osi, ts_ns))
        bid, ask = _book(c, self.spot[c.underlying], ts_ns)
        tick = round(_tick(bid / 1e9 if bid else ask / 1e9) * 1e9)
        if where == "bid":
            price = bid if bid > 0 else ask
        elif where == "ask":
            price = ask
        elif where == "mid":
            price = bid + ((ask - bid) // 2 // tick) * tick
        else:
            steps = max(0, (ask - bid) // tick)
            price = bid + self.rng.randint(0, steps) * tick
        if price <= 0:
            price = ask
        iid = self.ids.setdefault(c.osi, 1_000 + len(self.ids))
        publisher = venue if venue is not None else self.rng.choice(OPRA_VENUES)
        record = dbn.CMBP1Msg(
            rtype=dbn.RType.TCBBO,
            publisher_id=publisher,
            instrument_id=iid,
            ts_event=ts_ns,
            price=price,
            size=size,
            action=dbn.Action.TRADE,
            side=dbn.Side.NONE,
            ts_recv=ts_ns + 180_000,
            flags=0,
            levels=dbn.ConsolidatedBidAskPair(
                bid_px=bid,
                ask_px=ask,
                bid_sz=self.rng.randint(5, 400),
                ask_sz=self.rng.randint(5, 400),
                bid_pb=self.rng.choice(OPRA_VENUES),
                ask_pb=self.rng.choice(OPRA_VENUES),
            ),
        )
        self.records.append((ts_ns, len(self.records), record))
        return (c.osi, ts_ns)

    def write(self, path: Path) -> int:
        meta = metadata("OPRA.PILLAR", dbn.Schema.TCBBO, dict(self.ids), day=DAY)
        ordered = [r for _, _, r in sorted(self.records, key=lambda item: (item[0], item[1]))]
        write_dbn(path, meta, ordered)
        return len(ordered)


def _chain(underlying: str) -> list[Contract]:
    spot = SPOTS[underlying]
    step = 5.0 if spot > 300 else (2.5 if spot > 150 else 1.0)
    atm = round(spot / step) * step
    strikes = [atm + k * step for k in range(-8, 9)]
    return [Contract(underlying, e, r, s) for e in (DAY, MONTHLY) for r in ("C", "P") for s in strikes]


def _near(chain: list[Contract], spot: float, expiry: date, right: str, offset_steps: int = 0) -> Contract:
    candidates = sorted((c for c in chain if c.expiry == expiry and c.right == right), key=lambda c: c.strike)
    nearest = min(range(len(candidates)), key=lambda i: abs(candidates[i].strike - spot))
    return candidates[max(0, min(len(candidates) - 1, nearest + offset_steps))]


def _background(w: _Writer, chains: dict[str, list[Contract]]) -> None:
    """Small prints at random ticks of the spread; near-the-money and front contracts trade more."""
    rng = w.rng
    count = SECONDS * BACKGROUND_PER_S
    names = list(chains)
    for _ in range(count):
        ts = SESSION_START_NS + rng.randrange(SECONDS * 10**9)
        underlying = rng.choice(names)
        spot = w.spot[underlying]
        chain = chains[underlying]
        weights = [math.exp(-abs(c.strike / spot - 1) * 40) * (1.5 if c.expiry == DAY else 1.0) for c in chain]
        contract = rng.choices(chain, weights)[0]
        w.trade(contract, ts, rng.randint(1, 12), "inside")


def write_unseen_tape(path: Path, seed: int = 20250220) -> Tape:
    """Write the tape to `path` (a `.dbn.zst` name compresses it) and return what was planted where."""
    rng = random.Random(seed)
    w = _Writer(rng)
    chains = {u: _chain(u) for u in SPOTS}
    _background(w, chains)
    planted: list[Planted] = []
    s = SESSION_START_NS
    sec = 10**9
    ms = 10**6

    def at(second: float) -> int:
        return s + round(second * sec)

    # 1. A bullish sweep: 900 SPY monthly calls one strike out of the money, lifted on five venues in 40 ms.
    p = Planted("call sweep", frozenset({"large_sweep"}))
    c = _near(chains["SPY"], w.spot["SPY"], MONTHLY, "C", 1)
    for i, (size, venue) in enumerate(zip((250, 200, 180, 150, 120), (22, 26, 23, 35, 32), strict=True)):
        p.prints.append(w.trade(c, at(45) + i * 8 * ms, size, "ask", venue))
    planted.append(p)
    # 2. A bearish sweep: 1,200 QQQ monthly puts near the money on four venues.
    p = Planted("put sweep", frozenset({"large_sweep"}))
    c = _near(chains["QQQ"], w.spot["QQQ"], MONTHLY, "P", 0)
    for i, (size, venue) in enumerate(zip((400, 300, 300, 200), (21, 29, 36, 24), strict=True)):
        p.prints.append(w.trade(c, at(110) + i * 11 * ms, size, "ask", venue))
    planted.append(p)
    # 3. A block: 2,500 AAPL monthly calls in one print at the ask.
    p = Planted("block", frozenset({"block_trade"}))
    c = _near(chains["AAPL"], w.spot["AAPL"], MONTHLY, "C", 2)
    p.prints.append(w.trade(c, at(160), 2_500, "ask", 22))
    planted.append(p)
    # 4. A call overwrite: 3,000 TSLA monthly calls well out of the money sold at the bid.
    p = Planted("call overwrite", frozenset({"call_overwrite", "block_trade"}))
    c = _near(chains["TSLA"], w.spot["TSLA"], MONTHLY, "C", 4)
    p.prints.append(w.trade(c, at(215), 3_000, "bid", 26))
    planted.append(p)
    # 5. A put write: 2,000 NVDA monthly puts out of the money sold at the bid.
    p = Planted("put write", frozenset({"put_write", "block_trade"}))
    c = _near(chains["NVDA"], w.spot["NVDA"], MONTHLY, "P", -3)
    p.prints.append(w.trade(c, at(270), 2_000, "bid", 29))
    planted.append(p)
    # 6. A call vertical: 800 AMD monthly calls bought at the ask, 800 two strikes higher sold at the bid, 30 ms apart.
    p = Planted("vertical", frozenset({"vertical_spread"}))
    low = _near(chains["AMD"], w.spot["AMD"], MONTHLY, "C", 0)
    high = _near(chains["AMD"], w.spot["AMD"], MONTHLY, "C", 2)
    p.prints.append(w.trade(low, at(320), 800, "ask", 23))
    p.prints.append(w.trade(high, at(320) + 30 * ms, 800, "bid", 23))
    planted.append(p)
    # 7. A long straddle: 600 SPY monthly calls and 600 puts at the same strike, both at the ask, 20 ms apart.
    p = Planted("straddle", frozenset({"straddle_strangle"}))
    call = _near(chains["SPY"], w.spot["SPY"], MONTHLY, "C", 0)
    put = _near(chains["SPY"], w.spot["SPY"], MONTHLY, "P", 0)
    p.prints.append(w.trade(call, at(370), 600, "ask", 22))
    p.prints.append(w.trade(put, at(370) + 20 * ms, 600, "ask", 22))
    planted.append(p)
    # 8. Repeated hits: 300 QQQ monthly calls lifted at the ask five times, 9 s apart.
    p = Planted("repeated hits", frozenset({"repeated_hits"}))
    c = _near(chains["QQQ"], w.spot["QQQ"], MONTHLY, "C", 1)
    for i in range(5):
        p.prints.append(w.trade(c, at(400 + 9 * i), 300, "ask", OPRA_VENUES[i]))
    planted.append(p)
    # 9. A 0DTE print: 700 TSLA calls expiring today at the money, at the ask.
    p = Planted("0DTE", frozenset({"zero_dte_gamma"}))
    c = _near(chains["TSLA"], w.spot["TSLA"], DAY, "C", 0)
    p.prints.append(w.trade(c, at(470), 700, "ask", 36))
    planted.append(p)
    # 10. A golden sweep: 2,600 NVDA monthly calls near the money across six venues in 60 ms (several $M).
    p = Planted("golden sweep", frozenset({"large_sweep", "golden_sweep"}))
    c = _near(chains["NVDA"], w.spot["NVDA"], MONTHLY, "C", 0)
    for i, venue in enumerate((22, 23, 26, 29, 32, 36)):
        p.prints.append(w.trade(c, at(530) + i * 10 * ms, 433 + (i == 0), "ask", venue))
    planted.append(p)

    # Hard negatives: what no desk wants an alert on.
    # A cheap large-lot print: 800 far out-of-the-money AMD 0DTE calls at 1-2 cents.
    p = Planted("cheap large lot", frozenset(), wanted=False)
    c = _near(chains["AMD"], w.spot["AMD"], DAY, "C", 8)
    p.prints.append(w.trade(c, at(140), 800, "inside", 26))
    planted.append(p)
    # A coincidental unknown-side pair: 11 lots of a call and 11 of a put at the mid, 3 ms apart.
    p = Planted("coincidental pair", frozenset(), wanted=False)
    p.prints.append(w.trade(_near(chains["AAPL"], w.spot["AAPL"], MONTHLY, "C", 1), at(250), 11, "mid", 22))
    p.prints.append(w.trade(_near(chains["AAPL"], w.spot["AAPL"], MONTHLY, "P", -1), at(250) + 3 * ms, 11, "mid", 23))
    planted.append(p)
    # A quiet contract's modest print: 40 lots of a far SPY put that traded 2-3 lots all session.
    p = Planted("quiet contract", frozenset(), wanted=False)
    c = _near(chains["SPY"], w.spot["SPY"], MONTHLY, "P", -8)
    p.prints.append(w.trade(c, at(500), 40, "ask", 35))
    planted.append(p)
    # A small three-venue sweep: 15 lots in all.
    p = Planted("small sweep", frozenset(), wanted=False)
    c = _near(chains["QQQ"], w.spot["QQQ"], DAY, "P", -1)
    for i, venue in enumerate((22, 26, 29)):
        p.prints.append(w.trade(c, at(560) + i * 5 * ms, 5, "ask", venue))
    planted.append(p)
    return Tape(path=path, planted=planted, records=w.write(path))

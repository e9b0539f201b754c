"""`[dbn replay]` (long): a synthetic OPRA session of millions of option prints, written as a real-format DBN file,
replayed by `flowtape replay` on 1 and on 2 processes.

The session is the seeded synthetic market (`firehose` profile) over a wide universe, in the form Databento's
`tcbbo` schema gives it: one `CMBP1Msg` per option print, carrying the consolidated BBO in force at the trade, no
quote records, definitions, open interest or equities (like `tests/flows/unseen_opra.py`'s tape). It is written
once (zstd-compressed, `.dbn.zst`) into the work directory and reused while its name, which states its size and
seed, matches.

Each replay is the `flowtape replay` command in a subprocess (`--processes 1`, then 2), timed by wall clock from
start to exit, so it includes the interpreter's start, reading and decoding the file, and writing the outputs.
Both runs must derive the same events: the section prints the derived count and a SHA-256 digest of the ids, in
output order, of each run. Targets: under 3 minutes on 2 processes, and 2 processes at least 1.7x the rate of 1.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import databento_dbn as dbn
import zstandard
from databento_dbn.metadata import MappingInterval

from cli.bench.throughput import nbbo_at_trade
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.calendar import session_date
from events.models import OptionDefinition, OptionPrint
from events.topics import DERIVED_TOPICS

DATASET = "OPRA.PILLAR"
UNIVERSE = ("SPY", "QQQ", "AAPL", "NVDA", "TSLA", "AMD", "META", "MSFT", "AMZN", "IWM", "GOOGL", "NFLX")
"""Twelve underlyings: the synthetic market's five plus seven it draws plausible chains for (an OPRA day has
thousands; with five, one worker of two may hold most of the tape)."""
SESSION_S = 6.5 * 3600
"""The synthetic session's length; the writer stops once it has the prints it needs."""
FIRST_INSTRUMENT_ID = 1_000
_WRITE_CHUNK = 8192
_ID = re.compile(rb'"id":"([^"]*)"')


# The stubs type enum members as str; the runtime values are the enum members.
_TCBBO = cast(dbn.Schema, dbn.Schema.TCBBO)
_RAW_SYMBOL = cast(dbn.SType, dbn.SType.RAW_SYMBOL)
_INSTRUMENT_ID = cast(dbn.SType, dbn.SType.INSTRUMENT_ID)
_TRADE = cast(dbn.Action, dbn.Action.TRADE)
_NO_SIDE = cast(dbn.Side, dbn.Side.NONE)


@dataclass
class _Interval:
    start_date: date
    end_date: date
    symbol: str


@dataclass
class _Mapping:
    raw_symbol: str
    intervals: Sequence[MappingInterval]


def session_path(workdir: Path, prints: int, seed: int) -> Path:
    """Return the cache path of the session file of `prints` option prints from `seed`."""
    return workdir / f"opra-tcbbo-firehose-{prints}-prints-seed{seed}-{len(UNIVERSE)}u.dbn.zst"


def _metadata(market: SyntheticConfig, symbols: dict[str, int]) -> dbn.Metadata:
    """Return the file's metadata: each contract's OSI symbol mapped to its instrument id for the session's day."""
    day = session_date(market.start_ts)
    next_day = day + timedelta(days=1)
    return dbn.Metadata(
        dataset=DATASET,
        start=market.start_ts,
        stype_in=_RAW_SYMBOL,
        stype_out=_INSTRUMENT_ID,
        schema=_TCBBO,
        symbols=list(symbols),
        mappings=[_Mapping(raw, [_Interval(day, next_day, str(iid))]) for raw, iid in symbols.items()],
        end=market.end_ts,
    )


def _record(event: OptionPrint, instrument_id: int) -> dbn.CMBP1Msg:
    """Return the `tcbbo` record of a print (the NBBO it carries, or an undefined book)."""
    bid, ask = event.nbbo_bid_e9, event.nbbo_ask_e9
    if bid is None or ask is None:
        bid = ask = dbn.UNDEF_PRICE
    publisher = int(event.venue_id)
    return dbn.CMBP1Msg(
        rtype=dbn.RType.TCBBO,
        publisher_id=publisher,
        instrument_id=instrument_id,
        ts_event=event.ts_event,
        price=event.price_e9,
        size=event.size_contracts,
        action=_TRADE,
        side=_NO_SIDE,
        ts_recv=event.ts_recv if event.ts_recv is not None else event.ts_event,
        flags=0,
        # The stubs ask for a list; the runtime takes the one level a CMBP-1 record has.
        levels=dbn.ConsolidatedBidAskPair(  # type: ignore[arg-type]
            bid_px=bid,
            ask_px=ask,
            bid_sz=event.nbbo_bid_size_contracts or 0,
            ask_sz=event.nbbo_ask_size_contracts or 0,
            bid_pb=publisher,
            ask_pb=publisher,
        ),
    )


def write_session(path: Path, prints: int, seed: int) -> int:
    """Write the session's first `prints` option prints as a zstd-compressed `tcbbo` DBN file, and their count
    beside it (`<name>.records`); return how many it wrote (fewer only if the session ends first). The file appears
    complete or not at all."""
    market = SyntheticConfig(seed=seed, profile="firehose", duration_s=SESSION_S, underlyings=UNIVERSE)
    contracts = [e.symbol for e in SyntheticMarket(market).refdata() if isinstance(e, OptionDefinition)]
    symbols = {symbol: FIRST_INSTRUMENT_ID + i for i, symbol in enumerate(contracts)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    written = 0
    chunk: list[bytes] = []
    with partial.open("wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        out.write(bytes(_metadata(market, symbols)))
        for event in nbbo_at_trade(SyntheticMarket(market, keep_truth=False).events()):
            if not isinstance(event, OptionPrint):
                continue
            instrument_id = symbols.get(event.symbol)
            if instrument_id is None:
                raise RuntimeError(f"{event.symbol}: a print on a contract the session did not define")
            chunk.append(bytes(_record(event, instrument_id)))
            written += 1
            if len(chunk) >= _WRITE_CHUNK:
                out.write(b"".join(chunk))
                chunk.clear()
            if written >= prints:
                break
        out.write(b"".join(chunk))
    _count_path(path).write_text(f"{written}\n", encoding="utf-8")
    partial.replace(path)
    return written


def _count_path(path: Path) -> Path:
    return path.with_name(path.name + ".records")


@dataclass(frozen=True)
class ReplayRun:
    """One `flowtape replay` of the session: wall seconds, derived events and the digest of their ids."""

    processes: int
    seconds: float
    derived: int
    ids_sha256: str
    outputs_sha256: str


def digest(out_dir: Path) -> tuple[int, str, str]:
    """Return the derived event count of a replay's output directory, the SHA-256 of its ids (topic by topic, in
    file order) and the SHA-256 of the topic files' bytes."""
    ids = hashlib.sha256()
    files = hashlib.sha256()
    count = 0
    for topic in DERIVED_TOPICS:
        with (out_dir / f"{topic}.jsonl").open("rb") as fh:
            for line in fh:
                files.update(line)
                found = _ID.search(line)
                ids.update(found.group(1) if found else b"")
                ids.update(b"\n")
                count += 1
    return count, ids.hexdigest(), files.hexdigest()


def replay(path: Path, out_dir: Path, processes: int) -> ReplayRun:
    """Run `flowtape replay` on the file in a subprocess on `processes` processes; time it from start to exit."""
    command = [sys.executable, "-m", "cli.main", "replay", str(path), "--out", str(out_dir), "--quiet"]
    command += ["--processes", str(processes)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ.copy())
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"flowtape replay --processes {processes} exited {done.returncode}: {done.stderr[-2000:]}")
    derived, ids, outputs = digest(out_dir)
    return ReplayRun(processes, seconds, derived, ids, outputs)


def _run_line(run: ReplayRun, prints: int) -> str:
    label = f"{run.processes} process{'es' if run.processes > 1 else ''}"
    return (
        f"  {label:<11}: {run.seconds:>8.1f} s wall, {prints / run.seconds:>10,.0f} prints/s, "
        f"{run.derived:,} derived, ids sha256 {run.ids_sha256[:16]}"
    )


def run_dbn_replay(workdir: Path, prints: int, seed: int) -> bool:
    """Print the `[dbn replay]` section; return whether both runs derived the same events."""
    path = session_path(workdir, prints, seed)
    if path.exists() and _count_path(path).exists():
        how = "reused"
        records = int(_count_path(path).read_text(encoding="utf-8"))
    else:
        started = time.perf_counter()
        records = write_session(path, prints, seed)
        how = f"written in {time.perf_counter() - started:.0f} s"
    size_mb = path.stat().st_size / 1e6
    print(
        f"[dbn replay] {DATASET} tcbbo session of {records:,} option prints ({len(UNIVERSE)} underlyings, firehose, "
        f"seed {seed}): {path} ({size_mb:,.1f} MB, {how})"
    )
    runs = [replay(path, workdir / f"replay-{n}p", n) for n in (1, 2)]
    for run in runs:
        print(_run_line(run, records))
    one, two = runs
    same = (one.derived, one.ids_sha256, one.outputs_sha256) == (two.derived, two.ids_sha256, two.outputs_sha256)
    print(f"  speed-up 2/1: {one.seconds / two.seconds:.2f}; same derived events: {'yes' if same else 'NO'}")
    return same

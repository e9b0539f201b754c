"""`flowtape bench`: what the pipeline costs, in-process, each figure measured within one run (shared, noisy
machines: compare within a run, never across runs).

Sections (`--input` picks some, comma-separated; the default runs every section that is not long):

- `[quotes]`, `[tcbbo]`, `[equities]` (`cli.bench.throughput`): prints per second through the plain loop, one
  Bytewax worker and the contract floor, and the ratio flow/loop.
- `[session cost]` (`cli.bench.session`): per-print cost in each third of a long tape, and last/first.
- `[decode]` (`cli.bench.decode`): raw messages per second through `events.serde.decode`.
- `[dbn replay]` (long, `cli.bench.dbn_replay`): a DBN session of millions of option prints replayed by
  `flowtape replay` on 1 and 2 processes: wall time, prints/s, the speed-up, and whether both derive the same.
- `[memory]` (long, `cli.bench.memory`): the RSS curve and peak of a 6.5-hour realistic session and 30 minutes
  of firehose through the flow in a subprocess, and the growth after warm-up.

`--long` adds the long sections to the default run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from cli.bench.throughput import (
    BATCH_SIZE,
    EngineLoop,
    bytewax_flow,
    contract_floor,
    equities_flow,
    equities_loop,
    nbbo_at_trade,
    plain_loop,
    run_equities_variant,
    run_variant,
    with_nbbo_at_trade,
)
from events.config import EquitiesConfig, OptionsConfig

__all__ = [
    "BATCH_SIZE",
    "SECTIONS",
    "EngineLoop",
    "bytewax_flow",
    "contract_floor",
    "equities_flow",
    "equities_loop",
    "main",
    "nbbo_at_trade",
    "plain_loop",
    "with_nbbo_at_trade",
]

SECTIONS = ("quotes", "tcbbo", "equities", "decode", "session", "dbn", "memory")
"""Every section, in the order they run (`--input` names)."""
LONG_SECTIONS = frozenset({"dbn", "memory"})
ALIASES = {"both": ("quotes", "tcbbo"), "all": tuple(s for s in SECTIONS if s not in LONG_SECTIONS)}


def _sections(value: str, long: bool) -> list[str]:
    """Return the sections named by `--input` (names and aliases, comma-separated), in run order."""
    chosen: set[str] = set()
    for name in (part.strip() for part in value.split(",")):
        if name in ALIASES:
            chosen.update(ALIASES[name])
            if name == "all" and long:
                chosen.update(LONG_SECTIONS)
        elif name in SECTIONS:
            chosen.add(name)
        else:
            names = ", ".join((*SECTIONS, *ALIASES))
            raise argparse.ArgumentTypeError(f"--input: unknown section {name!r} (one of {names})")
    return [s for s in SECTIONS if s in chosen]


def _default_workdir() -> Path:
    from connectors.settings import Settings

    return Settings().state_dir / "bench"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `flowtape bench`."""
    parser = argparse.ArgumentParser(
        prog="flowtape bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="synthetic seconds of market for [quotes] [tcbbo] [equities] [decode]",
    )
    parser.add_argument("--profile", choices=["realistic", "active", "firehose"], default="firehose")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is reported")
    parser.add_argument(
        "--input",
        default="all",
        help="sections to run, comma-separated: quotes (NBBO as a quote stream, the synthetic tape), tcbbo (NBBO "
        "carried on each print), equities (the equity tape through the equities engine), session (per-print cost "
        "by third of a long tape), decode (raw messages through events.serde.decode), dbn (long: a DBN session "
        "replayed on 1 and 2 processes), memory (long: RSS over long sessions); both = quotes,tcbbo; all (default) "
        "= every section but the long ones, which --long adds",
    )
    parser.add_argument("--long", action="store_true", help="with --input all, also run the long sections")
    parser.add_argument(
        "--session-seconds", type=float, default=120.0, help="[session cost]: synthetic seconds of the long tape"
    )
    parser.add_argument(
        "--session-profile", choices=["realistic", "active", "firehose"], default="firehose", help="[session cost]"
    )
    parser.add_argument(
        "--decode-messages", type=int, default=20_000, help="[decode]: messages timed per kind, and for the mix"
    )
    parser.add_argument(
        "--dbn-prints", type=int, default=5_000_000, help="[dbn replay]: option prints in the DBN session"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="[dbn replay]: where the DBN session is cached and the replays write (default <state dir>/bench)",
    )
    parser.add_argument(
        "--memory-realistic-s", type=float, default=6.5 * 3600, help="[memory]: seconds of the realistic session"
    )
    parser.add_argument(
        "--memory-firehose-s", type=float, default=1800.0, help="[memory]: seconds of the firehose session"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures of each chosen section; return 1 when a section's pipelines disagree."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sections = _sections(args.input, args.long)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    ok = True
    config = OptionsConfig()
    if {"quotes", "tcbbo", "equities", "decode"} & set(sections):
        from connectors.synthetic import SyntheticConfig, SyntheticMarket

        started = time.perf_counter()
        events = list(
            SyntheticMarket(SyntheticConfig(seed=args.seed, profile=args.profile, duration_s=args.seconds)).events()
        )
        generated_s = time.perf_counter() - started
        print(f"input: {args.profile} profile, {args.seconds:g} s of market, generated in {generated_s:.2f}s")
        if "quotes" in sections:
            ok = run_variant("quotes", events, config, args.repeat) and ok
        if "tcbbo" in sections:
            ok = run_variant("tcbbo", with_nbbo_at_trade(events), config, args.repeat) and ok
        if "equities" in sections:
            ok = run_equities_variant(events, EquitiesConfig(), args.repeat) and ok
        if "decode" in sections:
            from cli.bench.decode import run_decode

            ok = run_decode(events, args.repeat, args.decode_messages, args.decode_messages) and ok
        del events
    if "session" in sections:
        from cli.bench.session import run_session_cost

        ok = run_session_cost(args.session_seconds, args.session_profile, args.seed, config) and ok
    if "dbn" in sections:
        from cli.bench.dbn_replay import run_dbn_replay

        ok = run_dbn_replay(args.workdir or _default_workdir(), args.dbn_prints, args.seed) and ok
    if "memory" in sections:
        from cli.bench.memory import run_memory

        for profile, seconds in (("realistic", args.memory_realistic_s), ("firehose", args.memory_firehose_s)):
            ok = run_memory(profile, seconds, args.seed) and ok
    return 0 if ok else 1

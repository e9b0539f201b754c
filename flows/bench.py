"""`flowtape bench`: options pipeline throughput in-process (Bytewax, one worker) and its ratio to the same
operators driven by a plain Python loop over the same input, measured in one run (shared, noisy machines).
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence

from bytewax.testing import run_main

from connectors.bytewax_io import CallbackSink, IterableSource
from events.config import OptionsConfig
from events.models import AnyEvent, OptionPrint
from flows.embedded import build_embedded_flow
from flows.engine_steps import is_option_input
from operators.options_engine import OptionsEngine, OptionsOutput


def plain_loop(events: Sequence[AnyEvent], config: OptionsConfig) -> int:
    """Drive the same per-underlying engines with a plain loop; return the derived event count."""
    engines: dict[str, OptionsEngine] = {}
    produced = 0
    for event in events:
        if not is_option_input(event):
            continue
        engine = engines.get(event.key)
        if engine is None:
            engine = engines[event.key] = OptionsEngine(config)
        produced += len(engine.on_event(event))
    for engine in engines.values():
        produced += len(engine.on_eof())
    return produced


def bytewax_flow(events: Sequence[AnyEvent], config: OptionsConfig, batch_size: int = 4096) -> int:
    """Run the embedded flow on one worker; return the derived event count."""
    produced = 0

    def count(items: list[OptionsOutput]) -> None:
        nonlocal produced
        produced += len(items)

    flow = build_embedded_flow(
        IterableSource(lambda: events, batch_size=batch_size), {"count_derived": CallbackSink(count)}, config=config
    )
    run_main(flow)  # type: ignore[no-untyped-call]
    return produced


def _timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best = float("inf")
    produced = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        produced = fn()
        best = min(best, time.perf_counter() - started)
    return best, produced


def main(argv: Sequence[str] | None = None) -> int:
    """Print throughput figures and the flow/loop ratio."""
    parser = argparse.ArgumentParser(prog="flowtape bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="synthetic seconds of market to generate")
    parser.add_argument("--profile", choices=["realistic", "active", "firehose"], default="firehose")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the best is reported")
    args = parser.parse_args(argv)

    from connectors.synthetic import SyntheticConfig, SyntheticMarket

    config = OptionsConfig()
    started = time.perf_counter()
    events = list(
        SyntheticMarket(SyntheticConfig(seed=args.seed, profile=args.profile, duration_s=args.seconds)).events()
    )
    generated_s = time.perf_counter() - started
    prints = sum(isinstance(e, OptionPrint) for e in events)
    options_events = sum(is_option_input(e) for e in events)
    print(
        f"input: {len(events):,} events ({options_events:,} options events, {prints:,} option prints), "
        f"generated in {generated_s:.2f}s"
    )
    loop_s, loop_out = _timed(lambda: plain_loop(events, config), args.repeat)
    flow_s, flow_out = _timed(lambda: bytewax_flow(events, config), args.repeat)
    if loop_out != flow_out:
        print(f"MISMATCH: plain loop produced {loop_out:,} derived events, flow {flow_out:,}")
        return 1
    print(
        f"plain loop : {prints / loop_s:>12,.0f} prints/s  {options_events / loop_s:>12,.0f} events/s  "
        f"({loop_s:.3f}s, {loop_out:,} derived)"
    )
    print(
        f"bytewax x1 : {prints / flow_s:>12,.0f} prints/s  {options_events / flow_s:>12,.0f} events/s  "
        f"({flow_s:.3f}s, {flow_out:,} derived)"
    )
    print(f"ratio flow/loop: {loop_s / flow_s:.2f}")
    return 0

"""`[memory]` (long): resident memory of a long session through the embedded flow (options and equities, one
worker), in a subprocess of its own so nothing else the bench holds is counted.

The child streams the synthetic session from its generator (never a list: 6.5 hours of the realistic profile are
millions of events) through `IterableSource`, and counts the derived events without keeping them. It reads its own
VmRSS (`/proc/self/status`) each time the input's event time crosses another 5 % of the session, and its peak
(VmHWM) at the end, and prints them as one JSON line. The parent prints the curve (MB at 5 %, 10 %, ... 100 % of the
input), the peak, and the growth after warm-up: RSS at 90 % of the input over RSS at 30 %. State that is bounded
shows as a flat curve after warm-up (a ratio near 1); state that grows with the session keeps climbing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

STEPS = 20
"""Samples per run: one at each 5 % of the session's event time."""
WARM, LATE = 6, 18
"""Growth after warm-up compares the samples at 30 % (6th) and 90 % (18th) of the input."""


def status_kb(field: str, path: Path = Path("/proc/self/status")) -> int | None:
    """Return a `/proc/<pid>/status` field in kB (e.g. `VmRSS`, `VmHWM`), or None where there is none."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def measure(profile: str, seconds: float, seed: int) -> dict[str, object]:
    """Run the session through the flow in this process; return the RSS samples (kB), the peak and the counts."""
    from cli.bench.throughput import flow_count
    from connectors.synthetic import SyntheticConfig, SyntheticMarket
    from events.models import AnyEvent

    market = SyntheticConfig(seed=seed, profile=profile, duration_s=seconds)  # type: ignore[arg-type]
    span = market.end_ts - market.start_ts
    bounds = [market.start_ts + span * k // STEPS for k in range(1, STEPS)]
    samples: list[int | None] = []
    counts = {"events": 0, "option_prints": 0}

    def tape() -> Iterator[AnyEvent]:
        events = prints = 0
        k = 0
        for event in SyntheticMarket(market, keep_truth=False).events():
            while k < len(bounds) and event.ts_event >= bounds[k]:
                samples.append(status_kb("VmRSS"))
                k += 1
            events += 1
            prints += event.event_type == "option_print"
            yield event
        counts["events"], counts["option_prints"] = events, prints

    started = time.perf_counter()
    derived = flow_count(tape, 4096)
    elapsed = time.perf_counter() - started
    samples.append(status_kb("VmRSS"))
    return {
        "rss_kb": samples,
        "peak_kb": status_kb("VmHWM"),
        "derived": derived,
        "seconds": elapsed,
        **counts,
    }


def _length(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def _mb(kb: int | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.0f}"


def run_memory(profile: str, seconds: float, seed: int) -> bool:
    """Print one `[memory]` section: run the child, print its curve, peak and growth; return whether it ran."""
    command = [sys.executable, "-m", "cli.bench.memory", "--profile", profile, "--seconds", str(seconds)]
    command += ["--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    length = _length(seconds)
    if done.returncode != 0 or not done.stdout.strip():
        print(f"[memory] {profile} profile, {length}: the child failed ({done.returncode}): {done.stderr[-2000:]}")
        return False
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rss: list[int | None] = result["rss_kb"]
    print(
        f"[memory] {profile} profile, {length} of market: {result['events']:,} events, "
        f"{result['option_prints']:,} option prints, {result['derived']:,} derived, through the embedded flow on one "
        f"worker in {result['seconds']:.0f} s"
    )
    print(f"  rss MB at each 5% of input: {' '.join(_mb(kb) for kb in rss)}")
    warm, late = (rss[WARM - 1], rss[LATE - 1]) if len(rss) >= LATE else (None, None)
    growth = f"{late / warm:.2f}x" if warm and late else "?"
    print(
        f"  peak rss: {_mb(result['peak_kb'])} MB; after warm-up: {_mb(warm)} MB at 30% -> {_mb(late)} MB at 90% "
        f"(90%/30%: {growth})"
    )
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """The child: measure one session and print the result as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m cli.bench.memory")
    parser.add_argument("--profile", choices=["realistic", "active", "firehose"], default="realistic")
    parser.add_argument("--seconds", type=float, default=6.5 * 3600)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    from connectors.settings import Settings
    from flows.collector import tune_collector

    tune_collector(Settings().gc_threshold)  # as `flowtape` itself runs
    print(json.dumps(measure(args.profile, args.seconds, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

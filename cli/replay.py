"""`flowtape replay` front end: progress bar while replaying, a summary table at the end."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.interrupt import EXIT_INTERRUPTED, Interrupt
from events.config import OptionsConfig
from events.models import AnyEvent
from events.serde import to_json_line
from flows.inputs import InputStats, check_inputs, read_inputs
from flows.replay import ReplayInterrupted, ReplayResult, replay_files, replay_into


def _progress(console: Console, quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]replay[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


def _estimate(files: list[Path]) -> int | None:
    """Return the number of input events when cheap to know exactly (JSONL lines), else None.

    A DBN record may give one event or two (EQUS.MINI tbbo: the trade and the consolidated quote), so DBN
    inputs show a running count instead of a bar that could overshoot.
    """
    total = 0
    for path in files:
        if path.name.endswith((".dbn", ".dbn.zst")):
            return None
        with path.open("rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


def run_replay_cli(args: argparse.Namespace) -> int:
    """Run `flowtape replay` and print its summary."""
    console = Console(stderr=True)
    files: list[Path] = list(args.files)
    if not files and args.synthetic_s is None:
        raise ValueError("give input files, or --synthetic-s N for N seconds of the synthetic market")
    if files and args.synthetic_s is not None:
        raise ValueError("give input files or --synthetic-s, not both")
    if args.processes < 1:
        raise ValueError(f"--processes must be at least 1, got {args.processes}")
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} is a file: give a directory (created when missing)")
    config = OptionsConfig()
    try:
        with Interrupt() as interrupt, _progress(console, args.quiet) as progress:
            result = _replay(args, files, config, progress, interrupt)
    except ReplayInterrupted as exc:
        console.print(f"flowtape replay: {exc}")
        return EXIT_INTERRUPTED
    _print_summary(console, result, args.out)
    return 0


def _replay(
    args: argparse.Namespace, files: list[Path], config: OptionsConfig, progress: Progress, stop: Interrupt
) -> ReplayResult:
    if files:
        check_inputs(files)
        task = progress.add_task("replay", total=_estimate(files))
        result = replay_files(
            files,
            args.out,
            config=config,
            workers=args.workers,
            on_batch=lambda n: progress.advance(task, n),
            processes=args.processes,
            on_progress=lambda n: progress.update(task, completed=n),
            stop=stop,
        )
        if args.write_input:
            _write_input(args.out, read_inputs(files, InputStats()))
        return result
    return _replay_synthetic(args, config, progress, stop)


def _replay_synthetic(
    args: argparse.Namespace, config: OptionsConfig, progress: Progress, stop: Interrupt
) -> ReplayResult:
    import time

    from connectors.settings import Settings
    from connectors.synthetic import SyntheticConfig, SyntheticMarket

    universe = Settings().universe if args.underlyings is None else tuple(args.underlyings.upper().split(","))
    market_config = SyntheticConfig(
        seed=args.seed, profile=args.profile, duration_s=args.synthetic_s, underlyings=universe
    )
    task = progress.add_task("replay", total=None)
    stats = InputStats()

    def events() -> Iterator[AnyEvent]:
        for event in SyntheticMarket(market_config, keep_truth=False).events():
            stats.events_by_type[event.event_type] += 1
            yield event

    started = time.perf_counter()
    if args.processes > 1:
        from flows.replay_processes import ReadSynthetic, replay_processes

        out, stats = replay_processes(
            ReadSynthetic(market_config),
            args.out,
            processes=args.processes,
            config=config,
            workers=args.workers,
            on_progress=lambda n: progress.update(task, completed=n),
            stop=stop,
        )
    else:
        out = replay_into(
            args.out, events, stats, stop=stop, config=config, workers=args.workers,
            on_batch=lambda n: progress.advance(task, n),
        )  # fmt: skip
    if args.write_input:
        _write_input(args.out, SyntheticMarket(market_config, keep_truth=False).events())
    return ReplayResult(
        events_in=dict(stats.events_by_type),
        events_out=out,
        dead_letters=0,
        files=(),
        seconds=time.perf_counter() - started,
    )


def _write_input(out_dir: Path, events: Iterable[AnyEvent]) -> None:
    with (out_dir / "input.jsonl").open("w", encoding="utf-8") as fh:
        for event in events:
            fh.write(to_json_line(event))
            fh.write("\n")


def _print_summary(console: Console, result: ReplayResult, out_dir: Path) -> None:
    table = Table(title=f"replay -> {out_dir}", show_header=True)
    table.add_column("stream")
    table.add_column("events", justify="right")
    for name, count in sorted(result.events_in.items()):
        table.add_row(f"in  {name}", f"{count:,}")
    for name, count in result.events_out.items():
        table.add_row(f"out {name}", f"{count:,}")
    if result.dead_letters:
        table.add_row("[red]dead letters[/]", f"{result.dead_letters:,}")
        for error, count in result.dead_letters_by_error.items():
            table.add_row(f"[red]  {error}[/]", f"{count:,}")
    console.print(table)
    for notice in result.notices:
        console.print(f"[yellow]note:[/] {notice}")
    rate = result.total_in / result.seconds if result.seconds > 0 else 0.0
    console.print(f"{result.total_in:,} events in {result.seconds:.2f}s ({rate:,.0f} events/s)")

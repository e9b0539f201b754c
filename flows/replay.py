"""`flowtape replay`: run recorded input through the same flows in-process, as fast as possible, and write
every derived topic as JSONL (sorted by ts_event, id, revision, so the same input gives identical bytes).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bytewax.testing import cluster_main, run_main

from connectors.bytewax_io import CallbackSink, IterableSource
from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, DeadLetter, DerivedEvent
from events.serde import to_json_line
from events.topics import DERIVED_TOPICS, dlq, topic_for
from flows.embedded import build_embedded_flow
from flows.engine_steps import History
from flows.inputs import InputStats, balanced_slots, check_inputs, guarded, input_weights, read_inputs
from flows.spool import Spool, sort_key


@dataclass(frozen=True)
class ReplayResult:
    """Counts of one replay (timings are reported, never written, so outputs stay byte-identical)."""

    events_in: dict[str, int]
    events_out: dict[str, int]
    dead_letters: int
    files: tuple[Path, ...]
    seconds: float
    notices: tuple[str, ...] = ()
    """What the reader did about its input worth saying (e.g. trades seen in two files, counted once)."""
    dead_letters_by_error: dict[str, int] = field(default_factory=dict)
    """Dead letters per error class (`invalid_json`, `invalid_field`, ...)."""

    @property
    def total_in(self) -> int:
        return sum(self.events_in.values())


def run_events(
    events: Callable[[], Iterable[AnyEvent]],
    *,
    config: OptionsConfig | None = None,
    workers: int = 1,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = 4096,
    history: History | None = None,
    run_options: bool = True,
    run_equities: bool = True,
    equities: EquitiesConfig | None = None,
    dead_letters: list[DeadLetter] | None = None,
) -> dict[str, list[DerivedEvent]]:
    """Run events through the embedded flow on `workers` workers; return derived events per topic, sorted
    (`run_into` with the events held in memory: for tests and short inputs; a replay spools them).

    `history`: volume baselines per underlying for the engines to start with. `dead_letters` receives the events
    an engine raised on (`flows.engine_guard`), sorted by topic, key and payload (else they are logged).
    """
    collected: dict[str, list[DerivedEvent]] = defaultdict(list)

    def collect(items: list[DerivedEvent]) -> None:
        for item in items:
            collected[topic_for(item.event_type)].append(item)

    run_into(
        events, collect, config=config, workers=workers, on_batch=on_batch, batch_size=batch_size, history=history,
        run_options=run_options, run_equities=run_equities, equities=equities, dead_letters=dead_letters,
    )  # fmt: skip
    return {topic: sorted(items, key=sort_key) for topic, items in collected.items()}


def run_into(
    events: Callable[[], Iterable[AnyEvent]],
    on_derived: Callable[[list[DerivedEvent]], None],
    *,
    config: OptionsConfig | None = None,
    workers: int = 1,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = 4096,
    history: History | None = None,
    run_options: bool = True,
    run_equities: bool = True,
    equities: EquitiesConfig | None = None,
    dead_letters: list[DeadLetter] | None = None,
) -> None:
    """Run events through the embedded flow on `workers` workers, handing each batch of derived events to
    `on_derived` as the flow emits it (in no particular order); see `run_events` for the other arguments."""
    letters: list[DeadLetter] = []

    def collect_dead(items: list[DeadLetter]) -> None:
        letters.extend(items)

    source: IterableSource[AnyEvent] = IterableSource(events, batch_size=batch_size, on_batch=on_batch)
    flow = build_embedded_flow(
        source,
        {"collect_derived": CallbackSink(on_derived)},
        config=config,
        history=history,
        run_options=run_options,
        run_equities=run_equities,
        equities=equities,
        dead_letter_sink=CallbackSink(collect_dead) if dead_letters is not None else None,
    )
    if workers <= 1:
        run_main(flow)  # type: ignore[no-untyped-call]
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)  # type: ignore[no-untyped-call]
    if dead_letters is not None:
        dead_letters.extend(sorted(letters, key=lambda d: (d.topic, d.key or "", d.payload)))


def replay_into(
    out_dir: Path,
    events: Callable[[], Iterable[AnyEvent]],
    stats: InputStats,
    files: Sequence[Path] = (),
    **flow: Any,
) -> dict[str, int]:
    """Run `events` through the embedded flow (`flow`: `run_into`'s options) and write the outputs into `out_dir`
    as `write_outputs` does, spooling the derived events (`flows.spool`) so memory stays bounded whatever the
    input's length; return the output counts. Raises the input's error (`stats.error`) before writing."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".spool-", dir=out_dir) as scratch:
        spool = Spool(Path(scratch))
        run_into(events, spool.add, dead_letters=stats.dead_letters, **flow)
        if stats.error is not None:
            raise stats.error
        return write_lines(out_dir, {topic: spool.lines(topic) for topic in DERIVED_TOPICS}, stats, files)


def write_outputs(
    out_dir: Path,
    derived: dict[str, list[DerivedEvent]],
    stats: InputStats,
    files: Sequence[Path] = (),
) -> dict[str, int]:
    """Write one JSONL file per derived topic (every topic, empty or not), dead letters and `summary.json`
    (counts only: no timings, so the directory is byte-identical across runs); return the output counts.
    """
    lines = {topic: (to_json_line(item) for item in items) for topic, items in derived.items()}
    return write_lines(out_dir, lines, stats, files)


def write_lines(
    out_dir: Path,
    lines: Mapping[str, Iterable[str]],
    stats: InputStats,
    files: Sequence[Path] = (),
) -> dict[str, int]:
    """Write the outputs as `write_outputs` does, from each derived topic's JSON lines (no newlines) in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for topic in DERIVED_TOPICS:
        count = 0
        with (out_dir / f"{topic}.jsonl").open("w", encoding="utf-8") as fh:
            for line in lines.get(topic, ()):
                fh.write(line)
                fh.write("\n")
                count += 1
        counts[topic] = count
    dead = out_dir / f"{dlq('replay.input')}.jsonl"
    if stats.dead_letters:
        with dead.open("w", encoding="utf-8") as fh:
            for letter in stats.dead_letters:
                fh.write(to_json_line(letter))
                fh.write("\n")
    elif dead.exists():
        dead.unlink()
    summary = {
        "files": [str(p) for p in files],
        "events_in": dict(sorted(stats.events_by_type.items())),
        "events_out": counts,
        "dead_letters": len(stats.dead_letters),
        "dead_letters_by_error": stats.dead_letters_by_error,
    }
    if stats.notices:
        summary["notices"] = stats.notices
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return counts


def replay_files(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    config: OptionsConfig | None = None,
    workers: int = 1,
    on_batch: Callable[[int], None] | None = None,
    processes: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Replay recorded files into `out_dir`.

    Raises before any work on a missing, unsupported or unreadable file, and `InputError` (writing nothing)
    for a file found corrupt while reading it. `processes` above 1 splits the replay over that many local processes by
    partition key (`flows.replay_processes`), with `workers` workers in each process; it reports progress through
    `on_progress` (events read so far), not `on_batch`.
    """
    check_inputs(paths)
    stats = InputStats()
    started = time.perf_counter()
    if processes > 1:
        from flows.replay_processes import ReadFiles, replay_processes

        counts, stats = replay_processes(
            ReadFiles(paths),
            out_dir,
            processes=processes,
            slots=balanced_slots(input_weights(paths), processes),
            config=config,
            workers=workers,
            files=tuple(paths),
            on_progress=on_progress,
        )
    else:
        counts = replay_into(
            out_dir,
            lambda: guarded(read_inputs(paths, stats), stats),
            stats,
            paths,
            config=config,
            workers=workers,
            on_batch=on_batch,
        )
    elapsed = time.perf_counter() - started
    return ReplayResult(
        events_in=dict(stats.events_by_type),
        events_out=counts,
        dead_letters=len(stats.dead_letters),
        files=tuple(paths),
        seconds=elapsed,
        notices=tuple(stats.notices),
        dead_letters_by_error=stats.dead_letters_by_error,
    )

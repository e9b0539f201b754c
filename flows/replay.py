"""`flowtape replay`: run recorded input through the same flows in-process, as fast as possible, and write
every derived topic as JSONL (sorted by ts_event, id, revision, so the same input gives identical bytes).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.config import OptionsConfig
from events.models import AnyEvent
from events.topics import DERIVED_TOPICS
from flows.embedded import run_events, run_into
from flows.inputs import InputStats, balanced_slots, check_inputs, guarded, input_weights, read_inputs
from flows.spool import Spool, sort_key, write_lines, write_outputs

__all__ = [
    "ReplayResult",
    "replay_files",
    "replay_into",
    "run_events",  # re-exported: the in-process run lives in `flows.embedded`
    "run_into",
    "sort_key",
    "write_lines",  # re-exported: the output files are `flows.spool`'s
    "write_outputs",
]


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


class ReplayInterrupted(Exception):
    """The replay was asked to stop (Ctrl-C) before the end of its input: nothing was written."""


def replay_into(
    out_dir: Path,
    events: Callable[[], Iterable[AnyEvent]],
    stats: InputStats,
    files: Sequence[Path] = (),
    stop: Callable[[], bool] | None = None,
    **flow: Any,
) -> dict[str, int]:
    """Run `events` through the embedded flow (`flow`: `run_into`'s options) and write the outputs into `out_dir`
    as `write_outputs` does, spooling the derived events (`flows.spool`) so memory stays bounded whatever the
    input's length; return the output counts. Raises the input's error (`stats.error`) before writing, and
    `ReplayInterrupted` when `stop` ended the input early (read before each batch)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".spool-", dir=out_dir) as scratch:
        spool = Spool(Path(scratch))
        run_into(events, spool.add, dead_letters=stats.dead_letters, stop=stop, **flow)
        if stop is not None and stop():
            raise ReplayInterrupted("interrupted: nothing was written")
        if stats.error is not None:
            raise stats.error
        return write_lines(out_dir, {topic: spool.lines(topic) for topic in DERIVED_TOPICS}, stats, files)


def replay_files(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    config: OptionsConfig | None = None,
    workers: int = 1,
    on_batch: Callable[[int], None] | None = None,
    processes: int = 1,
    on_progress: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ReplayResult:
    """Replay recorded files into `out_dir`.

    Raises before any work on a missing, unsupported or unreadable file, and `InputError` (writing nothing)
    for a file found corrupt while reading it. `processes` above 1 splits the replay over that many local processes by
    partition key (`flows.replay_processes`), with `workers` workers in each process; it reports progress through
    `on_progress` (events read so far), not `on_batch`. `stop` (Ctrl-C) ends the replay early with
    `ReplayInterrupted`, writing nothing.
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
            slots=lambda: balanced_slots(input_weights(paths), processes),  # weighed while the processes start
            config=config,
            workers=workers,
            files=tuple(paths),
            on_progress=on_progress,
            stop=stop,
        )
    else:
        counts = replay_into(
            out_dir,
            lambda: guarded(read_inputs(paths, stats), stats),
            stats,
            paths,
            stop,
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

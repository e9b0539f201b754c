"""`flowtape replay --processes N`: one replay split over N local processes by partition key.

The parent starts N processes (spawned, so nothing of the parent's threads is inherited). Each reads the whole
input but keeps only its partition (`flows.inputs.Partition`: the events of the underlyings whose key hashes to
it; a DBN file's other records are skipped before they are parsed) and runs the embedded flow on it alone: the
engines are keyed by that key, so nothing needs to cross between processes and each derives exactly what a
one-process replay derives for its underlyings. Each process sorts what it derived (the replay order: ts_event,
id, revision) and writes it to a part file per topic, one JSON line per event behind its sort key, with its input
stats and the dead letters of events its engines raised on; the parent merges the parts, so the output files are
the same bytes as a one-process replay. The input's own dead letters are partition 0's.
"""

from __future__ import annotations

import heapq
import multiprocessing
import pickle
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import TYPE_CHECKING

from events.config import OptionsConfig
from events.models import AnyEvent, DeadLetter
from events.topics import DERIVED_TOPICS
from flows.inputs import InputStats, Partition
from flows.spool import json_line

if TYPE_CHECKING:
    from connectors.synthetic import SyntheticConfig

Read = Callable[[InputStats, Partition], Iterable[AnyEvent]]
"""The replay's input: a picklable callable (module-level class or function) yielding one partition's events,
counting what it read into the stats it is given."""

_POLL_S = 0.2


class ReadFiles:
    """The input of a file replay (`flows.inputs.read_inputs`), picklable for the processes."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = tuple(paths)

    def __call__(self, stats: InputStats, partition: Partition) -> Iterator[AnyEvent]:
        from flows.inputs import guarded, read_inputs

        return guarded(read_inputs(self.paths, stats, partition), stats)


class ReadSynthetic:
    """The input of a synthetic replay: the seeded market's events, counted by type."""

    def __init__(self, config: SyntheticConfig) -> None:
        self.config = config

    def __call__(self, stats: InputStats, partition: Partition) -> Iterator[AnyEvent]:
        from connectors.synthetic import SyntheticMarket

        for event in SyntheticMarket(self.config, keep_truth=False).events():
            if partition.owns(event.key):
                stats.events_by_type[event.event_type] += 1
                yield event


def _run_process(
    proc_id: int,
    processes: int,
    slots_from: Connection,
    read: Read,
    config: OptionsConfig | None,
    workers: int,
    part_dir: Path,
    read_count: Synchronized[int],
) -> None:
    """Run partition `proc_id` of `processes`; write its sorted derived events, its input stats and its engines'
    dead letters to `part_dir`. The key placement arrives on `slots_from` once the parent has weighed the input
    (while this process was starting)."""
    from connectors.settings import Settings
    from flows.collector import tune_collector
    from flows.embedded import run_into
    from flows.spool import Spool

    tune_collector(Settings().gc_threshold)  # a spawned interpreter: the parent's tuning is not inherited
    # Ctrl-C reaches the whole process group: the parent decides (it stops the children), not a KeyboardInterrupt
    # inside Bytewax here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    slots: dict[str, int] = slots_from.recv()
    stats = InputStats()
    partition = Partition(proc_id, processes, slots)

    def counted(n: int) -> None:
        with read_count.get_lock():
            read_count.value += n

    engine_letters: list[DeadLetter] = []
    scratch = part_dir / f"{proc_id}.spool"
    scratch.mkdir()
    spool = Spool(scratch)
    run_into(
        lambda: read(stats, partition),
        spool.add,
        config=config,
        workers=workers,
        on_batch=counted,
        dead_letters=engine_letters,
    )
    for topic in DERIVED_TOPICS:
        with (part_dir / f"{proc_id}.{topic}.part").open("w", encoding="utf-8") as fh:
            fh.writelines(spool.part_lines(topic))
    shutil.rmtree(scratch)
    stats.dead_letters.extend(engine_letters)
    (part_dir / f"{proc_id}.stats.pickle").write_bytes(pickle.dumps(stats))


def _part_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        yield from fh


def merged_lines(part_dir: Path, topic: str, processes: int) -> Iterator[str]:
    """Yield one topic's JSON lines (each ending in a newline) of every process in replay order."""
    parts = [part_dir / f"{i}.{topic}.part" for i in range(processes)]
    streams = [_part_lines(path) for path in parts if path.exists()]
    for line in heapq.merge(*streams):  # as text (`flows.spool`: the key, then the JSON)
        yield json_line(line)


def _merged_stats(part_dir: Path, processes: int) -> InputStats:
    stats = InputStats()
    for i in range(processes):
        part: InputStats = pickle.loads((part_dir / f"{i}.stats.pickle").read_bytes())
        stats.events_by_type.update(part.events_by_type)
        stats.dead_letters.extend(part.dead_letters)
        stats.counted_once.update(part.counted_once)
        stats.error = stats.error or part.error
    return stats


def replay_processes(
    read: Read,
    out_dir: Path,
    *,
    processes: int,
    config: OptionsConfig | None = None,
    workers: int = 1,
    files: tuple[Path, ...] = (),
    on_progress: Callable[[int], None] | None = None,
    slots: Mapping[str, int] | Callable[[], Mapping[str, int]] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[dict[str, int], InputStats]:
    """Replay `read`'s events on `processes` local processes of `workers` workers each; write the outputs into
    `out_dir` as a one-process replay does; return the output counts and the input stats.

    `on_progress` is called with the number of input events read so far while the processes run. `slots`
    places keys on processes (`flows.inputs.balanced_slots`), or makes that placement (called once the processes
    are starting, so weighing the input overlaps their start); keys not in it go by hash. `stop` (Ctrl-C, which
    the children ignore) ends the replay: the children are stopped and `ReplayInterrupted` raised, nothing written.
    """
    from flows.spool import write_lines

    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    context = multiprocessing.get_context("spawn")
    read_count: Synchronized[int] = context.Value("q", 0)
    with tempfile.TemporaryDirectory(prefix="flowtape-replay-") as tmp:
        part_dir = Path(tmp)
        pipes = [context.Pipe(duplex=False) for _ in range(processes)]
        children = [
            context.Process(
                target=_run_process,
                args=(i, processes, receive, read, config, workers, part_dir, read_count),
                name=f"flowtape-replay-{i}",
            )
            for i, (receive, _) in enumerate(pipes)
        ]
        for child in children:
            child.start()
        try:
            placed = dict(slots() if callable(slots) else slots or {})
            for _, send in pipes:
                send.send(placed)
            while any(child.is_alive() for child in children):
                if any(child.exitcode not in (None, 0) for child in children):
                    break
                if stop is not None and stop():
                    break  # the children go in `finally`; nothing is merged
                if on_progress is not None:
                    on_progress(read_count.value)
                time.sleep(_POLL_S)
        finally:
            # Still running here only after a failure or an interrupt: the cluster cannot finish without it.
            for child in children:
                if child.is_alive():
                    child.terminate()
                child.join()
        if stop is not None and stop():
            from flows.replay import ReplayInterrupted

            raise ReplayInterrupted("interrupted: nothing was written")
        if any(child.exitcode != 0 for child in children):
            codes = ", ".join(f"{c.name}: {c.exitcode}" for c in children)
            raise RuntimeError(f"replay on {processes} processes failed ({codes})")
        if on_progress is not None:
            on_progress(read_count.value)
        stats = _merged_stats(part_dir, processes)
        if stats.error is not None:
            raise stats.error
        lines = {topic: merged_lines(part_dir, topic, processes) for topic in DERIVED_TOPICS}
        counts = write_lines(out_dir, lines, stats, files)
    return counts, stats

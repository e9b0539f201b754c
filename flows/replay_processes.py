"""`flowtape replay --processes N`: one replay run as a Bytewax cluster of N local processes.

The parent starts N processes (spawned, so nothing of the parent's threads is inherited), each running the same
embedded flow as `cluster_main` process i of N on loopback addresses. The input's one partition is read by one of
them; Bytewax routes each underlying's events to the worker that owns its key, wherever it runs. Each process
sorts what its workers derived (the replay order: ts_event, id, revision) and writes it to a part file per topic,
one JSON line per event behind its sort key; the parent merges the parts, so the output files are the same bytes
as a one-process replay. The input counts and dead letters come from the process that read the input.
"""

from __future__ import annotations

import heapq
import multiprocessing
import pickle
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import TYPE_CHECKING

from events.config import OptionsConfig
from events.models import AnyEvent
from events.serde import to_json_line
from events.topics import DERIVED_TOPICS
from flows.inputs import InputStats

if TYPE_CHECKING:
    from connectors.synthetic import SyntheticConfig

Read = Callable[[InputStats], Iterable[AnyEvent]]
"""The replay's input: a picklable callable (module-level class or function) yielding the events, counting what
it read into the stats it is given."""

_POLL_S = 0.2


class ReadFiles:
    """The input of a file replay (`flows.inputs.read_inputs`), picklable for the processes."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = tuple(paths)

    def __call__(self, stats: InputStats) -> Iterator[AnyEvent]:
        from flows.inputs import read_inputs

        return read_inputs(self.paths, stats)


class ReadSynthetic:
    """The input of a synthetic replay: the seeded market's events, counted by type."""

    def __init__(self, config: SyntheticConfig) -> None:
        self.config = config

    def __call__(self, stats: InputStats) -> Iterator[AnyEvent]:
        from connectors.synthetic import SyntheticMarket

        for event in SyntheticMarket(self.config).events():
            stats.events_by_type[event.event_type] += 1
            yield event


def free_addresses(count: int) -> list[str]:
    """Return `count` loopback host:port addresses whose ports were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _part_line(event: AnyEvent) -> str:
    return f"{event.ts_event} {event.id} {getattr(event, 'revision', 0)}\t{to_json_line(event)}\n"


def _run_process(
    proc_id: int,
    addresses: list[str],
    read: Read,
    config: OptionsConfig | None,
    workers: int,
    part_dir: Path,
    read_count: Synchronized[int],
) -> None:
    """Run process `proc_id` of the cluster; write its sorted derived events and its input stats to `part_dir`."""
    from flows.replay import run_events

    stats = InputStats()

    def counted(n: int) -> None:
        with read_count.get_lock():
            read_count.value += n

    derived = run_events(
        lambda: read(stats),
        config=config,
        workers=workers,
        on_batch=counted,
        cluster=(addresses, proc_id),
    )
    for topic, items in derived.items():
        with (part_dir / f"{proc_id}.{topic}.part").open("w", encoding="utf-8") as fh:
            fh.writelines(_part_line(item) for item in items)
    (part_dir / f"{proc_id}.stats.pickle").write_bytes(pickle.dumps(stats))


def _sort_key(line: str) -> tuple[int, str, int]:
    ts_event, event_id, revision = line[: line.index("\t")].split(" ")
    return int(ts_event), event_id, int(revision)


def _part_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        yield from fh


def merged_lines(part_dir: Path, topic: str, processes: int) -> Iterator[str]:
    """Yield one topic's JSON lines (no newline) of every process in replay order."""
    parts = [part_dir / f"{i}.{topic}.part" for i in range(processes)]
    streams = [_part_lines(path) for path in parts if path.exists()]
    for line in heapq.merge(*streams, key=_sort_key):
        yield line[line.index("\t") + 1 : -1]


def _merged_stats(part_dir: Path, processes: int) -> InputStats:
    stats = InputStats()
    for i in range(processes):
        part: InputStats = pickle.loads((part_dir / f"{i}.stats.pickle").read_bytes())
        stats.events_by_type.update(part.events_by_type)
        stats.dead_letters.extend(part.dead_letters)
        stats.counted_once.update(part.counted_once)
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
) -> tuple[dict[str, int], InputStats]:
    """Replay `read`'s events on `processes` local processes of `workers` workers each; write the outputs into
    `out_dir` as a one-process replay does; return the output counts and the input stats.

    `on_progress` is called with the number of input events read so far while the processes run.
    """
    from flows.replay import write_lines

    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    context = multiprocessing.get_context("spawn")
    read_count: Synchronized[int] = context.Value("q", 0)
    addresses = free_addresses(processes)
    with tempfile.TemporaryDirectory(prefix="flowtape-replay-") as tmp:
        part_dir = Path(tmp)
        children = [
            context.Process(
                target=_run_process,
                args=(i, addresses, read, config, workers, part_dir, read_count),
                name=f"flowtape-replay-{i}",
            )
            for i in range(processes)
        ]
        for child in children:
            child.start()
        try:
            while any(child.is_alive() for child in children):
                if any(child.exitcode not in (None, 0) for child in children):
                    break
                if on_progress is not None:
                    on_progress(read_count.value)
                time.sleep(_POLL_S)
        finally:
            # Still running here only after a failure or an interrupt: the cluster cannot finish without it.
            for child in children:
                if child.is_alive():
                    child.terminate()
                child.join()
        if any(child.exitcode != 0 for child in children):
            codes = ", ".join(f"{c.name}: {c.exitcode}" for c in children)
            raise RuntimeError(f"replay on {processes} processes failed ({codes})")
        if on_progress is not None:
            on_progress(read_count.value)
        stats = _merged_stats(part_dir, processes)
        lines = {topic: merged_lines(part_dir, topic, processes) for topic in DERIVED_TOPICS}
        counts = write_lines(out_dir, lines, stats, files)
    return counts, stats

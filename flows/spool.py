"""Derived events in replay order, in bounded memory, and the output files: the output side of `flowtape replay`.

A replay writes every derived topic sorted by (ts_event, id, revision), but derived events come out of the flow
only roughly in that order (structures and alerts are decided after their packets, flow context flushes at the
end). Holding them all as models until the end cost gigabytes on a multi-million-print file. A `Spool` keeps each
event as its JSON line behind its sort key instead, and once `run_lines` lines are held it sorts them into one
run file per topic in a scratch directory; reading a topic back merges its runs and what is still held (an
external merge sort). Memory is bounded by `run_lines`, whatever the length of the input, and the lines are the
same bytes, in the same order, as sorting every model at the end.

A run file line is `<ts_event> <id> <revision>\\t<json>\\n`, the format of the part files that
`flows.replay_processes` merges across processes (`part_lines` gives it). Both numbers are zero-padded to 20
digits (`KEY_DIGITS`; the contracts keep them non-negative), and an id's characters all sort after the space, so
comparing two lines as text orders them by (ts_event, id, revision), then by their JSON: runs and parts are merged
as plain strings (`heapq.merge` without a key function, the comparisons in C), and a tie between two copies of one
key is decided by content, the same way however the lines were split into runs or processes.
"""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path

from events.models import DerivedEvent
from events.serde import to_json_line
from events.topics import DERIVED_TOPICS, dlq, topic_for
from flows.inputs import InputStats

KEY_DIGITS = 20
"""Width of the zero-padded ts_event and revision in a line's key (an int64 has at most 19 digits)."""
WRITE_CHUNK = 8192
"""Lines handed to the output file per call while writing."""
RUN_LINES = 200_000
"""Lines held in memory before they are sorted into run files (a few hundred MB at most)."""

_Key = tuple[int, str, int]


def sort_key(event: DerivedEvent) -> _Key:
    """Order derived events deterministically: time, id, revision (0 for an event type without revisions)."""
    # Read from the field dict: `getattr` with a default raises and catches inside pydantic for every event type
    # without the field, which cost more than serializing the event.
    fields = event.__dict__
    return (fields["ts_event"], fields["id"], fields.get("revision", 0))


def _file_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        yield from fh


class Spool:
    """Derived events by topic, as sorted JSON lines, in at most `run_lines` lines of memory (module docstring;
    default `RUN_LINES`).

    `directory` must exist and stay until the lines are read; the spool writes only files of its own there.
    """

    def __init__(self, directory: Path, *, run_lines: int | None = None) -> None:
        run_lines = RUN_LINES if run_lines is None else run_lines
        if run_lines < 1:
            raise ValueError(f"run_lines must be at least 1, got {run_lines}")
        self._directory = directory
        self._run_lines = run_lines
        self._held: dict[str, list[tuple[_Key, str]]] = defaultdict(list)
        self._held_count = 0
        self._runs: dict[str, list[Path]] = defaultdict(list)
        self._spills = 0
        self.counts: dict[str, int] = defaultdict(int)
        """Events added per topic."""

    def add(self, events: Iterable[DerivedEvent]) -> None:
        """Take derived events (any topics, any order)."""
        held, counts = self._held, self.counts
        for event in events:
            topic = topic_for(event.__dict__["event_type"])
            held[topic].append((sort_key(event), to_json_line(event)))
            counts[topic] += 1
            self._held_count += 1
        if self._held_count >= self._run_lines:
            self._spill()

    @property
    def run_files(self) -> int:
        """Run files written so far (0 while everything fits in memory)."""
        return sum(len(paths) for paths in self._runs.values())

    def lines(self, topic: str) -> Iterator[str]:
        """Yield one topic's JSON lines (each ending in a newline) in replay order."""
        for line in self.part_lines(topic):
            yield json_line(line)

    def part_lines(self, topic: str) -> Iterator[str]:
        """Yield one topic's lines in run-file format (`<key>\\t<json>\\n`), in replay order."""
        held = sorted(self._held.pop(topic, []))  # by key, then JSON: the order of the formatted lines
        self._held_count -= len(held)
        streams: list[Iterator[str]] = [_file_lines(path) for path in self._runs.get(topic, [])]
        streams.append(_formatted(held))
        if len(streams) == 1:
            yield from streams[0]
        else:
            yield from heapq.merge(*streams)  # as text: the key, then the JSON (module docstring)

    def _spill(self) -> None:
        """Sort what is held into one run file per topic and let it go."""
        for topic, rows in self._held.items():
            if not rows:
                continue
            rows.sort()  # by key, then JSON: the order of the formatted lines
            path = self._directory / f"{topic}.{self._spills}.run"
            with path.open("w", encoding="utf-8") as fh:
                fh.writelines(_formatted(rows))
            self._runs[topic].append(path)
        self._spills += 1
        self._held.clear()
        self._held_count = 0


def json_line(line: str) -> str:
    """The JSON line (with its newline) of a run or part file line: what follows its key."""
    return line[line.index("\t") + 1 :]


def _formatted(rows: Iterable[tuple[_Key, str]]) -> Iterator[str]:
    for (ts_event, event_id, revision), line in rows:
        yield f"{ts_event:0{KEY_DIGITS}d} {event_id} {revision:0{KEY_DIGITS}d}\t{line}\n"


def write_outputs(
    out_dir: Path,
    derived: dict[str, list[DerivedEvent]],
    stats: InputStats,
    files: Sequence[Path] = (),
) -> dict[str, int]:
    """Write one JSONL file per derived topic (every topic, empty or not), dead letters and `summary.json`
    (counts only: no timings, so the directory is byte-identical across runs); return the output counts.
    """
    lines = {topic: (to_json_line(item) + "\n" for item in items) for topic, items in derived.items()}
    return write_lines(out_dir, lines, stats, files)


def write_lines(
    out_dir: Path,
    lines: Mapping[str, Iterable[str]],
    stats: InputStats,
    files: Sequence[Path] = (),
) -> dict[str, int]:
    """Write the outputs as `write_outputs` does, from each derived topic's JSON lines (each ending in a newline)
    in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for topic in DERIVED_TOPICS:
        count = 0
        remaining = iter(lines.get(topic, ()))
        with (out_dir / f"{topic}.jsonl").open("w", encoding="utf-8") as fh:
            while chunk := list(islice(remaining, WRITE_CHUNK)):
                fh.writelines(chunk)
                count += len(chunk)
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

"""Recorded inputs for in-process runs: DBN files and the project's own JSONL event files, merged in time."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from events.models import AnyEvent, DeadLetter
from events.serde import InvalidPayload, decode_any

if TYPE_CHECKING:
    from connectors.databento.parse import SymbolMap

DBN_SUFFIXES = (".dbn", ".dbn.zst")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass
class InputStats:
    """What the readers saw: events per type, and every line that could not become an event."""

    events_by_type: Counter[str] = field(default_factory=Counter)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def input_kind(path: Path) -> str:
    """Return "dbn" or "jsonl" for a recorded input file; raise ValueError for anything else."""
    name = path.name.lower()
    if name.endswith(DBN_SUFFIXES):
        return "dbn"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    raise ValueError(f"{path}: unsupported input (expected {', '.join(DBN_SUFFIXES + JSONL_SUFFIXES)})")


def check_inputs(paths: Sequence[Path]) -> None:
    """Fail fast, before any work, on a missing or unsupported input."""
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        input_kind(path)


def read_jsonl(path: Path, stats: InputStats) -> Iterator[AnyEvent]:
    """Yield the events of a JSONL file; invalid lines become dead letters with their reason."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield decode_any(line, source=f"{path.name}:{number}")
            except InvalidPayload as err:
                stats.dead_letters.append(err.dead_letter(line.rstrip(b"\n"), offset=number))


def read_one(path: Path, stats: InputStats, symbols: SymbolMap | None = None) -> Iterator[AnyEvent]:
    """Yield the events of one recorded file (DBN files resolve instruments through `symbols` too)."""
    if input_kind(path) == "dbn":
        from connectors.databento.files import read_dbn

        yield from read_dbn(path, symbols=symbols)
    else:
        yield from read_jsonl(path, stats)


def dbn_symbols(paths: Sequence[Path]) -> SymbolMap | None:
    """Return instrument names from the DBN `definition` files among `paths`, for files requested with
    parent symbology (`SPY.OPT`), whose own metadata never names the contracts.
    """
    from connectors.databento.files import load_symbols, read_metadata

    definitions = [p for p in paths if input_kind(p) == "dbn" and str(read_metadata(p).schema) == "definition"]
    return load_symbols(definitions) if definitions else None


def read_inputs(paths: Sequence[Path], stats: InputStats) -> Iterator[AnyEvent]:
    """Yield the events of every file merged by ts_event (stable: ties keep file order)."""
    symbols = dbn_symbols(paths)
    streams = [read_one(p, stats, symbols) for p in paths]
    for event in heapq.merge(*streams, key=lambda e: e.ts_event):
        stats.events_by_type[event.event_type] += 1
        yield event

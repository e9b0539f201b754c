"""Recorded inputs for in-process runs: DBN files and the project's own JSONL event files, merged in time.

One trade can reach a replay through several DBN files of one session: Databento's `trades`, `tbbo` and
`mbp-1` each carry every venue trade, and the connector gives a trade the same id whichever of them brings it.
The reader counts such a trade once (the copy carrying a quote at trade wins, else the first file's) and says
how many it dropped. A consolidated trade schema (`tcbbo`, `cmbp-1`) names no venue sequence, so its trades
cannot be matched with a venue schema's: that mix, over overlapping times, is refused before any work.

Bad input is of two kinds. A JSONL line that cannot become an event (whatever is wrong with it) is a dead
letter with its reason, and the replay goes on. A file that cannot be read at all (empty, not DBN, a binary
file named `.jsonl`, DBN metadata or records cut short or corrupt) is an `InputError`: one line naming the file.
The whole file is checked before any work where that is cheap (its first bytes, DBN metadata); what only reading
finds (a corrupt record, a truncated tail) stops the reader, and the replay raises it once the flow has ended
(an exception raised inside a Bytewax source would end in a Rust panic and three tracebacks).
"""

from __future__ import annotations

import heapq
import logging
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from events.models import AnyEvent, DeadLetter
from events.serde import InvalidPayload, decode_any

if TYPE_CHECKING:
    from connectors.databento.parse import SymbolMap

DBN_SUFFIXES = (".dbn", ".dbn.zst")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PRINT_TYPES = frozenset({"option_print", "equity_print"})

BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"PK\x03\x04", "a zip archive"),
    (b"DBN", "a DBN file"),
)
"""How a binary file named `.jsonl` starts, and what it is then."""
UNDECODABLE = "undecodable"
"""Dead-letter error class of a line whose decoding failed other than by `InvalidPayload` (defense in depth)."""

log = logging.getLogger(__name__)


class InputError(ValueError):
    """A recorded input file that cannot be read: one line, `<file>: <what>`."""

    def __init__(self, path: Path | str, what: str) -> None:
        self.path, self.what = str(path), str(what)
        text = " ".join(self.what.split())  # one line, whatever the decoder's message held
        prefix = f"{path}: "
        super().__init__(text if text.startswith(prefix) else prefix + text)

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        return type(self), (self.path, self.what)  # pickled from a replay process to the parent


@dataclass
class InputStats:
    """What the readers saw: events per type, every line that could not become an event, and the trades seen
    in two files and counted once ((kept file, dropped file) -> count)."""

    events_by_type: Counter[str] = field(default_factory=Counter)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    counted_once: Counter[tuple[str, str]] = field(default_factory=Counter)
    error: InputError | None = None
    """The file that could not be read to its end (see `guarded`), when one could not."""
    published_dead_letters: Counter[str] = field(default_factory=Counter)
    """Dead letters per error class already handed on and let go (`flows.ingest`), no longer in `dead_letters`."""

    @property
    def dead_letters_by_error(self) -> dict[str, int]:
        """Dead letters per error class (those held and those handed on), sorted by class."""
        counts = Counter(letter.error for letter in self.dead_letters) + self.published_dead_letters
        return dict(sorted(counts.items()))

    @property
    def notices(self) -> list[str]:
        """One line per pair of files that shared trades: what the reader did about it."""
        return [
            f"{count} trades seen in both {kept} and {dropped}: counted once"
            for (kept, dropped), count in sorted(self.counted_once.items())
        ]


@dataclass(frozen=True)
class Partition:
    """One process's share of a partitioned replay (`flowtape replay --processes N`): the events whose partition
    key (`Event.key`: an underlying, or an equity's symbol) hashes to `index` of `count` (CRC-32, so every process
    and every run agree), plus the input's events and records that have no key, and its dead letters, which are
    partition 0's. Engines are keyed by the same key, so the partitions derive independently what one process
    derives from the whole input."""

    index: int
    count: int
    slots: Mapping[str, int] = field(default_factory=dict)
    """Keys placed by weight (`balanced_slots`); a key not among them goes by its hash (`slot_of`)."""

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index} of {self.count} does not exist")

    def owns(self, key: str | None) -> bool:
        """Whether events of partition key `key` (None: no key) are this partition's."""
        if key is None:
            return self.index == 0
        slot = self.slots.get(key)
        return self.index == (slot_of(key, self.count) if slot is None else slot)

    @property
    def first(self) -> bool:
        """Whether this is partition 0 (the one that reports the input's dead letters)."""
        return self.index == 0


def balanced_slots(weights: Mapping[str, int], count: int) -> dict[str, int]:
    """Place keys on `count` partitions so their loads are even: heaviest first, each on the least loaded
    partition (ties: the lowest index; equal weights in key order), so the placement is the same on every run.
    Hashing a dozen underlyings can put two thirds of a tape on one process; the outputs do not depend on the
    placement, only the wall time does."""
    loads = [0] * count
    slots: dict[str, int] = {}
    for key, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
        slot = min(range(count), key=lambda i: (loads[i], i))
        slots[key] = slot
        loads[slot] += weight
    return slots


def input_weights(paths: Sequence[Path]) -> Counter[str]:
    """Records per partition key over the DBN files among `paths` (`key_weights`); JSONL files are not
    weighed (their keys go by hash)."""
    from connectors.databento.files import key_weights

    symbols = dbn_symbols(paths)
    weights: Counter[str] = Counter()
    for path in paths:
        if input_kind(path) == "dbn":
            weights.update(key_weights(path, symbols))
    return weights


@lru_cache(maxsize=1 << 16)
def slot_of(key: str, count: int) -> int:
    """The partition of `key` among `count` (CRC-32 of its UTF-8 bytes, modulo `count`)."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % count


class _TradeSource(NamedTuple):
    """A DBN file that may carry trades: its dataset, schema (None: mixed) and time range (ns)."""

    path: Path
    dataset: str
    schema: str | None
    start: int
    end: int


def input_kind(path: Path) -> str:
    """Return "dbn" or "jsonl" for a recorded input file; raise ValueError for anything else."""
    name = path.name.lower()
    if name.endswith(DBN_SUFFIXES):
        return "dbn"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    raise ValueError(f"{path}: unsupported input (expected {', '.join(DBN_SUFFIXES + JSONL_SUFFIXES)})")


def check_inputs(paths: Sequence[Path]) -> None:
    """Fail fast, before any work, on a missing or unsupported input, a file that cannot be read (`check_file`),
    or DBN files whose shared trades cannot be counted once (see `shared_trade_files`)."""
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        input_kind(path)
        check_file(path)
    shared_trade_files(paths)


def check_file(path: Path) -> None:
    """Raise InputError for an input that cannot be read: empty, a binary file named `.jsonl`, or a DBN file
    whose metadata is missing, cut short or corrupt (read before the decoder sees any record)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise InputError(path, "empty file")
    if input_kind(path) == "jsonl":
        for magic, what in BINARY_MAGIC:
            if head.startswith(magic):
                raise InputError(path, f"{what}, not JSONL")
        return
    from connectors.databento.files import read_metadata

    try:
        read_metadata(path)
    except (ValueError, OSError) as exc:
        raise InputError(path, str(exc)) from None


def read_jsonl(path: Path, stats: InputStats, partition: Partition | None = None) -> Iterator[AnyEvent]:
    """Yield the events of a JSONL file; invalid lines become dead letters with their reason. With `partition`,
    only that partition's events (and dead letters, partition 0's) are kept."""
    letters = partition is None or partition.first
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            source = f"{path.name}:{number}"
            try:
                event = decode_any(line, source=source)
            except InvalidPayload as err:
                if letters:
                    stats.dead_letters.append(err.dead_letter(line.rstrip(b"\r\n"), offset=number))
                continue
            except Exception as exc:  # no line may end a replay: it is dead-lettered instead
                if letters:
                    reason = f"{type(exc).__name__}: {exc}"
                    letter = InvalidPayload(source, UNDECODABLE, reason).dead_letter(
                        line.rstrip(b"\r\n"), offset=number
                    )
                    stats.dead_letters.append(letter)
                continue
            if partition is None or partition.owns(event.key):
                yield event


def read_one(
    path: Path, stats: InputStats, symbols: SymbolMap | None = None, partition: Partition | None = None
) -> Iterator[AnyEvent]:
    """Yield the events of one recorded file (DBN files resolve instruments through `symbols` too); with
    `partition`, that partition's only (a DBN file's other records are skipped before they are parsed)."""
    if input_kind(path) == "dbn":
        from connectors.databento.files import DbnReadStats, read_dbn

        dbn_stats = DbnReadStats()
        owns = partition.owns if partition is not None else None
        try:
            yield from read_dbn(path, stats=dbn_stats, symbols=symbols, owns=owns)
        except Exception as exc:  # a corrupt record is the file's error, said in one line
            raise InputError(path, _what(exc)) from None
        if dbn_stats.trailing_bytes:
            raise InputError(path, f"truncated: the last record is cut short ({dbn_stats.trailing_bytes} bytes)")
    else:
        yield from read_jsonl(path, stats, partition)


def guarded(events: Iterable[AnyEvent], stats: InputStats) -> Iterator[AnyEvent]:
    """Yield `events` until reading fails; then note the failure in `stats.error` and stop.

    For readers run inside a Bytewax source, where a raised exception would abort the dataflow with a Rust
    panic: the caller raises `stats.error` once the flow has ended.
    """
    try:
        yield from events
    except InputError as exc:
        stats.error = exc
    except Exception as exc:  # the reader's failure, said in one line (see above)
        stats.error = InputError("input", _what(exc))


def _what(exc: Exception) -> str:
    """What went wrong, for one line: a ValueError or OSError says it itself, anything else with its class."""
    return str(exc) if isinstance(exc, (ValueError, OSError)) else f"{type(exc).__name__}: {exc}"


def dbn_symbols(paths: Sequence[Path]) -> SymbolMap | None:
    """Return instrument names from the DBN `definition` files among `paths`, for files requested with
    parent symbology (`SPY.OPT`), whose own metadata never names the contracts.
    """
    from connectors.databento.files import load_symbols, read_metadata

    definitions = [p for p in paths if input_kind(p) == "dbn" and str(read_metadata(p).schema) == "definition"]
    return load_symbols(definitions) if definitions else None


def _trade_sources(paths: Sequence[Path]) -> list[_TradeSource]:
    from connectors.databento.files import read_metadata
    from connectors.databento.parse import CONSOLIDATED_TRADE_SCHEMAS, VENUE_TRADE_SCHEMAS

    sources: list[_TradeSource] = []
    for path in paths:
        if input_kind(path) != "dbn":
            continue
        meta = read_metadata(path)
        schema = str(meta.schema) if meta.schema is not None else None
        if schema is None or schema in VENUE_TRADE_SCHEMAS or schema in CONSOLIDATED_TRADE_SCHEMAS:
            end = meta.end if meta.end is not None else 2**63
            sources.append(_TradeSource(path, meta.dataset, schema, meta.start, end))
    return sources


def shared_trade_files(paths: Sequence[Path]) -> bool:
    """Return whether two DBN inputs may carry the same trades (two trade-bearing files of one dataset).

    Raise ValueError, naming the files, for a consolidated trade schema mixed with a venue one over
    overlapping times: their trades cannot be matched, so every trade would count twice.
    """
    from connectors.databento.parse import CONSOLIDATED_TRADE_SCHEMAS

    sources = _trade_sources(paths)
    for i, left in enumerate(sources):
        for right in sources[i + 1 :]:
            if left.dataset != right.dataset or left.start >= right.end or right.start >= left.end:
                continue
            kinds = {s.schema in CONSOLIDATED_TRADE_SCHEMAS for s in (left, right)}
            if kinds == {True, False}:
                raise ValueError(
                    f"{left.path} ({left.schema}) and {right.path} ({right.schema}) carry the same {left.dataset}"
                    " trades, and a consolidated schema's trades cannot be matched with a venue schema's:"
                    " replay one of them"
                )
    datasets = Counter(s.dataset for s in sources)
    return any(count > 1 for count in datasets.values())


def read_inputs(paths: Sequence[Path], stats: InputStats, partition: Partition | None = None) -> Iterator[AnyEvent]:
    """Yield the events of every file merged by ts_event (stable: ties keep file order); with `partition`, that
    partition's events only (see `Partition`).

    A trade brought by two files (same id) is yielded once: see the module docstring.
    """
    symbols = dbn_symbols(paths)
    if shared_trade_files(paths):
        tagged = [_tag(read_one(p, stats, symbols, partition), i) for i, p in enumerate(paths)]
        merged = heapq.merge(*tagged, key=lambda pair: pair[0].ts_event)
        events: Iterable[AnyEvent] = _count_once(merged, [p.name for p in paths], stats)
    else:
        streams = [read_one(p, stats, symbols, partition) for p in paths]
        events = heapq.merge(*streams, key=lambda e: e.ts_event)
    for event in events:
        stats.events_by_type[event.event_type] += 1
        yield event


def _tag(events: Iterator[AnyEvent], source: int) -> Iterator[tuple[AnyEvent, int]]:
    for event in events:
        yield event, source


def _count_once(merged: Iterator[tuple[AnyEvent, int]], names: Sequence[str], stats: InputStats) -> Iterator[AnyEvent]:
    """Yield merged events, a print seen again from another file dropped (copies share ts_event, so it is
    enough to compare the prints of one timestamp); log what was dropped at the end."""
    group: list[tuple[AnyEvent, int]] = []
    group_ts: int | None = None
    for pair in merged:
        ts = pair[0].ts_event
        if ts != group_ts:
            if group:
                yield from _once(group, names, stats)
            group = []
            group_ts = ts
        group.append(pair)
    if group:
        yield from _once(group, names, stats)
    for notice in stats.notices:
        log.warning(notice)


def _carries_quote(event: AnyEvent) -> bool:
    fields = event.__dict__
    return fields.get("nbbo_ask_e9", fields.get("ask_e9")) is not None


def _once(group: list[tuple[AnyEvent, int]], names: Sequence[str], stats: InputStats) -> list[AnyEvent]:
    """The events of one timestamp, each print id once: the copy carrying a quote, else the first file's,
    kept at the first copy's place."""
    if len(group) == 1:
        return [group[0][0]]
    kept: list[AnyEvent] = []
    sources: list[int] = []
    first: dict[str, int] = {}  # print id -> its index in kept
    for event, source in group:
        if event.event_type in PRINT_TYPES:
            at = first.get(event.id)
            if at is not None and sources[at] != source:
                if _carries_quote(event) and not _carries_quote(kept[at]):
                    stats.counted_once[(names[source], names[sources[at]])] += 1
                    kept[at], sources[at] = event, source
                else:
                    stats.counted_once[(names[sources[at]], names[source])] += 1
                continue
            first[event.id] = len(kept)
        kept.append(event)
        sources.append(source)
    return kept

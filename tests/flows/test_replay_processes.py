"""`flowtape replay --processes N`: partitions by key, each process alone on its share, write the same bytes as one
process; input and engine dead letters, and a corrupt file, are reported as one process reports them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from cli.bench.dbn_replay import write_session
from connectors.synthetic import SyntheticConfig, SyntheticMarket
from events.config import OptionsConfig
from events.models import AnyEvent, OptionPrint
from flows.engine_guard import ENGINE_ERROR
from flows.inputs import InputError, InputStats, Partition, balanced_slots, input_weights, read_inputs
from flows.replay import replay_files, run_events, write_outputs
from flows.replay_processes import ReadSynthetic, replay_processes
from operators.options_engine import OptionsEngine

MARKET = SyntheticConfig(seed=11, profile="active", duration_s=4)


def _files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_key_belongs_to_exactly_one_partition(count: int) -> None:
    partitions = [Partition(i, count) for i in range(count)]
    for key in ["SPY", "QQQ", "AAPL", "NVDA", "TSLA", "", "ÄÖ", "BRK.B"]:
        assert sum(p.owns(key) for p in partitions) == 1, key
    assert [p.owns(None) for p in partitions] == [True] + [False] * (count - 1), "no key: partition 0"
    with pytest.raises(ValueError, match="does not exist"):
        Partition(count, count)


def test_balanced_slots_even_the_load_and_never_depend_on_order() -> None:
    weights = {"SPY": 54, "TSLA": 35, "NVDA": 33, "QQQ": 32, "AAPL": 21, "AMZN": 19, "NFLX": 18, "IWM": 18}
    slots = balanced_slots(weights, 2)
    loads = [sum(w for k, w in weights.items() if slots[k] == i) for i in range(2)]
    assert abs(loads[0] - loads[1]) <= max(weights.values()), loads  # greedy: within the heaviest key
    assert max(loads) < 0.6 * sum(weights.values()), loads
    assert balanced_slots(dict(reversed(list(weights.items()))), 2) == slots
    partitions = [Partition(i, 2, slots) for i in range(2)]
    for key in [*weights, "UNSEEN"]:
        assert sum(p.owns(key) for p in partitions) == 1, key


def test_key_weights_count_a_dbn_files_records_per_underlying(tmp_path: Path) -> None:
    path = tmp_path / "session.dbn.zst"
    write_session(path, 3_000, seed=5)
    expected = Counter(e.key for e in read_inputs([path], InputStats()))
    assert input_weights([path]) == expected


def test_partitions_of_a_dbn_file_are_its_events_split_by_key(tmp_path: Path) -> None:
    path = tmp_path / "session.dbn.zst"
    write_session(path, 3_000, seed=5)
    whole = list(read_inputs([path], InputStats()))
    assert len({e.key for e in whole}) > 3
    slots = balanced_slots(input_weights([path]), 2)
    for count, placed in ((2, {}), (3, {}), (2, slots)):
        for index in range(count):
            partition = Partition(index, count, placed)
            stats = InputStats()
            part = list(read_inputs([path], stats, partition))
            assert part == [e for e in whole if partition.owns(e.key)], (index, count)
            assert sum(stats.events_by_type.values()) == len(part)


def test_a_dbn_file_on_two_processes_writes_the_same_files_as_one(tmp_path: Path) -> None:
    path = tmp_path / "session.dbn.zst"
    write_session(path, 3_000, seed=5)
    one = replay_files([path], tmp_path / "one")
    two = replay_files([path], tmp_path / "two", processes=2)
    assert two.events_in == one.events_in
    assert two.events_out == one.events_out
    assert sum(one.events_out.values()) > 0
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_a_corrupt_dbn_file_on_two_processes_is_one_input_error(tmp_path: Path) -> None:
    path = tmp_path / "session.dbn"
    write_session(tmp_path / "session.dbn.zst", 3_000, seed=5)
    data = zstandard.ZstdDecompressor().decompressobj().decompress((tmp_path / "session.dbn.zst").read_bytes())
    path.write_bytes(data[: len(data) - 7])  # the last record cut short
    with pytest.raises(InputError, match="truncated"):
        replay_files([path], tmp_path / "out", processes=2)


def test_engine_dead_letters_of_every_process_are_reported(tmp_path: Path) -> None:
    poisoned = _Poisoned()
    clean = _Clean()
    _, clean_stats = replay_processes(clean, tmp_path / "clean", processes=2, config=REFERENCE)
    _, stats = replay_processes(poisoned, tmp_path / "poisoned", processes=2, config=REFERENCE)
    letters = [d for d in stats.dead_letters if d.error == ENGINE_ERROR]
    assert sorted(d.key or "" for d in letters) == sorted(_poisoned_keys()), "one per poisoned print, either process"
    assert {Partition(0, 2).owns(k) for k in _poisoned_keys()} == {True, False}, "the poison reaches both processes"
    assert not clean_stats.dead_letters


def test_two_processes_write_the_same_files_as_one(tmp_path: Path) -> None:
    stats = InputStats()
    for event in SyntheticMarket(MARKET).events():
        stats.events_by_type[event.event_type] += 1
    one = write_outputs(tmp_path / "one", run_events(lambda: SyntheticMarket(MARKET).events()), stats)
    seen: list[int] = []
    two, two_stats = replay_processes(ReadSynthetic(MARKET), tmp_path / "two", processes=2, on_progress=seen.append)
    assert two == one
    assert sum(one.values()) > 0
    assert two_stats.events_by_type == stats.events_by_type
    assert seen[-1] == sum(stats.events_by_type.values())
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_a_failing_process_fails_the_replay(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="replay on 2 processes failed"):
        replay_processes(_Broken(), tmp_path / "out", processes=2)


class _Broken:
    def __call__(self, stats: InputStats, partition: Partition) -> list[object]:
        raise ValueError("unreadable input")


REFERENCE = OptionsConfig(kernel="python")
"""The poison patches the reference engine's per-print step (`tests/flows/test_engine_guard.py`)."""


def _poisoned_ids() -> set[str]:
    """The first option print of each underlying of MARKET."""
    first: dict[str, str] = {}
    for event in SyntheticMarket(MARKET).events():
        if isinstance(event, OptionPrint):
            first.setdefault(event.underlying, event.id)
    return set(first.values())


def _poisoned_keys() -> list[str]:
    ids = _poisoned_ids()
    return [e.key for e in SyntheticMarket(MARKET).events() if e.id in ids]


class _Clean:
    def __call__(self, stats: InputStats, partition: Partition) -> Iterator[AnyEvent]:
        return ReadSynthetic(MARKET)(stats, partition)


class _Poisoned:
    """MARKET's tape, with the reference engine raising on its poisoned prints (patched in the child process)."""

    def __call__(self, stats: InputStats, partition: Partition) -> Iterator[AnyEvent]:
        ids = _poisoned_ids()
        original = OptionsEngine._process

        def process(engine: OptionsEngine, trade: OptionPrint, out: list[Any]) -> None:
            if trade.id in ids:
                raise ValueError("poisoned")
            original(engine, trade, out)

        OptionsEngine._process = process  # type: ignore[method-assign]
        return ReadSynthetic(MARKET)(stats, partition)

"""`flowtape replay --processes N`: a local Bytewax cluster writes the same bytes as one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.synthetic import SyntheticConfig, SyntheticMarket
from flows.inputs import InputStats
from flows.replay import run_events, write_outputs
from flows.replay_processes import ReadSynthetic, free_addresses, replay_processes

MARKET = SyntheticConfig(seed=11, profile="active", duration_s=4)


def _files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_free_addresses_are_distinct_loopback_ports() -> None:
    addresses = free_addresses(3)
    assert len(set(addresses)) == 3
    assert all(a.startswith("127.0.0.1:") and int(a.split(":")[1]) > 0 for a in addresses)


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
    def __call__(self, stats: InputStats) -> list[object]:
        raise ValueError("unreadable input")

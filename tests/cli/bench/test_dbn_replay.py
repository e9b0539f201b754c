"""`[dbn replay]`: the session is a real-format tcbbo DBN file the replay reads back print for print, written once
and reused; the section replays it on 1 and 2 processes and compares what they derive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.bench.dbn_replay import UNIVERSE, digest, run_dbn_replay, session_path, write_session
from events.models import OptionPrint
from flows.inputs import InputStats, read_inputs
from flows.replay import replay_files

PRINTS = 400


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = session_path(tmp_path_factory.mktemp("bench"), PRINTS, 7)
    assert write_session(path, PRINTS, 7) == PRINTS
    return path


def test_session_reads_back_as_option_prints_carrying_the_nbbo(session: Path) -> None:
    stats = InputStats()
    events = list(read_inputs([session], stats))
    assert len(events) == PRINTS
    assert all(isinstance(e, OptionPrint) for e in events)
    prints = [e for e in events if isinstance(e, OptionPrint)]
    assert {p.underlying for p in prints} <= set(UNIVERSE)
    assert sum(p.nbbo_ask_e9 is not None for p in prints) > PRINTS * 0.9
    assert [p.ts_event for p in prints] == sorted(p.ts_event for p in prints)
    assert not stats.dead_letters


def test_digest_counts_and_hashes_the_outputs(session: Path, tmp_path: Path) -> None:
    result = replay_files([session], tmp_path / "out")
    count, ids, outputs = digest(tmp_path / "out")
    assert count == sum(result.events_out.values()) > 0
    assert len(ids) == len(outputs) == 64
    assert digest(tmp_path / "out") == (count, ids, outputs)


def test_section_replays_on_one_and_two_processes_and_reuses_the_file(
    session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_dbn_replay(session.parent, PRINTS, 7)
    out = capsys.readouterr().out
    header = re.search(
        r"^\[dbn replay\] OPRA.PILLAR tcbbo session of ([\d,]+) option prints .*\(([\d.]+) MB, (\w+)", out, re.M
    )
    assert header is not None
    assert header.group(1) == f"{PRINTS:,}"
    assert header.group(3) == "reused"
    runs = re.findall(
        r"^  (\d) process(?:es)? *: +([\d.]+) s wall, +([\d,]+) prints/s, ([\d,]+) derived, ids sha256 (\w{16})$",
        out,
        re.M,
    )
    assert [n for n, *_ in runs] == ["1", "2"]
    assert runs[0][3:] == runs[1][3:]
    speedup = re.search(r"^  speed-up 2/1: ([\d.]+); same derived events: yes$", out, re.M)
    assert speedup is not None
    assert float(speedup.group(1)) == pytest.approx(float(runs[0][1]) / float(runs[1][1]), abs=0.05)

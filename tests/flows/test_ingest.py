"""`flows.ingest` on recorded files that cannot be read: one line and exit 2, never a Rust panic; what was read
before a corrupt record is still handed on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import databento_dbn as dbn
import pytest

from connectors.settings import Settings
from events.models import DeadLetter
from events.serde import to_json_line
from flows.ingest import report, source_events, with_dead_letters
from flows.inputs import InputStats
from tests.connectors.databento import IID, OSI, T0, metadata, trade, write_dbn
from tests.factories import example

ROOT = Path(__file__).resolve().parents[2]


def _dbn(tmp_path: Path, records: int = 3) -> bytes:
    """An uncompressed OPRA trades file of `records` trades."""
    trades = [trade(ts_event=T0 + i, sequence=i) for i in range(records)]
    return write_dbn(tmp_path / "ok.dbn", metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID}), trades).read_bytes()


def _settings(*paths: Path) -> Settings:
    return Settings(ingest_source="files", ingest_files=os.pathsep.join(str(p) for p in paths))


def _run_ingest(files: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWTAPE_INGEST_SOURCE": "files", "FLOWTAPE_INGEST_FILES": files}
    env["FLOWTAPE_KAFKA_BOOTSTRAP"] = "127.0.0.1:1"  # nothing listens: the file must be refused before the broker
    return subprocess.run(
        [sys.executable, "-m", "bytewax.run", "flows.ingest"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


UNREADABLE: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "text_named_dbn": ("notes.dbn", lambda raw: b"trade,SPY,1.00,5\nthis is not a DBN file\n"),
    "truncated_metadata": ("cut.dbn", lambda raw: raw[:40]),
    "empty": ("empty.dbn", lambda raw: b""),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_an_unreadable_file_is_refused_in_one_line_before_the_flow_starts(case: str, tmp_path: Path) -> None:
    name, content = UNREADABLE[case]
    path = tmp_path / name
    path.write_bytes(content(_dbn(tmp_path)))
    done = _run_ingest(str(path), tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"flows.ingest: error: {path}: "), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "panicked" not in done.stdout + done.stderr


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    done = _run_ingest(str(tmp_path / "absent.dbn"), tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"flows.ingest: error: {tmp_path / 'absent.dbn'}: no such file"


def test_a_corrupt_record_stops_the_reader_keeps_what_came_before_and_reports_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = _dbn(tmp_path, records=5)
    path = tmp_path / "cut.dbn"
    path.write_bytes(raw[:-13])  # the last record cut short
    stats = InputStats()
    events = list(source_events(_settings(path), stats))  # as the flow's source reads it: nothing raised
    assert [event.event_type for event in events] == ["option_print"] * 4
    assert stats.error is not None
    assert stats.error.path == str(path)
    assert report(stats) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"flows.ingest: error: {stats.error}"]
    assert "truncated" in err[0]


def test_a_sound_file_reports_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.dbn"
    path.write_bytes(_dbn(tmp_path))
    stats = InputStats()
    assert len(list(source_events(_settings(path), stats))) == 3
    assert report(stats) == 0
    assert capsys.readouterr().err == ""


def test_bad_jsonl_lines_are_counted_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tape.jsonl"
    path.write_bytes(b'{"event_type": "option_print"\n\x00\xff binary\n')
    stats = InputStats()
    items = list(with_dead_letters(source_events(_settings(path), stats), stats))
    assert [item.topic for item in items if isinstance(item, DeadLetter)] == ["tape.jsonl:1", "tape.jsonl:2"]
    assert stats.dead_letters == [], "handed on, then let go"
    assert report(stats) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("flows.ingest: 2 lines could not become events (on ingest.input.dlq): "), err


def test_dead_letters_come_out_in_their_place_in_the_stream(tmp_path: Path) -> None:
    """Each bad line's dead letter follows the event read before it: the dead-letter topic tells where in the
    file the line was, and nothing waits until the end of the file."""
    good = [example("option_print"), example("option_nbbo"), example("equity_quote")]
    path = tmp_path / "tape.jsonl"
    lines = [to_json_line(good[0]), "{not json", to_json_line(good[1]), to_json_line(good[2]), '{"event_type": "x"}']
    path.write_text("\n".join(lines) + "\n")
    stats = InputStats()
    items = list(with_dead_letters(source_events(_settings(path), stats), stats))
    kinds = [item.topic if isinstance(item, DeadLetter) else item.id for item in items]
    assert kinds == [good[0].id, "tape.jsonl:2", good[1].id, good[2].id, "tape.jsonl:5"]
    assert stats.dead_letters_by_error == {"invalid_json": 1, "unknown_event_type": 1}

"""`flowtape replay` on hostile input: every bad line is dead-lettered with its reason and changes nothing
else; a corrupt input file is one line on stderr and exit 2, never a traceback or a Rust panic."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import databento_dbn as dbn
import pytest

from cli.main import main
from events.topics import DERIVED_TOPICS, dlq
from tests.connectors.databento import IID, OSI, T0, metadata, trade, write_dbn
from tests.flows.hostile import CATEGORIES, MixedTape, clean_events, clean_lines, mixed_tape

HOSTILE_LINES = 10_000
DEAD_LETTERS = f"{dlq('replay.input')}.jsonl"


@pytest.fixture(scope="module")
def tapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, MixedTape]:
    """The clean synthetic tape and the same tape with 10,000 hostile lines, as JSONL files."""
    root = tmp_path_factory.mktemp("hostile")
    clean = clean_lines(clean_events())
    tape = mixed_tape(clean, HOSTILE_LINES, seed=11)
    clean_path = root / "clean.jsonl"
    clean_path.write_bytes(b"".join(line + b"\n" for line in clean))
    mixed_path = root / "mixed.jsonl"
    mixed_path.write_bytes(tape.text())
    return clean_path, mixed_path, tape


def test_the_corpus_has_every_category(tapes: tuple[Path, Path, MixedTape]) -> None:
    _, _, tape = tapes
    counts = tape.counts()
    assert len(CATEGORIES) >= 20
    assert set(counts) == set(CATEGORIES)
    assert sum(counts.values()) == HOSTILE_LINES
    assert min(counts.values()) >= HOSTILE_LINES // len(CATEGORIES)


def test_the_corpus_is_deterministic() -> None:
    clean = clean_lines(clean_events(seconds=2.0))
    assert mixed_tape(clean, 500, seed=3).text() == mixed_tape(clean, 500, seed=3).text()
    assert mixed_tape(clean, 500, seed=3).text() != mixed_tape(clean, 500, seed=4).text()


def test_replay_dead_letters_every_hostile_line_and_derives_what_the_clean_tape_does(
    tapes: tuple[Path, Path, MixedTape], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_path, mixed_path, tape = tapes
    assert main(["replay", str(clean_path), "--out", str(tmp_path / "clean"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["replay", str(mixed_path), "--out", str(tmp_path / "mixed"), "--quiet"]) == 0
    err = capsys.readouterr().err

    # The derived output is the clean tape's, byte for byte (ids included).
    packets = (tmp_path / "clean" / "flow.packets.jsonl").read_bytes()
    assert packets.count(b"\n") > 50, "the clean tape derives something to compare"
    for topic in DERIVED_TOPICS:
        name = f"{topic}.jsonl"
        assert (tmp_path / "mixed" / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), topic
    assert not (tmp_path / "clean" / DEAD_LETTERS).exists()

    # Every hostile line, and nothing else, is dead-lettered with its error class and a reason.
    # One letter a line: split on newlines only (a payload may hold U+0085 or U+2028, which splitlines() splits on).
    letters = [json.loads(line) for line in (tmp_path / "mixed" / DEAD_LETTERS).read_bytes().split(b"\n") if line]
    by_line = {letter["offset"]: letter for letter in letters}
    assert len(by_line) == len(letters) == HOSTILE_LINES
    missed = Counter(tape.hostile[n].category for n in set(tape.hostile) - set(by_line))
    assert not missed, f"hostile lines not dead-lettered, by category: {dict(missed)}"
    assert set(by_line) == set(tape.hostile), "only hostile lines are dead-lettered"
    for number, letter in by_line.items():
        category = tape.hostile[number].category
        assert letter["error"], (category, letter)
        assert letter["reason"].strip(), (category, letter)
        assert letter["topic"] == f"{mixed_path.name}:{number}", (category, letter)
        assert letter["payload"], (category, letter)

    # The counts are reported: in summary.json by error class, and in the summary on stderr.
    summary = json.loads((tmp_path / "mixed" / "summary.json").read_text())
    clean_summary = json.loads((tmp_path / "clean" / "summary.json").read_text())
    assert summary["events_in"] == clean_summary["events_in"]
    assert summary["events_out"] == clean_summary["events_out"]
    assert summary["dead_letters"] == HOSTILE_LINES
    by_error = Counter(letter["error"] for letter in letters)
    assert summary["dead_letters_by_error"] == dict(sorted(by_error.items()))
    assert f"{HOSTILE_LINES:,}" in err
    for error in by_error:
        assert error in err


# ------------------------------------------------------------------------------------- corrupt files


def _dbn(tmp_path: Path) -> bytes:
    """An uncompressed OPRA trades file of three records."""
    records = [trade(ts_event=T0 + i, sequence=i) for i in range(3)]
    path = write_dbn(tmp_path / "ok.dbn", metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID}), records)
    return path.read_bytes()


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


CORRUPT: dict[str, tuple[str, object]] = {
    "empty_dbn": ("empty.dbn", b""),
    "empty_jsonl": ("empty.jsonl", b""),
    "text_named_dbn": ("notes.dbn", b"trade,SPY,1.00,5\nthis is not a DBN file\n"),
    "text_starting_with_dbn": ("dbn.dbn", b"DBN is a format; this file is its README\n"),
    "text_named_dbn_zst": ("notes.dbn.zst", b"hello\n"),
    "truncated_metadata": ("cut.dbn", lambda raw: raw[:40]),
    "truncated_record": ("cut.dbn", lambda raw: raw[:-13]),
    "zeroed_records": ("zeroed.dbn", lambda raw: raw[:-60] + bytes(60)),
    "garbage_records": ("garbage.dbn", lambda raw: raw[:-60] + b"\xff" * 60),
    "truncated_zstd": ("cut.dbn.zst", lambda raw: _zstd(raw)[:-9]),
    "corrupt_zstd": ("bad.dbn.zst", lambda raw: _zstd(raw)[:4] + b"garbage" * 30),
    "zstd_named_jsonl": ("events.jsonl", lambda raw: _zstd(raw)),
    "dbn_named_jsonl": ("events.jsonl", lambda raw: raw),
    "gzip_named_jsonl": ("events.jsonl", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(200))),
}


@pytest.mark.parametrize("case", sorted(CORRUPT), ids=sorted(CORRUPT))
def test_a_corrupt_file_is_one_line_and_exit_2(case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    name, content = CORRUPT[case]
    data = content(_dbn(tmp_path)) if callable(content) else content
    assert isinstance(data, bytes)
    path = tmp_path / name
    path.write_bytes(data)
    capfd.readouterr()
    code = main(["replay", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    out, err = capfd.readouterr()  # file descriptors: a Rust panic would be caught here too
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"flowtape replay: error: {path}: "), err
    assert "Traceback" not in out + err
    assert "panicked" not in out + err


def test_a_sound_dbn_file_still_replays(tmp_path: Path) -> None:
    path = tmp_path / "ok.dbn"
    path.write_bytes(_dbn(tmp_path))
    assert main(["replay", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["events_in"] == {"option_print": 3}


def test_bad_jsonl_lines_are_dead_letters_not_fatal(tmp_path: Path) -> None:
    clean = clean_lines(clean_events(seconds=1.0))
    path = tmp_path / "tape.jsonl"
    garbage = [b"\x00\x01\x02\xff\xfe binary", b"{" * 50_000, b'{"event_type": "option_print"']
    path.write_bytes(b"\n".join([clean[0], *garbage, *clean[1:]]) + b"\n")
    assert main(["replay", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    letters = (tmp_path / "out" / DEAD_LETTERS).read_bytes().split(b"\n")
    assert [json.loads(line)["offset"] for line in letters if line] == [2, 3, 4]

"""`flowtape replay` with prints dated far ahead of their underlying's tape (in range for the contracts, so
validation passes them): each is dead-lettered as quarantined, one placed first included, and the derived output
is the clean tape's byte for byte."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from cli.main import main
from events.topics import DERIVED_TOPICS, dlq
from events.units import NS_PER_S
from operators.quarantine import REJECTED
from tests.flows.hostile import clean_events, clean_lines

DEAD_LETTERS = f"{dlq('replay.input')}.jsonl"
AHEAD_NS = 40 * 86_400 * NS_PER_S  # forty days: past the quarantine's day, years still 2000-2100


def _far_ahead(lines: list[bytes], count: int, seed: int) -> tuple[list[bytes], set[str]]:
    """The tape with `count` copies of its option prints moved `AHEAD_NS` ahead under new ids: one first, the
    others at random places; return the lines and the planted ids."""
    rng = random.Random(seed)
    prints = [json.loads(line) for line in lines if b'"event_type":"option_print"' in line.replace(b" ", b"")]
    assert len(prints) >= count
    planted: list[bytes] = []
    ids: set[str] = set()
    for n, template in enumerate(rng.sample(prints, count)):
        event = {**template, "ts_event": template["ts_event"] + AHEAD_NS, "id": f"far-ahead-{n}"}
        if "ts_recv" in event and event["ts_recv"] is not None:
            event["ts_recv"] = event["ts_recv"] + AHEAD_NS
        planted.append(json.dumps(event, separators=(",", ":")).encode("utf-8"))
        ids.add(event["id"])
    out = [planted[0], *lines]
    for line in planted[1:]:
        out.insert(rng.randrange(1, len(out)), line)
    return out, ids


@pytest.mark.parametrize("seed", [1, 2])
def test_far_ahead_prints_are_quarantined_and_change_nothing_else(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = clean_lines(clean_events(seconds=6.0))
    mixed, planted = _far_ahead(clean, 6, seed)
    clean_path, mixed_path = tmp_path / "clean.jsonl", tmp_path / "mixed.jsonl"
    clean_path.write_bytes(b"".join(line + b"\n" for line in clean))
    mixed_path.write_bytes(b"".join(line + b"\n" for line in mixed))
    assert main(["replay", str(clean_path), "--out", str(tmp_path / "clean"), "--quiet"]) == 0
    assert main(["replay", str(mixed_path), "--out", str(tmp_path / "mixed"), "--quiet"]) == 0
    capsys.readouterr()

    packets = (tmp_path / "clean" / "flow.packets.jsonl").read_bytes()
    assert packets.count(b"\n") > 10, "the clean tape derives something to compare"
    for topic in DERIVED_TOPICS:
        name = f"{topic}.jsonl"
        assert (tmp_path / "mixed" / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), topic

    letters = [json.loads(line) for line in (tmp_path / "mixed" / DEAD_LETTERS).read_bytes().split(b"\n") if line]
    assert {json.loads(letter["payload"])["id"] for letter in letters} == planted
    assert len(letters) == len(planted)
    for letter in letters:
        assert letter["error"] == REJECTED, letter
        assert letter["reason"].strip(), letter
        assert letter["topic"] == "options.prints", letter

"""`flowtape replay` on Databento's real sample files (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

from flows.cli import main


def test_replay_opra_tbbo_sample(shared_data: Path, tmp_path: Path) -> None:
    sample = shared_data / "databento" / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst"
    out = tmp_path / "out"
    assert main(["replay", str(sample), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_in"] == {"option_nbbo": 4, "option_print": 4}
    packets = [json.loads(line) for line in (out / "flow.packets.jsonl").read_text().splitlines()]
    assert sum(p["print_count"] for p in packets) == 4
    assert all(p["symbol"].startswith("AAPL  ") for p in packets)


def test_replay_opra_with_reference_data(shared_data: Path, tmp_path: Path) -> None:
    opra = shared_data / "databento" / "OPRA.PILLAR"
    files = [opra / f"test_data.{schema}.dbn.zst" for schema in ("trades", "definition", "statistics", "cbbo-1s")]
    out = tmp_path / "out"
    assert main(["replay", *map(str, files), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_in"]["option_definition"] == 1
    assert summary["events_in"]["open_interest"] == 4
    assert summary["events_out"]["flow.packets"] >= 1

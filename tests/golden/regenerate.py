"""Regenerate the golden replay's expected outputs: `python -m tests.golden.regenerate`.

By default the checked-in `input.jsonl` (a recorded synthetic session) is replayed and only the expected
derived topics are rewritten: do it when a change to derived events is intended, say so in the CHANGELOG
and review the diff like code. `--record-input` re-records the input itself from the synthetic market
(only when the recording must change, e.g. a contract change makes the old input invalid).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.main import main

CASE = Path(__file__).resolve().parent / "options_small"
RECORD = ["--synthetic-s", "12", "--seed", "5", "--underlyings", "SPY,TSLA"]
OUTPUTS = (
    "flow.packets.jsonl",
    "flow.hits.jsonl",
    "flow.alerts.jsonl",
    "flow.structures.jsonl",
    "flow.context.jsonl",
    "equities.trades.jsonl",
    "dark.inferences.jsonl",
    "dark.levels.jsonl",
    "equities.candles.jsonl",
)
"""The derived topics the golden replay checks (and regeneration keeps)."""


def regenerate(record_input: bool = False) -> None:
    """Rewrite the expected outputs (and the input too when `record_input`)."""
    if record_input:
        assert main(["replay", *RECORD, "--out", str(CASE), "--write-input", "--quiet"]) == 0
    else:
        assert main(["replay", str(CASE / "input.jsonl"), "--out", str(CASE), "--quiet"]) == 0
    for path in CASE.iterdir():
        if path.name not in (*OUTPUTS, "input.jsonl"):
            path.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.golden.regenerate", description=__doc__)
    parser.add_argument("--record-input", action="store_true", help="re-record input.jsonl from the synthetic market")
    regenerate(parser.parse_args().record_input)

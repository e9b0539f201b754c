"""Regenerate the golden replay files: `python -m tests.golden.regenerate`.

Records a small synthetic session as the input, then records what the flows derive from it. Regenerate only
when a change to derived events is intended, and say so in the CHANGELOG; review the diff of the expected
files like code.
"""

from __future__ import annotations

from pathlib import Path

from flows.cli import main

CASE = Path(__file__).resolve().parent / "options_small"
RECORD = ["--synthetic-s", "12", "--seed", "21", "--underlyings", "SPY,TSLA"]


def regenerate() -> None:
    """Write input.jsonl and the expected derived topics into the golden case directory."""
    assert main(["replay", *RECORD, "--out", str(CASE), "--write-input", "--quiet"]) == 0
    (CASE / "summary.json").unlink(missing_ok=True)


if __name__ == "__main__":
    regenerate()

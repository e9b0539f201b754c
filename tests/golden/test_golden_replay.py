"""Golden replay: the recorded input through the flows reproduces the checked-in outputs exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from tests.golden.regenerate import CASE, OUTPUTS


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one-worker", "two-workers"])
def test_golden_options_replay(workers: str, tmp_path: Path) -> None:
    assert main(["replay", str(CASE / "input.jsonl"), "--out", str(tmp_path), "--workers", workers, "--quiet"]) == 0
    for name in OUTPUTS:
        expected = (CASE / name).read_bytes()
        assert expected, f"golden {name} is empty"
        assert (tmp_path / name).read_bytes() == expected, (
            f"{name} differs from the golden file; if the change is intended, run "
            "`python -m tests.golden.regenerate` and review the diff"
        )

"""`flowtape replay` as a user runs it: Ctrl-C stops it cleanly with exit code 130 and writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.main import main


@pytest.mark.parametrize("processes", [1, 2])
def test_ctrl_c_stops_a_replay_with_130_and_writes_nothing(processes: int, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["replay", "--synthetic-s", "3600", "--out", str(out), "--quiet", "--processes", str(processes)]
    env = {**os.environ, "FLOWTAPE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(6)  # well into the hour of market
        assert proc.poll() is None, proc.communicate()[0].decode()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        text = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, text
    assert "interrupted: nothing was written" in text
    assert "panicked" not in text, text
    assert "Traceback" not in text, text
    assert not list(out.glob("*.jsonl")), "no output of a replay cut short"


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_below_one_are_refused(workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["replay", "--synthetic-s", "1", "--out", str(tmp_path / "out"), "--quiet", "--workers", workers]
    assert main(argv) == 2
    assert f"--workers must be at least 1, got {workers}" in capsys.readouterr().err

"""`[memory]`: the child reads its own RSS through the run, and the section prints the curve, peak and growth."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cli.bench.memory import STEPS, measure, run_memory, status_kb

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")


def test_status_kb_reads_a_field_of_proc_status(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n", encoding="ascii")
    assert status_kb("VmRSS", status) == 1024
    assert status_kb("VmHWM", status) == 2048
    assert status_kb("VmSwap", status) is None
    assert status_kb("VmRSS", tmp_path / "missing") is None
    assert status_kb("VmRSS", Path(f"/proc/{os.getpid()}/status")) == pytest.approx(status_kb("VmRSS"), rel=0.5)


def test_measure_samples_each_step_of_the_input() -> None:
    result = measure("realistic", 20, 3)
    rss = result["rss_kb"]
    assert isinstance(rss, list)
    assert len(rss) == STEPS
    assert all(isinstance(kb, int) and kb > 0 for kb in rss)
    peak = result["peak_kb"]
    assert isinstance(peak, int)
    assert peak >= max(rss)
    assert result["events"] > result["option_prints"] > 0
    assert result["derived"] > 0


def test_section_prints_curve_peak_and_growth(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_memory("realistic", 20, 3)
    out = capsys.readouterr().out
    assert re.search(r"^\[memory\] realistic profile, 20 s of market: [\d,]+ events, ", out, re.M)
    curve = re.search(r"^  rss MB at each 5% of input: ([\d ]+)$", out, re.M)
    assert curve is not None
    samples = [int(mb) for mb in curve.group(1).split()]
    assert len(samples) == STEPS
    summary = re.search(
        r"^  peak rss: (\d+) MB; after warm-up: (\d+) MB at 30% -> (\d+) MB at 90% \(90%/30%: ([\d.]+)x\)$", out, re.M
    )
    assert summary is not None
    peak, warm, late, _ = summary.groups()
    assert (int(warm), int(late)) == (samples[5], samples[17])
    assert int(peak) >= max(samples) - 1

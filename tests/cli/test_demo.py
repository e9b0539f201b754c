"""The embedded default end to end: `flowtape demo` in a subprocess serves alerts on its API."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cli.demo import format_dark_line, format_tape_line
from tests.flows.tapes import two_underlying_tape


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


@pytest.mark.slow
def test_demo_serves_alerts_and_stops_on_ctrl_c_with_130(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "FLOWTAPE_STATE_DIR": str(tmp_path / "state")}
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--speed", "5", "--port", str(port), "--duration-s", "600"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        items: list[object] = []
        while time.monotonic() < deadline and not items:
            time.sleep(1)
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                page = _get(f"http://127.0.0.1:{port}/alerts?limit=5")
            except OSError:
                continue
            items = page["items"]  # type: ignore[assignment]
        assert items, "no alert within 90 s:\n" + (tmp_path / "demo.log").read_text()
        health = _get(f"http://127.0.0.1:{port}/health")
        assert health["status"] in ("ok", "degraded")
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the input ends, the flow drains, exit 130
        assert proc.wait(timeout=60) == 130, (tmp_path / "demo.log").read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    text = (tmp_path / "demo.log").read_text()
    assert "BULLISH" in text or "BEARISH" in text
    assert "stopping: the input ends" in text
    assert "alert rows in chdb" in text, "the session ended as at the end of its input"
    assert "panicked" not in text, text
    assert "Traceback" not in text, text


@pytest.mark.slow
def test_a_demo_session_that_ends_exits_cleanly_with_the_api_up(tmp_path: Path) -> None:
    # The API thread is stopped and chDB closed before the interpreter exits (it used to crash there).
    env = {**os.environ, "FLOWTAPE_STATE_DIR": str(tmp_path / "state")}
    argv = ["demo", "--speed", "0", "--duration-s", "10", "--port", str(_free_port())]
    done = subprocess.run([sys.executable, "-m", "cli.main", *argv], env=env, capture_output=True, timeout=120)
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, out
    assert "alert rows in chdb" in out


@pytest.mark.slow
def test_each_demo_session_starts_from_an_empty_demo_database_unless_kept(tmp_path: Path) -> None:
    env = {**os.environ, "FLOWTAPE_STATE_DIR": str(tmp_path / "state")}

    def stored(*extra: str) -> int:
        argv = ["demo", "--speed", "0", "--duration-s", "20", "--profile", "active", "--no-api", *extra]
        done = subprocess.run([sys.executable, "-m", "cli.main", *argv], env=env, capture_output=True, timeout=180)
        out = done.stdout.decode() + done.stderr.decode()
        assert done.returncode == 0, out
        assert "database flowtape_demo" in out, "the demo keeps a database of its own"
        found = re.search(r"stored ([\d,]+) alert rows", out)
        assert found is not None, out
        return int(found.group(1).replace(",", ""))

    first = stored("--seed", "7")
    second = stored("--seed", "8")
    assert first > 0
    assert second > 0
    kept = stored("--seed", "7", "--keep")
    assert kept == first + second, "--keep adds to the last session's rows; without it each session is alone"


def test_tape_line_cites_severity_score_and_headline() -> None:
    from flows.replay import run_events

    alerts = run_events(two_underlying_tape)["flow.alerts"]
    line = format_tape_line(alerts[0])  # type: ignore[arg-type]
    assert alerts[0].headline in line  # type: ignore[union-attr]
    assert "09:30:00.540" in line  # event time in New York


def test_dark_line_cites_kind_size_prints_and_price() -> None:
    from events.config import EquitiesConfig
    from events.models import DarkInference
    from operators.equities_engine import EquitiesEngine
    from tests.factories import equity_print, equity_quote

    engine = EquitiesEngine(EquitiesConfig())
    tape = [equity_quote(0, "580.00", "580.10"), equity_print(5, "580.05", 2_500), equity_quote(10, "580.00", "580.10")]
    out = engine.on_events(tape) + engine.on_eof()
    (block,) = [o for o in out if isinstance(o, DarkInference)]
    line = format_dark_line(block)
    assert "SPY absorbed_block: 2,500 sh in 1 off-exchange prints @ 580.05" in line
    assert "09:30:00.005" in line


@pytest.mark.slow
def test_demo_on_a_dbn_file_serves_its_alerts_down_to_each_prints_quote(tmp_path: Path) -> None:
    from cli.bench.dbn_replay import write_session

    tape = tmp_path / "opra.tcbbo.dbn.zst"
    assert write_session(tape, 30_000, seed=7) == 30_000
    port = _free_port()
    env = {**os.environ, "FLOWTAPE_STATE_DIR": str(tmp_path / "state")}
    log_path = tmp_path / "demo.log"
    log = log_path.open("w")
    argv = ["demo", "--input", str(tape), "--speed", "0", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", *argv], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "input done" not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.5)
        assert "input done" in log_path.read_text(), "the demo still serves once its input ends"
        items = _get(f"http://127.0.0.1:{port}/alerts?limit=5")["items"]
        assert items, log_path.read_text()
        first = items[0]
        assert isinstance(first, dict)
        detail = _get(f"http://127.0.0.1:{port}/alerts/{first['id']}")
        prints = detail["prints"]
        assert isinstance(prints, list)
        assert prints, detail
        assert detail["missing_prints"] == 0, "the demo stores the raw prints it reads"
        for shown in prints:
            assert shown["quote_source"] == "print", "a tcbbo print carries the NBBO it was read against"
            assert shown["quote"]["bid_e9"] is not None or shown["quote"]["ask_e9"] is not None
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 130, log_path.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    text = log_path.read_text()
    assert "1 recorded file(s)" in text
    assert "Traceback" not in text, text


def test_demo_on_a_missing_file_is_one_line_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    assert main(["demo", "--input", str(tmp_path / "nope.dbn.zst"), "--no-api"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "nope.dbn.zst" in err

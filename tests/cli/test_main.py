"""The `flowtape` command: every subcommand answers --help; errors are clear and exit non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from tests.flows.tapes import two_underlying_tape

SUBCOMMANDS = ["demo", "replay", "services", "db", "api", "bench", "config", "baselines", "retention"]


def test_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=SUBCOMMANDS)
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()


def test_an_invalid_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWTAPE_API_PORT", "abc")
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("flowtape config: error: invalid Settings: api_port (FLOWTAPE_API_PORT): ")
    assert "'abc'" in err


def test_replay_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(tmp_path / "nope.dbn.zst"), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_replay_unsupported_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "prints.csv"
    bad.write_text("a,b\n")
    assert main(["replay", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "unsupported input" in capsys.readouterr().err


def test_replay_out_on_a_file_is_a_clear_error_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tape.jsonl"
    source.write_text("\n".join(e.model_dump_json() for e in two_underlying_tape()) + "\n")
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    assert main(["replay", str(source), "--out", str(taken), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err
    assert "Traceback" not in err
    assert taken.read_text() == "not a directory"


def test_replay_jsonl_writes_topics_and_dead_letters(tmp_path: Path) -> None:
    tape = two_underlying_tape()
    source = tmp_path / "tape.jsonl"
    lines = [e.model_dump_json() for e in tape]
    lines.insert(3, '{"event_type": "option_print", "size_contracts": -5}')
    lines.insert(5, "not json at all")
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["replay", str(source), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_in"]["option_print"] == sum(e.event_type == "option_print" for e in tape)
    assert summary["events_out"]["flow.alerts"] == 3
    assert summary["dead_letters"] == 2
    dead = [json.loads(line) for line in (out / "replay.input.dlq.jsonl").read_text().splitlines()]
    assert [d["error"] for d in dead] == ["invalid_field", "invalid_json"]
    assert dead[1]["payload"] == "not json at all"
    alerts = [json.loads(line) for line in (out / "flow.alerts.jsonl").read_text().splitlines()]
    assert {a["kind"] for a in alerts} == {"sweep", "block"}


def test_replay_twice_gives_identical_bytes(tmp_path: Path) -> None:
    source = tmp_path / "tape.jsonl"
    source.write_text("".join(e.model_dump_json() + "\n" for e in two_underlying_tape()))
    for run, workers in (("a", "1"), ("b", "2")):
        assert main(["replay", str(source), "--out", str(tmp_path / run), "--workers", workers, "--quiet"]) == 0
    for name in ("flow.packets.jsonl", "flow.hits.jsonl", "flow.alerts.jsonl", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_chdb_store_that_cannot_open_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from connectors.clickhouse.store import embedded_store_for_tests

    held = embedded_store_for_tests("flowtape_cli_test")  # this process's one chDB path is open
    try:
        monkeypatch.setenv("FLOWTAPE_STATE_DIR", str(tmp_path / "state"))  # the demo asks for another path
        assert main(["demo", "--no-api", "--speed", "0", "--duration-s", "1"]) == 1
    finally:
        held.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("flowtape demo: error: chDB is open at ")

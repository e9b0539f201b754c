"""The README's promises that code can check: the two commands, CI calling the test command, the settings."""

from __future__ import annotations

from pathlib import Path

from cli.config import with_settings_table

REPO = Path(__file__).resolve().parents[1]


def test_settings_table_is_in_sync() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_settings_table(readme) == readme, "run: flowtape config, and paste it into README.md"


def test_two_commands_and_ci() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme
    assert "make test" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci

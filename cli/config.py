"""`flowtape config`: every setting, its environment variable, default and meaning, as a Markdown table."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from connectors.settings import Settings
from events.config import EquitiesConfig, OptionsConfig, QuarantineConfig

SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (Settings, OptionsConfig, EquitiesConfig, QuarantineConfig)


def settings_table(current: bool = False) -> str:
    """Return the Markdown table of every setting (current values instead of defaults when asked)."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for cls in SETTINGS_CLASSES:
        instance = cls() if current else None
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, info in cls.model_fields.items():
            value = getattr(instance, name) if instance is not None else info.default
            if isinstance(value, SecretStr):
                value = "***" if value.get_secret_value() else ""
            shown = "" if value is None else str(value)
            lines.append(f"| `{prefix}{name.upper()}` | `{shown}` | {info.description or ''} |")
    return "\n".join(lines)


def print_settings(current: bool = False) -> int:
    """Print the settings table."""
    print(settings_table(current))
    return 0


START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def with_settings_table(readme: str) -> str:
    """Return the README text with the generated table between the settings markers."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"

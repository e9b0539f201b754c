"""docker-compose.yml cannot run here (no Docker engine): keep it correct by construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cli.main import build_parser
from connectors.settings import Settings
from events.config import OptionsConfig

REPO = Path(__file__).resolve().parents[2]
KNOWN_ENV = {f"FLOWTAPE_{name.upper()}" for cls in (Settings, OptionsConfig) for name in cls.model_fields}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def test_services_and_dependencies() -> None:
    services = _compose()["services"]
    assert {"redpanda", "clickhouse", "redis", "ingest", "options", "equities", "sink", "api", "db-init"} <= set(
        services
    )
    for name, spec in services.items():
        assert "image" in spec or "build" in spec, name
        for dep, cond in (spec.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            condition = cond["condition"]
            assert condition in ("service_healthy", "service_completed_successfully"), (name, dep)
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no healthcheck"


def test_environment_names_real_settings() -> None:
    for name, spec in _compose()["services"].items():
        for var in spec.get("environment") or {}:
            if var.startswith("FLOWTAPE_"):
                assert var in KNOWN_ENV, f"{name}: {var} is not a flowtape setting"


def test_commands_exist() -> None:
    services = _compose()["services"]
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for name, spec in services.items():
        command = spec.get("command")
        if not command or spec.get("image", "").startswith(("docker.redpanda", "clickhouse/", "redis:")):
            continue
        if command[0] == "flowtape":
            assert command[1] in subcommands, name
        else:
            assert command[:3] == ["python", "-m", "bytewax.run"], name
            module = command[3]
            assert (REPO / (module.replace(".", "/") + ".py")).is_file(), module


def test_api_is_not_exposed_without_a_token() -> None:
    api = _compose()["services"]["api"]
    assert api["environment"]["FLOWTAPE_API_HOST"] == "0.0.0.0"
    assert "FLOWTAPE_API_TOKEN" in api["environment"]
    assert all(p.startswith("127.0.0.1:") for p in api["ports"])


def test_the_image_copies_every_package() -> None:
    import tomllib

    found = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    packages = [pattern.rstrip("*") for pattern in found["find"]["include"]]
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert "cli" in packages
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, f"deploy/Dockerfile does not copy {package}/"

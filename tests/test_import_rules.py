"""The import direction of ARCHITECTURE.md, checked on the syntax tree of every module (not with grep).

Every import counts: module level or inside functions, under `if TYPE_CHECKING:`, relative (`from . import x`,
`from ..events import y`), and `importlib.import_module("...")` / `__import__("...")` with a literal name.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STDLIB = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True)
class Import:
    """One imported module, resolved to an absolute dotted name, with where it happens."""

    module: str
    path: str
    line: int

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.module}"


def module_name(path: Path, root: Path) -> str:
    """Return the dotted module name of a file under `root` (`pkg/__init__.py` -> `pkg`)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool, path: str = "<string>") -> list[Import]:
    """Return every import in `source`, relative ones resolved against `module`."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, path, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                if node.level - 1 >= len(base_parts):
                    raise AssertionError(f"{path}:{node.lineno}: relative import beyond the top-level package")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if node.module is None:
                # `from . import x`: each name may be a submodule of the package.
                found.extend(Import(f"{target}.{alias.name}", path, node.lineno) for alias in node.names)
            else:
                found.append(Import(target, path, node.lineno))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
                found.append(Import(arg.value, path, node.lineno))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def package_imports(package: str) -> list[Import]:
    """Return every import made by the modules of one top-level package of the repository."""
    root = REPO / package
    assert root.is_dir(), f"missing package {package}"
    found: list[Import] = []
    for file in sorted(root.rglob("*.py")):
        found.extend(
            imports_of(
                file.read_text(encoding="utf-8"),
                module_name(file, REPO),
                file.name == "__init__.py",
                str(file.relative_to(REPO)),
            )
        )
    return found


def violations(package: str, *, allowed: frozenset[str] | None = None, forbidden: frozenset[str] = frozenset()) -> str:
    bad = [
        imp
        for imp in package_imports(package)
        if imp.top in forbidden or (allowed is not None and imp.top not in allowed and imp.top not in STDLIB)
    ]
    return "\n".join(str(imp) for imp in sorted(bad, key=lambda i: (i.path, i.line)))


# ------------------------------------------------------------------------------------------ rules


def test_operators_import_only_events_operators_and_stdlib() -> None:
    # ARCHITECTURE.md: "operators imports only events and the standard library (plus numpy if ever needed)".
    bad = violations("operators", allowed=frozenset({"events", "operators", "numpy"}))
    assert not bad, f"operators must stay pure:\n{bad}"


def test_events_import_only_events_stdlib_pydantic_and_msgspec() -> None:
    # ARCHITECTURE.md, Contracts: typed immutable structs, msgspec or pydantic (annotated_types: pydantic's own
    # constraint types, which the msgspec wire types are generated from).
    allowed = frozenset({"events", "pydantic", "pydantic_settings", "annotated_types", "msgspec"})
    bad = violations("events", allowed=allowed)
    assert not bad, f"events are the contracts and depend on nothing else:\n{bad}"


def test_connectors_never_import_flows_api_or_operators() -> None:
    bad = violations("connectors", forbidden=frozenset({"flows", "api", "operators"}))
    assert not bad, f"connectors import events only:\n{bad}"


def test_api_never_imports_flows_or_operators() -> None:
    bad = violations("api", forbidden=frozenset({"flows", "operators"}))
    assert not bad, f"api imports events and connectors only:\n{bad}"


def test_flows_never_import_api_or_cli() -> None:
    # ARCHITECTURE.md: flows are the dataflows, wiring connectors to operators; the command line sits above them.
    bad = violations("flows", forbidden=frozenset({"api", "cli"}))
    assert not bad, f"flows import events, operators and connectors only:\n{bad}"


def test_nothing_but_tests_imports_cli() -> None:
    bad = "\n".join(
        violations(package, forbidden=frozenset({"cli"}))
        for package in ("events", "operators", "connectors", "api", "flows", "deploy")
    ).strip()
    assert not bad, f"the command line is the top of the stack:\n{bad}"


def test_the_checker_sees_the_packages() -> None:
    # A rule over zero files passes vacuously: make sure each package really has imports to check.
    for package in ("events", "operators", "connectors", "api", "flows", "cli"):
        assert package_imports(package), package
    assert any(imp.top == "events" for imp in package_imports("operators"))


# ---------------------------------------------------------------------------------- the checker


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        pytest.param("import os, json.decoder", "operators.x", False, ["os", "json.decoder"], id="plain"),
        pytest.param("from events.models import Packet", "operators.x", False, ["events.models"], id="from"),
        pytest.param("from .nbbo_join import Placed", "operators.x", False, ["operators.nbbo_join"], id="relative"),
        pytest.param("from . import nbbo_join", "operators.x", False, ["operators.nbbo_join"], id="relative-dot"),
        pytest.param("from . import models", "events", True, ["events.models"], id="relative-in-init"),
        pytest.param("from ..flows import cli", "connectors.kafka.io", False, ["connectors.flows"], id="two-up"),
        pytest.param("from .. import api", "connectors.kafka.io", False, ["connectors.api"], id="parent-pkg"),
        pytest.param("from .io import x", "connectors.kafka", True, ["connectors.kafka.io"], id="init-relative"),
        pytest.param(
            "def f():\n    import cli.main\n    return flows", "api.app", False, ["cli.main"], id="inside-function"
        ),
        pytest.param(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from operators import alerts",
            "api.app",
            False,
            ["typing", "operators"],
            id="type-checking-block",
        ),
        pytest.param(
            "import importlib\nm = importlib.import_module('cli.main')",
            "api.app",
            False,
            ["importlib", "cli.main"],
            id="import-module",
        ),
        pytest.param("m = __import__('operators')", "api.app", False, ["operators"], id="dunder-import"),
        pytest.param(
            "class C:\n    def m(self):\n        from ..operators import x",
            "api.routes.a",
            False,
            ["api.operators"],
            id="relative-in-method",
        ),
    ],
)
def test_imports_of(source: str, module: str, is_package: bool, expected: list[str]) -> None:
    assert sorted(i.module for i in imports_of(source, module, is_package)) == sorted(expected)


def test_relative_import_beyond_the_top_level_package_is_reported() -> None:
    with pytest.raises(AssertionError, match="beyond the top-level package"):
        imports_of("from ...flows import cli", "connectors.kafka.io", False)


def test_violation_message_names_file_and_line() -> None:
    (imp,) = imports_of("import os\n\n\ndef f():\n    from flows import cli\n", "api.app", False, "api/app.py")[1:]
    assert str(imp) == "api/app.py:5: imports flows"
    assert imp.top == "flows"


def test_module_name() -> None:
    assert module_name(REPO / "connectors" / "kafka" / "io.py", REPO) == "connectors.kafka.io"
    assert module_name(REPO / "events" / "__init__.py", REPO) == "events"

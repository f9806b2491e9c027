"""The package's shape: one Copier boundary, the API at the root, a root that holds only what all share."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import naavre_scaffold

PACKAGE = Path(naavre_scaffold.__file__).parent
SHARED_AT_ROOT = {
    "__init__.py",
    "__main__.py",
    "errors.py",
    "git.py",
    "rules.py",
    "signals.py",
    "templates.py",
}


def _imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (functions and TYPE_CHECKING blocks included)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_only_the_copier_boundary_uses_copiers_internals() -> None:
    boundary = PACKAGE / "_copier"
    crossing = {
        str(path.relative_to(PACKAGE)): name
        for path in PACKAGE.rglob("*.py")
        if boundary not in path.parents
        for name in _imported_modules(path)
        if name.split(".")[0] == "copier" and any(part.startswith("_") for part in name.split(".")[1:])
    }
    assert crossing == {}


def test_the_boundary_test_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from copier._main import Worker\n")
    assert "copier._main.Worker" in _imported_modules(module)


def test_the_root_holds_only_what_every_part_shares() -> None:
    assert {path.name for path in PACKAGE.glob("*.py")} == SHARED_AT_ROOT


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("create", "naavre_scaffold.new.create"),
        ("update", "naavre_scaffold.fleet.update"),
        ("check", "naavre_scaffold.fleet.check"),
        ("verify", "naavre_scaffold.verification.run"),
        ("register", "naavre_scaffold.registration"),
        ("status", "naavre_scaffold.fleet.status"),
        ("adopt", "naavre_scaffold.fleet.adopt"),
        ("Options", "naavre_scaffold.fleet.outcome"),
    ],
)
def test_the_root_exports_the_api(name: str, module: str) -> None:
    exported = getattr(naavre_scaffold, name)
    assert exported is getattr(sys.modules[module], name)
    assert callable(exported) and name in naavre_scaffold.__all__


@pytest.mark.parametrize(
    ("name", "positional"),
    [
        ("create", ["template", "name"]),
        ("update", ["paths", "options"]),
        ("check", ["path"]),
        ("verify", ["repo"]),
        ("register", ["path"]),
        ("status", ["paths"]),
        ("adopt", ["path"]),
    ],
)
def test_the_apis_options_are_keyword_only(name: str, positional: list[str]) -> None:
    parameters = inspect.signature(getattr(naavre_scaffold, name)).parameters.values()
    assert [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY] == positional


def test_importing_the_root_loads_no_command() -> None:
    """`naavre-scaffold --version` and the API's import stay fast: Copier loads on first use."""
    probe = "import sys, naavre_scaffold; print(sorted(m for m in sys.modules if m.startswith('copier')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        naavre_scaffold.nothing  # noqa: B018


def _loaded_by(argv: list[str], prefixes: tuple[str, ...]) -> tuple[int, list[str]]:
    """Run ``naavre-scaffold argv`` in a fresh interpreter; its exit code and the modules it loaded."""
    probe = (
        "import sys, json\n"
        "from naavre_scaffold.cli import main\n"
        f"code = main({argv!r})\n"
        f"print(json.dumps([code, sorted(m for m in sys.modules if m.startswith({prefixes!r}))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    code, modules = json.loads(done.stdout.splitlines()[-1])
    return code, modules


@pytest.mark.parametrize("command", ["verify", "register"])
def test_commands_without_copier_do_not_load_it(command: str, tmp_path: Path) -> None:
    """verify and register start without Copier (a third of a second), and without the other commands."""
    code, modules = _loaded_by([command, str(tmp_path / "missing")], ("copier", "naavre_scaffold.cli."))
    assert code == 2  # the path's usage error: the command ran
    assert [m for m in modules if m.startswith("copier")] == []
    assert [m for m in modules if m.startswith("naavre_scaffold.cli.")] == [
        "naavre_scaffold.cli._common",
        f"naavre_scaffold.cli.{command}",
    ]


def test_a_command_builds_only_its_own_parser_and_new_lists_its_questions_only_for_help() -> None:
    code, modules = _loaded_by(["check", "--help"], ("naavre_scaffold.cli.",))
    assert code == 0
    assert modules == ["naavre_scaffold.cli._common", "naavre_scaffold.cli.check"]

    from naavre_scaffold.cli import parser

    new = parser("new")._subparsers._group_actions[0].choices["new"]  # type: ignore[union-attr]
    assert callable(new.epilog)  # not built yet
    assert "questions of the service template" in new.format_help()

"""The wheel carries the templates, so an installed command works with no checkout; and the
package declares every distribution it imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from naavre_scaffold import __version__
from naavre_scaffold.source import PUBLIC_SOURCE

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_and_creates_a_repo(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("naavre_scaffold-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "copier.yml", "templates"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")[:-1]  # template file names may hold spaces: `{% if service %}client.ts{% endif %}`
    assert tracked, "no template files tracked"
    missing = [path for path in tracked if f"naavre_scaffold/template/{path}" not in names]
    assert missing == []

    # Run the unpacked wheel from a folder outside the checkout: it must find its own templates.
    env = os.environ | {"PYTHONPATH": str(tmp_path / "site")}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from naavre_scaffold.source import bundled_root; print(bundled_root())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == tmp_path / "site/naavre_scaffold/template"
    subprocess.run(
        [sys.executable, "-m", "naavre_scaffold", "new", "service", "wheel", "--defaults"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    answers = yaml.safe_load((tmp_path / "NaaVRE-wheel-service/.copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (PUBLIC_SOURCE, f"v{__version__}")
    assert (tmp_path / "NaaVRE-wheel-service/helm/naavre-wheel-service/values.schema.json").is_file()


def _imports(node: ast.AST, guarded: bool = False) -> Iterator[tuple[str, bool]]:
    """(top-level module, whether an ``except ImportError`` guards it) for each absolute import."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name.partition(".")[0], guarded
    elif isinstance(node, ast.ImportFrom):
        if node.level == 0 and node.module:  # relative imports are the package's own
            yield node.module.partition(".")[0], guarded
    elif isinstance(node, ast.Try | ast.TryStar) and any(
        _catches_import_error(h.type) for h in node.handlers
    ):
        for statement in node.body:
            yield from _imports(statement, guarded=True)
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            yield from _imports(part, guarded)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _imports(child, guarded)


def _catches_import_error(caught: ast.expr | None) -> bool:
    if caught is None:  # a bare except
        return True
    if isinstance(caught, ast.Tuple):
        return any(_catches_import_error(element) for element in caught.elts)
    return isinstance(caught, ast.Name) and caught.id in {"ImportError", "ModuleNotFoundError"}


def test_imported_distributions_are_declared() -> None:
    """Every third-party distribution the package imports is one of its dependencies.

    One that only arrives through another (plumbum through Copier, prompt_toolkit
    through questionary) would break the day that one drops it. An import guarded
    by ``except ImportError`` (a verify tool) may come from an extra instead.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {canonicalize_name(Requirement(requirement).name) for requirement in requirements}

    required = names(project["dependencies"])
    optional = required | names([r for extra in project["optional-dependencies"].values() for r in extra])
    distributions = packages_distributions()
    package = ROOT / "naavre_scaffold"
    undeclared: list[str] = []
    unknown: list[str] = []
    seen: set[tuple[str, bool]] = set()
    for source in sorted(package.rglob("*.py")):
        where = source.relative_to(ROOT)
        for module, guarded in _imports(ast.parse(source.read_text(), str(source))):
            if module in sys.stdlib_module_names or module == package.name:
                continue
            seen.add((module, guarded))
            provided_by = {canonicalize_name(name) for name in distributions.get(module, [])}
            if not provided_by:
                unknown.append(f"{where}: {module} (installed by no distribution)")
            elif not provided_by & (optional if guarded else required):
                place = "[project].dependencies" + (" or an extra" if guarded else "")
                undeclared.append(f"{where}: {module} ({', '.join(sorted(provided_by))}) is not in {place}")
    # The walk sees plain imports and ones an ImportError guards.
    assert {("plumbum", False), ("jsonschema", True)} <= seen
    assert unknown == []
    assert undeclared == []

"""The jupyterlab check kind on real renders of the jupyterlab template: passes, and fails where it must.

One render per kind goes through every step (jlpm install, build and test, the wheel,
its install, the listings, pytest and a JupyterLab server). The failure tests break a
render the way a developer would (a type error, a stale lock) and expect the step
that catches it to fail, by name, with the tool's own words.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from naavre_scaffold.git import init_and_commit
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification import jupyterlab, processes
from naavre_scaffold.verification.run import CHECKS, verify
from naavre_scaffold.verification.tools import ToolMissingError
from tests.helpers import render

RENDERS = {
    "frontend": {"name": "plain", "kind": "frontend", "has_settings": False, "service": ""},
    "frontend-and-server": {
        "name": "data-tool",
        "kind": "frontend-and-server",
        "has_settings": True,
        "service": "containerizer",
    },
}
# The steps every render must run; a missing one means the check silently left it out.
STEPS = [
    "jlpm install --immutable (package.json)",
    "jlpm lint:check (package.json)",
    "jlpm build:prod (package.json)",
    "jlpm test (package.json)",
    "wheel built without isolation (pyproject.toml)",
    "wheel contents",
    "pip install --prefix",
    "jupyter labextension list shows {npm} enabled OK",
    "pytest",
    "jupyter lab serves {npm} (/lab federated_extensions)",
]
SERVER_STEP = "jupyter server extension list shows {module} enabled OK"
BUILD_OUTPUT = ("node_modules", "lib", "dist", ".yarn", "tsconfig.tsbuildinfo")


def _render(template_git: TemplateSource, dest: Path, answers: dict) -> Path:
    render(template_git, dest, "jupyterlab", **answers)
    init_and_commit(dest, "Render")  # as `naavre-scaffold new` leaves it
    return dest


@pytest.fixture(scope="module")
def renders(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("jupyterlab")
    return {kind: _render(template_git, root / kind, answers) for kind, answers in RENDERS.items()}


@pytest.fixture
def render_copy(renders: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the frontend render, to break."""
    copy = tmp_path / "repo"
    shutil.copytree(renders["frontend"], copy, symlinks=True)
    return copy


def _npm_and_module(render: Path) -> tuple[str, str]:
    package = json.loads((render / "package.json").read_text())
    module = package["jupyterlab"]["outputDir"].split("/")[0]
    return package["name"], module


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(RENDERS))
def test_render_passes_every_step(renders: dict[str, Path], kind: str) -> None:
    render = renders[kind]
    npm, module = _npm_and_module(render)
    started = time.monotonic()
    results = verify(render, skip=[k for k in CHECKS if k != "jupyterlab"])
    elapsed = time.monotonic() - started
    failures = [f"{r.name}: {r.detail}" for r in results if not r.ok]
    assert failures == []
    names = [r.name for r in results]
    assert all(r.kind == "jupyterlab" and r.name.startswith("jupyterlab: ") for r in results)
    expected = [step.format(npm=npm) for step in STEPS]
    if kind == "frontend-and-server":
        expected.append(SERVER_STEP.format(module=module))
    for step in expected:
        assert any(step in name for name in names), f"{step!r} did not run; ran: {names}"
    servers = [name for name in names if "server extension list" in name]
    assert len(servers) == (kind == "frontend-and-server")
    # Every build product stayed in the temporary copy.
    assert not [p for p in BUILD_OUTPUT if (render / p).exists()]
    assert not (render / module / "labextension").exists()
    print(f"full jupyterlab check of the {kind} render: {elapsed:.1f} s")


@pytest.mark.slow
def test_type_error_fails_the_build_by_name(render_copy: Path) -> None:
    index = render_copy / "src/index.ts"
    index.write_text(index.read_text() + "\nexport const broken: number = 'not a number';\n")
    results = jupyterlab.run(render_copy)
    failed = [r for r in results if not r.ok]
    assert [r.name for r in failed if "jlpm build:prod" in r.name] == [
        "jupyterlab: jlpm build:prod (package.json)"
    ]
    build = next(r for r in failed if "build:prod" in r.name)
    assert re.search(r"src/index\.ts\(\d+,\d+\): error TS2322", build.detail), build.detail
    assert "not run because of this: wheel" in build.detail
    # Nothing that needs the build ran after it.
    assert not [r.name for r in results if "wheel" in r.name or "jupyter lab" in r.name]
    assert results[0].ok and "jlpm install" in results[0].name


def test_stale_lock_fails_the_immutable_install(render_copy: Path) -> None:
    npm, _ = _npm_and_module(render_copy)
    lock = (render_copy / "yarn.lock").read_text()
    # Drop one dependency from the project's own entry: Yarn would have to write it back.
    entry = re.search(rf'^"{re.escape(npm)}@workspace:\.":\n(?:  .*\n)+', lock, re.M)
    assert entry, f"no workspace entry for {npm} in yarn.lock"
    dependency = re.search(r"^    \S.*\n", entry.group(0), re.M)
    stale = lock.replace(entry.group(0), entry.group(0).replace(dependency.group(0), "", 1))
    (render_copy / "yarn.lock").write_text(stale)
    results = jupyterlab.run(render_copy)
    assert [(r.name, r.ok) for r in results] == [
        ("jupyterlab: jlpm install --immutable (package.json)", False)
    ]
    assert "YN0028" in results[0].detail and "lockfile would have been modified" in results[0].detail
    assert "not run because of this: jlpm build:prod" in results[0].detail
    assert not (render_copy / "node_modules").exists()


def test_no_package_json_gives_no_results(render_copy: Path) -> None:
    (render_copy / "package.json").unlink()
    assert jupyterlab.run(render_copy) == []
    assert CHECKS["jupyterlab"] is jupyterlab.checks  # and verify runs it


def test_extensions_are_found_next_to_a_pyproject_outside_node_modules(render_copy: Path) -> None:
    npm, _ = _npm_and_module(render_copy)
    nested = render_copy / "packages/other"
    shutil.copytree(render_copy, nested, ignore=shutil.ignore_patterns("packages", ".git"))
    shutil.copytree(nested, render_copy / "node_modules/dep")
    (nested / "pyproject.toml").rename(nested / "pyproject.toml.off")
    found = jupyterlab.find_extensions(render_copy)
    assert [(e.folder, e.npm_name) for e in found] == [(".", npm)]
    (nested / "pyproject.toml.off").rename(nested / "pyproject.toml")
    assert [e.folder for e in jupyterlab.find_extensions(render_copy)] == [".", "packages/other"]


def test_copy_takes_what_git_would_track(render_copy: Path, tmp_path: Path) -> None:
    (render_copy / "node_modules/dep").mkdir(parents=True)
    (render_copy / "node_modules/dep/index.js").write_text("ignored\n")
    (render_copy / "NOTES.md").write_text("untracked, not ignored\n")
    (render_copy / "README.md").unlink()  # tracked, deleted in the tree
    jupyterlab.copy_repo(render_copy, tmp_path / "copy")
    copied = {
        p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*") if p.is_file()
    }
    assert "NOTES.md" in copied and "package.json" in copied and "yarn.lock" in copied
    assert not [p for p in copied if p.startswith(("node_modules/", ".git/")) or p == "README.md"]


def test_timeout_is_a_failure_and_leaves_no_process(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-alive"
    script = f"(sleep 3; touch {marker}) & sleep 30"
    started = time.monotonic()
    ok, output = processes.run_logged(["bash", "-c", script], tmp_path, dict(os.environ), timeout=1)
    assert not ok and output.endswith("timed out after 1 s")
    assert time.monotonic() - started < 15
    time.sleep(4)
    assert not marker.exists(), "the tool's child outlived the timeout"


def test_last_lines_keeps_the_end_without_colours_or_yarn_frames() -> None:
    output = "\n".join(
        [
            "➤ YN0000: ┌ Fetch step",
            *(f"\x1b[31mline {n}\x1b[0m" for n in range(20)),
            "",
            "➤ YN0000: └ Completed",
        ]
    )
    shown = processes.last_lines(output).splitlines()
    assert shown[0] == "... 5 earlier line(s)"
    assert shown[1:] == [f"line {n}" for n in range(5, 20)]


def test_missing_build_tool_names_the_extra(render_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jupyterlab, "PYTHON_TOOLS", (*jupyterlab.PYTHON_TOOLS, "no_such_builder_module"))
    with pytest.raises(
        ToolMissingError,
        match=r"no_such_builder_module not installed: pip install 'naavre-scaffold\[verify\]'",
    ):
        jupyterlab.run(render_copy)

"""The template registry, the question namespace and the project-owned files agree with Copier."""

from __future__ import annotations

from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold import _copier
from naavre_scaffold.source import TemplateSource, bundled_root, read_questions
from naavre_scaffold.templates import TEMPLATES

ROOT = bundled_root()
QUESTION_FILES = sorted(ROOT.glob("templates/*/questions.yml"))
# Files each template leaves to the project once it exists (its `_skip_if_exists`).
PROJECT_OWNED = {
    "service": {
        "README.md",
        "pyproject.toml",
        "uv.lock",
        "app/main.py",
        "app/routes/me.py",
        "app/tests/test_main.py",
    },
    "jupyterlab": {
        "README.md",
        "CHANGELOG.md",
        "package.json",
        "yarn.lock",
        "src/index.ts",
        "src/widget.ts",
        "src/__tests__/plugin.spec.ts",
        "schema/plugin.json",
        "style/base.css",
        "ui-tests/package.json",
        "ui-tests/yarn.lock",
        "ui-tests/tests/extension.spec.ts",
        "dev/overrides.json",
        "dev/jupyterlab.env",
        "dev/docker-compose.yaml",
    },
    "flavors-repo": {"README.md", "docker/jupyter.requirements.txt"},
    "flavor": {"README.md", "environment.yaml", "tests/test_python.py", "tests/test_r.R"},
}


class _OwnKeysLoader(yaml.SafeLoader):
    """Reads one file's own keys: an `!include` document stands for the other file, read on its own."""


_OwnKeysLoader.add_constructor("!include", lambda loader, node: None)


def _keys(path: Path) -> set[str]:
    keys: set[str] = set()
    for document in yaml.load_all(path.read_text(), Loader=_OwnKeysLoader):
        keys |= set(document or {})
    return keys


def test_every_template_choice_has_a_registry_entry() -> None:
    choices = read_questions(ROOT)["template"]["choices"]
    assert sorted(choices.values()) == sorted(TEMPLATES)
    assert sorted(PROJECT_OWNED) == sorted(TEMPLATES)
    for name in TEMPLATES:
        assert (ROOT / "templates" / name / "questions.yml").is_file()
        assert (ROOT / "templates" / name / "project").is_dir()


def test_no_question_is_defined_twice() -> None:
    """Copier merges every included document and the last definition of a key wins, silently."""
    seen: dict[str, Path] = {}
    for path in [ROOT / "copier.yml", *QUESTION_FILES]:
        for key in _keys(path) - {"_skip_if_exists", "_exclude"}:
            assert key not in seen, f"{key} is defined in {seen[key]} and again in {path}"
            seen[key] = path


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_project_owned_files_are_declared_beside_their_questions(template: str) -> None:
    own = yaml.safe_load((ROOT / "templates" / template / "questions.yml").read_text())
    declared = own.get("_skip_if_exists", [])
    assert all(f"template == '{template}'" in pattern for pattern in declared), declared
    for path in QUESTION_FILES:
        if path.parent.name != template:
            other = yaml.safe_load(path.read_text()) or {}
            assert all(f"template == '{template}'" not in p for p in other.get("_skip_if_exists", []))


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_copier_skips_exactly_the_declared_files(
    template: str, template_git: TemplateSource, tmp_path
) -> None:
    # An extension that calls a service, so that it has all of dev/.
    calls_a_service = {"service": "owner"} if template == "jupyterlab" else {}
    worker = copier.run_copy(
        template_git.path,
        tmp_path / "render",
        data={"template": template, "name": "owned", **calls_a_service},
        vcs_ref=template_git.vcs_ref,
        defaults=True,
        quiet=True,
    )
    rendered = [p.relative_to(worker.dst_path) for p in worker.dst_path.rglob("*") if p.is_file()]
    skipped = {p.as_posix() for p in rendered if worker.match_skip(p)}
    assert skipped == PROJECT_OWNED[template]


def test_copier_internals_we_use_still_behave(template_git: TemplateSource, tmp_path) -> None:
    """_copier.py reads Copier's private modules; this fails loudly when a Copier release moves them."""
    from copier._template import Template

    template = Template(url=template_git.path, ref=template_git.vcs_ref)
    try:
        assert _copier.load_questions(Path(template.local_abspath)) == template.questions_data
    finally:
        template._cleanup()
    assert _copier.latest_tag(template_git.path) == template_git.vcs_ref
    with pytest.raises(ValueError) as rejected:
        copier.run_copy(
            template_git.path,
            tmp_path / "never",
            data={"template": "service", "name": "ok", "port": 80},
            vcs_ref=template_git.vcs_ref,
            defaults=True,
            quiet=True,
        )
    error = _copier.usage_error_from(rejected.value)
    assert error is not None and error.field == "port"
    assert not (tmp_path / "never").exists()

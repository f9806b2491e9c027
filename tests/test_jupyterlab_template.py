"""The jupyterlab template rendered by plain Copier: names, optional parts, lockfile and answers.

Fast (no npm): what a render contains. The real build of renders is `verify`'s job.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold import _copier
from naavre_scaffold.template_source import TemplateSource

KINDS = ("frontend", "frontend-and-server")
MATRIX = list(itertools.product(KINDS, (True, False), ("", "containerizer")))
SERVER_FILES = {
    "naavre_my_tool_jupyterlab/handlers.py",
    "naavre_my_tool_jupyterlab/tests/test_handlers.py",
    "jupyter-config/server-config/naavre_my_tool_jupyterlab.json",
    "src/server.ts",
    "src/__tests__/server.spec.ts",
}
SERVICE_FILES = {"src/client.ts", "src/__tests__/client.spec.ts"}


def _render(source: TemplateSource, dest: Path, **answers: object) -> Path:
    copier.run_copy(
        source.path,
        dest,
        data={"template": "jupyterlab", **answers},
        vcs_ref=source.vcs_ref,
        defaults=True,
        quiet=True,
    )
    return dest


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _lock_entries(lock: str) -> dict[str, str]:
    """yarn.lock's entries by key, in file order (the keys as Yarn sorts them, unquoted)."""
    entries = {}
    for block in lock.rstrip("\n").split("\n\n"):
        first = block.split("\n", 1)[0]
        if first.startswith("#"):
            continue
        key = first.rstrip(":")
        entries[json.loads(key) if key.startswith('"') else key] = block
    return entries


@pytest.fixture(scope="module")
def renders(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every combination of kind, has_settings and service, rendered once."""
    root = tmp_path_factory.mktemp("jupyterlab")
    return {
        variant: _render(
            template_git,
            root / f"{variant[0]}-{variant[1]}-{variant[2] or 'none'}",
            name="my-tool",
            kind=variant[0],
            has_settings=variant[1],
            service=variant[2],
        )
        for variant in MATRIX
    }


def test_names_are_derived_from_the_short_name_and_the_organisation(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    dest = _render(template_git, tmp_path / "r", name="data-quality", github_org="MyOrg")
    package = json.loads((dest / "package.json").read_text())
    pyproject = tomllib.loads((dest / "pyproject.toml").read_text())
    assert package["name"] == "@myorg/data-quality-jupyterlab"
    assert package["repository"]["url"] == "git+https://github.com/MyOrg/NaaVRE-data-quality-jupyterlab.git"
    assert pyproject["project"]["name"] == "NaaVRE-data-quality-jupyterlab"
    assert (dest / "naavre_data_quality_jupyterlab/__init__.py").is_file()
    assert package["jupyterlab"]["outputDir"] == "naavre_data_quality_jupyterlab/labextension"
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["naavre_data_quality_jupyterlab/labextension"] == (
        "share/jupyter/labextensions/@myorg/data-quality-jupyterlab"
    )
    assert json.loads((dest / "install.json").read_text())["packageName"] == "NaaVRE-data-quality-jupyterlab"
    index = (dest / "src/index.ts").read_text()
    assert "export const PLUGIN_ID = '@myorg/data-quality-jupyterlab:plugin';" in index
    assert "export const open = 'data-quality-jupyterlab:open';" in index
    init = (dest / "naavre_data_quality_jupyterlab/__init__.py").read_text()
    assert '"dest": "@myorg/data-quality-jupyterlab"' in init
    assert "naavre_data_quality_jupyterlab/labextension" in (dest / "jest.config.js").read_text()
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert not [key for key in answers if key.startswith("jupyterlab_")], answers
    assert answers["kind"] == "frontend" and answers["has_settings"] is True and answers["service"] == ""


@pytest.mark.parametrize("variant", MATRIX, ids=lambda v: f"{v[0]}-settings={v[1]}-service={v[2] or 'none'}")
def test_optional_parts_follow_the_answers(renders: dict, variant: tuple[str, bool, str]) -> None:
    kind, has_settings, service = variant
    dest = renders[variant]
    files = _files(dest)
    server = kind == "frontend-and-server"
    assert files >= SERVER_FILES if server else not SERVER_FILES & files
    assert files >= SERVICE_FILES if service else not SERVICE_FILES & files
    assert ("schema/plugin.json" in files) == has_settings
    for path in files:
        text = (dest / path).read_text()
        # ${{ ... }} is a GitHub expression, not Jinja.
        assert not re.search(r"(?<!\$)\{\{|\{%|\{#", text), f"unrendered Jinja in {path}"

    package = json.loads((dest / "package.json").read_text())
    assert ("schemaDir" in package["jupyterlab"]) == has_settings
    assert ("schema/*.json" in package["files"]) == has_settings
    pyproject = tomllib.loads((dest / "pyproject.toml").read_text())
    assert ("jupyter_server>=2.4,<3" in pyproject["project"]["dependencies"]) == server
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert (shared.get("jupyter-config/server-config") == "etc/jupyter/jupyter_server_config.d") == server
    init = (dest / "naavre_my_tool_jupyterlab/__init__.py").read_text()
    assert ("def _jupyter_server_extension_points" in init) == server
    index = (dest / "src/index.ts").read_text()
    assert ("ISettingRegistry" in index) == has_settings
    assert ("ServiceClient" in index) == bool(service)
    workflow = (dest / ".github/workflows/ci.yml").read_text()
    assert ("server extension list" in workflow) == server
    if server:
        config = json.loads(
            (dest / "jupyter-config/server-config/naavre_my_tool_jupyterlab.json").read_text()
        )
        assert config == {"ServerApp": {"jpserver_extensions": {"naavre_my_tool_jupyterlab": True}}}
        assert '"my-tool-jupyterlab"' in (dest / "naavre_my_tool_jupyterlab/handlers.py").read_text()


WITH_SETTINGS = [variant for variant in MATRIX if variant[1]]


@pytest.mark.parametrize("variant", WITH_SETTINGS, ids=lambda v: f"{v[0]}-service={v[2] or 'none'}")
def test_settings_schema_per_answers(renders: dict, variant: tuple[str, bool, str]) -> None:
    service = variant[2]
    schema = json.loads((renders[variant] / "schema/plugin.json").read_text())
    expected = {"virtualLab": ""}
    if service:
        expected["containerizerServiceUrl"] = "/naavre-containerizer-service"
    assert {key: value["default"] for key, value in schema["properties"].items()} == expected
    assert schema["additionalProperties"] is False


def test_a_hyphenated_service_becomes_a_camel_case_setting(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    dest = _render(template_git, tmp_path / "r", name="my-tool", service="data-quality")
    schema = json.loads((dest / "schema/plugin.json").read_text())
    assert schema["properties"]["dataQualityServiceUrl"]["default"] == "/naavre-data-quality-service"
    assert "config.dataQualityServiceUrl" in (dest / "src/index.ts").read_text()


def test_one_dependency_set_and_one_version_for_every_variant(renders: dict) -> None:
    """One yarn.lock serves every render only if package.json's dependencies never vary."""
    dependency_sets = set()
    for dest in renders.values():
        package = json.loads((dest / "package.json").read_text())
        dependency_sets.add(json.dumps([package["dependencies"], package["devDependencies"]], sort_keys=True))
        assert package["version"] == "0.1.0"
        assert "@jupyter/builder" in package["devDependencies"]
        assert "@jupyterlab/builder" not in package["devDependencies"]
        pyproject = tomllib.loads((dest / "pyproject.toml").read_text())
        assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
        assert pyproject["tool"]["hatch"]["version"]["source"] == "nodejs"
    assert len(dependency_sets) == 1


@pytest.mark.parametrize("org", ["NaaVRE", "aaa", "zz-top", "0rg"])
def test_yarn_lock_holds_the_rendered_name_where_yarn_sorts_it(
    template_git: TemplateSource, tmp_path: Path, org: str
) -> None:
    dest = _render(template_git, tmp_path / "r", name="my-tool", github_org=org)
    package = json.loads((dest / "package.json").read_text())
    lock = (dest / "yarn.lock").read_text()
    entries = _lock_entries(lock)
    own = f"{package['name']}@workspace:."
    assert list(entries) == ["__metadata", *sorted(set(entries) - {"__metadata"})]
    assert lock.count("@workspace:.") == 2  # its key and its resolution
    listed = yaml.safe_load(entries[own])[own]["dependencies"]
    assert listed == {**package["dependencies"], **package["devDependencies"]}
    assert lock.endswith("linkType: hard\n") or lock.endswith("linkType: soft\n")
    assert "\n\n\n" not in lock


BAD_ANSWERS = [
    ({"name": "tool-jupyterlab"}, "name", "must not end with '-jupyterlab'"),
    ({"kind": "server"}, "kind", "'server' is not in ['frontend', 'frontend-and-server']"),
    ({"service": "naavre-containerizer"}, "service", "must not start with 'naavre-'"),
    ({"service": "containerizer-service"}, "service", "must not end with '-service'"),
    ({"service": "Containerizer"}, "service", "must be empty or a short name"),
]


@pytest.mark.parametrize(
    ("answers", "field", "rule"), BAD_ANSWERS, ids=[b[1] + ":" + b[2] for b in BAD_ANSWERS]
)
def test_bad_answers_are_refused_before_anything_is_written(
    template_git: TemplateSource, tmp_path: Path, answers: dict, field: str, rule: str
) -> None:
    with pytest.raises(ValueError) as refused:
        _render(template_git, tmp_path / "never", **{"name": "my-tool", **answers})
    error = _copier.usage_error_from(refused.value)
    assert error is not None and error.field == field
    assert rule in str(refused.value)
    assert "\n" not in str(error)
    assert not (tmp_path / "never").exists()


def test_the_service_name_rule_is_unchanged_for_jupyterlab(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    """'-service' is only the service template's suffix; an extension may be called that."""
    dest = _render(template_git, tmp_path / "r", name="data-service")
    assert json.loads((dest / "package.json").read_text())["name"] == "@naavre/data-service-jupyterlab"


def test_project_owned_files_of_the_server_kind(template_git: TemplateSource, tmp_path: Path) -> None:
    worker = copier.run_copy(
        template_git.path,
        tmp_path / "r",
        data={"template": "jupyterlab", "name": "my-tool", "kind": "frontend-and-server", "service": "x"},
        vcs_ref=template_git.vcs_ref,
        defaults=True,
        quiet=True,
    )
    owned = {path for path in _files(worker.dst_path) if worker.match_skip(Path(path))}
    assert owned == {
        "README.md",
        "CHANGELOG.md",
        "package.json",
        "yarn.lock",
        "src/index.ts",
        "src/widget.ts",
        "src/__tests__/plugin.spec.ts",
        "schema/plugin.json",
        "style/base.css",
        "naavre_my_tool_jupyterlab/handlers.py",
        "naavre_my_tool_jupyterlab/tests/test_handlers.py",
    }


@pytest.mark.parametrize("variant", MATRIX, ids=lambda v: f"{v[0]}-settings={v[1]}-service={v[2] or 'none'}")
def test_workflows_expand_no_expression_in_run_and_keep_no_credentials(
    renders: dict, variant: tuple[str, bool, str]
) -> None:
    for path in sorted((renders[variant] / ".github/workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}
        for job in workflow["jobs"].values():
            assert "permissions" in job
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), (path.name, step)
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
                if "uses" in step:
                    assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]

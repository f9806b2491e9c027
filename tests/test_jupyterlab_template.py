"""The jupyterlab template rendered by plain Copier: names, optional parts, lockfile and answers.

Fast (no npm): what a render contains. The real build of renders is `verify`'s job.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold import _copier
from naavre_scaffold.source import TemplateSource
from tests.helpers import render
from tests.test_templates import PROJECT_OWNED

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
        variant: render(
            template_git,
            root / f"{variant[0]}-{variant[1]}-{variant[2] or 'none'}",
            "jupyterlab",
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
    dest = render(template_git, tmp_path / "r", "jupyterlab", name="data-quality", github_org="MyOrg")
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
    names = (dest / "src/names.ts").read_text()
    assert "export const NPM_NAME = `@myorg/data-quality-jupyterlab`;" in names
    assert "export const PLUGIN_ID = `@myorg/data-quality-jupyterlab:plugin`;" in names
    assert "export const SHORT_NAME = `data-quality-jupyterlab`;" in names
    assert "export const TITLE = `NaaVRE data-quality`;" in names
    init = (dest / "naavre_data_quality_jupyterlab/__init__.py").read_text()
    assert '"dest": "@myorg/data-quality-jupyterlab"' in init
    # jest.config.js is the same for every render: it reads the output folder from package.json.
    package = json.loads((dest / "package.json").read_text())
    assert package["jupyterlab"]["outputDir"] == "naavre_data_quality_jupyterlab/labextension"
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
    dest = render(template_git, tmp_path / "r", "jupyterlab", name="my-tool", service="data-quality")
    schema = json.loads((dest / "schema/plugin.json").read_text())
    assert schema["properties"]["dataQualityServiceUrl"]["default"] == "/naavre-data-quality-service"
    names = (dest / "src/names.ts").read_text()
    assert "export const SERVICE_SETTING = `dataQualityServiceUrl`;" in names
    assert "export const SERVICE_PATH = `/naavre-data-quality-service`;" in names


# Answers at their length limits, and a description with what a JS template literal must escape.
LONG_ANSWERS = {
    "name": "abcdefghij-abcdefghij-abcdefghij-abcdefg",
    "github_org": "Abcdefghij-Abcdefghij-Abcdefghij-Abcdef",
    "service": "containerizer-abcdefghij-abcdefghij-abcd",
    "description": "It's the `long` one, ${not} a placeholder; `${`",
}
# The only line of code names.ts holds: Prettier never moves a template literal
# to the next line, whatever its length (it does move a long quoted string). No
# unescaped ${: the values are text, not interpolations.
NAMES_LINE = re.compile(r"export const [A-Z_]+ = `(?:[^`\\$]|\\.|\$(?!\{))*`;")


def _template_literal(names_ts: str, constant: str) -> str:
    """The value of `export const <constant> = `...`;` in names.ts."""
    line = next(line for line in names_ts.splitlines() if line.startswith(f"export const {constant} = "))
    return re.sub(r"\\(.)", r"\1", line.split(" = `", 1)[1][: -len("`;")])


def test_only_the_names_module_holds_the_answers(template_git: TemplateSource) -> None:
    """Each other source file renders to the same text whatever the names' length: Prettier-stable."""
    src = Path(template_git.path) / "templates/jupyterlab/project/src"
    expressions = {
        path.relative_to(src).as_posix()
        for path in src.rglob("*")
        if path.is_file() and re.search(r"(?<!\$)\{\{", path.read_text())
    }
    assert expressions == {"names.ts.jinja"}


def test_long_answers_change_only_the_names_module(template_git: TemplateSource, tmp_path: Path) -> None:
    common = {"kind": "frontend-and-server", "has_settings": True}
    short = render(template_git, tmp_path / "short", "jupyterlab", name="my-tool", service="x", **common)
    long = render(template_git, tmp_path / "long", "jupyterlab", **LONG_ANSWERS, **common)
    sources = _files(short / "src")
    assert sources == _files(long / "src") and "names.ts" in sources
    differ = {
        path for path in sources if (short / "src" / path).read_bytes() != (long / "src" / path).read_bytes()
    }
    assert differ == {"names.ts"}

    names = (long / "src/names.ts").read_text()
    code = [line for line in names.splitlines() if line and not re.match(r"\s*(/\*\*|\*)", line)]
    assert code and all(NAMES_LINE.fullmatch(line) for line in code), code
    package = json.loads((long / "package.json").read_text())
    assert _template_literal(names, "NPM_NAME") == package["name"]
    assert _template_literal(names, "PLUGIN_ID") == package["name"] + ":plugin"
    assert _template_literal(names, "SHORT_NAME") == package["name"].split("/")[1]
    assert _template_literal(names, "TITLE") == "NaaVRE " + LONG_ANSWERS["name"]
    assert _template_literal(names, "DESCRIPTION") == LONG_ANSWERS["description"]
    schema = json.loads((long / "schema/plugin.json").read_text())
    setting = _template_literal(names, "SERVICE_SETTING")
    assert schema["properties"][setting]["default"] == _template_literal(names, "SERVICE_PATH")


def test_lint_runs_stylelint_prettier_and_eslint_and_ci_runs_it(renders: dict) -> None:
    for dest in renders.values():
        package = json.loads((dest / "package.json").read_text())
        scripts, dev = package["scripts"], package["devDependencies"]
        # CSS, then every file's layout, then the code; && stops at the first that fails.
        tools = ("stylelint", "prettier", "eslint")
        assert scripts["lint:check"] == " && ".join(f"jlpm {tool}:check" for tool in tools)
        assert scripts["lint"] == " && ".join(f"jlpm {tool}" for tool in tools)
        # Each fixing script is its check with the tool's fix flag, so both see the same files.
        assert scripts["stylelint:check"].startswith("stylelint ")
        assert scripts["stylelint"] == "jlpm stylelint:check --fix"
        assert scripts["prettier:base"] == "prettier ."
        assert scripts["prettier:check"] == "jlpm prettier:base --check"
        assert scripts["prettier"].startswith("jlpm prettier:base --write")
        assert scripts["eslint:check"].startswith("eslint .")
        assert scripts["eslint"] == "jlpm eslint:check --fix"
        assert {"eslint", "typescript-eslint", "stylelint", "stylelint-config-standard"} <= set(dev)

        # Every package ESLint's flat config imports is a devDependency.
        eslint_config = (dest / "eslint.config.mjs").read_text()
        imported = re.findall(r"^import .* from '([^']+)';$", eslint_config, re.MULTILINE)
        packages = {re.match(r"(@[^/]+/)?[^/]+", name)[0] for name in imported}  # without the subpath
        assert {"eslint", "typescript-eslint", "eslint-plugin-prettier"} <= packages <= set(dev)
        assert "eslint-config-prettier" in dev  # eslint-plugin-prettier/recommended's peer
        assert "'@typescript-eslint/naming-convention'" in eslint_config
        stylelint_config = json.loads((dest / ".stylelintrc.json").read_text())
        assert set(stylelint_config["extends"]) <= set(dev) | {"stylelint-prettier/recommended"}
        assert {"stylelint-prettier", "prettier"} <= set(dev)
        ignored_css = set(stylelint_config["ignoreFiles"])
        assert {"lib/**", "**/node_modules/**", "*/labextension/**", "ui-tests/**", ".yarn/**"} <= ignored_css
        assert {".eslintcache", ".stylelintcache"} <= set((dest / ".gitignore").read_text().splitlines())

        steps = yaml.safe_load((dest / ".github/workflows/ci.yml").read_text())["jobs"]["build"]["steps"]
        runs = [step.get("run") for step in steps]
        assert runs.index("jlpm install --immutable") < runs.index("jlpm lint:check")
        ignored = (dest / ".prettierignore").read_text().splitlines()
        assert {".copier-answers.yml", "yarn.lock"} <= set(ignored)


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
    dest = render(template_git, tmp_path / "r", "jupyterlab", name="my-tool", github_org=org)
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
        render(template_git, tmp_path / "never", "jupyterlab", **{"name": "my-tool", **answers})
    error = _copier.usage_error_from(refused.value)
    assert error is not None and error.field == field
    assert rule in str(refused.value)
    assert "\n" not in str(error)
    assert not (tmp_path / "never").exists()


def test_the_service_name_rule_is_unchanged_for_jupyterlab(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    """'-service' is only the service template's suffix; an extension may be called that."""
    dest = render(template_git, tmp_path / "r", "jupyterlab", name="data-service")
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
    # What every extension owns (tests/test_templates.py), and the server extension's own code.
    assert owned == PROJECT_OWNED["jupyterlab"] | {
        "naavre_my_tool_jupyterlab/handlers.py",
        "naavre_my_tool_jupyterlab/tests/test_handlers.py",
    }


def test_a_server_part_is_discoverable_by_its_pip_name(renders: dict) -> None:
    """JupyterLab's extension manager names the pip package with the server part (as extension-template)."""
    for (kind, *_), dest in renders.items():
        lab = json.loads((dest / "package.json").read_text())["jupyterlab"]
        project = tomllib.loads((dest / "pyproject.toml").read_text())["project"]
        if kind == "frontend-and-server":
            assert lab["discovery"] == {"server": {"managers": ["pip"], "base": {"name": project["name"]}}}
        else:
            assert "discovery" not in lab


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


# Which paths Jest's module map leaves out, with jest.config.js evaluated by Node (the
# preset it spreads is stubbed: the render has no node_modules).
JEST_IGNORES = """
const config = require('./jest.config.js');
const ignored = file => config.modulePathIgnorePatterns.some(pattern =>
  new RegExp(pattern.replace('<rootDir>', process.cwd())).test(`${process.cwd()}/${file}`));
console.log(JSON.stringify(process.argv.slice(1).map(ignored)));
"""


def test_jest_leaves_out_the_venv_and_the_built_labextension(renders: dict, tmp_path: Path) -> None:
    """Both hold package.json files whose names collide in Jest's module map: a haste warning."""
    dest = renders[("frontend", True, "")]
    for name in ("jest.config.js", "package.json"):
        shutil.copy(dest / name, tmp_path / name)
    preset = tmp_path / "node_modules/@jupyterlab/testing/lib/jest-config.js"
    preset.parent.mkdir(parents=True)
    preset.write_text("module.exports = () => ({});\n")
    files = [
        ".venv/lib/python3.12/site-packages/jupyterlab/staging/package.json",
        ".venv/share/jupyter/lab/static/package.json",
        "naavre_my_tool_jupyterlab/labextension/package.json",
        "src/index.ts",
        "src/__tests__/plugin.spec.ts",
        "my.venv/package.json",
    ]
    done = subprocess.run(
        ["node", "-e", JEST_IGNORES, *files], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, True, True, False, False, False]

"""The flavor template rendered by plain Copier: config, environment, tests.sh, answers and rejections.

tests.sh runs here for real, on stub `python`, `Rscript` and `conda` commands that
record what they were asked to do: the images themselves are built in CI, not here.
"""

from __future__ import annotations

import ast
import re
import stat
import subprocess
from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold import _copier
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification.tools import find_tool
from tests.helpers import render

PYTHON_CONTRACT = ["python>=3.10", "pip=25.0.1", "ipykernel=6.29.5", "git=2.49.0", "jq>=1.8", "minio=7.2.15"]
R_CONTRACT = ["r=4.4", "r-irkernel=1.3.2", "r-jsonlite=1.9.1", "r-optparse=1.7.5", "r-secretsprovider"]
R_CONTRACT += ["r-getpass", "r-aws.s3"]
# What NaaVRE/flavors' vanilla environment.yaml pins with `=` (conda-forge), the
# versions its images are built and tested with: a generated flavor pins the same.
VANILLA_PINS = {
    "r": "4.4",
    "r-jsonlite": "1.9.1",
    "r-optparse": "1.7.5",
    "ipykernel": "6.29.5",
    "r-irkernel": "1.3.2",
    "git": "2.49.0",
    "minio": "7.2.15",
    "pip": "25.0.1",
}
CONFIG_KEYS = {"flavor_name", "build_jupyter", "build_cell_base", "free_disk_space", "aliases"}

# The render matrix: each entry is rendered once per module.
RENDERS: dict[str, dict[str, object]] = {
    "python": {"name": "ecology", "languages": "python"},
    "r": {"name": "ecology", "languages": "r", "build_jupyter": False},
    "both": {"name": "ecology"},
    "aliases": {"name": "grassland", "aliases": ["grass", "meadow-2"], "build_cell_base": False},
    "extras": {
        "name": "remote-sensing",
        "languages": "python",
        "free_disk_space": True,
        # "yes" and "1.5" would not stay strings in YAML unless quoted; python=3.12
        # replaces the contract's python>=3.10.
        "extra_packages": ["numpy>=1.26,<3", "gdal =3.9.*", "python=3.12", "yes", "1.5"],
    },
}


@pytest.fixture(scope="module")
def renders(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("flavor")
    return {key: render(template_git, root / key, "flavor", **answers) for key, answers in RENDERS.items()}


def _dependencies(flavor: Path) -> tuple[list[str], list[str]]:
    environment = yaml.safe_load((flavor / "environment.yaml").read_text())
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    pips = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert len(pips) == 1 and len(conda) + 1 == len(environment["dependencies"])
    return conda, pips[0]


@pytest.mark.parametrize("key", sorted(RENDERS))
def test_flavor_config_has_all_five_keys_from_the_answers(renders: dict[str, Path], key: str) -> None:
    answers = RENDERS[key]
    config = yaml.safe_load((renders[key] / "flavor_config.yaml").read_text())
    assert set(config) == CONFIG_KEYS
    assert config == {
        "flavor_name": answers["name"],
        "build_jupyter": answers.get("build_jupyter", True),
        "build_cell_base": answers.get("build_cell_base", True),
        "free_disk_space": answers.get("free_disk_space", False),
        "aliases": answers.get("aliases", []),
    }


def test_no_aliases_is_written_as_an_empty_list(renders: dict[str, Path]) -> None:
    assert "\naliases: []\n" in (renders["both"] / "flavor_config.yaml").read_text()


@pytest.mark.parametrize("key", sorted(RENDERS))
def test_environment_has_the_kernel_contract_of_its_languages(renders: dict[str, Path], key: str) -> None:
    languages = RENDERS[key].get("languages", "both")
    environment = yaml.safe_load((renders[key] / "environment.yaml").read_text())
    assert environment["name"] == RENDERS[key]["name"]
    assert environment["channels"] == ["conda-forge"]
    conda, pip = _dependencies(renders[key])
    assert pip == ["SecretsProvider"]
    assert set(PYTHON_CONTRACT) - {"python>=3.10"} <= set(conda)
    r_packages = [spec for spec in conda if re.match(r"r($|[-=])", spec)]
    assert r_packages == ([] if languages == "python" else R_CONTRACT)


def test_the_contract_is_pinned_as_the_naavre_vanilla_flavor(renders: dict[str, Path]) -> None:
    conda, _ = _dependencies(renders["both"])
    pins = dict(spec.split("=", 1) for spec in conda if re.fullmatch(r"[a-z0-9.-]+=[0-9.]+", spec))
    assert pins == VANILLA_PINS
    # R as the NaaVRE flavors write it: conda's metapackage r, not r-base.
    assert "r=4.4" in conda and not [spec for spec in conda if spec.startswith("r-base")]


def test_an_extra_r_base_replaces_the_contracts_r(template_git: TemplateSource, tmp_path: Path) -> None:
    flavor = render(
        template_git, tmp_path / "r45", "flavor", name="r45", languages="r", extra_packages=["r-base=4.5"]
    )
    conda, _ = _dependencies(flavor)
    assert [spec for spec in conda if re.match(r"r($|-base|=)", spec)] == ["r-base=4.5"]


def test_extra_packages_follow_the_contract_as_strings(renders: dict[str, Path]) -> None:
    conda, _ = _dependencies(renders["extras"])
    extras = RENDERS["extras"]["extra_packages"]
    assert conda[-len(extras) :] == extras
    # The flavor's python spec replaces the contract's: one python, the asked one.
    assert [spec for spec in conda if spec.startswith("python")] == ["python=3.12"]
    assert "python>=3.10" in _dependencies(renders["python"])[0]


@pytest.mark.parametrize("key", sorted(RENDERS))
def test_sample_tests_match_the_languages(renders: dict[str, Path], key: str) -> None:
    languages = RENDERS[key].get("languages", "both")
    tests = {p.name for p in (renders[key] / "tests").iterdir()}
    expected = {"tests.sh"}
    expected |= {"test_python.py"} if languages != "r" else set()
    expected |= {"test_r.R"} if languages != "python" else set()
    assert tests == expected


def test_answers_file_is_at_the_render_root(renders: dict[str, Path], template_git: TemplateSource) -> None:
    answers = yaml.safe_load((renders["extras"] / ".copier-answers.yml").read_text())
    assert answers["template"] == "flavor"
    assert answers["_commit"] == template_git.vcs_ref
    for key, value in RENDERS["extras"].items():
        assert answers[key] == value
    assert answers["aliases"] == [] and answers["build_jupyter"] is True
    assert not {"registry", "port", "kind", "image_prefix"} & set(answers)


def test_readme_names_images_by_the_repository_prefix(renders: dict[str, Path]) -> None:
    readme = (renders["aliases"] / "README.md").read_text()
    assert "<registry>/<image_prefix>grassland-jupyter" in readme
    assert "naavre-fl-" not in readme and "ghcr.io" not in readme
    assert "leaves the flavor out" in readme
    assert "maps `ecology` to the cell images" in (renders["both"] / "README.md").read_text()


def _sample_test_needs(flavor: Path) -> list[str]:
    """What the sample tests check: Python modules and tools, R packages."""
    needs = []
    python = flavor / "tests/test_python.py"
    if python.exists():
        for name in ("MODULES", "TOOLS"):
            [value] = re.findall(rf"^{name} = (.*)$", python.read_text(), re.M)
            needs += ast.literal_eval(value)
    r = flavor / "tests/test_r.R"
    if r.exists():
        [value] = re.findall(r"^packages <- c\((.*)\)$", r.read_text(), re.M)
        needs += re.findall(r'"([^"]+)"', value)
    return needs


@pytest.mark.parametrize("key", ["python", "r", "both"])
def test_readme_says_what_tests_sh_needs_without_docker(renders: dict[str, Path], key: str) -> None:
    """tests.sh makes no environment: it activates the flavor's conda env, or uses PATH's as it is."""
    flavor = renders[key]
    local = " ".join((flavor / "README.md").read_text().split("Without docker, ", 1)[1].split())
    environment = yaml.safe_load((flavor / "environment.yaml").read_text())["name"]
    assert f"conda shell.bash activate {environment}" in (flavor / "tests/tests.sh").read_text()
    assert f"`bash flavors/{environment}/tests/tests.sh`" in local
    assert f"activates the conda environment `{environment}`, and stops when there is none" in local
    assert f"`conda env create -f flavors/{environment}/environment.yaml`" in local
    runners = "`python` and `Rscript`" if key != "python" else "`python` of your PATH"
    assert f"without conda, tests.sh runs the tests with the {runners}" in local
    needs = _sample_test_needs(flavor)
    assert needs and [need for need in needs if f"`{need}`" not in local] == []


@pytest.mark.parametrize("key", ["python", "r", "both"])
def test_tests_sh_is_shellcheck_clean_and_executable(renders: dict[str, Path], key: str) -> None:
    script = renders[key] / "tests/tests.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    result = subprocess.run(
        [find_tool("shellcheck"), "--severity=style", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


# tests.sh on stubs. Each stub appends one line to $STUB_LOG; python and Rscript fail
# for the file named in $FAIL_TEST; conda prints what `conda shell.bash activate` would.
STUB_RUNNER = """#!/bin/sh
echo "$(basename "$0") $1 in $(basename "$PWD") env=${ACTIVATED_ENV:-none}" >> "$STUB_LOG"
[ "$1" != "${FAIL_TEST:-}" ]
"""
STUB_CONDA = """#!/bin/sh
echo "conda $*" >> "$STUB_LOG"
[ "$*" = "shell.bash activate $CONDA_HAS_ENV" ] || { echo "EnvironmentNameNotFound: $3" >&2; exit 1; }
echo "export ACTIVATED_ENV=$3"
"""


def _run_tests_sh(
    flavor: Path, tmp_path: Path, conda: bool, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    for name, text in [("python", STUB_RUNNER), ("Rscript", STUB_RUNNER)] + [("conda", STUB_CONDA)] * conda:
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")
    # Only the stubs and the system's basic tools: no real conda, python or Rscript.
    path = f"{stubs}:/usr/bin:/bin"
    result = subprocess.run(
        ["/bin/bash", str(flavor / "tests/tests.sh")],
        cwd=tmp_path,
        env={"PATH": path, "STUB_LOG": str(log), "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )
    return result, log.read_text().splitlines()


def test_tests_sh_runs_every_test_in_the_flavors_conda_env(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    flavor = render(template_git, tmp_path / "ecology", "flavor", name="ecology")
    (flavor / "tests/test_extra.py").write_text("")
    result, calls = _run_tests_sh(flavor, tmp_path, conda=True, CONDA_HAS_ENV="ecology")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "conda shell.bash activate ecology",
        "python test_extra.py in tests env=ecology",
        "python test_python.py in tests env=ecology",
        "Rscript test_r.R in tests env=ecology",
    ]
    assert "=== Rscript test_r.R" in result.stdout
    assert "tests.sh: 3 passed, 0 failed" in result.stdout


def test_tests_sh_fails_when_one_test_fails_and_still_runs_the_others(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    flavor = render(template_git, tmp_path / "ecology", "flavor", name="ecology")
    result, calls = _run_tests_sh(flavor, tmp_path, conda=False, FAIL_TEST="test_python.py")
    assert result.returncode == 1
    assert calls == ["python test_python.py in tests env=none", "Rscript test_r.R in tests env=none"]
    assert "tests.sh: 1 passed, 1 failed" in result.stdout
    assert "tests.sh: failed: test_python.py" in result.stderr
    # Neither /venv nor conda: the tests still run, on PATH, and say so.
    assert "no /venv and no conda" in result.stderr


def test_tests_sh_stops_when_the_conda_env_is_missing(template_git: TemplateSource, tmp_path: Path) -> None:
    flavor = render(template_git, tmp_path / "ecology", "flavor", name="ecology", languages="python")
    result, calls = _run_tests_sh(flavor, tmp_path, conda=True, CONDA_HAS_ENV="vanilla")
    assert result.returncode != 0
    assert calls == ["conda shell.bash activate ecology"]
    assert "EnvironmentNameNotFound" in result.stderr


def test_tests_sh_fails_without_tests(template_git: TemplateSource, tmp_path: Path) -> None:
    flavor = render(template_git, tmp_path / "ecology", "flavor", name="ecology", languages="r")
    (flavor / "tests/test_r.R").unlink()
    result, calls = _run_tests_sh(flavor, tmp_path, conda=False)
    assert result.returncode == 1 and calls == []
    assert "tests.sh: no tests (*.py, *.R)" in result.stderr


@pytest.mark.parametrize(
    ("answers", "field", "rule"),
    [
        ({"name": "a" * 31}, "name", "at most 30 characters long for a flavor (got 31)"),
        ({"name": "Ecology"}, "name", "only lowercase letters, digits and single hyphens"),
        ({"aliases": "eco"}, "aliases", "must be a list of flavor names"),
        ({"aliases": {"eco": 1}}, "aliases", "must be a list of flavor names"),
        ({"aliases": ["Eco"]}, "aliases", '"Eco" is not one'),
        ({"aliases": ["eco--r"]}, "aliases", '"eco--r" is not one'),
        ({"aliases": [7]}, "aliases", '"7" is not one'),
        ({"aliases": ["e" * 31]}, "aliases", "at most 30 characters long"),
        ({"aliases": ["ecology"]}, "aliases", "must not repeat the flavor name ecology"),
        ({"aliases": ["eco", "eco"]}, "aliases", "must not name eco twice"),
        ({"extra_packages": "numpy"}, "extra_packages", "must be a list of conda-forge package specs"),
        ({"extra_packages": ["NumPy"]}, "extra_packages", '"NumPy" is not one'),
        ({"extra_packages": ["numpy>="]}, "extra_packages", '"numpy>=" is not one'),
        ({"extra_packages": ["numpy>=1,"]}, "extra_packages", '"numpy>=1," is not one'),
        ({"extra_packages": ["numpy; rm -rf /"]}, "extra_packages", '"numpy; rm -rf /" is not one'),
        ({"extra_packages": [["numpy"]]}, "extra_packages", "is not one"),
        ({"extra_packages": ["numpy", "numpy>=2"]}, "extra_packages", "must not name numpy twice"),
        ({"languages": "julia"}, "languages", "'julia' is not in"),
    ],
)
def test_bad_answers_are_one_line_errors_and_nothing_is_written(
    template_git: TemplateSource, tmp_path: Path, answers: dict[str, object], field: str, rule: str
) -> None:
    dest = tmp_path / "flavors" / "never"
    with pytest.raises(ValueError) as rejected:
        render(template_git, dest, "flavor", **{"name": "ecology", **answers})
    error = _copier.usage_error_from(rejected.value)
    assert error is not None and error.field == field, rejected.value
    assert rule in error.rule and "\n" not in str(error)
    assert not dest.exists()


@pytest.mark.parametrize(
    "spec", ["numpy", "r-aws.s3", "r-base=4.4", "numpy>=1.26,<3", "gdal =3.9.*", "py_lib!=1.0", "x==2"]
)
def test_good_package_specs_are_accepted(template_git: TemplateSource, tmp_path: Path, spec: str) -> None:
    flavor = render(
        template_git, tmp_path / "ok", "flavor", name="ok", languages="python", extra_packages=[spec]
    )
    assert spec in _dependencies(flavor)[0]


def test_the_flavor_questions_stay_out_of_other_templates(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    dest = tmp_path / "svc"
    copier.run_copy(
        template_git.path,
        dest,
        data={"template": "service", "name": "ok"},
        vcs_ref=template_git.vcs_ref,
        defaults=True,
        quiet=True,
        skip_tasks=True,
    )
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert not {"languages", "aliases", "extra_packages", "build_jupyter"} & set(answers)
    assert not (dest / "flavor_config.yaml").exists()

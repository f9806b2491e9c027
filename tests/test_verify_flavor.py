"""The `flavor` check kind on flavors repositories built by hand, and on a render when the templates exist."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import copier
import pytest
import yaml

from naavre_scaffold.verification import flavor
from naavre_scaffold.verification.run import verify
from naavre_scaffold.verification.tools import CheckResult

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["flavor_name", "build_jupyter", "build_cell_base", "free_disk_space", "aliases"],
    "properties": {
        "flavor_name": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
        "build_jupyter": {"type": "boolean"},
        "build_cell_base": {"type": "boolean"},
        "free_disk_space": {"type": "boolean"},
        "aliases": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}},
    },
}

# Follows the issue: read every flavor_config.yaml, reject broken ones with one line, print the map.
TAGS_SCRIPT = textwrap.dedent(
    '''\
    """Print base_image_tags.json for every flavor of this repository."""
    import argparse
    import json
    import re
    import sys
    from pathlib import Path

    import yaml

    ROOT = Path(__file__).resolve().parent.parent


    def main():
        images = yaml.safe_load((ROOT / "naavre-flavors.yml").read_text())
        parser = argparse.ArgumentParser()
        parser.add_argument("--registry", default=images["registry"])
        parser.add_argument("--tag", required=True)
        parser.add_argument("--output")
        args = parser.parse_args()
        if not re.fullmatch(r"v\\d+\\.\\d+\\.\\d+", args.tag):
            sys.exit("--tag: must be vX.Y.Z")
        tags = {}
        for path in sorted(ROOT.glob("flavors/*/flavor_config.yaml")):
            where = path.relative_to(ROOT)
            try:
                config = yaml.safe_load(path.read_text())
            except yaml.YAMLError:
                sys.exit(f"{where}: not valid YAML")
            if not isinstance(config, dict) or config.get("flavor_name") != path.parent.name:
                sys.exit(f"{where}: flavor_name must be {path.parent.name}")
            if not config["build_cell_base"]:
                continue
            base = f"{args.registry}/{images['image_prefix']}{path.parent.name}-cell-"
            for key in [path.parent.name, *config["aliases"]]:
                if key in tags:
                    sys.exit(f"{where}: {key} is used twice")
                tags[key] = {"build": f"{base}build:{args.tag}", "runtime": f"{base}runtime:{args.tag}"}
        text = json.dumps(dict(sorted(tags.items())), indent=2)
        if args.output:
            Path(args.output).write_text(text + "\\n")
        else:
            print(text)


    main()
    '''
)

BUILD_LOCAL = textwrap.dedent(
    """\
    #!/usr/bin/env bash
    # Build one flavor's images locally.
    set -euo pipefail
    flavor="${1:?usage: build-local.sh FLAVOR}"
    docker build -f docker/cell-build.Dockerfile \\
        --build-arg "CONDA_ENV_FILE=flavors/${flavor}/environment.yaml" .
    """
)

TESTS_SH = textwrap.dedent(
    """\
    #!/usr/bin/env bash
    # Run every test of the flavor inside its image.
    set -uo pipefail
    # shellcheck disable=SC1091
    source /venv/bin/activate || eval "$(conda shell.bash activate {name})"
    status=0
    for test in "$(dirname "$0")"/*.py; do
        python "$test" || status=1
    done
    exit "$status"
    """
)

CELL_BUILD = textwrap.dedent(
    """\
    FROM mambaorg/micromamba:2.0.7
    ARG CONDA_ENV_FILE
    COPY --chown=$MAMBA_USER:$MAMBA_USER ${CONDA_ENV_FILE} /tmp/environment.yaml
    RUN micromamba create -y -n venv -f /tmp/environment.yaml && micromamba clean --all --yes
    """
)

CELL_RUNTIME = textwrap.dedent(
    """\
    FROM ubuntu:24.04
    ARG CONDA_ENV_FILE
    RUN mkdir -p /tmp/data
    WORKDIR /app
    """
)

PYTHON_DEPENDENCIES = ["python>=3.10", "pip", "ipykernel", "git", "jq", "minio"]
R_DEPENDENCIES = ["r-base=4.4", "r-irkernel", "r-jsonlite", "r-optparse", "r-secretsprovider"]
R_DEPENDENCIES += ["r-getpass", "r-aws.s3"]


def write_flavor(
    repo: Path, name: str, aliases: list[str], languages: str = "python", build_cell_base: bool = True
) -> Path:
    folder = repo / "flavors" / name
    (folder / "tests").mkdir(parents=True)
    config = {
        "flavor_name": name,
        "build_jupyter": True,
        "build_cell_base": build_cell_base,
        "free_disk_space": False,
        "aliases": aliases,
    }
    (folder / "flavor_config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    dependencies: list = list(PYTHON_DEPENDENCIES) + (R_DEPENDENCIES if languages != "python" else [])
    dependencies.append({"pip": ["SecretsProvider"]})
    environment = {"name": name, "channels": ["conda-forge"], "dependencies": dependencies}
    (folder / "environment.yaml").write_text(yaml.safe_dump(environment, sort_keys=False))
    answers = {"_src_path": "gh:naavre/naavre-scaffold", "template": "flavor", "languages": languages}
    (folder / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    (folder / "tests/tests.sh").write_text(TESTS_SH.replace("{name}", name))
    (folder / "tests/test_python.py").write_text("import json\n\nprint(json.dumps({'ok': True}))\n")
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A flavors repository laid out as the flavors-repo template makes it, with three flavors."""
    root = tmp_path / "flavors"
    (root / "schemas").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "docker").mkdir()
    (root / "naavre-flavors.yml").write_text("registry: ghcr.io/naavre/flavors\nimage_prefix: naavre-fl-\n")
    (root / "schemas/flavor_config.schema.json").write_text(json.dumps(SCHEMA, indent=2))
    (root / "scripts/base_image_tags.py").write_text(TAGS_SCRIPT)
    (root / "build-local.sh").write_text(BUILD_LOCAL)
    (root / "docker/cell-build.Dockerfile").write_text(CELL_BUILD)
    (root / "docker/cell-runtime.Dockerfile").write_text(CELL_RUNTIME)
    write_flavor(root, "vanilla", ["python", "r"], languages="both")
    write_flavor(root, "ecology", ["eco"], languages="python")
    write_flavor(root, "jupyter-only", [], languages="python", build_cell_base=False)
    return root


def failures(results: list[CheckResult]) -> list[str]:
    return [f"{r.name}: {r.detail}" for r in results if not r.ok]


def only_failure(results: list[CheckResult]) -> str:
    failed = failures(results)
    assert len(failed) == 1, failed
    return failed[0]


def edit_yaml(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_good_repo_passes_every_check(repo: Path) -> None:
    results = flavor.run(repo)
    assert failures(results) == []
    names = [r.name for r in results]
    for rule in ("yaml", "schema", "flavor_name = folder", "aliases unique", "environment name"):
        assert f"vanilla: {rule} flavors/vanilla/" in "\n".join(names), rule
    assert "vanilla: kernel packages (both) flavors/vanilla/environment.yaml" in names
    assert "ecology: kernel packages (python) flavors/ecology/environment.yaml" in names
    assert "shellcheck build-local.sh" in names
    assert "ecology: shellcheck flavors/ecology/tests/tests.sh" in names
    assert "base_image_tags scripts/base_image_tags.py" in names


def test_unparsable_flavor_config_fails_and_the_script_must_reject_it(repo: Path) -> None:
    (repo / "flavors/ecology/flavor_config.yaml").write_text("flavor_name: [ecology\n")
    failed = failures(flavor.run(repo))
    assert failed[0].startswith("ecology: yaml flavors/ecology/flavor_config.yaml: not valid YAML"), failed
    # The stand-in script rejects it, as the issue asks, so that check passes.
    assert len(failed) == 1, failed


def test_script_that_accepts_a_broken_config_fails(repo: Path) -> None:
    edit_yaml(repo / "flavors/ecology/flavor_config.yaml", flavor_name="ecolog")
    script = repo / "scripts/base_image_tags.py"
    script.write_text(script.read_text().replace('config.get("flavor_name") != path.parent.name', "False"))
    failed = failures(flavor.run(repo))
    assert any(
        line.startswith("ecology: flavor_name = folder flavors/ecology/flavor_config.yaml: ")
        and "'ecolog'" in line
        for line in failed
    ), failed
    assert any(
        line.startswith("base_image_tags scripts/base_image_tags.py rejects broken configs")
        for line in failed
    )


def test_schema_violation_names_flavor_file_and_field(repo: Path) -> None:
    edit_yaml(repo / "flavors/vanilla/flavor_config.yaml", build_jupyter="yes", colour="blue")
    failed = only_failure(flavor.run(repo))
    assert failed.startswith("vanilla: schema flavors/vanilla/flavor_config.yaml: ")
    assert "build_jupyter: 'yes' is not of type 'boolean'" in failed
    assert "'colour' was unexpected" in failed


def test_missing_repo_schema_is_a_failure_not_a_skip(repo: Path) -> None:
    (repo / "schemas/flavor_config.schema.json").unlink()
    failed = failures(flavor.run(repo))
    assert len(failed) == 3, failed
    assert all("the repository has no schemas/flavor_config.schema.json" in line for line in failed)


def test_flavor_name_must_equal_folder(repo: Path) -> None:
    edit_yaml(repo / "flavors/ecology/flavor_config.yaml", flavor_name="ecologie")
    failed = failures(flavor.run(repo))
    assert failed[0] == (
        "ecology: flavor_name = folder flavors/ecology/flavor_config.yaml: "
        "flavor_name is 'ecologie', but the folder is 'ecology'"
    )
    assert len(failed) == 1, failed  # the script rejects it


def test_alias_used_by_two_flavors_fails_for_both(repo: Path) -> None:
    edit_yaml(repo / "flavors/ecology/flavor_config.yaml", aliases=["eco", "python"])
    failed = failures(flavor.run(repo))
    assert (
        "vanilla: aliases unique flavors/vanilla/flavor_config.yaml: alias 'python' is also an alias of "
        "flavors/ecology" in failed
    )
    assert (
        "ecology: aliases unique flavors/ecology/flavor_config.yaml: alias 'python' is also an alias of "
        "flavors/vanilla" in failed
    )
    assert len(failed) == 2, failed


def test_alias_equal_to_another_flavors_name_fails(repo: Path) -> None:
    edit_yaml(repo / "flavors/ecology/flavor_config.yaml", aliases=["vanilla"])
    failed = failures(flavor.run(repo))
    assert failed == [
        "ecology: aliases unique flavors/ecology/flavor_config.yaml: "
        "alias 'vanilla' is also flavor flavors/vanilla"
    ]


def test_environment_missing_a_contract_package(repo: Path) -> None:
    path = repo / "flavors/vanilla/environment.yaml"
    environment = yaml.safe_load(path.read_text())
    environment["dependencies"] = [d for d in environment["dependencies"] if d not in ("r-irkernel", "jq")]
    environment["dependencies"][-1] = {"pip": ["requests==2.32.3"]}
    path.write_text(yaml.safe_dump(environment))
    assert only_failure(flavor.run(repo)) == (
        "vanilla: kernel packages (both) flavors/vanilla/environment.yaml: "
        "missing jq, r-irkernel, pip: secretsprovider"
    )


def test_r_packages_are_required_only_for_r_flavors(repo: Path) -> None:
    # No answers file: the R packages listed decide; one R package means all are needed.
    (repo / "flavors/ecology/.copier-answers.yml").unlink()
    path = repo / "flavors/ecology/environment.yaml"
    environment = yaml.safe_load(path.read_text())
    environment["dependencies"].insert(0, "r-vegan>=2.6")
    environment["dependencies"].insert(0, "numpy >=1.26")
    path.write_text(yaml.safe_dump(environment))
    failed = only_failure(flavor.run(repo))
    assert failed.startswith(
        "ecology: kernel packages (both) flavors/ecology/environment.yaml: missing r-base, "
    )


def test_environment_name_and_yaml(repo: Path) -> None:
    edit_yaml(repo / "flavors/ecology/environment.yaml", name="base")
    assert only_failure(flavor.run(repo)) == (
        "ecology: environment name flavors/ecology/environment.yaml: name is 'base', not the flavor 'ecology'"
    )
    (repo / "flavors/ecology/environment.yaml").write_text("name: ecology\ndependencies: [python\n")
    assert only_failure(flavor.run(repo)).startswith("ecology: yaml flavors/ecology/environment.yaml: ")


def test_shellcheck_finding_names_flavor_and_file(repo: Path) -> None:
    script = repo / "flavors/vanilla/tests/tests.sh"
    script.write_text(script.read_text() + "cd $HOME\n")
    failed = only_failure(flavor.run(repo))
    assert failed.startswith("vanilla: shellcheck flavors/vanilla/tests/tests.sh: ")
    assert "SC2086" in failed or "SC2164" in failed


def test_override_dockerfile_hadolint_finding_is_reported_once(repo: Path) -> None:
    override = repo / "flavors/ecology/cell-runtime.Dockerfile"
    override.write_text(CELL_RUNTIME + "RUN apt-get update && apt-get install curl\n")
    results = verify(repo, skip=["workflows", "python", "jupyterlab", "helm"])
    failed = [f"{r.kind} {r.name}: {r.detail}" for r in results if not r.ok]
    assert len(failed) == 1, failed
    assert failed[0].startswith("dockerfile hadolint flavors/ecology/cell-runtime.Dockerfile: ")
    assert "DL3008" in failed[0] or "DL3009" in failed[0]
    linted = [r.name for r in results if r.name.startswith("hadolint ")]
    assert len(linted) == len(set(linted)) == 3


def test_override_must_keep_the_default_args_and_target(repo: Path) -> None:
    (repo / "flavors/ecology/cell-build.Dockerfile").write_text(
        CELL_BUILD.replace("ARG CONDA_ENV_FILE\n", "")
    )
    (repo / "flavors/ecology/cell-runner.Dockerfile").write_text(CELL_RUNTIME)
    failed = failures(flavor.run(repo))
    assert failed == [
        "ecology: override ARGs flavors/ecology/cell-build.Dockerfile: "
        "does not declare ARG CONDA_ENV_FILE of docker/cell-build.Dockerfile",
        "ecology: override target flavors/ecology/cell-runner.Dockerfile: docker/cell-runner.Dockerfile does "
        "not exist, so it is never built (targets: cell-build.Dockerfile, cell-runtime.Dockerfile)",
    ]


def test_base_image_tags_with_the_wrong_shape_fails(repo: Path) -> None:
    script = repo / "scripts/base_image_tags.py"
    # Aliases left out, and the runtime image named after the alias instead of its owner.
    script.write_text(
        script.read_text().replace('[path.parent.name, *config["aliases"]]', "[path.parent.name]")
    )
    failed = only_failure(flavor.run(repo))
    assert failed.startswith("base_image_tags scripts/base_image_tags.py: ")
    for key in ("eco", "python", "r"):
        assert f"flavor or alias {key!r}: missing" in failed
    script.write_text(
        TAGS_SCRIPT.replace('-cell-"', '-"').replace('"runtime": f"{base}runtime', '"run": f"{base}')
    )
    failed = only_failure(flavor.run(repo))
    assert "flavor or alias 'eco': " in failed
    assert "ghcr.io/naavre/flavors/naavre-fl-ecology-cell-runtime:v0.0.0" in failed


def test_base_image_tags_follows_naavre_flavors_yml(repo: Path) -> None:
    # The script reads the one place that names images; a hard-coded registry would fail here.
    (repo / "naavre-flavors.yml").write_text("registry: registry.example.org/lab\nimage_prefix: naavre-\n")
    assert failures(flavor.run(repo)) == []
    script = repo / "scripts/base_image_tags.py"
    script.write_text(
        script.read_text().replace('default=images["registry"]', 'default="ghcr.io/naavre/flavors"')
    )
    failed = only_failure(flavor.run(repo))
    assert "expected " in failed and "registry.example.org/lab/naavre-vanilla-cell-build:v0.0.0" in failed


def test_missing_script_and_stray_folder_fail(repo: Path) -> None:
    (repo / "scripts/base_image_tags.py").unlink()
    (repo / "flavors/half").mkdir()
    (repo / "flavors/half/environment.yaml").write_text("name: half\n")
    assert failures(flavor.run(repo)) == [
        "half: flavor folder flavors/half: no flavor_config.yaml: never built",
        "base_image_tags scripts/base_image_tags.py: missing: the release cannot attach base_image_tags.json",
    ]


def test_single_flavor_folder(repo: Path) -> None:
    results = flavor.run(repo / "flavors/ecology")
    names = [r.name for r in results]
    assert failures(results) == []
    assert all("vanilla" not in name for name in names), names
    assert "ecology: schema flavors/ecology/flavor_config.yaml" in names
    # The repository's Dockerfiles it builds from, which the dockerfile kind does not reach from here.
    assert "hadolint docker/cell-build.Dockerfile" in names
    assert "base_image_tags scripts/base_image_tags.py" in names
    # Its aliases are still compared with the other flavors'.
    edit_yaml(repo / "flavors/ecology/flavor_config.yaml", aliases=["r"])
    failed = only_failure(flavor.run(repo / "flavors/ecology"))
    assert failed.startswith("ecology: aliases unique flavors/ecology/flavor_config.yaml: alias 'r' is also")


def test_flavor_folder_outside_a_repo_is_checked_without_it(repo: Path, tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    shutil.copytree(repo / "flavors/ecology", lone / "ecology")
    (lone / "ecology/tests/tests.sh").write_text("#!/bin/sh\necho $1\n")
    failed = failures(flavor.run(lone / "ecology"))
    assert failed[0].startswith("ecology: repository ecology: no naavre-flavors.yml in ")
    assert failed[1].startswith("ecology: shellcheck ecology/tests/tests.sh: ")
    assert len(failed) == 2, failed


def test_service_repo_gives_no_flavor_results(service_render: Path) -> None:
    assert flavor.run(service_render) == []


FLAVOR_TEMPLATES = [
    Path(__file__).resolve().parent.parent / f"templates/{t}/project" for t in ("flavors-repo", "flavor")
]


@pytest.mark.skipif(
    not all(folder.is_dir() and any(folder.iterdir()) for folder in FLAVOR_TEMPLATES),
    reason="the flavors-repo and flavor templates are not written yet",
)
def test_rendered_flavors_repo_passes(template_git, tmp_path: Path) -> None:
    repo = tmp_path / "flavors"
    render = {"defaults": True, "quiet": True, "vcs_ref": template_git.vcs_ref}
    copier.run_copy(template_git.path, repo, data={"template": "flavors-repo", "name": "flavors"}, **render)
    vanilla = {"template": "flavor", "name": "vanilla", "languages": "both", "aliases": ["python", "r"]}
    if not (repo / "flavors/vanilla").exists():  # the repo template may render it already
        copier.run_copy(template_git.path, repo / "flavors/vanilla", data=vanilla, **render)
    results = verify(repo, skip=["helm", "workflows", "python", "jupyterlab"])
    assert [f"{r.kind} {r.name}: {r.detail}" for r in results if not r.ok] == []
    names = {r.name for r in results if r.kind == "flavor"}
    assert {
        "vanilla: schema flavors/vanilla/flavor_config.yaml",
        "vanilla: aliases unique flavors/vanilla/flavor_config.yaml",
        "vanilla: kernel packages (both) flavors/vanilla/environment.yaml",
        "vanilla: shellcheck flavors/vanilla/tests/tests.sh",
        "base_image_tags scripts/base_image_tags.py",
    } <= names
    assert any(r.kind == "dockerfile" and r.name == "hadolint docker/cell-build.Dockerfile" for r in results)


@pytest.mark.skipif(
    not all(folder.is_dir() and any(folder.iterdir()) for folder in FLAVOR_TEMPLATES),
    reason="the flavors-repo and flavor templates are not written yet",
)
def test_rendered_flavors_repo_accepts_a_real_config_without_aliases(template_git, tmp_path: Path) -> None:
    """3 of the 24 NaaVRE/flavors configs have no aliases key; such a flavor moves in unchanged."""
    repo = tmp_path / "flavors"
    render = {"defaults": True, "quiet": True, "vcs_ref": template_git.vcs_ref}
    copier.run_copy(template_git.path, repo, data={"template": "flavors-repo", "name": "flavors"}, **render)
    wiresits = {"template": "flavor", "name": "wiresits", "languages": "r"}
    copier.run_copy(template_git.path, repo / "flavors/wiresits", data=wiresits, **render)
    (repo / "flavors/wiresits/flavor_config.yaml").write_text(
        "flavor_name: wiresits\nbuild_jupyter: True\nbuild_cell_base: True\nfree_disk_space: False\n"
    )
    results = verify(repo, skip=["helm", "workflows", "python", "jupyterlab", "dockerfile"])
    assert [f"{r.kind} {r.name}: {r.detail}" for r in results if not r.ok] == []
    names = {r.name for r in results if r.kind == "flavor"}
    assert {
        "wiresits: schema flavors/wiresits/flavor_config.yaml",
        "base_image_tags scripts/base_image_tags.py",
    } <= names

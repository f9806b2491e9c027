"""Flavor checks: the flavors repository's own rules, which no generic tool knows.

Run on a flavors repository (it has ``naavre-flavors.yml``) or on one flavor folder
(it has ``flavor_config.yaml``; the repository is then found above it). Each
``flavor_config.yaml`` must match the repository's JSON schema and name its folder,
aliases must be unique keys of ``base_image_tags.json``, each ``environment.yaml``
must carry the packages the NaaVRE kernels need, every shell script must be
shellcheck clean, and ``scripts/base_image_tags.py`` must print exactly the map the
containerizer serves. Every result names the flavor, the file and the rule.

hadolint runs in the ``dockerfile`` kind, which already covers every Dockerfile
under the checked path (``docker/`` and the per-flavor overrides). This kind adds
hadolint only for the repository's ``docker/`` Dockerfiles a single checked flavor
builds from, which lie outside that path, so no file is linted twice in one verify.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.verification.dockerfile import hadolint
from naavre_scaffold.verification.flavor_tags import CONFIG, REPO_MARKER, base_image_tags
from naavre_scaffold.verification.tools import CheckResult, ToolMissingError, first_lines, run_tool

ENVIRONMENT = "environment.yaml"
SCHEMA = "schemas/flavor_config.schema.json"
# The NaaVRE kernel contract (conda names, then pip names), by the flavor's languages.
PYTHON_PACKAGES = ("python", "pip", "ipykernel", "git", "jq", "minio")
PYTHON_PIP = ("secretsprovider",)
R_PACKAGES = (
    "r-base",
    "r-irkernel",
    "r-jsonlite",
    "r-optparse",
    "r-secretsprovider",
    "r-getpass",
    "r-aws.s3",
)
# conda's `r` metapackage pulls r-base in; the live flavors pin `r=4.4`.
SAME_PACKAGE = {"r": "r-base"}
SPEC_NAME = re.compile(r"^\s*(?:[\w.-]+::)?([A-Za-z0-9_.-]+)")
ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
SKIPPED_DIRS = {"node_modules", "__pycache__"}


@dataclass
class Flavor:
    """One flavor folder and what its ``flavor_config.yaml`` holds (``None`` when unreadable)."""

    folder: Path
    label: str  # its path as shown in results, e.g. flavors/vanilla
    config: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)  # rules broken that base_image_tags.py must reject
    schema_invalid: bool = False  # base_image_tags.py may reject it, or read it as it can

    @property
    def name(self) -> str:
        return self.folder.name


def run(repo: Path) -> list[CheckResult]:
    """Check the flavors repository or flavor folder ``repo``; no results if it holds no flavor."""
    return list(checks(repo))


def checks(repo: Path) -> Iterator[CheckResult]:
    """The results of ``run``, each as soon as its check finishes."""
    path = repo.resolve()
    single = (path / CONFIG).is_file()
    if single:
        root = find_flavors_repo(path)
        base = root or path.parent
        flavors = [_flavor(path, base)]
        everyone = flavors + [f for f in _all_flavors(root) if f.folder != path] if root else flavors
    else:
        root = path if (path / REPO_MARKER).is_file() else None
        base = path
        flavors = everyone = _all_flavors(path)
    if not flavors:
        return
    if root is None:
        where = f"{path} or above" if single else str(path)
        detail = f"no {REPO_MARKER} in {where}: not a flavors repository"
        yield CheckResult(f"{flavors[0].name}: repository {flavors[0].label}", False, detail)
    schema = _load_schema(root) if root else None
    for flavor in flavors:
        yield from _config_checks(flavor, root, schema)
    for flavor in flavors:
        if flavor.config is not None:
            yield _aliases(flavor, everyone)
    for flavor in flavors:
        yield from _environment_checks(flavor)
    if root is not None and not single:
        yield from _stray_folders(root)
    for flavor in flavors:
        yield from _overrides(flavor, root)
    for script in _shell_scripts(path):
        owner = next((f.name for f in flavors if script.is_relative_to(f.folder)), "")
        yield _shellcheck(base, script, owner)
    if root is not None and single:
        overridden = {p.name for p in path.glob("*.Dockerfile")}
        for default in sorted((root / "docker").glob("*.Dockerfile")):
            if default.name not in overridden:
                yield hadolint(root, default.relative_to(root).as_posix())
    if root is not None:
        yield base_image_tags(root, everyone)


def find_flavors_repo(path: Path) -> Path | None:
    """The flavors repository ``path`` is in: the nearest folder with ``naavre-flavors.yml``."""
    for folder in (path, *path.parents):
        if (folder / REPO_MARKER).is_file():
            return folder
    return None


def _flavor(folder: Path, base: Path) -> Flavor:
    flavor = Flavor(folder, folder.relative_to(base).as_posix())
    try:
        config = yaml.safe_load((folder / CONFIG).read_text())
    except (OSError, yaml.YAMLError) as error:
        flavor.problems.append(f"not valid YAML: {first_lines(str(error), 2, ' / ')}")
        return flavor
    if not isinstance(config, dict):
        flavor.problems.append(f"not a mapping but {type(config).__name__}")
        return flavor
    flavor.config = config
    if config.get("flavor_name") != flavor.name:
        flavor.problems.append(
            f"flavor_name is {config.get('flavor_name')!r}, not its folder {flavor.name!r}"
        )
    return flavor


def _all_flavors(root: Path) -> list[Flavor]:
    return [_flavor(config.parent, root) for config in sorted(root.glob(f"flavors/*/{CONFIG}"))]


def _jsonschema() -> Any:
    """jsonschema, a verify extra: imported when a flavor is checked, so that `new` never needs it."""
    try:
        import jsonschema
    except ImportError:
        raise ToolMissingError("jsonschema is not installed: pip install 'naavre-scaffold[verify]'") from None
    return jsonschema


def _load_schema(root: Path) -> dict[str, Any] | str:
    """The repository's flavor_config schema, or why it cannot be used."""
    jsonschema = _jsonschema()
    try:
        schema = json.loads((root / SCHEMA).read_text())
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except FileNotFoundError:
        return f"the repository has no {SCHEMA}"
    except (OSError, ValueError) as error:
        return f"{SCHEMA} is not JSON: {error}"
    except jsonschema.SchemaError as error:
        return f"{SCHEMA} is not a valid JSON schema: {error.message}"
    return schema


def _config_checks(
    flavor: Flavor, root: Path | None, schema: dict[str, Any] | str | None
) -> Iterator[CheckResult]:
    file = f"{flavor.label}/{CONFIG}"
    if flavor.config is None:
        yield CheckResult(f"{flavor.name}: yaml {file}", False, flavor.problems[0])
        return
    yield CheckResult(f"{flavor.name}: yaml {file}", True)
    if root is not None:
        yield _schema(flavor, file, schema)
    name = flavor.config.get("flavor_name")
    detail = "" if name == flavor.name else f"flavor_name is {name!r}, but the folder is {flavor.name!r}"
    yield CheckResult(f"{flavor.name}: flavor_name = folder {file}", not detail, detail)


def _schema(flavor: Flavor, file: str, schema: dict[str, Any] | str | None) -> CheckResult:
    name = f"{flavor.name}: schema {file}"
    if not isinstance(schema, dict):
        return CheckResult(name, False, f"{schema}: cannot validate {file}")
    validator = _jsonschema().validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(flavor.config), key=lambda e: list(e.absolute_path))
    lines = [f"{'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]
    flavor.schema_invalid = bool(lines)
    return CheckResult(name, not lines, first_lines("\n".join(lines)))


def _aliases(flavor: Flavor, everyone: list[Flavor]) -> CheckResult:
    """This flavor's aliases: each a key of base_image_tags.json no other flavor or alias takes."""
    file = f"{flavor.label}/{CONFIG}"
    name = f"{flavor.name}: aliases unique {file}"
    # A non-list is the schema check's finding; here it simply adds no key.
    aliases = flavor.config.get("aliases") if flavor.config else None
    aliases = aliases if isinstance(aliases, list) else []
    owners: dict[str, list[str]] = {}
    for other in everyone:
        owners.setdefault(other.name, []).append(f"flavor {other.label}")
        if other.folder != flavor.folder and other.config and isinstance(other.config.get("aliases"), list):
            for alias in other.config["aliases"]:
                owners.setdefault(str(alias), []).append(f"an alias of {other.label}")
    problems = []
    for alias in sorted({str(a) for a in aliases}):
        taken = [owner for owner in owners.get(alias, []) if owner != f"flavor {flavor.label}"]
        if alias == flavor.name:
            problems.append(f"alias {alias!r} is the flavor's own name")
        elif taken:
            problems.append(f"alias {alias!r} is also {', '.join(taken)}")
    repeated = sorted({str(a) for a in aliases if aliases.count(a) > 1})
    problems += [f"alias {alias!r} is listed twice" for alias in repeated]
    flavor.problems += problems
    return CheckResult(name, not problems, first_lines("\n".join(problems)))


def _environment_checks(flavor: Flavor) -> Iterator[CheckResult]:
    file = f"{flavor.label}/{ENVIRONMENT}"
    try:
        environment = yaml.safe_load((flavor.folder / ENVIRONMENT).read_text())
    except FileNotFoundError:
        yield CheckResult(f"{flavor.name}: yaml {file}", False, "missing")
        return
    except (OSError, yaml.YAMLError) as error:
        yield CheckResult(f"{flavor.name}: yaml {file}", False, first_lines(str(error), 2, " / "))
        return
    if not isinstance(environment, dict):
        yield CheckResult(
            f"{flavor.name}: yaml {file}", False, f"not a mapping but {type(environment).__name__}"
        )
        return
    yield CheckResult(f"{flavor.name}: yaml {file}", True)
    env_name = environment.get("name")
    detail = "" if env_name == flavor.name else f"name is {env_name!r}, not the flavor {flavor.name!r}"
    yield CheckResult(f"{flavor.name}: environment name {file}", not detail, detail)
    conda, pip = _dependencies(environment.get("dependencies"))
    languages = _languages(flavor, conda)
    wanted = list(PYTHON_PACKAGES) + (list(R_PACKAGES) if languages != "python" else [])
    missing = [package for package in wanted if package not in conda]
    missing += [f"pip: {package}" for package in PYTHON_PIP if package not in pip]
    detail = f"missing {', '.join(missing)}" if missing else ""
    yield CheckResult(f"{flavor.name}: kernel packages ({languages}) {file}", not missing, detail)


def _dependencies(dependencies: Any) -> tuple[set[str], set[str]]:
    """Package names of an environment's conda and pip dependencies, versions and channels dropped."""
    conda: set[str] = set()
    pip: set[str] = set()
    for entry in dependencies if isinstance(dependencies, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            pip |= {_spec_name(str(spec)).replace("_", "-") for spec in entry["pip"]}
        elif isinstance(entry, str):
            name = _spec_name(entry)
            conda.add(SAME_PACKAGE.get(name, name))
    return conda - {""}, pip - {""}


def _spec_name(spec: str) -> str:
    match = SPEC_NAME.match(spec)
    return match.group(1).lower() if match else ""


def _languages(flavor: Flavor, conda: set[str]) -> str:
    """python, r or both: the flavor's answer when it has one, else whether it lists R packages."""
    try:
        answers = yaml.safe_load((flavor.folder / ".copier-answers.yml").read_text())
    except (OSError, yaml.YAMLError):
        answers = None
    answer = answers.get("languages") if isinstance(answers, dict) else None
    if answer in ("python", "r", "both"):
        return answer
    return "both" if any(name.startswith("r-") for name in conda) else "python"


def _stray_folders(root: Path) -> Iterator[CheckResult]:
    """A folder in flavors/ without flavor_config.yaml is no flavor: nothing builds it."""
    for folder in sorted(p for p in (root / "flavors").iterdir() if p.is_dir()):
        if not (folder / CONFIG).is_file() and not folder.name.startswith("."):
            label = folder.relative_to(root).as_posix()
            yield CheckResult(f"{folder.name}: flavor folder {label}", False, f"no {CONFIG}: never built")


def _overrides(flavor: Flavor, root: Path | None) -> Iterator[CheckResult]:
    """Each ``<target>.Dockerfile`` replaces ``docker/<target>.Dockerfile`` and keeps its ARGs."""
    if root is None:
        return
    for override in sorted(flavor.folder.glob("*.Dockerfile")):
        file = f"{flavor.label}/{override.name}"
        default = root / "docker" / override.name
        if not default.is_file():
            targets = sorted(p.name for p in (root / "docker").glob("*.Dockerfile"))
            detail = (
                f"docker/{override.name} does not exist, so it is never built (targets: {', '.join(targets)})"
            )
            yield CheckResult(f"{flavor.name}: override target {file}", False, detail)
            continue
        # The build passes these (CONDA_ENV_FILE, ...) to whichever Dockerfile it uses.
        missing = sorted(set(ARG.findall(default.read_text())) - set(ARG.findall(override.read_text())))
        detail = f"does not declare ARG {', '.join(missing)} of docker/{override.name}" if missing else ""
        yield CheckResult(f"{flavor.name}: override ARGs {file}", not missing, detail)


def _shell_scripts(top: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIPPED_DIRS and (not d.startswith(".") or d == ".github")
        )
        found += [Path(folder) / name for name in sorted(files) if name.endswith(".sh")]
    return found


def _shellcheck(base: Path, script: Path, owner: str) -> CheckResult:
    file = script.relative_to(base).as_posix()
    # Run from the folder the labels are relative to, so findings name the same file.
    proc = run_tool(["shellcheck", "--format=gcc", "--color=never", file], cwd=base)
    name = f"{owner}: shellcheck {file}" if owner else f"shellcheck {file}"
    if proc.returncode == 0:
        return CheckResult(name, True)
    return CheckResult(name, False, first_lines(proc.stdout or proc.stderr))

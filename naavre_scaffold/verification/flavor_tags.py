"""The flavor check's run of a flavors repository's scripts/base_image_tags.py.

The script's map is compared with the one the flavor configs imply, in the
containerizer's shape; a config the script must reject has to make it fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from naavre_scaffold.verification.tools import CheckResult, first_lines

if TYPE_CHECKING:
    from naavre_scaffold.verification.flavor import Flavor

REPO_MARKER = "naavre-flavors.yml"
CONFIG = "flavor_config.yaml"
TAGS_SCRIPT = "scripts/base_image_tags.py"
CHECK_TAG = "v0.0.0"


def base_image_tags(root: Path, flavors: list[Flavor]) -> CheckResult:
    """Run scripts/base_image_tags.py on the whole repo and compare its map with the configs."""
    name = f"base_image_tags {TAGS_SCRIPT}"
    if not (root / TAGS_SCRIPT).is_file():
        return CheckResult(name, False, "missing: the release cannot attach base_image_tags.json")
    try:
        images = yaml.safe_load((root / REPO_MARKER).read_text())
        registry, prefix = images["registry"], images.get("image_prefix") or ""
    except (OSError, yaml.YAMLError, TypeError, KeyError) as error:
        return CheckResult(name, False, f"{REPO_MARKER} has no readable registry: {error}")
    try:
        proc = subprocess.run(
            [sys.executable, TAGS_SCRIPT, "--tag", CHECK_TAG],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CheckResult(name, False, "did not finish within 120 s")
    broken = [f"{f.label}/{CONFIG}: {problem}" for f in flavors for problem in f.problems]
    rejected = proc.returncode != 0 and not proc.stdout.strip()
    if rejected and any(f.schema_invalid for f in flavors):
        return CheckResult(f"{name} rejects broken configs", True)
    if broken:
        if proc.returncode != 0 and not proc.stdout.strip():
            return CheckResult(f"{name} rejects broken configs", True)
        return CheckResult(
            f"{name} rejects broken configs", False, f"exit {proc.returncode} and output despite {broken[0]}"
        )
    if proc.returncode != 0:
        return CheckResult(
            name, False, f"exit {proc.returncode}: {first_lines(proc.stderr or proc.stdout, 3)}"
        )
    try:
        printed = json.loads(proc.stdout)
    except json.JSONDecodeError as error:
        return CheckResult(name, False, f"not JSON: {error}: {first_lines(proc.stdout, 2, ' / ')}")
    problems = _tags_problems(printed, _expected_tags(flavors, f"{registry}/{prefix}"))
    return CheckResult(name, not problems, first_lines("\n".join(problems)))


def _expected_tags(flavors: list[Flavor], image_base: str) -> dict[str, dict[str, str]]:
    expected: dict[str, dict[str, str]] = {}
    for flavor in flavors:
        if not flavor.config or flavor.config.get("build_cell_base") is not True:
            continue
        images = {role: f"{image_base}{flavor.name}-cell-{role}:{CHECK_TAG}" for role in ("build", "runtime")}
        for key in [flavor.name, *(flavor.config.get("aliases") or [])]:
            expected[str(key)] = images
    return expected


def _tags_problems(printed: Any, expected: dict[str, dict[str, str]]) -> list[str]:
    if not isinstance(printed, dict):
        return [f"prints a JSON {type(printed).__name__}, not one object of flavors and aliases"]
    problems = [f"flavor or alias {key!r}: missing" for key in sorted(set(expected) - set(printed))]
    problems += [
        f"key {key!r}: no flavor with build_cell_base: true has this name or alias"
        for key in sorted(set(printed) - set(expected))
    ]
    for key in sorted(set(printed) & set(expected)):
        if printed[key] != expected[key]:
            problems.append(
                f"flavor or alias {key!r}: {json.dumps(printed[key])}, expected {json.dumps(expected[key])}"
            )
    return problems

"""GitHub checks: actionlint (with shellcheck), zizmor and the vendored JSON schemas.

Covers ``.github/workflows/*.yml|*.yaml`` and ``.github/dependabot.yml``. actionlint
and check-jsonschema give one result per file; zizmor gives one result for all of
them, since it audits the repository's workflows and dependabot.yml together.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from naavre_scaffold.verification.tools import CheckResult, find_tool, first_lines, run_tool

# zizmor exits with 10 + the worst severity it reported (10 unknown ... 14 high).
ZIZMOR_FINDINGS = range(10, 15)
ZIZMOR_NO_INPUTS = 3
# --strict-collection: a workflow zizmor cannot parse would otherwise be skipped
# with a warning, and the run would pass.
ZIZMOR_OPTIONS = (
    *("--offline", "--quiet", "--no-progress", "--color", "never", "--strict-collection"),
    *("--min-severity", "medium", "--format", "json-v1"),
)
SCHEMA_OPTIONS = ("--color", "never", "--output-format", "json")


def run(repo: Path) -> list[CheckResult]:
    """Lint, audit and schema-check the workflows and dependabot.yml under ``repo``."""
    return list(checks(repo))


def checks(repo: Path) -> Iterator[CheckResult]:
    """The results of ``run``, each as soon as its tool finishes."""
    github = repo / ".github"
    workflows = [
        path.relative_to(repo).as_posix()
        for path in sorted((github / "workflows").glob("*"))
        if path.suffix in {".yml", ".yaml"} and path.is_file()
    ]
    dependabot = [
        path.relative_to(repo).as_posix()
        for path in (github / "dependabot.yml", github / "dependabot.yaml")
        if path.is_file()
    ]
    if workflows:
        yield from _actionlint(repo, workflows)
    if workflows or dependabot:
        yield _zizmor(repo, workflows, dependabot)
    if workflows:
        yield from _schema(repo, workflows, "vendor.github-workflows")
    if dependabot:
        yield from _schema(repo, dependabot, "vendor.dependabot")


def _actionlint(repo: Path, workflows: list[str]) -> list[CheckResult]:
    # actionlint resolves local reusable workflows (`uses: ./.github/...`) and reads
    # .github/actionlint.yaml only inside a git project, and a fresh render has no
    # .git yet: lint a copy of .github beside an empty .git instead.
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copytree(repo / ".github", project / ".github", symlinks=True)
        (project / ".git").mkdir()
        # Named explicitly: without shellcheck, actionlint silently skips `run:` blocks.
        shellcheck = ["-shellcheck", find_tool("shellcheck")]
        proc = run_tool(
            ["actionlint", "-no-color", "-format", "{{json .}}", *shellcheck, *workflows],
            cwd=project,
        )
    if proc.returncode not in (0, 1):
        return _all_failed("actionlint", workflows, first_lines(proc.stderr or proc.stdout))
    by_file: dict[str, list[str]] = {}
    for error in json.loads(proc.stdout or "[]"):
        by_file.setdefault(error["filepath"], []).append(
            f"{error['filepath']}:{error['line']}:{error['column']}: {error['message']} [{error['kind']}]"
        )
    return _per_file("actionlint", workflows, by_file)


def _zizmor(repo: Path, workflows: list[str], dependabot: list[str]) -> CheckResult:
    inputs = [".github/workflows"] if workflows else []
    proc = run_tool(
        ["zizmor", *ZIZMOR_OPTIONS, *inputs, *dependabot],
        cwd=repo,
    )
    name = "zizmor " + " ".join(inputs + dependabot)
    if proc.returncode == 0:
        return CheckResult(name, True)
    if proc.returncode in ZIZMOR_FINDINGS:
        findings = [_zizmor_finding(f) for f in json.loads(proc.stdout) if not f["ignored"]]
        return CheckResult(name, False, first_lines("\n".join(findings)))
    if proc.returncode == ZIZMOR_NO_INPUTS:
        return CheckResult(name, False, "zizmor collected no inputs to audit")
    # Fatal (1) or usage error (2): keep zizmor's message, drop its Rust backtrace.
    message = proc.stderr.split("Stack backtrace:")[0]
    return CheckResult(name, False, first_lines(message))


def _zizmor_finding(finding: dict[str, Any]) -> str:
    primary = next(loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary")
    path = primary["symbolic"]["key"]["Local"]["verbatim_path"]
    line = primary["concrete"]["location"]["start_point"]["row"] + 1
    severity = finding["determinations"]["severity"].lower()
    return (
        f"{path}:{line}: {finding['ident']} ({severity}): {finding['desc']}: "
        f"{primary['symbolic']['annotation']}"
    )


def _schema(repo: Path, files: list[str], schema: str) -> list[CheckResult]:
    proc = run_tool(
        ["check-jsonschema", *SCHEMA_OPTIONS, "--builtin-schema", schema, *files],
        cwd=repo,
    )
    tool = f"check-jsonschema {schema}"
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return _all_failed(tool, files, first_lines(proc.stderr or proc.stdout))
    by_file: dict[str, list[str]] = {}
    for error in report.get("errors", []):
        # For a oneOf/anyOf failure, the deepest match names the offending key.
        match = error.get("best_deep_match") or error.get("best_match") or error
        by_file.setdefault(error["filename"], []).append(
            f"{error['filename']}: {match['path']}: {match['message']}"
        )
    for error in report.get("parse_errors", []):
        by_file.setdefault(error["filename"], []).append(error["message"])
    if proc.returncode != 0 and not by_file:
        return _all_failed(tool, files, first_lines(proc.stderr or proc.stdout))
    return _per_file(tool, files, by_file)


def _per_file(tool: str, files: list[str], problems: dict[str, list[str]]) -> list[CheckResult]:
    return [
        # dict.fromkeys: schema errors under anyOf branches repeat the same message.
        CheckResult(
            f"{tool} {file}",
            file not in problems,
            first_lines("\n".join(dict.fromkeys(problems.get(file, [])))),
        )
        for file in files
    ]


def _all_failed(tool: str, files: list[str], detail: str) -> list[CheckResult]:
    return [CheckResult(f"{tool} {file}", False, detail) for file in files]

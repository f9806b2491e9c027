"""GitHub checks: actionlint (with shellcheck), zizmor and the vendored JSON schemas.

Covers ``.github/workflows/*.yml|*.yaml`` and ``.github/dependabot.yml``. actionlint
and check-jsonschema give one result per file; zizmor gives one result for all of
them, since it audits the repository's workflows and dependabot.yml together.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from naavre_scaffold.verification.tools import CheckResult, find_tool, first_lines, run_tool, tool_env

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
SCHEMA_BATCH = Path(__file__).with_name("schema_batch.py")


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
    tools: list[Callable[[], list[CheckResult]]] = []
    if workflows:
        tools.append(lambda: _actionlint(repo, workflows))
    if workflows or dependabot:
        tools.append(lambda: [_zizmor(repo, workflows, dependabot)])
    # check-jsonschema's vendored schema for each kind of file, with the files of that kind.
    kinds = [("vendor.github-workflows", workflows), ("vendor.dependabot", dependabot)]
    schemas = [(schema, files) for schema, files in kinds if files]
    if schemas:
        tools.append(lambda: _schemas(repo, schemas))
    if not tools:
        return
    # The tools are separate processes that read the same files: all start at once
    # (check-jsonschema alone takes a second to start), their results come in this order.
    with ThreadPoolExecutor(max_workers=len(tools), thread_name_prefix="workflows") as pool:
        for running in [pool.submit(tool) for tool in tools]:
            yield from running.result()


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


def _schemas(repo: Path, schemas: list[tuple[str, list[str]]]) -> list[CheckResult]:
    """check-jsonschema on each (schema, files), in one process where its interpreter is known."""
    runs = [[*SCHEMA_OPTIONS, "--builtin-schema", schema, *files] for schema, files in schemas]
    python = _interpreter(find_tool("check-jsonschema"))
    if python is None:  # not a Python script (a shim): one run per schema
        return [
            result
            for (schema, files), args in zip(schemas, runs, strict=True)
            for result in _schema(repo, schema, files, args)
        ]
    proc = subprocess.run(
        [python, str(SCHEMA_BATCH), json.dumps(runs)],
        cwd=repo,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        printed = json.loads(proc.stdout.splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        detail = first_lines(proc.stderr or proc.stdout)
        return [
            r for schema, files in schemas for r in _all_failed(f"check-jsonschema {schema}", files, detail)
        ]
    return [
        result
        for (schema, files), (code, stdout) in zip(schemas, printed, strict=True)
        for result in _schema_results(schema, files, code, stdout, "")
    ]


def _interpreter(script: str) -> str | None:
    """The Python a console script runs with, from its ``#!`` line; None if it is no Python script."""
    try:
        with open(script, "rb") as file:
            first = file.readline(512).decode(errors="replace")
    except OSError:
        return None
    words = first[2:].split() if first.startswith("#!") else []
    if len(words) == 1 and "python" in Path(words[0]).name and os.access(words[0], os.X_OK):
        return words[0]
    return None


def _schema(repo: Path, schema: str, files: list[str], args: list[str]) -> list[CheckResult]:
    proc = run_tool(["check-jsonschema", *args], cwd=repo)
    return _schema_results(schema, files, proc.returncode, proc.stdout, proc.stderr)


def _schema_results(schema: str, files: list[str], code: int, stdout: str, stderr: str) -> list[CheckResult]:
    """One result per file, from check-jsonschema's JSON report."""
    tool = f"check-jsonschema {schema}"
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        return _all_failed(tool, files, first_lines(stderr or stdout))
    by_file: dict[str, list[str]] = {}
    for error in report.get("errors", []):
        # For a oneOf/anyOf failure, the deepest match names the offending key.
        match = error.get("best_deep_match") or error.get("best_match") or error
        by_file.setdefault(error["filename"], []).append(
            f"{error['filename']}: {match['path']}: {match['message']}"
        )
    for error in report.get("parse_errors", []):
        by_file.setdefault(error["filename"], []).append(error["message"])
    if code != 0 and not by_file:
        return _all_failed(tool, files, first_lines(stderr or stdout))
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

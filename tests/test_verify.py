"""``naavre-scaffold verify`` names the failing check and exits non-zero."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from naavre_scaffold.cli import main
from naavre_scaffold.errors import ToolMissingError
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification import workflows
from naavre_scaffold.verification.run import CHECKS, SIDE_BY_SIDE, verify
from naavre_scaffold.verification.tools import CheckResult
from tests.helpers import render_with_copie

ROOT = Path(__file__).resolve().parent.parent

SKIP_SLOW = ["--skip", "python"]


@pytest.fixture(scope="module")
def clean_render(copie_session, template_git: TemplateSource) -> Path:
    return render_with_copie(copie_session, template_git, {"template": "service", "name": "broken"})


@pytest.fixture
def render(clean_render: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(clean_render, copy)
    return copy


def _lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_clean_render_passes(render: Path, capsys) -> None:
    assert main(["verify", str(render), *SKIP_SLOW]) == 0
    lines = _lines(capsys)
    assert lines[-1].endswith(" passed, 0 failed")
    assert all(line.startswith("PASS  ") for line in lines[:-1])


def test_chart_template_error_fails_lint_and_render(render: Path, capsys) -> None:
    service = render / "helm/naavre-broken-service/templates/service.yaml"
    service.write_text(service.read_text().replace("type:", "type: {{ nosuchfunction }}", 1))
    assert main(["verify", str(render), *SKIP_SLOW]) == 1
    failed = [line for line in _lines(capsys) if line.startswith("FAIL")]
    assert any(
        line.startswith("FAIL  helm lint helm/naavre-broken-service: ") and "nosuchfunction" in line
        for line in failed
    ), failed
    assert not any("hadolint" in line or "actionlint" in line for line in failed)


def test_misindented_resources_fail_kubernetes_validate(render: Path, capsys) -> None:
    # Lint and render accept this; only strict schema validation sees `limits` in the wrong place.
    deployment = render / "helm/naavre-broken-service/templates/deployment.yaml"
    lines = deployment.read_text().splitlines()
    block = lines.index("          resources:") + 1
    assert "nindent 12" in lines[block]
    lines[block] = lines[block].replace("nindent 12", "nindent 10")
    deployment.write_text("\n".join(lines) + "\n")
    assert main(["verify", str(render), *SKIP_SLOW]) == 1
    failed = [line for line in _lines(capsys) if line.startswith("FAIL")]
    assert failed, "a mis-indented resources block passed every check"
    assert all(line.startswith("FAIL  kubernetes-validate helm/naavre-broken-service") for line in failed)
    assert "Additional properties are not allowed" in failed[0]


def test_dockerfile_hadolint_error_fails(render: Path, capsys) -> None:
    dockerfile = render / "docker/Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN apt-get update && apt-get install curl\n")
    assert main(["verify", str(render), *SKIP_SLOW]) == 1
    failed = [line for line in _lines(capsys) if line.startswith("FAIL")]
    assert len(failed) == 1
    assert failed[0].startswith("FAIL  hadolint docker/Dockerfile: ")
    assert "DL3008" in failed[0]


def test_workflow_injection_fails(render: Path, capsys) -> None:
    release = render / ".github/workflows/release.yml"
    text = release.read_text()
    release.write_text(text.replace("run: |", "run: |\n          echo ${{ github.event.release.name }}", 1))
    assert main(["verify", str(render), *SKIP_SLOW]) == 1
    failed = [line for line in _lines(capsys) if line.startswith("FAIL")]
    assert any(line.startswith("FAIL  zizmor") and "template-injection" in line for line in failed), failed


def test_python_test_failure_fails(render: Path, capsys) -> None:
    health = render / "app/routes/health.py"
    health.write_text(health.read_text().replace('@router.get("/health")', '@router.get("/healthz")'))
    assert main(["verify", str(render), "--skip", "helm", "--skip", "workflows"]) == 1
    failed = [line for line in _lines(capsys) if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("FAIL  pytest"), failed
    assert "failed" in failed[0]


def test_nothing_to_verify_is_one_failure(tmp_path: Path, capsys) -> None:
    report = tmp_path / "report.json"
    assert main(["verify", str(tmp_path), "--json", str(report)]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("FAIL  nothing to verify")
    assert lines[-1] == "0 passed, 1 failed"  # the FAIL above, counted
    assert json.loads(report.read_text())["counts"] == {"passed": 0, "failed": 1}


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert "path: " in capsys.readouterr().err


def test_each_result_is_reported_as_its_check_finishes(render: Path) -> None:
    events: list[tuple[str, str]] = []
    results = verify(
        render,
        skip=["python"],
        on_start=lambda kind: events.append(("start", kind)),
        on_result=lambda result: events.append(("result", result.kind)),
        on_finish=lambda kind: events.append(("finish", kind)),
    )
    reported = [e for e in events if e[0] == "result"]
    assert sorted(reported) == sorted(("result", r.kind) for r in results)
    # Each kind's results arrive between its start and its finish, not all at the end.
    for kind in ("helm", "dockerfile", "workflows"):
        first_result = events.index(("result", kind))
        assert events.index(("start", kind)) < first_result < events.index(("finish", kind))
    # jupyterlab and flavor run too, and find nothing in a service; the list is in CHECKS order.
    assert {kind for what, kind in events if what == "finish"} == {*CHECKS} - {"python"}
    assert [r.kind for r in results] == sorted((r.kind for r in results), key=list(CHECKS).index)
    assert {r.kind for r in results} == {"helm", "dockerfile", "workflows"}


def test_the_short_checks_run_side_by_side(tmp_path: Path, monkeypatch) -> None:
    """helm, dockerfile and workflows at the same time: each waits here until all three have started."""
    started = threading.Barrier(len(SIDE_BY_SIDE), timeout=30)

    def waiting(kind: str):
        def checks(repo: Path):
            started.wait()  # raises BrokenBarrierError if the kinds ran one after another
            yield CheckResult(f"{kind} check", True)

        return checks

    for kind in SIDE_BY_SIDE:
        monkeypatch.setitem(CHECKS, kind, waiting(kind))
    results = verify(tmp_path, skip=[k for k in CHECKS if k not in SIDE_BY_SIDE])
    assert [r.name for r in results] == [f"{kind} check" for kind in CHECKS if kind in SIDE_BY_SIDE]


def test_a_missing_tool_in_a_side_by_side_check_stops_verify(tmp_path: Path, monkeypatch) -> None:
    def missing(repo: Path):
        raise ToolMissingError("hadolint is not installed")
        yield  # a generator, as the checks are

    monkeypatch.setitem(CHECKS, "dockerfile", missing)
    with pytest.raises(ToolMissingError, match="hadolint"):
        verify(tmp_path, skip=["python", "jupyterlab"])


def test_cli_prints_each_line_as_its_check_finishes(render: Path, capsys, monkeypatch) -> None:
    """A line is out while a slower check still runs: jupyterlab, here, waits until it sees hadolint's."""
    seen: list[str] = []

    def slow_checks(repo: Path):
        deadline = time.monotonic() + 30
        while not any("hadolint" in out for out in seen) and time.monotonic() < deadline:
            seen.append(capsys.readouterr().out)
            time.sleep(0.05)
        yield CheckResult("slow check", True)

    monkeypatch.setitem(CHECKS, "jupyterlab", slow_checks)
    assert main(["verify", str(render), *SKIP_SLOW]) == 0
    printed = "".join(seen) + capsys.readouterr().out
    assert "PASS  hadolint docker/Dockerfile\n" in "".join(seen)  # before the slow check ended
    assert "PASS  helm lint helm/naavre-broken-service\n" in printed
    assert printed.index("PASS  hadolint") < printed.index("PASS  slow check")


def _break_dockerfile(render: Path) -> None:
    dockerfile = render / "docker/Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN apt-get update && apt-get install curl\n")


def test_quiet_prints_only_failures_and_the_summary(render: Path, capsys) -> None:
    _break_dockerfile(render)
    assert main(["verify", str(render), *SKIP_SLOW, "--quiet"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("FAIL  hadolint docker/Dockerfile: ")
    assert not any(line.startswith("PASS") for line in lines)
    assert re.fullmatch(r"\d+ passed, 1 failed", lines[-1]), lines[-1]
    assert captured.err == ""


def test_json_on_stdout_holds_only_the_report(render: Path, capsys) -> None:
    _break_dockerfile(render)
    assert main(["verify", str(render), *SKIP_SLOW, "--json", "-"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # the human lines went to stderr
    assert report["schema"] == "naavre-scaffold/verify"
    assert report["schema_version"] == 1
    assert report["path"] == str(render)
    checks = report["checks"]
    assert {check["kind"] for check in checks} == {"helm", "dockerfile", "workflows"}
    [failed] = [check for check in checks if not check["ok"]]
    assert (failed["kind"], failed["name"]) == ("dockerfile", "hadolint docker/Dockerfile")
    assert "DL3008" in failed["detail"]
    assert report["counts"] == {"passed": len(checks) - 1, "failed": 1}
    assert f"FAIL  hadolint docker/Dockerfile: {failed['detail']}" in captured.err
    assert captured.err.splitlines()[-1] == f"{len(checks) - 1} passed, 1 failed"


def test_json_file(render: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "verify.json"
    assert main(["verify", str(render), "--skip", "helm", "--skip", "python", "--json", str(target)]) == 0
    lines = _lines(capsys)
    report = json.loads(target.read_text())
    assert [check["name"] for check in report["checks"]] == [line[len("PASS  ") :] for line in lines[:-1]]
    assert report["counts"] == {"passed": len(lines) - 1, "failed": 0}


def test_missing_check_tool_is_exit_3(render: Path, tmp_path: Path) -> None:
    # A Python with this project importable but whose scripts folder has no hadolint,
    # and a PATH without this venv: hadolint is really not installed there.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "naavre.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{ROOT}\n")
    only_hadolint = ["--skip", "helm", "--skip", "workflows", "--skip", "python"]
    done = subprocess.run(
        [venv / "bin/python", "-m", "naavre_scaffold", "verify", str(render), *only_hadolint],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr == (
        "naavre-scaffold verify: error: hadolint is not installed: pip install 'naavre-scaffold[verify]'\n"
    )


def _break_schemas(repo: Path) -> None:
    """A dependabot.yml and a workflow that parse as YAML but break check-jsonschema's schemas."""
    dependabot = repo / ".github/dependabot.yml"
    dependabot.write_text(dependabot.read_text().replace("interval: weekly", "interval: fortnightly", 1))
    ci = repo / ".github/workflows/ci.yml"
    ci.write_text(ci.read_text().replace("runs-on:", "runs_on:", 1))


@pytest.mark.parametrize("one_process", [True, False], ids=["one process", "one per schema"])
def test_schema_findings_are_reported_per_file(render: Path, monkeypatch, one_process: bool) -> None:
    """check-jsonschema runs once for both schemas; a tool that is no Python script, once per schema."""
    _break_schemas(render)
    if not one_process:
        monkeypatch.setattr(workflows, "_interpreter", lambda script: None)
    results = {r.name: r for r in verify(render, skip=[k for k in CHECKS if k != "workflows"])}
    dependabot = results["check-jsonschema vendor.dependabot .github/dependabot.yml"]
    ci = results["check-jsonschema vendor.github-workflows .github/workflows/ci.yml"]
    release = results["check-jsonschema vendor.github-workflows .github/workflows/release.yml"]
    assert not dependabot.ok and "fortnightly" in dependabot.detail
    assert not ci.ok and "'runs-on' is a required property" in ci.detail
    assert release.ok, release.detail

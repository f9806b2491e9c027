"""``naavre-scaffold verify`` names the failing check and exits non-zero."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from naavre_scaffold.cli import main

SKIP_SLOW = ["--skip", "python"]


@pytest.fixture(scope="module")
def clean_render(copie_session) -> Path:
    result = copie_session.copy(extra_answers={"template": "service", "name": "broken"})
    assert result.exit_code == 0, result.exception
    return result.project_dir


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


def test_nothing_to_verify(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path)]) == 1
    assert "nothing to verify" in capsys.readouterr().out


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert "path: " in capsys.readouterr().err

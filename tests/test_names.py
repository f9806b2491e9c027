"""Names and numbers agree across the files of a rendered service."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conftest import SERVICE_RENDERS


def _answers(render: Path) -> dict:
    recorded = yaml.safe_load((render / ".copier-answers.yml").read_text())
    name = recorded["name"]
    slug = f"naavre-{name}-service"
    return recorded | {
        "slug": slug,
        "image": f"{recorded['registry']}/{slug}",
        "base_path": f"/{slug}",
    }


def test_answers_reach_the_render(service_render: Path) -> None:
    recorded = yaml.safe_load((service_render / ".copier-answers.yml").read_text())
    expected = next(r for r in SERVICE_RENDERS.values() if r["name"] == recorded["name"])
    for key, value in expected.items():
        assert recorded[key] == value


def test_port_agrees(service_render: Path) -> None:
    port = _answers(service_render)["port"]
    dockerfile = (service_render / "docker/Dockerfile").read_text()
    assert re.search(rf"^EXPOSE {port}$", dockerfile, re.M)
    assert re.search(rf'"--port",\s*"{port}"', dockerfile)
    assert f"{port}/health" in dockerfile  # the HEALTHCHECK calls the same port
    chart = service_render / "helm" / _answers(service_render)["slug"]
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert values["service"]["port"] == port
    other_ports = {"8000", "9090"} - {str(port)}
    for path in [
        *chart.rglob("*"),
        service_render / "docker/Dockerfile",
        service_render / "README.md",
    ]:
        if path.is_file():
            for other in other_ports:
                assert other not in path.read_text(), f"{path} mentions port {other}"


def test_image_and_chart_names_agree(service_render: Path) -> None:
    answers = _answers(service_render)
    chart_dir = service_render / "helm" / answers["slug"]
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    assert chart["name"] == answers["slug"]
    assert (chart["version"], chart["appVersion"]) == ("0.0.0-dev", "0.0.0-dev")
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    assert values["image"]["repository"] == answers["image"]
    release = (service_render / ".github/workflows/release.yml").read_text()
    assert answers["image"] in release
    assert f"helm/{answers['slug']}" in release
    assert f"oci://{answers['registry']}/charts" in release
    readme = (service_render / "README.md").read_text()
    assert f"oci://{answers['registry']}/charts/{answers['slug']}" in readme
    assert list((service_render / "helm").iterdir()) == [chart_dir]


def test_probes_and_base_path_agree(service_render: Path) -> None:
    answers = _answers(service_render)
    chart_dir = service_render / "helm" / answers["slug"]
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    for probe in ("livenessProbe", "readinessProbe"):
        assert values[probe]["httpGet"]["path"] == "/health"
    assert '"/health"' in (service_render / "app/routes/health.py").read_text()
    example = yaml.safe_load((chart_dir / "values-example.yaml").read_text())
    assert example["conf"]["rootPath"] == answers["base_path"]
    paths = [p["path"] for host in example["ingress"]["hosts"] for p in host["paths"]]
    assert paths == [f"{answers['base_path']}/"]
    assert (service_render / ".python-version").read_text().strip() == answers["python_version"]
    assert (
        f"FROM python:{answers['python_version']}-slim" in (service_render / "docker/Dockerfile").read_text()
    )

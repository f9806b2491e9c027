"""Helm chart checks: strict lint, render with three values sets, strict Kubernetes schemas.

helm-python-sdk runs Helm's own Go SDK in process (no helm binary). Rendering alone
proves little: a mis-indented block renders fine and Kubernetes silently drops the
unknown field. So every rendered object is also validated by kubernetes-validate
against the strict schemas of the newest Kubernetes it ships, where unknown fields
are errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from naavre_scaffold.registration.naavre_helm import EXAMPLE_DOMAIN, service_values
from naavre_scaffold.verification.tools import CheckResult, ToolMissingError, first_lines

RELEASE = "naavre"
NAMESPACE = "naavre"
EXAMPLE_VALUES = "values-example.yaml"
SHOWN_ERRORS = 3
# Never charts, and walking them is slow.
SKIPPED_FOLDERS = {"node_modules"}


def run(repo: Path) -> list[CheckResult]:
    """Lint, render and validate every chart under ``repo``."""
    return list(checks(repo))


def checks(repo: Path) -> Iterator[CheckResult]:
    """The results of ``run``, each as soon as its check finishes."""
    charts = find_charts(repo)
    if not charts:
        return
    helm, kube = _import_tools()
    kube_version = kube.latest_version()
    for chart in charts:
        label = chart.relative_to(repo).as_posix()
        yield _lint(helm, chart, label, kube_version)
        for values_label, load_values in _values_sets(helm, chart):
            yield from _render_and_validate(
                helm, kube, chart, f"{label} ({values_label})", load_values, kube_version
            )


def find_charts(repo: Path) -> list[Path]:
    """Chart folders under ``repo``, skipping hidden folders and a chart's own ``charts/``."""
    charts: list[Path] = []
    for folder, subfolders, files in os.walk(repo):
        is_chart = "Chart.yaml" in files
        if is_chart:
            charts.append(Path(folder))
        # Subcharts in charts/ are checked as part of their parent, by Helm itself.
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".")
            and name not in SKIPPED_FOLDERS
            and not (is_chart and name == "charts")
        )
    return charts


def umbrella_values(chart_name: str) -> dict[str, Any]:
    """Values of a chart deployed by NaaVRE-helm: the umbrella's block for it, plus ``global``.

    Helm hands the umbrella's ``global`` to every subchart, so the chart's schema must
    accept it; its content here is a sample of NaaVRE-helm's own.
    """
    values = service_values(chart_name)
    values["global"] = {
        "ingress": {"domain": EXAMPLE_DOMAIN, "commonAnnotations": {}, "tls": {"enabled": True}},
        "externalServices": {"keycloak": {"useExternal": False}},
        "vlabs": {"test-virtual-lab-1": {"enabled": True}},
    }
    return values


def validate_manifests(kube: ModuleType, manifests: dict[str, str], kube_version: str) -> list[str]:
    """Problems of rendered manifests (template path -> YAML) under the strict schemas."""
    problems: list[str] = []
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            continue
        try:
            documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        except yaml.YAMLError as error:
            problems.append(f"{template}: not valid YAML: {first_lines(str(error), 1, ' / ')}")
            continue
        for document in documents:
            problem = _validate_object(kube, document, kube_version)
            if problem:
                problems.append(f"{template}: {problem}")
    return problems


def _validate_object(kube: ModuleType, document: Any, kube_version: str) -> str:
    if not isinstance(document, dict) or "apiVersion" not in document or "kind" not in document:
        return "not a Kubernetes object (no apiVersion and kind)"
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    what = f"{document['kind']} {name}"
    try:
        kube.validate(document, kube_version, strict=True)
    except kube.ValidationError as error:
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        return f"{what}: {where}: {error.message}"
    # An unknown kind or removed apiVersion is a failure: the cluster would reject it.
    except kube.SchemaNotFoundError as error:
        return f"{what}: {error.message}"
    return ""


def _lint(helm: ModuleType, chart: Path, label: str, kube_version: str) -> CheckResult:
    name = f"helm lint {label}"
    try:
        report = helm.lint(chart, strict=True, kube_version=f"v{kube_version}")
    except helm.HelmError as error:
        return CheckResult(name, False, first_lines(str(error), 3, " / "))
    errors = report.get("errors") or []
    # The messages say which file each finding is about; strict lint fails on warnings too.
    findings = [
        f"{message['path']}: {message['error']}"
        for message in report.get("messages") or []
        if message.get("severity", 0) >= 2
    ]
    return CheckResult(name, not errors, _summary(findings or [str(error) for error in errors]))


def _render_and_validate(
    helm: ModuleType,
    kube: ModuleType,
    chart: Path,
    label: str,
    load_values: Callable[[], dict[str, Any] | None],
    kube_version: str,
) -> Iterator[CheckResult]:
    try:
        values = load_values()
        with helm.Chart.load(chart) as loaded:
            manifests = loaded.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    except (helm.HelmError, OSError) as error:
        yield CheckResult(f"helm render {label}", False, first_lines(str(error), 3, " / "))
        return
    yield CheckResult(f"helm render {label}", True)
    problems = validate_manifests(kube, manifests, kube_version)
    yield CheckResult(f"kubernetes-validate {label}", not problems, _summary(problems))


def _values_sets(helm: ModuleType, chart: Path) -> list[tuple[str, Callable[[], dict[str, Any] | None]]]:
    """(label, loader) pairs; a loader that fails is reported as a failed render."""
    example = chart / EXAMPLE_VALUES
    chart_name = _chart_name(chart)
    sets: list[tuple[str, Callable[[], dict[str, Any] | None]]] = [("default values", lambda: None)]
    if example.is_file():
        # Helm's own YAML parser, so the file means what it means to `helm -f`.
        sets.append((EXAMPLE_VALUES, lambda: helm.values_from_yaml(example.read_text(encoding="utf-8"))))
    sets.append(("NaaVRE-helm values", lambda: umbrella_values(chart_name)))
    return sets


def _chart_name(chart: Path) -> str:
    """The name in Chart.yaml, or the folder name when Chart.yaml is unreadable (lint says why)."""
    try:
        metadata = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        metadata = None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return str(name) if name else chart.name


def _import_tools() -> tuple[ModuleType, ModuleType]:
    """helm_python and kubernetes_validate.utils, imported only when a chart is checked."""
    try:
        import helm_python
    except ImportError as error:
        raise ToolMissingError(
            "helm-python-sdk is not installed: pip install 'naavre-scaffold[verify]'"
        ) from error
    try:
        import kubernetes_validate.utils as kube
    except ImportError as error:
        raise ToolMissingError(
            "kubernetes-validate is not installed: pip install 'naavre-scaffold[verify]'"
        ) from error
    return helm_python, kube


def _summary(problems: list[str]) -> str:
    shown = "; ".join(first_lines(problem, 3, " / ") for problem in problems[:SHOWN_ERRORS])
    hidden = len(problems) - SHOWN_ERRORS
    return f"{shown} (and {hidden} more)" if hidden > 0 else shown

"""Every render of the matrix passes every check that ``verify`` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from naavre_scaffold.templates import TEMPLATES
from naavre_scaffold.verification.run import CHECKS, verify

# The checks each service render must run: a missing one means a check silently found nothing.
EXPECTED_CHECKS = {
    "helm": ["helm lint", "kubernetes-validate"],
    "dockerfile": ["hadolint docker/Dockerfile"],
    "workflows": ["actionlint", "zizmor", "check-jsonschema"],
    "python": ["uv sync --locked", "pytest"],
}


def test_every_expected_check_kind_is_listed() -> None:
    assert set(EXPECTED_CHECKS) == TEMPLATES["service"].expected_checks


@pytest.mark.parametrize("kind", sorted(TEMPLATES["service"].expected_checks))
def test_service_render_passes_checks(service_render: Path, kind: str) -> None:
    others = [k for k in CHECKS if k != kind]
    results = verify(service_render, skip=others)
    failures = [f"{r.name}: {r.detail}" for r in results if not r.ok]
    assert failures == []
    names = " | ".join(r.name for r in results)
    for expected in EXPECTED_CHECKS[kind]:
        assert expected in names, f"{expected!r} did not run; ran: {names}"

"""The service's own entry point (app/main.py) and routes (app/routes/me.py).

This file is the service's, like the code it tests: `copier update` never
overwrites it. Test your own routes here or in new files; the other test files
check the template's modules and are replaced by updates.
"""

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.tests.helpers import bearer

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(environment) -> Iterator[TestClient]:
    """app.main's `app`, built again under the test environment and started."""
    main = importlib.reload(importlib.import_module("app.main"))
    with TestClient(main.app) as started:
        yield started


def test_me_gives_the_callers_identity(client: TestClient, fake_token: str) -> None:
    response = client.get("/me", headers=bearer(fake_token))

    assert response.status_code == 200
    assert response.json() == {"preferred_username": "alice", "groups": ["/virtual-lab-a"]}


def test_groups_default_to_empty_when_the_claim_is_absent(client: TestClient, make_fake_token) -> None:
    response = client.get("/me", headers=bearer(make_fake_token(groups=None)))

    assert response.status_code == 200
    assert response.json() == {"preferred_username": "alice", "groups": []}


def test_token_without_a_user_name_is_forbidden(client: TestClient, make_fake_token) -> None:
    response = client.get("/me", headers=bearer(make_fake_token(preferred_username=None)))

    assert response.status_code == 403


def test_me_needs_a_token(client: TestClient) -> None:
    assert client.get("/me").status_code == 401


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert {"/health", "/me"} <= set(paths)


def test_import_needs_no_configuration_file_and_no_provider() -> None:
    # A fresh interpreter, so the import really runs; settings that would fail
    # if they were used at import time.
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "CONFIG_FILE_URL": "/nonexistent/configuration.json",
        "OIDC_CONFIGURATION_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    }

    result = subprocess.run(
        [sys.executable, "-c", "import app.main; print(type(app.main.app).__name__)"],
        cwd=REPO_ROOT,
        check=False,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FastAPI"

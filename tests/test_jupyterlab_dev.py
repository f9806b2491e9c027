"""An extension's dev/ setup works: its JupyterLab reaches the service compose starts, signed in.

dev/docker-compose.yaml starts the service in fake auth mode; dev/overrides.json points
the extension there; dev/jupyterlab.env gives NaaVRE-communicator the allowed domain and
a fake access token. Here the service is the one the service template makes for the same
name, run with the environment compose gives it (there is no Docker engine), on a free
port instead of the files' 8000; the communicator is the real one from PyPI in a real
jupyter_server with the env file's variables; the request is the rendered client's, to
the URL of overrides.json, for the service's `/me`, which needs a valid token.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification.tools import find_tool, tool_env
from tests.helpers import render
from tests.test_contract_communicator import (
    SERVICE,
    _call,
    _free_port,
    _no_proxy_env,
    _ready,
    client_js,  # noqa: F401 (a fixture)
    communicator,  # noqa: F401 (a fixture)
    extension,  # noqa: F401 (a fixture)
    jupyter_server,
    needs_node,
)

START_SECONDS, SYNC_SECONDS = 90, 600
HOST_PORT = 8000  # the port all three dev/ files name


def _env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as `set -a && source` reads these (no quoting in them)."""
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _dev(repo: Path) -> tuple[dict, dict[str, str], str]:
    """The compose service, the JupyterLab environment and the service URL of overrides.json."""
    compose = yaml.safe_load((repo / "dev/docker-compose.yaml").read_text())
    [service] = compose["services"].values()
    overrides = json.loads((repo / "dev/overrides.json").read_text())
    [settings] = overrides.values()
    [url] = [value for key, value in settings.items() if key.endswith("ServiceUrl")]
    return service, _env_file(repo / "dev/jupyterlab.env"), url


def test_the_dev_files_name_one_service_where_the_service_template_puts_it(
    extension: Path,  # noqa: F811
    template_git: TemplateSource,
    tmp_path: Path,
) -> None:
    service, lab_env, url = _dev(extension)
    generated = render(template_git, tmp_path / "service", "service", name=SERVICE)
    answers = yaml.safe_load((generated / ".copier-answers.yml").read_text())
    # The image its release pushes, the port it listens on, the path it is published under.
    assert service["image"].rsplit(":", 1)[0] == f"ghcr.io/naavre/naavre-{SERVICE}-service"
    assert service["ports"] == [f"127.0.0.1:{HOST_PORT}:{answers['port']}"]
    assert service["environment"] == {"ROOT_PATH": f"/naavre-{SERVICE}-service", "DISABLE_AUTH": "true"}
    assert url == f"http://localhost:{HOST_PORT}/naavre-{SERVICE}-service"
    assert lab_env["NAAVRE_ALLOWED_DOMAINS"] == urlsplit(url).netloc
    overrides = json.loads((extension / "dev/overrides.json").read_text())
    assert list(overrides) == [json.loads((extension / "package.json").read_text())["name"] + ":plugin"]
    schema = json.loads((extension / "schema/plugin.json").read_text())
    assert set(next(iter(overrides.values()))) <= set(schema["properties"])


def test_an_extension_without_a_service_has_only_its_settings_in_dev(
    template_git: TemplateSource, tmp_path: Path
) -> None:
    plain = render(
        template_git, tmp_path / "plain", "jupyterlab", name="plain", has_settings=True, service=""
    )
    assert sorted(path.name for path in (plain / "dev").iterdir()) == ["overrides.json"]
    bare = render(template_git, tmp_path / "bare", "jupyterlab", name="bare", has_settings=False, service="")
    assert not (bare / "dev").exists()


@pytest.fixture
def dev_service(extension: Path, template_git: TemplateSource, tmp_path: Path) -> Iterator[int]:  # noqa: F811
    """The generated service, run as dev/docker-compose.yaml runs its image: its port."""
    service, _, _ = _dev(extension)
    repo = render(template_git, tmp_path / "service", "service", name=SERVICE)
    env = tool_env() | {
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
        "VIRTUAL_ENV": "",
    }
    subprocess.run(
        [find_tool("uv"), "sync", "--locked", "--quiet"], cwd=repo, env=env, check=True, timeout=SYNC_SECONDS
    )
    port = _free_port()
    run = [
        str(tmp_path / "venv/bin/fastapi"),
        "run",
        "app/main.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = tmp_path / "service.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            run, cwd=repo, env=_no_proxy_env(**service["environment"]), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _ready(f"http://127.0.0.1:{port}/naavre-{SERVICE}-service/health"):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)


@pytest.fixture
def dev_jupyter(communicator: Path, extension: Path, dev_service: int, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    """A jupyter_server with the communicator and dev/jupyterlab.env's variables: its base URL."""
    _, lab_env, _ = _dev(extension)
    allowed = lab_env["NAAVRE_ALLOWED_DOMAINS"].replace(f":{HOST_PORT}", f":{dev_service}")
    with jupyter_server(communicator, tmp_path, {**lab_env, "NAAVRE_ALLOWED_DOMAINS": allowed}) as base:
        yield base


@needs_node
def test_the_dev_jupyterlab_calls_the_dev_service_as_the_fake_user(
    client_js: Path,  # noqa: F811
    extension: Path,  # noqa: F811
    dev_jupyter: str,
    dev_service: int,
) -> None:
    _, _, url = _dev(extension)
    service_url = url.replace(f":{HOST_PORT}/", f":{dev_service}/")
    outcome = _call(
        client_js, dev_jupyter, "http://localhost", serviceUrl=service_url, method="GET", path="/me"
    )

    answer = outcome["answer"]
    assert answer["status_code"] == 200, answer
    assert json.loads(answer["content"]) == {"preferred_username": "dev-user", "groups": ["users"]}
    # It was the env file's token that got it in: without one the service refuses.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"http://127.0.0.1:{dev_service}/naavre-{SERVICE}-service/me", timeout=10)
    assert refused.value.code in (401, 403)

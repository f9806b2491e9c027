"""A generated extension's service calls, through the real NaaVRE-communicator, reach the service.

The extension's client (src/client.ts) never calls its service itself: it POSTs the
query to NaaVRE-communicator-jupyterlab's ``external-service`` handler on the Jupyter
server, which adds the user's access token and forwards it to a domain that
NAAVRE_ALLOWED_DOMAINS allows. Here the communicator, at the version the template's
dependency was tested with, comes from PyPI into a venv of its own and runs in a real
jupyter_server; the rendered client.ts, compiled with the TypeScript and run with the
@jupyterlab packages its yarn.lock pins, sends its requests there as JupyterLab would;
a local HTTP service records what arrives.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from naavre_scaffold.source import TemplateSource
from tests.helpers import render

COMMUNICATOR = "NaaVRE-communicator-jupyterlab"
# The release whose handler these tests run: the template's dependency must allow it.
COMMUNICATOR_VERSION = "0.3.3"
SERVICE = "containerizer"
SERVICE_PATH = f"/naavre-{SERVICE}-service"
TOKEN = "contract-test-token"
INSTALL_SECONDS, START_SECONDS = 600, 90

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="node and npm run the client"
)

# Runs the compiled client as the extension does (`new ServiceClient(url)` with the
# page's settings) and prints the request it sent to the Jupyter server and its outcome.
DRIVER = """\
const { PageConfig } = require('@jupyterlab/coreutils');
const { ServiceClient } = require(process.argv[2]);
const call = JSON.parse(process.argv[3]);
PageConfig.setOption('baseUrl', call.baseUrl);
PageConfig.setOption('token', call.token);
// Only the client's constructor reads window, after @jupyterlab/services has loaded.
globalThis.window = { location: { origin: call.origin } };
const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async request => {
  const body = await request.clone().text();
  sent.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body });
  return realFetch(request);
};
(async () => {
  const client = new ServiceClient(call.serviceUrl);
  const outcome = { serviceUrl: client.serviceUrl, sent };
  try {
    outcome.answer = call.method
      ? await client.request(call.method, call.path, call.data)
      : await client.health();
  } catch (error) {
    outcome.status = error.response.status;
    outcome.error = await error.response.text();
  }
  console.log(JSON.stringify(outcome));
})();
"""

COMPILE = """\
const ts = require('typescript');
const fs = require('fs');
const source = fs.readFileSync(process.argv[2], 'utf8');
const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 };
fs.writeFileSync(process.argv[3], ts.transpileModule(source, { compilerOptions: options }).outputText);
"""


def _no_proxy_env(**extra: str) -> dict[str, str]:
    """The environment without proxies: every request here stays on 127.0.0.1."""
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    return {**env, "NO_PROXY": "127.0.0.1,localhost", **extra}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fake_jwt() -> str:
    """An access token the communicator accepts: it reads ``exp`` without checking the signature."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"sub": "contract-test", "exp": int(time.time()) + 86400, "preferred_username": "tester"}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


ACCESS_TOKEN = _fake_jwt()


@pytest.fixture(scope="module")
def extension(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated extension with settings that calls the containerizer service."""
    dest = tmp_path_factory.mktemp("extension") / "ext"
    return render(template_git, dest, "jupyterlab", name="my-tool", has_settings=True, service=SERVICE)


@pytest.fixture(scope="session")
def communicator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with NaaVRE-communicator-jupyterlab (and so jupyter_server) from PyPI: its bin folder."""
    venv = tmp_path_factory.mktemp("communicator") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin/python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-input",
        "--disable-pip-version-check",
    ]
    # It imports requests without requiring it (0.3.3): JupyterLab brings it, through jupyterlab_server.
    packages = [f"{COMMUNICATOR}=={COMMUNICATOR_VERSION}", "requests"]
    subprocess.run([*pip, *packages], check=True, timeout=INSTALL_SECONDS)
    return venv / "bin"


def _locked(lock: str, package: str) -> str:
    """The version ``yarn.lock`` resolves ``package`` to (from npm)."""
    found = re.search(rf'resolution: "{re.escape(package)}@npm:([^"]+)"', lock)
    assert found, f"{package} is not in the extension's yarn.lock"
    return found[1]


@pytest.fixture(scope="module")
def client_js(extension: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the rendered src/client.ts compiled to client.js, its node_modules and the driver."""
    lock = (extension / "yarn.lock").read_text()
    packages = [f"{name}@{_locked(lock, name)}" for name in ("@jupyterlab/services", "@jupyterlab/coreutils")]
    packages.append(f"typescript@{_locked(lock, 'typescript')}")
    folder = tmp_path_factory.mktemp("node")
    npm = [
        "npm",
        "install",
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--prefix",
        str(folder),
    ]
    subprocess.run([*npm, *packages], check=True, capture_output=True, timeout=INSTALL_SECONDS)
    (folder / "compile.js").write_text(COMPILE)
    (folder / "driver.js").write_text(DRIVER)
    source = extension / "src" / "client.ts"
    subprocess.run(["node", "compile.js", str(source), "client.js"], cwd=folder, check=True)
    return folder


class Recorder(BaseHTTPRequestHandler):
    """A service that records every request and answers with JSON."""

    received: list[dict[str, Any]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.received.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
        answer = json.dumps({"service": SERVICE, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads ``received``."""


@pytest.fixture
def service() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local service on 127.0.0.1: its origin, and what it received."""
    received: list[dict[str, Any]] = []
    handler = type("Handler", (Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def _ready(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    try:
        with opener.open(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def jupyter_server(communicator: Path, folder: Path, variables: dict[str, str]) -> Iterator[str]:
    """A jupyter_server with the communicator and these environment variables: its base URL."""
    port = _free_port()
    jupyter_dirs = {
        f"JUPYTER_{kind}_DIR": str(folder / kind.lower()) for kind in ("CONFIG", "DATA", "RUNTIME")
    }
    env = _no_proxy_env(**variables, **jupyter_dirs)
    args = [
        str(communicator / "jupyter"),
        "server",
        "--allow-root",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={folder}",
    ]
    log = folder / "jupyter.log"
    with log.open("w") as out:
        server = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _ready(base + "api/status"):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert "Registered NaaVRE_communicator_jupyterlab server extension" in log.read_text()
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def jupyter(communicator: Path, service: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> Iterator[str]:
    """A jupyter_server with the communicator, allowing the local service's host: its base URL."""
    origin, _ = service
    # The handler compares the URL's whole netloc, port included, with each allowed domain.
    allowed = {"NAAVRE_ALLOWED_DOMAINS": origin.removeprefix("http://"), "OAUTH_ACCESS_TOKEN": ACCESS_TOKEN}
    with jupyter_server(communicator, tmp_path, allowed) as base:
        yield base


def _call(client: Path, base: str, origin: str, **call: Any) -> dict[str, Any]:
    """Run the rendered client once; ``call`` without a method is its health check."""
    page = {"baseUrl": base, "token": TOKEN, "origin": origin, "serviceUrl": SERVICE_PATH, **call}
    proc = subprocess.run(
        ["node", "driver.js", "./client.js", json.dumps(page)],
        cwd=client,
        env=_no_proxy_env(NODE_PATH=str(client / "node_modules")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _communicator_request(sent: dict[str, Any], base: str) -> dict[str, Any]:
    """The request the client sent to the Jupyter server, checked for what the handler needs; its body."""
    assert sent["method"] == "POST"
    # ServerConnection adds a cache buster to the query string.
    assert re.fullmatch(re.escape(base + "naavre-communicator/external-service") + r"\?\d+", sent["url"])
    assert sent["headers"]["authorization"] == f"token {TOKEN}"
    # A string body makes fetch's Request text/plain, in a browser too: the handler parses it all the same.
    assert sent["headers"]["content-type"] == "text/plain;charset=UTF-8"
    body = json.loads(sent["body"])
    assert list(body) == ["query"]
    assert sorted(body["query"]) == ["data", "headers", "method", "url"]
    return body["query"]


def test_the_extension_depends_on_the_communicator_it_was_tested_with(
    extension: Path, template_git: TemplateSource, tmp_path: Path
) -> None:
    project = tomllib.loads((extension / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(line) for line in project["dependencies"]]
    [communicator] = [r for r in wanted if r.name.lower() == COMMUNICATOR.lower()]
    assert communicator.specifier.contains(COMMUNICATOR_VERSION)
    # Only an extension that calls a service needs it.
    plain = render(
        template_git, tmp_path / "plain", "jupyterlab", name="plain", has_settings=True, service=""
    )
    project = tomllib.loads((plain / "pyproject.toml").read_text())["project"]
    assert all(COMMUNICATOR.lower() not in line.lower() for line in project["dependencies"])


@needs_node
def test_the_health_check_reaches_the_service_through_the_communicator(
    client_js: Path, jupyter: str, service: tuple[str, list[dict[str, Any]]]
) -> None:
    origin, received = service
    # The default service URL is a path on the page's host, as in a deployment.
    outcome = _call(client_js, jupyter, origin)

    [sent] = outcome["sent"]
    url = f"{origin}{SERVICE_PATH}/health"
    assert _communicator_request(sent, jupyter) == {"method": "GET", "url": url, "headers": {}, "data": None}
    [request] = received
    assert (request["method"], request["path"], request["body"]) == ("GET", f"{SERVICE_PATH}/health", "")
    assert request["headers"]["authorization"] == f"Bearer {ACCESS_TOKEN}"
    answer = outcome["answer"]
    assert (answer["status_code"], answer["reason"]) == (200, "OK")
    assert json.loads(answer["content"]) == {"service": SERVICE, "path": f"{SERVICE_PATH}/health"}


@needs_node
def test_a_json_body_reaches_the_service_as_sent(
    client_js: Path, jupyter: str, service: tuple[str, list[dict[str, Any]]]
) -> None:
    origin, received = service
    data = {"title": "a cell", "params": [1, 2], "nested": {"ok": True}}
    outcome = _call(client_js, jupyter, origin, method="POST", path="/cells", data=data)

    query = _communicator_request(outcome["sent"][0], jupyter)
    assert query == {"method": "POST", "url": f"{origin}{SERVICE_PATH}/cells", "headers": {}, "data": data}
    [request] = received
    assert (request["method"], request["path"]) == ("POST", f"{SERVICE_PATH}/cells")
    assert request["headers"]["content-type"] == "application/json"
    assert json.loads(request["body"]) == data
    assert outcome["answer"]["status_code"] == 200


@needs_node
def test_a_domain_not_allowed_is_refused(
    client_js: Path, jupyter: str, service: tuple[str, list[dict[str, Any]]]
) -> None:
    origin, received = service
    # The same service under another name: localhost is not in NAAVRE_ALLOWED_DOMAINS.
    other = origin.replace("127.0.0.1", "localhost")
    outcome = _call(client_js, jupyter, origin, serviceUrl=f"{other}{SERVICE_PATH}")

    query = _communicator_request(outcome["sent"][0], jupyter)
    assert query["url"] == f"{other}{SERVICE_PATH}/health"
    assert outcome["status"] == 400 and "Domain is not allowed" in outcome["error"]
    assert received == []

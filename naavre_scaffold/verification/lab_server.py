"""A JupyterLab server started for a check, and whether its /lab page loads an extension."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from naavre_scaffold.verification.processes import ANSI, last_lines, start, stop
from naavre_scaffold.verification.tools import CheckResult, find_tool

SERVER_START_SECONDS = 30
PAGE_CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S)


def check_served(npm_name: str, servers: list[str], work: Path, env: dict[str, str]) -> CheckResult:
    """Start JupyterLab with the prefix on its paths; /lab must load the extension (and the server's)."""
    name = f"jupyterlab: jupyter lab serves {npm_name} (/lab federated_extensions)"
    token = secrets.token_hex(16)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = work / "lab-root"
    root.mkdir()
    args = [find_tool("jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    args += [
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    args += ["--allow-root"] if os.geteuid() == 0 else []  # it refuses to start as root otherwise
    with tempfile.TemporaryFile("w+") as log:
        proc = start(args, work, env, log)
        try:
            problem = lab_problem(proc, f"http://127.0.0.1:{port}", token, npm_name)
        finally:
            stop(proc)
            log.seek(0)
            output = ANSI.sub("", log.read())
    for module in servers:
        if not problem and f"{module} | extension was successfully loaded" not in output:
            problem = f"the server extension {module} was not loaded"
    return CheckResult(name, not problem, f"{problem}; server log:\n{last_lines(output)}" if problem else "")


def lab_problem(proc: subprocess.Popen, base: str, token: str, npm_name: str) -> str:
    """What is wrong with the running server's /lab page, or "" when it lists the extension."""
    local = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        if proc.poll() is not None:
            return f"jupyter lab exited with status {proc.returncode}"
        try:
            local.open(
                urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"}),
                timeout=5,
            ).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                return f"jupyter lab did not answer /api/status within {SERVER_START_SECONDS} s"
            time.sleep(0.5)
    try:
        with local.open(f"{base}/lab?token={token}", timeout=30) as response:
            page = response.read().decode()
    except OSError as error:
        return f"GET /lab failed: {error}"
    found = PAGE_CONFIG.search(page)
    if not found:
        return "/lab has no jupyter-config-data"
    config = json.loads(found.group(1))
    names = [e.get("name") for e in config.get("federated_extensions", [])]
    return "" if npm_name in names else f"{npm_name} not in /lab's federated_extensions {names}"

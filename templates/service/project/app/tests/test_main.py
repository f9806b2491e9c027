import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.main import create_app

REPO_ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(("debug", "level"), [("true", logging.DEBUG), ("false", logging.INFO)])
def test_debug_sets_the_log_level(environment, debug: str, level: int) -> None:
    environment.setenv("DEBUG", debug)

    create_app()

    assert logging.getLogger("app").getEffectiveLevel() == level
